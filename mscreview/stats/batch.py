"""Many inverse-variance analyses in one vectorised call (fixed effect and DerSimonian-Laird).

The living review re-pools every analysis at each data version, and simulation checks pool
thousands; a Python loop over :func:`~mscreview.stats.pooling.pool` costs far more than the
arithmetic. Analyses of different k are stored as a padded (m, k_max) array with a boolean mask,
or as one flat array with offsets (:func:`pool_ragged`). Formulas as :mod:`.pooling`
(Deeks & Higgins 2010; DerSimonian & Laird 1986; Higgins, Thompson & Spiegelhalter 2009).
Results are on the analysis scale (log for ratios).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import chdtrc, ndtr, ndtri, stdtr, stdtrit  # type: ignore[import-untyped]

from mscreview.stats._common import FloatArray, StatsError

__all__ = ["BatchResult", "pad_ragged", "pool_batch", "pool_ragged"]


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
