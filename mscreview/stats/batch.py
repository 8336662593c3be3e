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

from mscreview.stats._common import FloatArray, StatsError
from mscreview.stats._scipy import chdtrc, erfc, ndtr, ndtri, stdtr, stdtrit

#: sqrt(1/2): ``2 Phi(-x) = erfc(x sqrt(1/2))``, the way scipy's ``ndtr`` evaluates it.
_SQRT_HALF = math.sqrt(0.5)

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


#: Above this df the series of :func:`_chi2_sf_int` (df/2 terms per value, and a coefficient
#: table built per row) costs more than scipy's ``chdtrc``, which is used instead: with 5,000
#: studies, the series took 3.6 s per leave-one-out batch, ``chdtrc`` a few milliseconds.
_SERIES_MAX_DF = 100


def _chdtrc(df: NDArray[np.int64], x: FloatArray) -> FloatArray:
    out: FloatArray = chdtrc(df, x)
    return out


def _chi2_sf_int(df: NDArray[np.int64], x: FloatArray) -> FloatArray:
    """``P(chi2_df > x)`` for integer df >= 1 by the closed-form series (Abramowitz & Stegun
    26.4.4-5), vectorised; ``chdtrc`` costs ~0.5 us per value, this a few ns per term.

    Even df = 2n: ``exp(-x/2) sum_{j<n} (x/2)^j / j!``. Odd df = 2n + 1:
    ``2 Phi(-sqrt x) + 2 phi(sqrt x) sum_{j=1..n} x^{(2j-1)/2} / (1 3 5 ... (2j-1))``. The
    partial sums are kept per term and the one of each value's df is picked at the end.
    """
    x = np.maximum(x, 0.0)
    if int(df.max(initial=0)) > _SERIES_MAX_DF:
        return _chdtrc(df, x)
    if df.size and bool(np.all(df == df.flat[0])):  # one df (dense leave-one-out)
        return _chi2_sf_one(int(df.flat[0]), x)
    if df.ndim == 2 and df.shape[1] and bool(np.all(df == df[:, :1])):
        # each row has one df (cumulative without gaps, studies on axis 0)
        return _chi2_sf_rows(np.ascontiguousarray(df[:, 0]), x)
    if df.ndim == 2 and df.shape[0] and bool(np.all(df == df[:1])):
        # each column has one df: column by column
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


def _chi2_sf_rows(df: NDArray[np.int64], x: FloatArray) -> FloatArray:
    """``P(chi2_df > x)`` where row i of ``x`` (shape (r, b)) has df ``df[i]`` (shape (r,)).

    The series of :func:`_chi2_sf_int` by Horner's rule for all rows at once: level by level,
    ``acc = 1 + acc x c``, with a per-row coefficient ``c`` that is 0 above a row's own degree
    (which restarts ``acc`` at 1, so every row gets exactly its own terms). Even df = 2n:
    ``c = 1/(2j)`` for j = n-1..1; odd df = 2n + 1: ``c = 1/(2j-1)`` for j = n..2.
    """
    if int(df.max(initial=0)) > _SERIES_MAX_DF:
        return _chdtrc(df[:, None], x)
    n = df // 2
    odd = (df % 2) == 1
    levels = int(n.max(initial=1))
    coef = np.zeros((len(df), levels))
    for i, (ni, oi) in enumerate(zip(n.tolist(), odd.tolist(), strict=True)):
        # ni - 1 levels, the highest first, right-aligned (the zeros above are the restarts)
        for pos, j in enumerate(range(ni, 1, -1) if oi else range(ni - 1, 0, -1)):
            coef[i, levels - (ni - 1) + pos] = 1.0 / (2 * j - 1) if oi else 1.0 / (2 * j)
    acc = np.ones_like(x)
    for level in range(levels):
        acc *= x
        acc *= coef[:, level : level + 1]
        acc += 1.0
    out = np.multiply(x, -0.5)
    np.exp(out, out=out)
    out *= acc
    rows = np.flatnonzero(odd)
    if len(rows):  # 2 Phi(-sqrt x) + 2 phi(sqrt x) sqrt x * series (zero terms for df = 1)
        rx = np.sqrt(x[rows])
        tail = out[rows]
        tail *= rx
        tail *= (2.0 / math.sqrt(2.0 * math.pi)) * (n[rows] >= 1)[:, None]
        rx *= _SQRT_HALF
        tail += erfc(rx)
        out[rows] = tail
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


