"""Many inverse-variance analyses in one vectorised call (fixed effect and DerSimonian-Laird).

The living review re-pools every analysis at each data version, and simulation checks pool
thousands; a Python loop over :func:`~mscreview.stats.pooling.pool` costs far more than the
arithmetic. Analyses of different k are stored as a padded (m, k_max) array with a boolean mask,
or as one flat array with offsets (:func:`pool_ragged`). Formulas as :mod:`.pooling`
(Deeks & Higgins 2010; DerSimonian & Laird 1986; Higgins, Thompson & Spiegelhalter 2009).
Results are on the analysis scale (log for ratios).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import chdtrc, ndtr, ndtri, stdtr, stdtrit  # type: ignore[import-untyped]

from mscreview.stats._common import FloatArray, StatsError

__all__ = [
    "BatchResult",
    "cumulative_batch",
    "leave_one_out_batch",
    "pad_ragged",
    "pool_batch",
    "pool_ragged",
]


@dataclass(frozen=True, eq=False)
class BatchResult:
    """Per-analysis results, every field an array of shape (m,), analysis scale.

    Fields match :class:`~mscreview.stats.results.PoolResult` (``theta`` is the estimate on the
    analysis scale). NaN where undefined: everything for k = 0; q_p, i2 and tau2 (random) for
    k = 1; the prediction interval for k < 3 or the fixed model.
    """

    k: NDArray[np.int64]
    theta: FloatArray
    se: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    z: FloatArray
    p: FloatArray
    q: FloatArray
    q_df: NDArray[np.int64]
    q_p: FloatArray
    i2: FloatArray
    tau2: FloatArray
    pi_low: FloatArray
    pi_high: FloatArray


def _t975(df: NDArray[np.int64]) -> FloatArray:
    """t quantile 0.975 per row, computed once per distinct df (``stdtrit`` is the slow part)."""
    uniq, inverse = np.unique(df, return_inverse=True)
    out: FloatArray = stdtrit(uniq, 0.975)[inverse]
    return out


def _t975_int(df: NDArray[np.int64]) -> FloatArray:
    """t quantile 0.975 for integer df >= 1 of any shape, by a lookup table (no sort)."""
    table = stdtrit(np.arange(int(df.max(initial=1)) + 1).clip(1), 0.975)
    out: FloatArray = table[df]
    return out


def _chi2_sf_int(df: NDArray[np.int64], x: FloatArray) -> FloatArray:
    """``P(chi2_df > x)`` for integer df >= 1 by the closed-form series (Abramowitz & Stegun
    26.4.4-5), vectorised; ``chdtrc`` costs ~0.5 us per value, this a few ns per term.

    Even df = 2n: ``exp(-x/2) sum_{j<n} (x/2)^j / j!``. Odd df = 2n + 1:
    ``2 Phi(-sqrt x) + 2 phi(sqrt x) sum_{j=1..n} x^{(2j-1)/2} / (1 3 5 ... (2j-1))``. The
    partial sums are kept per term and the one of each value's df is picked at the end.
    """
    x = np.maximum(x, 0.0)
    if df.ndim == 2 and df.shape[0] and bool(np.all(df == df[:1])):
        # each column has one df (leave-one-out, cumulative without gaps): column by column
        cols = [_chi2_sf_one(int(d), x[:, j]) for j, d in enumerate(df[0])]
        return np.stack(cols, axis=1) if cols else np.empty_like(x)
    odd = (df % 2) == 1
    n = df // 2
    out = np.empty_like(x)
    for part, is_odd in ((~odd, False), (odd, True)):
        if not part.any():
            continue
        everything = bool(part.all())
        xp = x if everything else x[part]
        np_ = n if everything else n[part]
        top = int(np_.max(initial=0))
        if is_odd:
            rx = np.sqrt(xp)
            term = np.exp(-0.5 * xp) * rx * (2.0 / math.sqrt(2.0 * math.pi))
            total = 2.0 * ndtr(-rx)
        else:
            term = np.exp(-0.5 * xp)
            total = np.zeros_like(xp)
        partial = np.empty((top + 1, *xp.shape))
        partial[0] = total
        for j in range(top):
            total = total + term
            partial[j + 1] = total
            term = term * (xp * (0.5 / (j + 1)) if not is_odd else xp * (1.0 / (2 * j + 3)))
        picked: FloatArray = np.take_along_axis(partial, np_[None, ...], axis=0)[0]
        if everything:
            return picked
        out[part] = picked
    return out


def _chi2_sf_one(df: int, x: FloatArray) -> FloatArray:
    """``P(chi2_df > x)`` for one integer df, by Horner's rule on the series above."""
    half = 0.5 * x
    if df % 2 == 0:
        total = np.ones_like(x)
        for j in range(df // 2 - 1, 0, -1):
            total *= half
            total *= 1.0 / j
            total += 1.0
        out: FloatArray = total * np.exp(-half)
        return out
    rx = np.sqrt(x)
    total = np.zeros_like(x)  # sum_{j=1..n} x^{j-1} / (3 5 ... (2j-1)), times 2 phi(rx) rx
    for j in range(df // 2, 0, -1):
        total *= x / (2 * j + 1)
        total += 1.0
    if df // 2 == 0:
        total[:] = 0.0
    out = 2.0 * ndtr(-rx) + total * np.exp(-half) * rx * (2.0 / math.sqrt(2.0 * math.pi))
    return out


def pad_ragged(
    values: ArrayLike, offsets: ArrayLike, fill: float = 0.0
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Flat values and CSR ``offsets`` (shape (m + 1,)) -> padded (m, k_max) array and mask."""
    flat = np.asarray(values, dtype=np.float64)
    off = np.asarray(offsets, dtype=np.int64)
    if off.ndim != 1 or off[0] != 0 or off[-1] != len(flat) or np.any(np.diff(off) < 0):
        raise StatsError("offsets must start at 0, not decrease and end at len(values)")
    lengths = np.diff(off)
    kmax = int(lengths.max()) if len(lengths) else 0
    mask = np.arange(kmax)[None, :] < lengths[:, None]
    out = np.full(mask.shape, fill)
    out[mask] = flat
    return out, mask


def pool_batch(
    yi: ArrayLike,
    vi: ArrayLike,
    mask: ArrayLike | None = None,
    *,
    model: str = "random",
    hksj: bool = False,
) -> BatchResult:
    """Pool m analyses at once: IV fixed effect or DerSimonian-Laird random effects.

    Parameters
    ----------
    yi, vi : array_like, shape (m, k_max)
        Effects and variances; cells outside ``mask`` are ignored (any value).
    mask : array_like of bool, shape (m, k_max), optional
        True where a study exists. Default: all cells (every analysis has k_max studies).
    model : {"fixed", "random"}
    hksj : bool
        Hartung-Knapp-Sidik-Jonkman CI and t test with k - 1 df (random model).

    Returns
    -------
    BatchResult
        Agrees with :func:`~mscreview.stats.pooling.pool` row by row.
    """
    if model not in ("fixed", "random"):
        raise StatsError(f"unknown model {model!r}")
    y = np.asarray(yi, dtype=np.float64)
    v = np.asarray(vi, dtype=np.float64)
    if y.ndim != 2 or y.shape != v.shape:
        raise StatsError("yi and vi must be 2-D arrays of the same shape (m, k_max)")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if mask is None:
            k = np.full(y.shape[0], y.shape[1], dtype=np.int64)
            w = 1.0 / v
        else:
            m = np.asarray(mask, dtype=bool)
            k = m.sum(axis=1).astype(np.int64)
            y = np.where(m, y, 0.0)
            v = np.where(m, v, np.inf)
            w = 1.0 / v
        sw = w.sum(axis=1)
        mu_fe = (w * y).sum(axis=1) / sw
        dev2 = (y - mu_fe[:, None]) ** 2
        if mask is not None:
            dev2 = np.where(m, dev2, 0.0)
        q = (w * dev2).sum(axis=1)
        df = k - 1
        if model == "random":
            c = sw - (w * w).sum(axis=1) / sw
            tau2 = np.maximum(0.0, (q - df) / c)
            tau2 = np.where(k >= 2, np.where(c > 0, tau2, 0.0), np.nan)
            ws = 1.0 / (v + np.where(k >= 2, tau2, 0.0)[:, None])
            sws = ws.sum(axis=1)
            theta = (ws * y).sum(axis=1) / sws
            se = np.sqrt(1.0 / sws)
        else:
            tau2 = np.zeros_like(q)
            theta, se = mu_fe, np.sqrt(1.0 / sw)
        use_t = hksj and model == "random"
        if use_t:
            d2 = (y - theta[:, None]) ** 2
            if mask is not None:
                d2 = np.where(m, d2, 0.0)
            se_h = np.sqrt((ws * d2).sum(axis=1) / (df * sws))
            se = np.where(k >= 2, se_h, se)
            crit = np.where(k >= 2, _t975(np.maximum(df, 1)), ndtri(0.975))
        else:
            crit = ndtri(0.975)
        z = theta / se
        if use_t:
            p = np.where(k >= 2, 2.0 * stdtr(np.maximum(df, 1), -np.abs(z)), 2.0 * ndtr(-np.abs(z)))
        else:
            p = 2.0 * ndtr(-np.abs(z))
        q_p = np.where(k >= 2, chdtrc(np.maximum(df, 1), q), np.nan)
        i2 = np.where(k >= 2, np.where(q > 0, 100.0 * np.maximum(0.0, (q - df) / q), 0.0), np.nan)
        if model == "random":
            half = _t975(np.maximum(k - 2, 1)) * np.sqrt(tau2 + se**2)
            ok = k >= 3
            pi_low = np.where(ok, theta - half, np.nan)
            pi_high = np.where(ok, theta + half, np.nan)
        else:
            pi_low = pi_high = np.full_like(q, np.nan)
        q = np.where(k >= 2, q, np.where(k == 1, 0.0, np.nan))
        empty = k == 0
        theta, se, z, p, tau2 = (np.where(empty, np.nan, x) for x in (theta, se, z, p, tau2))
        return BatchResult(
            k=k, theta=theta, se=se, ci_low=theta - crit * se, ci_high=theta + crit * se, z=z,
            p=p, q=q, q_df=np.maximum(df, 0), q_p=q_p, i2=i2, tau2=tau2, pi_low=pi_low,
            pi_high=pi_high,
        )


def pool_ragged(
    yi: ArrayLike, vi: ArrayLike, offsets: ArrayLike, *, model: str = "random",
    hksj: bool = False,
) -> BatchResult:
    """Pool analyses stored back to back: analysis j is ``yi[offsets[j]:offsets[j+1]]``."""
    y, mask = pad_ragged(yi, offsets)
    v, _ = pad_ragged(vi, offsets, fill=1.0)
    return pool_batch(y, v, mask, model=model, hksj=hksj)


#: Analyses per block of the (m, s, k) random-effects sums: blocks of ~64k values stay in cache.
_BLOCK_VALUES = 1 << 16


def _re_sums(y: FloatArray, v: FloatArray, tau2: FloatArray, include: NDArray[np.bool_] | None
             ) -> FloatArray:
    """``sum_j w*_sj`` and ``sum_j w*_sj y_j`` over each subset s, ``w*_sj = 1/(v_j + tau2_s)``.

    Returns an array of shape (m, s, 2). Computed in blocks of analyses so that the (block, s, k)
    weights stay in the CPU cache. ``include`` None means every study (s = k).
    """
    m, kmax = y.shape
    s = kmax if include is None else include.shape[0]
    out = np.empty((m, s, 2))
    step = max(1, _BLOCK_VALUES // max(1, s * kmax))
    rhs = np.stack([np.ones_like(y), y], axis=2)
    for a in range(0, m, step):
        b = min(m, a + step)
        r = np.add(v[a:b, None, :], tau2[a:b, :, None])
        np.reciprocal(r, out=r)
        if include is not None:
            np.multiply(r, include[None, :, :], out=r)
        np.matmul(r, rhs[a:b], out=out[a:b])
    return out


def _finish_subsets(y: FloatArray, v: FloatArray, k: NDArray[np.int64], sw: FloatArray,
                    sw2: FloatArray, swy: FloatArray, swy2: FloatArray, include: NDArray[np.bool_],
                    model: str, shift: FloatArray, loo: bool = False) -> BatchResult:
    """Results of the subsets (m, s) from their fixed-effect sums and an inclusion pattern.

    ``sw``, ``sw2``, ``swy``, ``swy2`` are the sums of ``w``, ``w^2``, ``w y`` and ``w y^2``
    (``w = 1/v``, ``y`` centred) over each subset; ``include`` (s, k) is the pattern shared by
    every analysis (leave-one-out: all but the diagonal; cumulative: the lower triangle). The
    random-effects sums need each subset's own tau^2, so only they are (m, s, k) arrays.
    ``shift`` (m,) is added back to the (centred) estimates; k = 0 marks a subset that is not
    reported (all NaN). ``loo``: subset i is every study but i, so the random-effects sums are
    taken over all studies and study i's own term subtracted (no (m, k, k) mask).
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # every subset has k >= 3 in the common case: then no edge case needs masking
        edge = not bool(np.all(k >= 3))
        q = swy2 - swy * swy / sw
        # below the rounding noise of the two sums Q is 0 (a two-pass sum would give ~0 too)
        q[q <= 16 * np.finfo(float).eps * swy2] = 0.0
        df = k - 1
        if model == "random":
            c = sw - sw2 / sw
            tau2 = (q - df) / c
            np.maximum(tau2, 0.0, out=tau2)
            if edge:
                tau2[~(c > 0)] = 0.0
                t2 = tau2.copy()
                t2[k < 2] = 0.0
                tau2[k < 2] = np.nan
            else:
                t2 = tau2
            both = _re_sums(y, v, t2, None if loo else include)
            sws, swsy = both[:, :, 0], both[:, :, 1]
            if loo:
                own = 1.0 / (v + t2)
                sws = sws - own
                swsy = swsy - own * y
            se = np.sqrt(1.0 / sws)
            theta = swsy * se * se
        else:
            tau2 = np.zeros_like(q)
            theta, se = swy / sw, np.sqrt(1.0 / sw)
        theta += shift[:, None]
        z = theta / se
        p = ndtr(-np.abs(z))
        p *= 2.0
        q_p = _chi2_sf_int(np.maximum(df, 1), q)
        i2 = (q - df) / q
        np.maximum(i2, 0.0, out=i2)
        i2 *= 100.0
        if model == "random":
            half = _t975_int(np.maximum(k - 2, 1)) * np.sqrt(tau2 + se * se)
            pi_low, pi_high = theta - half, theta + half
        else:
            pi_low = pi_high = np.full_like(q, np.nan)
        half_ci = ndtri(0.975) * se
        ci_low, ci_high = theta - half_ci, theta + half_ci
        i2[q <= 0] = 0.0
        if edge:  # few subsets: mark them in place
            lt2, lt3 = k < 2, k < 3
            for arr in (q_p, i2):
                arr[lt2] = np.nan
            pi_low[lt3] = np.nan
            pi_high[lt3] = np.nan
            q[lt2] = np.where(k[lt2] == 1, 0.0, np.nan)
            empty = k == 0
            for arr in (theta, se, z, p, tau2, ci_low, ci_high):
                arr[empty] = np.nan
        return BatchResult(
            k=k, theta=theta, se=se, ci_low=ci_low, ci_high=ci_high, z=z, p=p, q=q,
            q_df=np.maximum(df, 0), q_p=q_p, i2=i2, tau2=tau2, pi_low=pi_low, pi_high=pi_high,
        )


def _prepare(yi: ArrayLike, vi: ArrayLike, mask: ArrayLike | None, model: str
             ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, NDArray[np.bool_]]:
    """Centred effects, variances (inf outside the mask), weights and the mask."""
    if model not in ("fixed", "random"):
        raise StatsError(f"unknown model {model!r}")
    y = np.asarray(yi, dtype=np.float64)
    v = np.asarray(vi, dtype=np.float64)
    if y.ndim != 2 or y.shape != v.shape:
        raise StatsError("yi and vi must be 2-D arrays of the same shape (m, k_max)")
    m = np.ones(y.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        if mask is not None:
            v = np.where(m, v, np.inf)
            y = np.where(m, y, 0.0)
        w = 1.0 / v
        # centre each analysis on its fixed-effect mean: Q = sum w y^2 - (sum w y)^2 / sum w
        # then loses no digits to cancellation; every estimate is shifted back at the end
        shift = (w * y).sum(axis=1) / w.sum(axis=1)
        if mask is not None:
            shift = np.where(np.isfinite(shift), shift, 0.0)
            return y - shift[:, None] * m, v, w, shift, m
    return y - shift[:, None], v, w, shift, m


def leave_one_out_batch(
    yi: ArrayLike, vi: ArrayLike, mask: ArrayLike | None = None, *, model: str = "random",
) -> BatchResult:
    """Leave-one-out for m analyses at once (IV fixed effect or DerSimonian-Laird).

    The fixed-effect sums without study i are the totals minus study i's terms, so only the
    random-effects weights (one tau^2 per left-out study) cost (m, k, k) work.

    Parameters
    ----------
    yi, vi, mask : array_like, shape (m, k_max)
        As :func:`pool_batch`.
    model : {"fixed", "random"}

    Returns
    -------
    BatchResult
        Every field of shape (m, k_max): column i is the analysis without study i (NaN, k = 0
        where study i does not exist). Agrees with
        :func:`~mscreview.stats.sensitivity.leave_one_out` of :func:`~.pooling.pool`
        (normal-theory intervals; no HKSJ).
    """
    y, v, w, shift, m = _prepare(yi, vi, mask, model)
    with np.errstate(invalid="ignore", divide="ignore"):
        wy = w * y
        terms = (w, w * w, wy, wy * y)
        sw, sw2, swy, swy2 = (t.sum(axis=1, keepdims=True) - t for t in terms)
        k = np.where(m, m.sum(axis=1, keepdims=True) - 1, 0).astype(np.int64)
        include = ~np.eye(y.shape[1], dtype=bool)
        return _finish_subsets(y, v, k, sw, sw2, swy, swy2, include, model, shift, loo=True)


def cumulative_batch(
    yi: ArrayLike, vi: ArrayLike, mask: ArrayLike | None = None, *, model: str = "random",
) -> BatchResult:
    """Cumulative meta-analysis of m analyses at once, in column order (sort the columns first).

    Prefix sums give the fixed-effect parts; only the random-effects weights (one tau^2 per
    step) cost (m, k, k) work.

    Returns
    -------
    BatchResult
        Every field of shape (m, k_max): column j pools the existing studies among columns
        ``0..j`` (NaN where column j holds no study). Agrees with
        :func:`~mscreview.stats.sensitivity.cumulative` of :func:`~.pooling.pool`.
    """
    y, v, w, shift, m = _prepare(yi, vi, mask, model)
    with np.errstate(invalid="ignore", divide="ignore"):
        wy = w * y
        sw, sw2, swy, swy2 = (np.cumsum(t, axis=1) for t in (w, w * w, wy, wy * y))
        k = np.where(m, np.cumsum(m, axis=1), 0).astype(np.int64)
        include = np.tril(np.ones((y.shape[1], y.shape[1]), dtype=bool))
        return _finish_subsets(y, v, k, sw, sw2, swy, swy2, include, model, shift)
