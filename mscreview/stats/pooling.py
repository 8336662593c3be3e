"""Inverse-variance pooling: fixed effect, random effects (DL, REML, PM), HKSJ, prediction interval.

References
----------
Deeks JJ, Higgins JPT. Statistical algorithms in Review Manager 5 (2010): IV fixed effect, Q,
    I^2 = (Q - df)/Q, DerSimonian-Laird.
DerSimonian R, Laird N. Control Clin Trials 1986;7:177-88.
Viechtbauer W. J Educ Behav Stat 2005;30:261-93 (REML Fisher scoring, as metafor ``rma``).
Paule RC, Mandel J. J Res Natl Bur Stand 1982;87:377-85.
Hartung J, Knapp G. Stat Med 2001;20:3875-89; Sidik K, Jonkman JN. Stat Med 2002;21:3153-9.
Higgins JPT, Thompson SG, Spiegelhalter DJ. JRSS A 2009;172:137-59 (prediction interval).
Viechtbauer W. Stat Med 2007;26:37-52 (Q-profile CI for tau^2).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

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
from mscreview.stats.results import RATIO_MEASURES, EffectSet, Excluded, PoolResult, StudyEffect

__all__ = [
    "TAU2_METHODS",
    "generic_effects",
    "i2_revman",
    "pool",
    "pool_yi_vi",
    "q_profile",
    "tau2_dl",
    "tau2_pm",
    "tau2_reml",
]

TAU2_METHODS = ("DL", "REML", "PM")

#: Default convergence tolerance (absolute change in tau^2) and iteration cap of REML and PM.
#: Tighter than metafor's 1e-5 so that results agree with metafor run at threshold 1e-12.
TOL = 1e-12
MAX_ITER = 1000

_NAN = float("nan")


# ---------------------------------------------------------------------------------------------
# Heterogeneity and tau^2 estimators (arrays of shape (k,))
# ---------------------------------------------------------------------------------------------


def cochran_q(yi: FloatArray, vi: FloatArray) -> tuple[float, float]:
    """Cochran's Q around the IV fixed-effect mean; returns ``(Q, mu_FE)``."""
    w = 1.0 / vi
    mu = float(np.sum(w * yi) / np.sum(w))
    return float(np.sum(w * (yi - mu) ** 2)), mu


def i2_revman(q: float, df: int) -> float:
    """I^2 in percent, ``100 max(0, (Q - df)/Q)`` (Higgins & Thompson 2002; RevMan 5).

    Returns 0 when Q = 0 and NaN when df < 1.
    """
    if df < 1 or not math.isfinite(q):
        return _NAN
    if q <= 0:
        return 0.0
    return 100.0 * max(0.0, (q - df) / q)


def tau2_dl(yi: FloatArray, vi: FloatArray, q: float | None = None) -> float:
    """DerSimonian-Laird ``max(0, (Q - df)/(sum w - sum w^2/sum w))`` with ``w = 1/v``.

    ``q`` may be given to use another Q (RevMan's MH-centred Q for M-H random analyses).
    """
    w = 1.0 / vi
    if q is None:
        q = cochran_q(yi, vi)[0]
    c = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    if c <= 0:
        return 0.0
    return max(0.0, (q - (len(yi) - 1)) / c)


def _generalised_q(yi: FloatArray, vi: FloatArray, tau2: float) -> float:
    w = 1.0 / (vi + tau2)
    mu = np.sum(w * yi) / np.sum(w)
    return float(np.sum(w * (yi - mu) ** 2))


def _bisect_decreasing(
    f: Callable[[float], float], lo: float, hi: float, tol: float, max_iter: int
) -> tuple[float, bool, int]:
    """Root of a decreasing ``f`` with ``f(lo) > 0``; expands ``hi`` until ``f(hi) < 0``."""
    it = 0
    while f(hi) > 0:
        lo, hi = hi, hi * 2.0
        it += 1
        if it > max_iter:
            return hi, False, it
    while hi - lo > tol * max(1.0, hi):
        mid = 0.5 * (lo + hi)
        if f(mid) > 0:
            lo = mid
        else:
            hi = mid
        it += 1
        if it > max_iter:
            return 0.5 * (lo + hi), False, it
    return 0.5 * (lo + hi), True, it