#: Values (analyses x studies) per block of the leave-one-out and cumulative batches. Every
#: temporary of a block then stays below glibc's default mmap threshold (128 KiB), so malloc
#: reuses heap memory instead of mapping fresh pages and faulting them in for each of the ~50
#: temporaries: done on whole (m, k) arrays, that page-faulting doubled the time of 10,000
#: leave-one-out analyses. The (k, k, block) random-effects weights reuse one buffer per call.
_BLOCK_VALUES = 15_000

#: Values of the random-effects work space of :func:`_re_sums` (2M: 16 MB).
_BUF_VALUES = 2_000_000

#: The float fields of :class:`BatchResult` the subset batches fill, in one (12, k, m) array.
_SUBSET_FIELDS = ("theta", "se", "ci_low", "ci_high", "z", "p", "q", "q_p", "i2", "tau2",
                  "pi_low", "pi_high")


def _re_sums(y: FloatArray, v: FloatArray, tau2: FloatArray, kind: str, buf: FloatArray
             ) -> tuple[FloatArray, FloatArray]:
    """Random-effects sums of each subset s of one block, studies on axis 0.

    Parameters
    ----------
    y, v : ndarray, shape (k, b)
        Centred effects and variances of b analyses (``v`` infinite where no study).
    tau2 : ndarray, shape (k, b)
        Each subset's own tau^2 (finite).
    kind : {"loo", "cumulative"}
        Subset s is every study but s, or the studies 0..s.
    buf : ndarray, shape (c, k, b)
        Work space, overwritten; leave-one-out takes ``c`` subsets at a time.

    Returns
    -------
    sws, swsy : ndarray, shape (k, b)
        ``sum_j w*_sj`` and ``sum_j w*_sj y_j`` over the studies j of subset s,
        ``w*_sj = 1/(v_j + tau2_s)``.
    """
    kmax = v.shape[0]
    if kind == "loo":  # (s, j) pairs, buf.shape[0] subsets s at a time; 1/inf = 0 leaves
        sws = np.empty_like(tau2)  # study s out of subset s
        swsy = np.empty_like(tau2)
        step = buf.shape[0]
        for a in range(0, kmax, step):
            b = min(kmax, a + step)
            r = np.add(v[None, :, :], tau2[a:b, None, :], out=buf[: b - a])
            rows = np.arange(b - a)
            r[rows, rows + a] = np.inf
            np.divide(1.0, r, out=r)  # np.reciprocal is not vectorised, divide is
            r.sum(axis=1, out=sws[a:b])
            np.einsum("sjb,jb->sb", r, y, out=swsy[a:b])
        return sws, swsy
    # cumulative: the lower triangle only, one step at a time
    sws, swsy = np.empty_like(tau2), np.empty_like(tau2)
    for s in range(kmax):
        r = np.add(v[: s + 1], tau2[s], out=buf[0, : s + 1])
        np.divide(1.0, r, out=r)
        r.sum(axis=0, out=sws[s])
        np.einsum("jb,jb->b", r, y[: s + 1], out=swsy[s])
    return sws, swsy


