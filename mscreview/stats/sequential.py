"""Sequential monitoring of a living meta-analysis: required information size and diversity.

Every rebuild of a living review re-tests the same hypothesis; trial sequential analysis (TSA)
treats each update as an interim look of one large trial whose planned sample size is the
required information size (RIS), adjusted for between-trial variability by the diversity D^2.

References
----------
Wetterslev J, Thorlund K, Brok J, Gluud C. Trial sequential analysis may establish when firm
    evidence is reached in cumulative meta-analysis. J Clin Epidemiol 2008;61:64-75 (RIS).
Wetterslev J, Thorlund K, Brok J, Gluud C. Estimating required information size by quantifying
    diversity in random-effects model meta-analyses. BMC Med Res Methodol 2009;9:86 (D^2).
Thorlund K, et al. User manual for Trial Sequential Analysis (TSA). Copenhagen Trial Unit, 2011.
Lan KKG, DeMets DL. Discrete sequential boundaries for clinical trials. Biometrika
    1983;70:659-63 (alpha spending; the O'Brien-Fleming-type function).
Jennison C, Turnbull BW. Group Sequential Methods with Applications to Clinical Trials.
    Chapman & Hall/CRC 2000, chapter 19 (numerical integration of the sequential Z statistics).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mscreview.stats._common import FloatArray, StatsError
from mscreview.stats._scipy import log_ndtr, ndtr, ndtri, ndtri_exp

__all__ = [
    "InformationSize",
    "SequentialBounds",
    "diversity",
    "information_size_continuous",
    "information_size_dichotomous",
    "obf_boundaries",
    "obf_spending",
]

#: Grid of the numerical integration: points per look (odd, Simpson's rule) and how many
#: standard deviations of the score a one-sided continuation region reaches below its mean.
GRID_POINTS = 1201
TAIL_SD = 10.0
#: Bisection stops when the boundary is known to this absolute width.
BOUND_TOL = 1e-13


@dataclass(frozen=True)
class InformationSize:
    """A required information size (participants, both arms together).

    Attributes
    ----------
    kind : str
        ``"dichotomous"`` or ``"continuous"``.
    ris : float
        Unadjusted required information size ``4 (z_{1-alpha/2} + z_{1-beta})^2 var / delta^2``.
    d2 : float
        Diversity used for the adjustment (0 = none), in [0, 1).
    adjusted : float
        Diversity-adjusted RIS ``ris / (1 - d2)`` (DARIS).
    alpha, beta : float
        Two-sided type I error and type II error (power = 1 - beta).
    delta : float
        Anticipated difference on the risk or mean scale (``Pc * RRR``, or the mean difference).
    variance : float
        ``p(1 - p)`` with the mean risk ``p`` of the two arms, or the anticipated variance.
    """

    kind: str
    ris: float
    d2: float
    adjusted: float
    alpha: float
    beta: float
    delta: float
    variance: float


def _z_sum(alpha: float, beta: float) -> float:
    if not 0.0 < alpha < 1.0 or not 0.0 < beta < 1.0:
        raise StatsError(f"alpha and beta must lie in (0, 1) (got {alpha}, {beta})")
    return float(ndtri(1.0 - alpha / 2.0) + ndtri(1.0 - beta))


def _adjust(d2: float) -> float:
    if not 0.0 <= d2 < 1.0 or math.isnan(d2):
        raise StatsError(f"diversity D^2 must lie in [0, 1) (got {d2})")
    return 1.0 / (1.0 - d2)


def information_size_dichotomous(
    control_risk: float, rrr: float, *, alpha: float = 0.05, beta: float = 0.10,
    d2: float = 0.0,
) -> InformationSize:
    """Required information size for a binary outcome (Wetterslev 2008, eq. 1).

    ``RIS = 4 (z_{1-alpha/2} + z_{1-beta})^2 p (1 - p) / delta^2`` with the control risk ``Pc``,
    the intervention risk ``Pe = Pc (1 - RRR)``, their mean ``p = (Pc + Pe)/2`` and
    ``delta = Pc - Pe = Pc RRR``; adjusted by diversity as ``RIS / (1 - D^2)`` (Wetterslev 2009).

    Parameters
    ----------
    control_risk : float
        Anticipated risk in the control arm, in (0, 1).
    rrr : float
        Anticipated relative risk reduction, in (0, 1) (a relative risk increase may be given
        as a negative value, down to ``1 - 1/Pc``).
    alpha, beta : float
        Two-sided type I error (default 5%) and type II error (default 10%, power 90%).
    d2 : float
        Diversity D^2 in [0, 1); see :func:`diversity`.
    """
    pc = float(control_risk)
    if not 0.0 < pc < 1.0:
        raise StatsError(f"control risk must lie in (0, 1) (got {pc})")
    pe = pc * (1.0 - float(rrr))
    if rrr == 0 or not 0.0 <= pe < 1.0:
        raise StatsError(f"relative risk reduction {rrr} gives an intervention risk {pe:g}")
    p = (pc + pe) / 2.0
    delta = pc - pe
    var = p * (1.0 - p)
    ris = 4.0 * _z_sum(alpha, beta) ** 2 * var / delta**2
    return InformationSize("dichotomous", ris, float(d2), ris * _adjust(d2), alpha, beta,
                           delta, var)


def information_size_continuous(
    delta: float, variance: float, *, alpha: float = 0.05, beta: float = 0.10, d2: float = 0.0,
) -> InformationSize:
    """Required information size for a continuous outcome (Wetterslev 2008).

    ``RIS = 4 (z_{1-alpha/2} + z_{1-beta})^2 sigma^2 / delta^2`` for an anticipated mean
    difference ``delta`` and variance ``sigma^2`` of the outcome in each arm; adjusted by
    diversity as ``RIS / (1 - D^2)`` (Wetterslev 2009).
    """
    if not delta or not math.isfinite(delta):
        raise StatsError(f"the anticipated difference must be finite and not 0 (got {delta})")
    if not variance > 0 or not math.isfinite(variance):
        raise StatsError(f"the anticipated variance must be > 0 (got {variance})")
    ris = 4.0 * _z_sum(alpha, beta) ** 2 * float(variance) / float(delta) ** 2
    return InformationSize("continuous", ris, float(d2), ris * _adjust(d2), alpha, beta,
                           abs(float(delta)), float(variance))


def diversity(se_fixed: float, se_random: float) -> float:
    """Diversity ``D^2 = (V_R - V_F) / V_R`` (Wetterslev 2009, eq. 6).

    ``V_F`` and ``V_R`` are the variances of the fixed-effect and random-effects pooled
    estimates (``se**2``). D^2 is the relative reduction of the variance when the model changes
    from random to fixed effects; it is 0 when tau^2 = 0 and never below I^2 (Wetterslev 2009).
    Returns NaN when either SE is not finite or positive.
    """
    vf, vr = float(se_fixed) ** 2, float(se_random) ** 2
    if not (math.isfinite(vf) and math.isfinite(vr)) or vr <= 0 or vf <= 0:
        return math.nan
    return max(0.0, (vr - vf) / vr)


# ---------------------------------------------------------------------------------------------
# Lan-DeMets O'Brien-Fleming-type alpha spending and its boundaries
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SequentialBounds:
    """Group-sequential boundaries at the looks ``t`` (information fractions, capped at 1).

    Attributes
    ----------
    t : tuple of float, shape (m,)
        Information fraction of each look, in (0, 1], as given (capped at 1).
    bounds : tuple of float, shape (m,)
        Critical value of the cumulative Z at each look; a two-sided design rejects when
        ``|Z| >= bound``, a one-sided one when ``Z >= bound``. ``inf`` where the alpha to spend
        is too small to represent (the boundary is not drawn, as TSA programs do).
    spent : tuple of float, shape (m,)
        Cumulative alpha spent by each look, ``alpha(t)``.
    alpha : float
    sided : int
    """

    t: tuple[float, ...]
    bounds: tuple[float, ...]
    spent: tuple[float, ...]
    alpha: float
    sided: int


def obf_spending(t: float | FloatArray, alpha: float = 0.05) -> FloatArray:
    """O'Brien-Fleming-type spending ``alpha(t) = 2 - 2 Phi(z_{1-alpha/2} / sqrt(t))``.

    Lan & DeMets 1983; ``alpha(1) = alpha``, ``alpha(0) = 0``. Fractions above 1 count as 1.
    """
    tt = np.minimum(np.asarray(t, dtype=np.float64), 1.0)
    with np.errstate(divide="ignore"):
        out: FloatArray = 2.0 * ndtr(-float(ndtri(1.0 - alpha / 2.0)) / np.sqrt(tt))
    return out


def _simpson(n: int, lo: float, hi: float) -> tuple[FloatArray, FloatArray]:
    x = np.linspace(lo, hi, n)
    w = np.ones(n)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return x, w * (hi - lo) / (3.0 * (n - 1))


def _normal_pdf(x: FloatArray) -> FloatArray:
    out: FloatArray = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
    return out


def _first_bound(alpha: float, t: float, sided: int) -> float:
    """Boundary of the first look, in closed form (no tail probability underflows)."""
    z = float(ndtri(1.0 - alpha / 2.0))
    if sided == 2:  # alpha(t)/2 = Phi(-z/sqrt(t)) exactly
        return z / math.sqrt(t)
    # one-sided: P(Z >= c) = alpha(t) = 2 Phi(-z/sqrt t): solve in log space
    return -float(ndtri_exp(math.log(2.0) + float(log_ndtr(-z / math.sqrt(t)))))


def _bisect(f: Callable[[float], float], target: float, lo: float, hi: float) -> float:
    """Root of the decreasing ``f(c) - target`` on [lo, hi] by bisection to ``BOUND_TOL``."""
    while hi - lo > BOUND_TOL * max(1.0, hi):
        mid = 0.5 * (lo + hi)
        if f(mid) > target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def obf_boundaries(
    t: FloatArray | list[float] | tuple[float, ...], *, alpha: float = 0.05, sided: int = 2,
    grid: int = GRID_POINTS,
) -> SequentialBounds:
    """Lan-DeMets O'Brien-Fleming-type boundaries at the information fractions ``t``.

    The alpha spent between consecutive looks, ``alpha(t_j) - alpha(t_{j-1})``
    (:func:`obf_spending`), is the probability under H0 that the cumulative Z first crosses the
    boundary at look j. The cumulative Z has independent increments (Brownian motion on the
    information scale); the crossing probabilities are computed by recursive numerical
    integration of the continuation densities (Jennison & Turnbull 2000, ch. 19; Simpson's rule
    on ``grid`` points) and each boundary is found by bisection.

    Parameters
    ----------
    t : array_like, shape (m,)
        Increasing information fractions ``n_accrued / RIS`` (> 0); values above 1 are capped at
        1 (the required information size is reached: all alpha is spent), and a repeated
        fraction repeats the previous boundary (no new information).
    alpha : float
        Total type I error.
    sided : {2, 1}
        2: symmetric two-sided boundaries, ``alpha(t)`` the total two-sided spending (Lan &
        DeMets 1983; the TSA program). 1: one-sided (upper) boundaries, as R rpact
        ``getDesignGroupSequential(typeOfDesign = "asOF", sided = 1)``.

    Returns
    -------
    SequentialBounds
    """
    if sided not in (1, 2):
        raise StatsError(f"sided must be 1 or 2 (got {sided})")
    if not 0.0 < alpha < 1.0:
        raise StatsError(f"alpha must lie in (0, 1) (got {alpha})")
    raw = np.asarray(t, dtype=np.float64)
    if raw.ndim != 1 or raw.size == 0 or not np.all(np.isfinite(raw)) or np.any(raw <= 0):
        raise StatsError("information fractions must be a non-empty list of numbers > 0")
    capped = np.minimum(raw, 1.0)
    if np.any(np.diff(capped) < 0):
        raise StatsError("information fractions must not decrease")
    looks, inverse = np.unique(capped, return_inverse=True)
    spent = obf_spending(looks, alpha)
    bounds = np.full(len(looks), np.inf)
    density: FloatArray | None = None  # continuation sub-density of the score on `nodes`
    nodes = weights = np.zeros(0)
    prev_t = 0.0
    for j, tj in enumerate(looks):
        target = float(spent[j] - (spent[j - 1] if j else 0.0))
        if j == 0:
            c = _first_bound(alpha, float(tj), sided)
        else:
            assert density is not None
            sd = math.sqrt(tj - prev_t)
            mass = density * weights

            def exit_prob(c: float, tj: float = float(tj), sd: float = sd,
                          mass: FloatArray = mass, nodes: FloatArray = nodes) -> float:
                b = c * math.sqrt(tj)
                p = float(np.sum(mass * ndtr((nodes - b) / sd)))
                if sided == 2:
                    p += float(np.sum(mass * ndtr((-b - nodes) / sd)))
                return p

            if target <= 0.0 or exit_prob(40.0) >= target:
                c = math.inf
            else:
                c = _bisect(exit_prob, target, 0.0, 40.0)
        bounds[j] = c
        # the continuation density at this look, for the next one
        if j + 1 < len(looks):
            sqrt_t = math.sqrt(tj)
            hi = min(c, TAIL_SD) * sqrt_t if math.isfinite(c) else TAIL_SD * sqrt_t
            lo = -hi if sided == 2 else -TAIL_SD * sqrt_t
            new_nodes, new_weights = _simpson(grid, lo, hi)
            if density is None:
                new_density = _normal_pdf(new_nodes / sqrt_t) / sqrt_t
            else:
                sd = math.sqrt(tj - prev_t)
                kernel = _normal_pdf((new_nodes[:, None] - nodes[None, :]) / sd) / sd
                new_density = kernel @ (density * weights)
            density, nodes, weights = new_density, new_nodes, new_weights
        prev_t = float(tj)
    return SequentialBounds(
        t=tuple(float(x) for x in capped), bounds=tuple(float(bounds[i]) for i in inverse),
        spent=tuple(float(spent[i]) for i in inverse), alpha=alpha, sided=sided,
    )