def tau2_pm(
    yi: FloatArray, vi: FloatArray, *, tol: float = TOL, max_iter: int = MAX_ITER
) -> tuple[float, bool, int]:
    """Paule-Mandel tau^2: the root of ``Q(tau^2) = k - 1`` (generalised Q), 0 if Q(0) <= k - 1.

    Solved by bisection to a relative width ``tol``. Returns ``(tau2, converged, iterations)``.
    """
    k = len(yi)
    if _generalised_q(yi, vi, 0.0) <= k - 1:
        return 0.0, True, 0
    hi = max(1.0, float(np.var(yi)) * 10.0)
    return _bisect_decreasing(lambda t: _generalised_q(yi, vi, t) - (k - 1), 0.0, hi, tol, max_iter)


def tau2_reml(
    yi: FloatArray, vi: FloatArray, *, tol: float = TOL, max_iter: int = MAX_ITER
) -> tuple[float, bool, int]:
    """Restricted maximum likelihood tau^2 by Fisher scoring (Viechtbauer 2005; metafor ``rma``).

    ``tau2 <- max(0, tau2 + (r'PPr - tr P)/tr(PP))`` with ``P = W - W11'W/1'W1``, started at the DL
    estimate, until the change is below ``tol``. Returns ``(tau2, converged, iterations)``.
    The k x k matrix P is never formed: ``Py = w (y - mu)``, ``tr P = sum w - sum w^2 / sum w``
    and ``tr PP = sum w^2 - 2 sum w^3 / sum w + (sum w^2 / sum w)^2`` (O(k) per step).
    """
    tau2 = tau2_dl(yi, vi)
    for it in range(1, max_iter + 1):
        w = 1.0 / (vi + tau2)
        sw, w2 = float(np.sum(w)), w * w
        sw2, sw3 = float(np.sum(w2)), float(np.sum(w2 * w))
        py = w * (yi - float(np.sum(w * yi)) / sw)
        adj = (float(py @ py) - (sw - sw2 / sw)) / (sw2 - 2.0 * sw3 / sw + (sw2 / sw) ** 2)
        new = max(0.0, tau2 + adj)
        if abs(new - tau2) < tol:
            return new, True, it
        tau2 = new
    return tau2, False, max_iter


def q_profile(
    yi: FloatArray, vi: FloatArray, *, level: float = 0.95, tol: float = TOL,
    max_iter: int = MAX_ITER,
) -> tuple[float, float]:
    """Q-profile confidence interval of tau^2 (Viechtbauer 2007), as metafor ``confint``.

    Solves ``Q(tau^2) = chi2_{k-1}`` at the upper and lower ``(1 - level)/2`` points; a limit is 0
    when Q(0) is already below its target. Needs k >= 2.
    """
    from scipy.special import chdtri  # type: ignore[import-untyped]

    k = len(yi)
    if k < 2:
        return _NAN, _NAN
    alpha = (1.0 - level) / 2.0
    limits = []
    for target in (float(chdtri(k - 1, alpha)), float(chdtri(k - 1, 1.0 - alpha))):
        if _generalised_q(yi, vi, 0.0) <= target:
            limits.append(0.0)
            continue
        hi = max(1.0, float(np.var(yi)) * 10.0)

        def excess(t: float, tg: float = target) -> float:
            return _generalised_q(yi, vi, t) - tg

        root, _, _ = _bisect_decreasing(excess, 0.0, hi, tol, max_iter)
        limits.append(root)
    return limits[0], limits[1]


def _typical_within_variance(vi: FloatArray) -> float:
    """``s^2 = (k-1) sum w / ((sum w)^2 - sum w^2)`` (Higgins & Thompson 2002), as metafor."""
    w = 1.0 / vi
    return float((len(vi) - 1) * np.sum(w) / (np.sum(w) ** 2 - np.sum(w**2)))


# ---------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------