def _subset_block(y: FloatArray, v: FloatArray, m: NDArray[np.bool_] | None, kind: str,
                  model: str, buf: FloatArray | None, t975: FloatArray
                  ) -> tuple[NDArray[np.int64], list[FloatArray]]:
    """Leave-one-out or cumulative pools of one block of analyses, studies on axis 0.

    ``y`` and ``v`` (k, b) are the block's effects and variances, ``m`` (k, b) its mask (None:
    every study exists). Subset s of ``kind`` "loo" is every study but s; of "cumulative", the
    studies 0..s. The fixed-effect sums of ``w``, ``w^2``, ``w y`` and ``w y^2`` (``w = 1/v``,
    ``y`` centred on the analysis' fixed-effect mean so that
    ``Q = sum w y^2 - (sum w y)^2 / sum w`` loses no digits) are the totals minus study s
    (leave-one-out) or prefix sums (cumulative); only the random-effects sums need each subset's
    own tau^2 (:func:`_re_sums`). ``t975`` is the t quantile 0.975 by integer df. Returns the
    subsets' k (broadcastable to (k, b)) and the fields of :data:`_SUBSET_FIELDS`, each (k, b).
    """
    kmax = y.shape[0]
    if m is not None:
        v = np.where(m, v, np.inf)
        y = np.where(m, y, 0.0)
    terms = np.empty((4, *y.shape))
    w = np.divide(1.0, v, out=terms[0])
    shift = np.multiply(w, y, out=terms[2]).sum(axis=0) / w.sum(axis=0)
    if m is not None:
        shift[~np.isfinite(shift)] = 0.0
        y = y - shift * m
    else:
        y = y - shift
    np.multiply(w, w, out=terms[1])
    wy = np.multiply(w, y, out=terms[2])
    np.multiply(wy, y, out=terms[3])
    k: NDArray[np.int64]
    if kind == "loo":
        sums = terms.sum(axis=1, keepdims=True) - terms
        if m is None:
            k = np.full((kmax, 1), kmax - 1, dtype=np.int64)
        else:
            k = (m.sum(axis=0, dtype=np.int64) - 1) * m
    else:
        sums = terms
        for i in range(1, kmax):  # prefix sums (np.cumsum along axis 0 is several times slower)
            np.add(sums[:, i - 1], sums[:, i], out=sums[:, i])
        if m is None:
            k = np.arange(1, kmax + 1, dtype=np.int64)[:, None]
        else:
            k = np.cumsum(m, axis=0, dtype=np.int64) * m
    sw, sw2, swy, swy2 = sums
    # Without a mask k has one value per row (shape (k, 1)), ascending (cumulative) or constant
    # (leave-one-out): the few subsets with k < 3 are then the first rows, marked by row index
    # rather than by (k, b) boolean masks.
    dense = m is None

    def rows(cond: NDArray[np.bool_]) -> NDArray[np.bool_] | NDArray[np.intp]:
        return np.flatnonzero(cond[:, 0]) if dense else cond

    lt2, lt3 = rows(k < 2), rows(k < 3)
    q = swy2 - swy * swy / sw
    # below the rounding noise of the two sums Q is 0 (a two-pass sum would give ~0 too)
    q[q <= 16 * np.finfo(float).eps * swy2] = 0.0
    df = k - 1
    if model == "random":
        assert buf is not None
        c = sw - sw2 / sw
        tau2 = (q - df) / c
        np.maximum(tau2, 0.0, out=tau2)
        t2 = tau2
        if np.size(lt2):
            tau2[~(c > 0)] = 0.0
            t2 = tau2.copy()
            t2[lt2] = 0.0
            tau2[lt2] = np.nan
        sws, swsy = _re_sums(y, v, t2, kind, buf)
        se = np.sqrt(1.0 / sws)
        theta = swsy / sws
    else:
        tau2 = np.zeros_like(q)
        theta, se = swy / sw, np.sqrt(1.0 / sw)
    theta += shift
    z = theta / se
    p = np.abs(z)
    p *= _SQRT_HALF
    erfc(p, out=p)  # 2 Phi(-|z|), as ndtr computes it
    if dense:  # one df per row; the rows with k < 2 (a prefix) are NaN: not computed
        q_p = np.empty_like(q)
        first = np.size(lt2) and int(np.max(lt2)) + 1
        q_p[first:] = _chi2_sf_rows(np.maximum(df[first:, 0], 1), q[first:])
    else:
        q_p = _chi2_sf_int(np.maximum(df, 1), q)
    i2 = (q - df) / q
    np.maximum(i2, 0.0, out=i2)
    i2 *= 100.0
    i2[q <= 0] = 0.0
    if model == "random":
        half = t975[np.maximum(k - 2, 1)] * np.sqrt(tau2 + se * se)
        pi_low, pi_high = theta - half, theta + half
    else:
        pi_low, pi_high = np.full_like(q, np.nan), np.full_like(q, np.nan)
    half_ci = ndtri(0.975) * se
    ci_low, ci_high = theta - half_ci, theta + half_ci
    if np.size(lt3):  # few subsets: mark them in place
        for arr in (q_p, i2):
            arr[lt2] = np.nan
        pi_low[lt3] = np.nan
        pi_high[lt3] = np.nan
        q[lt2] = np.where(k[lt2] == 1, 0.0, np.nan)
        empty = rows(k == 0)
        for arr in (theta, se, z, p, tau2, ci_low, ci_high):
            arr[empty] = np.nan
    return k, [theta, se, ci_low, ci_high, z, p, q, q_p, i2, tau2, pi_low, pi_high]


