"""Meta-regression: a mixed-effects model ``y_i = x_i' beta + u_i + e_i`` (Thompson & Higgins 2002).

Used for the dose question (log10 cells per kg), follow-up time and route or cell type as
factors, and by trim-and-fill to choose its side (the slope on the standard error).

References
----------
Thompson SG, Higgins JPT. How should meta-regression analyses be undertaken and interpreted?
    Stat Med 2002;21:1559-73.
Viechtbauer W. Conducting meta-analyses in R with the metafor package. J Stat Softw
    2010;36(3):1-48 (``rma(yi, vi, mods = ~ x, method = "REML", test = "knha")``: Fisher scoring
    for REML, the Knapp-Hartung t and F tests, pseudo-R^2).
Knapp G, Hartung J. Improved tests for a random effects meta-regression with a single
    covariate. Stat Med 2003;22:2693-710.
Raudenbush SW. Analyzing effect sizes: random-effects models. In: The Handbook of Research
    Synthesis and Meta-Analysis, 2nd ed. 2009 (DerSimonian-Laird with moderators, pseudo-R^2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from mscreview.stats._common import (
    FloatArray,
    StatsError,
    as_float,
    chi2_sf,
    norm_crit,
    norm_p,
    t_crit,
    t_p,
)
from mscreview.stats._dist import fdtrc

__all__ = ["METHODS", "MetaRegression", "meta_regression", "meta_regression_predict"]

#: tau^2 estimators of a meta-regression: fixed effect, DerSimonian-Laird, REML.
METHODS = ("FE", "DL", "REML")
TOL = 1e-12
MAX_ITER = 1000
#: A converged REML tau^2 below this is the boundary maximum tau^2 = 0 (step halving towards 0
#: leaves a remainder of the order of the tolerance).
ZERO_TAU2 = 1e-10


@dataclass(frozen=True)
class MetaRegression:
    """A fitted meta-regression.

    Attributes
    ----------
    k, p : int
        Studies and coefficients (intercept included).
    names : tuple of str, shape (p,)
        Coefficient names (``"intercept"`` first).
    coef, se, stat, p_values, ci_low, ci_high : tuple of float, shape (p,)
        Estimates, standard errors, t (Knapp-Hartung) or z statistics, two-sided p-values and
        95% confidence limits.
    vcov : tuple of tuple of float, shape (p, p)
        Covariance of the coefficients (scaled by ``s2w`` under Knapp-Hartung).
    method : str
        ``"FE"``, ``"DL"`` or ``"REML"``.
    knha : bool
        Knapp-Hartung adjustment: t tests with ``df = k - p`` and an F test of moderators.
    df : int or None
        ``k - p`` under Knapp-Hartung, else None (normal tests).
    tau2 : float
        Residual between-study variance.
    tau2_null : float
        tau^2 of the intercept-only model with the same estimator.
    r2 : float
        Pseudo-R^2 in percent, ``max(0, 100 (tau2_null - tau2) / tau2_null)`` (0 when
        ``tau2_null`` is 0; NaN for the fixed-effect model).
    i2 : float
        Residual I^2 in percent, ``100 tau^2 / (tau^2 + s^2)`` with the typical within-study
        variance ``s^2 = (k - p) / tr(P_FE)`` (metafor).
    qm, qm_p : float
        Test of moderators (all coefficients but the intercept): F with ``qm_df`` degrees of
        freedom under Knapp-Hartung, else chi-square.
    qm_df : tuple of int
        ``(m, k - p)`` for F, ``(m,)`` for chi-square.
    qe, qe_df, qe_p : float, int, float
        Test for residual heterogeneity.
    converged : bool or None
    iterations : int or None
    """

    k: int
    p: int
    names: tuple[str, ...]
    coef: tuple[float, ...]
    se: tuple[float, ...]
    stat: tuple[float, ...]
    p_values: tuple[float, ...]
    ci_low: tuple[float, ...]
    ci_high: tuple[float, ...]
    vcov: tuple[tuple[float, ...], ...]
    method: str
    knha: bool
    df: int | None
    tau2: float
    tau2_null: float
    r2: float
    i2: float
    qm: float
    qm_df: tuple[int, ...]
    qm_p: float
    qe: float
    qe_df: int
    qe_p: float
    converged: bool | None = None
    iterations: int | None = None


def _wls(y: FloatArray, x: FloatArray, w: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Weighted least squares: ``(beta, (X'WX)^-1, r)`` with the residuals ``r = y - X beta``."""
    xw = x.T * w
    inv: FloatArray = np.asarray(np.linalg.inv(xw @ x), dtype=np.float64)
    beta: FloatArray = inv @ (xw @ y)
    resid: FloatArray = y - x @ beta
    return beta, inv, resid