def _usable(effects: EffectSet) -> tuple[EffectSet, tuple[Excluded, ...]]:
    """Drop studies whose yi or vi cannot take weight (non-finite, vi <= 0), with a reason."""
    ok = np.isfinite(effects.yi) & np.isfinite(effects.vi) & (effects.vi > 0)
    if ok.all():
        return effects, ()
    dropped = tuple(
        Excluded(s, "variance is zero or not finite: not estimable")
        for s, good in zip(effects.study, ok, strict=True)
        if not good
    )
    return effects.subset(ok), dropped


def _study_rows(
    effects: EffectSet, weights: FloatArray, crit: float
) -> tuple[StudyEffect, ...]:
    total = float(np.sum(weights))
    # element-wise in NumPy (sqrt, +, -, * and / round as Python's float operations do); the
    # back-transform of ratios stays math.exp (NumPy's exp may differ in the last bit)
    yi = np.asarray(effects.yi, dtype=np.float64)
    half = crit * np.sqrt(np.asarray(effects.vi, dtype=np.float64))
    ys, vs = yi.tolist(), effects.vi.tolist()
    lows, highs = (yi - half).tolist(), (yi + half).tolist()
    pct = (100.0 * np.asarray(weights, dtype=np.float64) / total).tolist()
    effs = ys
    if effects.measure in RATIO_MEASURES:
        effs = [math.exp(x) for x in ys]
        lows, highs = [math.exp(x) for x in lows], [math.exp(x) for x in highs]
    return tuple(map(StudyEffect, effects.study, ys, vs, pct, effs, lows, highs))


def _empty(effects: EffectSet, model: str, method: str, tau2_method: str | None,
           excluded: tuple[Excluded, ...], notes: tuple[str, ...]) -> PoolResult:
    return PoolResult(
        k=0, measure=effects.measure, model=model, method=method, tau2_method=tau2_method,
        estimate=_NAN, se=_NAN, ci_low=_NAN, ci_high=_NAN, z=_NAN, p=_NAN, q=_NAN, q_df=0,
        q_p=_NAN, i2=_NAN, tau2=_NAN, pi_low=_NAN, pi_high=_NAN, theta=_NAN, studies=(),
        excluded=excluded, notes=(*notes, "no study could be pooled"),
    )


def finish(
    effects: EffectSet,
    *,
    theta: float,
    se: float,
    weights: FloatArray,
    model: str,
    method: str,
    tau2_method: str | None,
    q: float,
    tau2: float,
    excluded: tuple[Excluded, ...],
    notes: Sequence[str],
    hksj: bool = False,
    test_df: float | None = None,
    tau2_ci: tuple[float, float] | None = None,
    i2_ci: tuple[float, float] | None = None,
    converged: bool | None = None,
    iterations: int | None = None,
) -> PoolResult:
    """Assemble a :class:`PoolResult` from a pooled ``theta``/``se`` (shared by IV, MH and Peto).

    CI and test use the normal distribution, or t with ``test_df`` df (HKSJ). The prediction
    interval is ``theta +/- t_{k-2} sqrt(tau^2 + se^2)`` for the random model with k >= 3
    (Higgins, Thompson & Spiegelhalter 2009; Cochrane Handbook 10.10.4.3).
    """
    k = effects.k
    crit = norm_crit() if test_df is None else t_crit(test_df)
    if se > 0:
        z = theta / se
    else:  # HKSJ with identical effects: zero-width interval
        z = math.copysign(math.inf, theta) if theta != 0 else _NAN
    p = float(norm_p(z)) if test_df is None else float(t_p(z, test_df))
    df = k - 1
    if k < 2:
        q_out, q_p, i2, tau2 = 0.0, _NAN, _NAN, (_NAN if model == "random" else 0.0)
    else:
        q_out, q_p, i2 = q, float(chi2_sf(q, df)), i2_revman(q, df)
    pi_low = pi_high = _NAN
    if model == "random" and k >= 3:
        half = t_crit(k - 2) * math.sqrt(tau2 + se**2)
        pi_low, pi_high = theta - half, theta + half
    ratio = effects.measure in RATIO_MEASURES
    tr: Callable[[float], float] = math.exp if ratio else float
    return PoolResult(
        k=k, measure=effects.measure, model=model, method=method, tau2_method=tau2_method,
        estimate=tr(theta), se=se, ci_low=tr(theta - crit * se), ci_high=tr(theta + crit * se),
        z=z, p=p, q=q_out, q_df=max(df, 0), q_p=q_p, i2=i2, tau2=tau2,
        pi_low=tr(pi_low) if math.isfinite(pi_low) else _NAN,
        pi_high=tr(pi_high) if math.isfinite(pi_high) else _NAN,
        theta=theta,
        studies=_study_rows(effects, weights, norm_crit()),
        excluded=excluded, notes=tuple(notes), hksj=hksj, test_df=test_df,
        tau2_ci=tau2_ci, i2_ci=i2_ci, converged=converged, iterations=iterations,
    )