def _subset_batch(yi: ArrayLike, vi: ArrayLike, mask: ArrayLike | None, model: str, kind: str
                  ) -> BatchResult:
    """Leave-one-out (``kind`` "loo") or cumulative pools of m analyses, block by block.

    Each block is transposed (studies on axis 0) so that sums over studies add whole rows;
    the results are filled into (k, m) arrays and returned as their (m, k) transposes.
    """
    if model not in ("fixed", "random"):
        raise StatsError(f"unknown model {model!r}")
    y = np.asarray(yi, dtype=np.float64)
    v = np.asarray(vi, dtype=np.float64)
    if y.ndim != 2 or y.shape != v.shape:
        raise StatsError("yi and vi must be 2-D arrays of the same shape (m, k_max)")
    m = None if mask is None else np.asarray(mask, dtype=bool)
    if m is not None and m.shape != y.shape:
        raise StatsError("mask must have the shape of yi (m, k_max)")
    n, kmax = y.shape
    rows = max(1, _BLOCK_VALUES // max(1, kmax))
    # (subsets, studies, analyses) work space of the random-effects sums, at most
    # _BUF_VALUES values: a large k is done a slice of subsets at a time (5,000 studies would
    # otherwise take 200 MB per analysis)
    per = kmax * min(rows, n)
    buf = (np.empty((max(1, min(kmax, _BUF_VALUES // max(1, per))), kmax, min(rows, n)))
           if model == "random" else None)
    t975 = stdtrit(np.arange(kmax + 1).clip(1), 0.975)
    out = np.empty((len(_SUBSET_FIELDS), kmax, n))
    k_out = np.empty((kmax, n), dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for a in range(0, n, rows):
            b = min(n, a + rows)
            k, fields = _subset_block(
                np.ascontiguousarray(y[a:b].T), np.ascontiguousarray(v[a:b].T),
                None if m is None else np.ascontiguousarray(m[a:b].T), kind, model,
                None if buf is None else buf[..., : b - a], t975)
            k_out[:, a:b] = k
            for i, arr in enumerate(fields):
                out[i, :, a:b] = arr
    fields_out = {f: arr.T for f, arr in zip(_SUBSET_FIELDS, out, strict=True)}
    return BatchResult(k=k_out.T, q_df=np.maximum(k_out - 1, 0).T, **fields_out)


def leave_one_out_batch(
    yi: ArrayLike, vi: ArrayLike, mask: ArrayLike | None = None, *, model: str = "random",
) -> BatchResult:
    """Leave-one-out for m analyses at once (IV fixed effect or DerSimonian-Laird).

    The fixed-effect sums without study i (and so Q and the DerSimonian-Laird C) are the totals
    minus study i's terms; only the random-effects weights (one tau^2 per left-out study) cost
    (m, k, k) work, done in cache-sized blocks of analyses.

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
    return _subset_batch(yi, vi, mask, model, "loo")


def cumulative_batch(
    yi: ArrayLike, vi: ArrayLike, mask: ArrayLike | None = None, *, model: str = "random",
) -> BatchResult:
    """Cumulative meta-analysis of m analyses at once, in column order (sort the columns first).

    Prefix sums give the fixed-effect parts (Q and the DerSimonian-Laird C); only the
    random-effects weights (one tau^2 per step, a lower-triangular pattern) cost (m, k, k) work,
    done in cache-sized blocks of analyses.

    Parameters
    ----------
    yi, vi, mask : array_like, shape (m, k_max)
        As :func:`pool_batch`.
    model : {"fixed", "random"}

    Returns
    -------
    BatchResult
        Every field of shape (m, k_max): column j pools the existing studies among columns
        ``0..j`` (NaN where column j holds no study). Agrees with
        :func:`~mscreview.stats.sensitivity.cumulative` of :func:`~.pooling.pool`.
    """
    return _subset_batch(yi, vi, mask, model, "cumulative")
