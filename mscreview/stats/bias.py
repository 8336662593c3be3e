"""Small-study effects: Egger's regression test and funnel-plot coordinates.

Only offered with at least 10 studies (Cochrane Handbook 13.3.5.4): with fewer the test is too
weak to tell chance from asymmetry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mscreview.stats._common import StatsError, norm_crit, t_p
from mscreview.stats.results import EffectSet

__all__ = ["MIN_STUDIES", "EggerTest", "Funnel", "egger_test", "funnel"]

#: Cochrane Handbook 13.3.5.4: tests for funnel plot asymmetry need at least 10 studies.
MIN_STUDIES = 10


@dataclass(frozen=True)
class EggerTest:
    """Egger's test: intercept of ``y/se`` on ``1/se``, its SE, t, df = k - 2 and p."""

    k: int
    intercept: float
    se: float
    t: float
    df: int
    p: float
    slope: float


@dataclass(frozen=True)
class Funnel:
    """Funnel plot: study ``yi`` (x) against ``sei`` (y), the pooled ``center`` and the
    pseudo-95% limits ``center +/- 1.96 se`` at ``se = 0`` and ``se = se_max``."""

    study: tuple[str, ...]
    yi: tuple[float, ...]
    sei: tuple[float, ...]
    center: float
    se_max: float
    lower_at_max: float
    upper_at_max: float


def _check_k(k: int) -> None:
    if k < MIN_STUDIES:
        raise StatsError(f"{k} studies: funnel plots and Egger's test need at least {MIN_STUDIES}")


def egger_test(effects: EffectSet) -> EggerTest:
    """Egger's regression test (Egger et al., BMJ 1997;315:629-34).

    OLS of the standard normal deviate ``y/se`` on precision ``1/se``; the intercept is tested
    with t on k - 2 df. Equivalent to metafor ``regtest(model = "lm")`` (the coefficient of
    ``sei`` in the weighted regression of ``y`` on ``sei``). Raises :class:`StatsError` if
    k < 10, if every standard error is the same, or if the regression fits exactly.
    """
    _check_k(effects.k)
    sei = np.sqrt(effects.vi)
    precision = 1.0 / sei
    if float(np.ptp(precision)) <= 1e-12 * float(np.max(precision)):
        raise StatsError("Egger's test needs trials of different precision: every standard "
                         "error is the same")
    x = np.column_stack([np.ones(effects.k), precision])
    z = effects.yi / sei
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ x.T @ z
    resid = z - x @ beta
    df = effects.k - 2
    sigma2 = float(resid @ resid) / df
    se0 = math.sqrt(sigma2 * float(xtx_inv[0, 0]))
    if sigma2 <= (1e-12 * float(np.max(np.abs(z)))) ** 2:  # residuals are rounding noise
        raise StatsError("Egger's test is undefined: the regression fits every trial exactly")
    t = float(beta[0]) / se0
    return EggerTest(effects.k, float(beta[0]), se0, t, df, float(t_p(t, df)), float(beta[1]))


def funnel(effects: EffectSet, center: float) -> Funnel:
    """Funnel-plot coordinates around ``center`` (the pooled fixed-effect estimate, usually).

    Raises :class:`StatsError` if k < 10.
    """
    _check_k(effects.k)
    sei = np.sqrt(effects.vi)
    se_max = float(np.max(sei))
    half = norm_crit() * se_max
    return Funnel(
        effects.study, tuple(map(float, effects.yi)), tuple(map(float, sei)), center, se_max,
        center - half, center + half,
    )