def pool(
    effects: EffectSet,
    *,
    model: str = "random",
    tau2_method: str = "DL",
    hksj: bool = False,
    tau2_ci: bool = False,
    tau2: float | None = None,
    q: float | None = None,
    tol: float = TOL,
    max_iter: int = MAX_ITER,
    method: str = "IV",
    notes: Sequence[str] = (),
) -> PoolResult:
    """Inverse-variance meta-analysis of study effects.

    Parameters
    ----------
    effects : EffectSet
        Studies with ``yi``/``vi`` on the analysis scale; studies with a non-finite or
        non-positive variance are excluded with a reason.
    model : {"fixed", "random"}
        Fixed effect ``w = 1/v`` or random effects ``w* = 1/(v + tau^2)``.
    tau2_method : {"DL", "REML", "PM"}
        Between-study variance estimator (random model). REML and PM iterate to ``tol`` (absolute
        change / relative bracket width) with at most ``max_iter`` steps; see ``converged``.
    hksj : bool
        Hartung-Knapp-Sidik-Jonkman: ``var = sum w*(y - mu)^2 / ((k-1) sum w*)``, t with k-1 df
        (random model, k >= 2; not truncated, as metafor ``test="knha"``).
    tau2_ci : bool
        Add the Q-profile 95% CI of tau^2 and of I^2 (I^2 = tau^2/(tau^2 + s^2), as metafor).
    tau2 : float, optional
        Use this tau^2 instead of estimating it.
    q : float, optional
        Report this heterogeneity Q (and use it for DL) instead of the IV one: RevMan centres Q on
        the Mantel-Haenszel estimate for M-H analyses.

    Returns
    -------
    PoolResult
        k = 0: all NaN; k = 1: the study's own effect, no heterogeneity, no prediction interval.
    """
    if model not in ("fixed", "random"):
        raise StatsError(f"unknown model {model!r}")
    if model == "random" and tau2_method not in TAU2_METHODS:
        raise StatsError(f"unknown tau2 method {tau2_method!r}")
    tm = tau2_method if model == "random" else None
    effects, dropped = _usable(effects)
    excluded = (*effects.excluded, *dropped)
    notes = (*effects.notes, *notes)
    if effects.k == 0:
        return _empty(effects, model, method, tm, excluded, notes)
    yi, vi = effects.yi, effects.vi
    k = effects.k
    q_iv, _ = cochran_q(yi, vi)
    q_rep = q_iv if q is None else q
    converged: bool | None = None
    iterations: int | None = None
    t2 = 0.0
    if model == "random" and k >= 2:
        if tau2 is not None:
            t2 = tau2
        elif tau2_method == "DL":
            t2 = tau2_dl(yi, vi, q_rep)
        elif tau2_method == "REML":
            t2, converged, iterations = tau2_reml(yi, vi, tol=tol, max_iter=max_iter)
        else:
            t2, converged, iterations = tau2_pm(yi, vi, tol=tol, max_iter=max_iter)
        if converged is False:
            notes = (*notes, f"{tau2_method} did not converge in {max_iter} iterations")
    w = 1.0 / (vi + t2)
    theta = float(np.sum(w * yi) / np.sum(w))
    se = math.sqrt(1.0 / float(np.sum(w)))
    test_df: float | None = None
    use_hksj = hksj and model == "random" and k >= 2
    if use_hksj:
        se = math.sqrt(float(np.sum(w * (yi - theta) ** 2)) / ((k - 1) * float(np.sum(w))))
        test_df = float(k - 1)
    elif hksj:
        notes = (*notes, "HKSJ needs the random model and k >= 2: normal CI used")
    t2_ci = i2_ci = None
    if tau2_ci and k >= 2:
        t2_ci = q_profile(yi, vi, tol=tol, max_iter=max_iter)
        s2 = _typical_within_variance(vi)
        i2_ci = (100.0 * t2_ci[0] / (t2_ci[0] + s2), 100.0 * t2_ci[1] / (t2_ci[1] + s2))
    return finish(
        effects, theta=theta, se=se, weights=w, model=model, method=method, tau2_method=tm,
        q=q_rep, tau2=t2 if model == "random" else 0.0, excluded=excluded, notes=notes,
        hksj=use_hksj, test_df=test_df, tau2_ci=t2_ci, i2_ci=i2_ci, converged=converged,
        iterations=iterations,
    )