def _trace_p(x: FloatArray, w: FloatArray, inv: FloatArray) -> float:
    """``tr P`` of ``P = W - W X (X'WX)^-1 X'W``: ``sum w - tr((X'WX)^-1 X'W^2X)``.

    The k x k matrix P is never formed (O(k p^2) instead of O(k^2) memory and O(k^3) time).
    """
    return float(np.sum(w) - np.sum(inv * ((x.T * (w * w)) @ x)))


def _tau2(y: FloatArray, v: FloatArray, x: FloatArray, method: str, tol: float,
          max_iter: int) -> tuple[float, bool | None, int | None]:
    """Residual tau^2 by DerSimonian-Laird or REML (Fisher scoring, metafor's update).

    With ``P = W - W X (X'WX)^-1 X'W``: ``y'Py = sum w r^2`` and ``Py = W r`` (``r`` the WLS
    residuals), so ``y'PPy = sum (w r)^2``; ``tr PP = sum w^2 - 2 tr(M X'W^3X) + tr((M C)^2)``
    with ``M = (X'WX)^-1`` and ``C = X'W^2X``. No k x k matrix is formed.
    """
    k, p = x.shape
    if method == "FE":
        return 0.0, None, None
    w = 1.0 / v
    _, inv, r = _wls(y, x, w)
    qe = float(np.sum(w * r * r))
    dl = max(0.0, (qe - (k - p)) / _trace_p(x, w, inv))
    if method == "DL":
        return dl, None, None
    tau2 = dl
    for it in range(1, max_iter + 1):
        w = 1.0 / (v + tau2)
        _, inv, r = _wls(y, x, w)
        w2 = w * w
        mc = inv @ ((x.T * w2) @ x)
        tr_p = float(np.sum(w)) - float(np.trace(mc))
        tr_pp = (float(np.sum(w2)) - 2.0 * float(np.sum(inv * ((x.T * (w2 * w)) @ x)))
                 + float(np.sum(mc * mc.T)))
        wr = w * r
        adj = (float(wr @ wr) - tr_p) / tr_pp
        while tau2 + adj < 0:  # step halving, as metafor (tau2.min = 0)
            adj /= 2.0
            if abs(adj) < 1e-300:
                adj = -tau2
                break
        new = tau2 + adj
        if abs(new - tau2) < tol:
            # step halving approaches a boundary maximum at 0 without reaching it
            return (0.0 if new < ZERO_TAU2 else new), True, it
        tau2 = new
    return max(0.0, tau2), False, max_iter


def meta_regression(
    yi: ArrayLike,
    vi: ArrayLike,
    mods: ArrayLike,
    *,
    names: Sequence[str] | None = None,
    method: str = "REML",
    knha: bool = True,
    tol: float = TOL,
    max_iter: int = MAX_ITER,
) -> MetaRegression:
    """Fit a meta-regression of ``yi`` on the moderators ``mods`` (an intercept is added).

    Parameters
    ----------
    yi, vi : array_like, shape (k,)
        Effects and sampling variances on the analysis scale.
    mods : array_like, shape (k,) or (k, m)
        Moderator columns (a factor as dummy columns, its reference level left out).
    names : sequence of str, shape (m,), optional
        Moderator names (default ``x1, x2, ...``).
    method : {"REML", "DL", "FE"}
        Residual tau^2 estimator; REML iterates to ``tol`` (absolute change) as metafor.
    knha : bool
        Knapp-Hartung: ``vb = s2w (X'WX)^-1`` with ``s2w = sum w (y - Xb)^2 / (k - p)`` (not
        truncated), t tests on ``k - p`` df and ``QM / m`` against F(m, k - p), as metafor
        ``test = "knha"``.

    Returns
    -------
    MetaRegression

    Raises
    ------
    StatsError
        Fewer than ``p + 1`` studies, a singular design (a moderator constant across studies
        or collinear with another), or non-finite input.
    """
    if method not in METHODS:
        raise StatsError(f"unknown meta-regression method {method!r} (use {', '.join(METHODS)})")
    y, v = as_float(yi), as_float(vi)
    z = np.asarray(mods, dtype=np.float64)
    if z.ndim == 1:
        z = z[:, None]
    k = len(y)
    if z.shape[0] != k or len(v) != k:
        raise StatsError("yi, vi and mods must have the same number of studies")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v)) and np.all(v > 0)
            and np.all(np.isfinite(z))):
        raise StatsError("meta-regression needs finite effects, positive variances and "
                         "finite moderators")
    m = z.shape[1]
    x = np.column_stack([np.ones(k), z])
    p = m + 1
    if k <= p:
        raise StatsError(f"{k} studies cannot estimate {p} coefficients and a residual variance")
    if np.linalg.matrix_rank(x) < p:
        raise StatsError("the moderators are constant or collinear across the studies")
    labels = tuple(names) if names is not None else tuple(f"x{j + 1}" for j in range(m))
    tau2, converged, iterations = _tau2(y, v, x, method, tol, max_iter)
    w = 1.0 / (v + tau2)
    beta, inv, resid = _wls(y, x, w)
    df: int | None = None
    vb = inv
    if knha:
        rss = float(np.sum(w * resid**2))
        s2w = rss / (k - p) if rss > np.finfo(float).eps else 0.0
        vb = s2w * inv
        df = k - p
    se = np.sqrt(np.diag(vb))
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = beta / se
    crit = t_crit(df) if df is not None else norm_crit()
    pv = t_p(stat, df) if df is not None else norm_p(stat)
    sub = vb[1:, 1:]
    qm = float(beta[1:] @ np.linalg.solve(sub, beta[1:])) if np.all(se[1:] > 0) else math.nan
    if df is not None:
        qm /= m
        qm_df: tuple[int, ...] = (m, df)
        qm_p = float(fdtrc(m, df, qm))
    else:
        qm_df = (m,)
        qm_p = float(chi2_sf(qm, m))
    w_fe = 1.0 / v
    _, inv_fe, r_fe = _wls(y, x, w_fe)
    qe = float(np.sum(w_fe * r_fe * r_fe))
    s2 = (k - p) / _trace_p(x, w_fe, inv_fe)
    i2 = 100.0 * tau2 / (tau2 + s2)
    if method == "FE":
        tau2_null, r2 = 0.0, math.nan
    else:
        tau2_null, _, _ = _tau2(y, v, np.ones((k, 1)), method, tol, max_iter)
        r2 = 0.0 if tau2_null == 0 else max(0.0, 100.0 * (tau2_null - tau2) / tau2_null)
    return MetaRegression(
        k=k, p=p, names=("intercept", *labels), coef=tuple(map(float, beta)),
        se=tuple(map(float, se)), stat=tuple(map(float, stat)), p_values=tuple(map(float, pv)),
        ci_low=tuple(float(b - crit * s) for b, s in zip(beta, se, strict=True)),
        ci_high=tuple(float(b + crit * s) for b, s in zip(beta, se, strict=True)),
        vcov=tuple(tuple(map(float, row)) for row in vb), method=method, knha=knha, df=df,
        tau2=float(tau2), tau2_null=float(tau2_null), r2=float(r2), i2=float(i2), qm=qm,
        qm_df=qm_df, qm_p=qm_p, qe=qe, qe_df=k - p, qe_p=float(chi2_sf(qe, k - p)),
        converged=converged, iterations=iterations,
    )


def meta_regression_predict(
    fit: MetaRegression, mods: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Fitted mean and its 95% CI at new moderator values (the line of a bubble plot).

    Parameters
    ----------
    fit : MetaRegression
    mods : array_like, shape (n,) or (n, m)
        Moderator values (intercept added).

    Returns
    -------
    tuple of numpy.ndarray, each shape (n,)
        ``(mean, ci_low, ci_high)``; t with ``fit.df`` df under Knapp-Hartung, else normal.
    """
    z = np.asarray(mods, dtype=np.float64)
    if z.ndim == 1:
        z = z[:, None]
    x = np.column_stack([np.ones(len(z)), z])
    beta = np.asarray(fit.coef)
    vb = np.asarray(fit.vcov)
    mean = x @ beta
    se = np.sqrt(np.einsum("ij,jk,ik->i", x, vb, x))
    crit = t_crit(fit.df) if fit.df is not None else norm_crit()
    return mean, mean - crit * se, mean + crit * se