def pool_yi_vi(
    yi: ArrayLike,
    vi: ArrayLike,
    *,
    study: Sequence[str] | None = None,
    measure: str = "GIV",
    **options: object,
) -> PoolResult:
    """Pool effects given as arrays ``yi``/``vi`` of shape (k,); ``options`` as :func:`pool`."""
    y, v = as_float(yi), as_float(vi)
    names = tuple(study) if study is not None else tuple(f"study {i + 1}" for i in range(len(y)))
    return pool(EffectSet(measure=measure, study=names, yi=y, vi=v), **options)  # type: ignore[arg-type]


def generic_effects(
    estimate: ArrayLike,
    se: ArrayLike | None = None,
    *,
    ci_low: ArrayLike | None = None,
    ci_high: ArrayLike | None = None,
    study: Sequence[str] | None = None,
    measure: str = "GIV",
    log_scale: bool = False,
) -> EffectSet:
    """Generic inverse variance input: an estimate with its SE, or with a 95% CI.

    Parameters
    ----------
    estimate : array_like, shape (k,)
        On the analysis scale, unless ``log_scale`` (then a ratio that is log-transformed, with the
        CI limits, before use).
    se : array_like, shape (k,), optional
    ci_low, ci_high : array_like, shape (k,), optional
        Used where ``se`` is missing: ``se = (high - low)/(2 z_0.975)`` (Cochrane Handbook 6.3.1).
    measure : str
        Label; pass e.g. ``"RR"`` with ``log_scale=True`` for ratios.

    Returns
    -------
    EffectSet
        Studies without a usable SE (missing, <= 0) are excluded with a reason.
    """
    est = as_float(estimate)
    k = len(est)
    names = tuple(study) if study is not None else tuple(f"study {i + 1}" for i in range(k))
    s = as_float(se) if se is not None else np.full(k, np.nan)
    notes: list[str] = []
    if ci_low is not None and ci_high is not None:
        lo, hi = as_float(ci_low), as_float(ci_high)
        if log_scale:
            with np.errstate(divide="ignore", invalid="ignore"):
                lo, hi = np.log(lo), np.log(hi)
        from_ci = ~np.isfinite(s) & np.isfinite(lo) & np.isfinite(hi)
        s = np.where(from_ci, (hi - lo) / (2.0 * norm_crit()), s)
        if from_ci.any():
            notes.append("SE derived from the 95% CI: " + ", ".join(np.array(names)[from_ci]))
    if log_scale:
        with np.errstate(divide="ignore", invalid="ignore"):
            est = np.log(est)
    excluded = []
    keep = np.ones(k, dtype=bool)
    for i in range(k):
        reason = None
        if not math.isfinite(est[i]):
            reason = "missing or invalid estimate"
        elif not math.isfinite(s[i]):
            reason = "missing SE"
        elif s[i] <= 0:
            reason = "SE <= 0"
        if reason:
            keep[i] = False
            excluded.append(Excluded(names[i], reason))
    return EffectSet(
        measure=measure,
        study=tuple(n for n, kp in zip(names, keep, strict=True) if kp),
        yi=est[keep],
        vi=s[keep] ** 2,
        excluded=tuple(excluded),
        notes=tuple(notes),
    )
