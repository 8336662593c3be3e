"""Small-study effects beyond Egger's test: contour levels of the funnel plot and trim-and-fill.

Offered only with at least 10 studies (Cochrane Handbook 13.3.5.4; see :mod:`.bias`).

References
----------
Peters JL, Sutton AJ, Jones DR, Abrams KR, Rushton L. Contour-enhanced meta-analysis funnel
    plots help distinguish publication bias from other causes of asymmetry. J Clin Epidemiol
    2008;61:991-6 (contours of two-sided significance around the null).
Duval S, Tweedie R. Trim and fill: a simple funnel-plot-based method of testing and adjusting
    for publication bias in meta-analysis. Biometrics 2000;56:455-63 (the L0 estimator).
Duval S, Tweedie R. A nonparametric "trim and fill" method of accounting for publication bias
    in meta-analysis. J Am Stat Assoc 2000;95:89-98.
Viechtbauer W. metafor ``trimfill.rma.uni`` (version 3.8): the side is the one opposite to the
    sign of the slope of ``y`` on ``sqrt(v)`` in a meta-regression with the model's estimator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mscreview.stats._common import StatsError
from mscreview.stats._dist import ndtri
from mscreview.stats.bias import MIN_STUDIES
from mscreview.stats.metareg import meta_regression
from mscreview.stats.pooling import pool
from mscreview.stats.results import EffectSet, PoolResult

__all__ = ["CONTOUR_LEVELS", "TrimFill", "contour_z", "trim_and_fill"]

#: Significance contours of a contour-enhanced funnel plot: two-sided p = 0.10, 0.05, 0.01.
CONTOUR_LEVELS = (0.90, 0.95, 0.99)


def contour_z(levels: tuple[float, ...] = CONTOUR_LEVELS) -> tuple[float, ...]:
    """Two-sided critical values ``z_{(1 + level)/2}``: a study at ``|y| = z se`` has p = 1 - level.

    The contours of a contour-enhanced funnel plot are ``y = null +/- z se`` (Peters 2008).
    """
    return tuple(float(ndtri(0.5 + lv / 2.0)) for lv in levels)


@dataclass(frozen=True)
class TrimFill:
    """Result of trim-and-fill.

    Attributes
    ----------
    k0 : int
        Estimated number of missing studies (L0).
    se_k0 : float
        Its standard error (Duval & Tweedie 2000).
    side : str
        ``"left"`` or ``"right"``: where studies are missing (are filled).
    filled_yi, filled_vi : tuple of float, shape (k0,)
        The imputed studies, mirror images of the k0 most extreme ones about the trimmed
        estimate (analysis scale).
    result : PoolResult
        The model refitted with the filled studies (the original result when k0 = 0).
    iterations : int
    """

    k0: int
    se_k0: float
    side: str
    filled_yi: tuple[float, ...]
    filled_vi: tuple[float, ...]
    result: PoolResult
    iterations: int


def _side(effects: EffectSet, model: str, tau2_method: str) -> str:
    method = "FE" if model == "fixed" else ("REML" if tau2_method == "REML" else "DL")
    fit = meta_regression(effects.yi, effects.vi, np.sqrt(effects.vi), method=method,
                          knha=False)
    return "right" if fit.coef[1] < 0 else "left"


def trim_and_fill(
    effects: EffectSet, *, model: str = "random", tau2_method: str = "DL",
    side: str | None = None, max_iter: int = 100,
) -> TrimFill:
    """Trim-and-fill with the L0 estimator (Duval & Tweedie 2000), as metafor ``trimfill``.

    Studies are sorted on the side opposite to the missing one, the ``k0`` most extreme are
    trimmed and the model refitted until ``k0`` is stable; then their mirror images about the
    trimmed estimate are added and the model is fitted to all ``k + k0`` studies.

    Parameters
    ----------
    effects : EffectSet
        At least 10 studies (analysis scale).
    model, tau2_method : str
        The model of every fit (as :func:`~mscreview.stats.pooling.pool`; PM chooses the side
        with DerSimonian-Laird).
    side : {"left", "right"}, optional
        Where studies are missing. Default: chosen as metafor does, from the sign of the slope
        of ``y`` on ``sqrt(v)`` (``"right"`` when negative).

    Raises
    ------
    StatsError
        k < 10, or no convergence within ``max_iter`` iterations.
    """
    k = effects.k
    if k < MIN_STUDIES:
        raise StatsError(f"{k} studies: trim-and-fill needs at least {MIN_STUDIES}")
    if side is None:
        side = _side(effects, model, tau2_method)
    if side not in ("left", "right"):
        raise StatsError(f"side must be 'left' or 'right' (got {side!r})")
    sign = -1.0 if side == "right" else 1.0
    y = sign * effects.yi
    order = np.argsort(y, kind="stable")
    ys, vs = y[order], effects.vi[order]
    k0, prev, it = 0, -1, 0
    se_k0 = 0.0
    beta = 0.0
    while k0 != prev:
        prev = k0
        it += 1
        if it > max_iter:
            raise StatsError("trim-and-fill did not converge")
        trimmed = EffectSet(measure=effects.measure, study=tuple(f"s{i}" for i in range(k - k0)),
                            yi=ys[: k - k0], vi=vs[: k - k0])
        beta = pool(trimmed, model=model, tau2_method=tau2_method).theta
        centred = ys - beta
        ranks = np.empty(k)
        ranks[np.argsort(np.abs(centred), kind="stable")] = np.arange(1, k + 1)
        sr = float(np.sum(ranks[centred > 0]))
        l0 = (4.0 * sr - k * (k + 1)) / (2.0 * k - 1.0)
        var_sr = (k * (k + 1) * (2 * k + 1) + 10 * l0**3 + 27 * l0**2 + 17 * l0
                  - 18 * k * l0**2 - 18 * k * l0 + 6 * k**2 * l0) / 24.0
        se_k0 = max(0.0, 4.0 * math.sqrt(var_sr) / (2.0 * k - 1.0)) if var_sr > 0 else 0.0
        k0 = max(0, round(l0))
    if k0 == 0:
        result = pool(effects, model=model, tau2_method=tau2_method)
        return TrimFill(0, se_k0, side, (), (), result, it)
    fill_y = sign * (2.0 * beta - ys[k - k0:])
    fill_v = vs[k - k0:]
    names = tuple(f"Filled {j + 1}" for j in range(k0))
    filled = EffectSet(measure=effects.measure, study=(*effects.study, *names),
                       yi=np.concatenate([effects.yi, fill_y]),
                       vi=np.concatenate([effects.vi, fill_v]))
    result = pool(filled, model=model, tau2_method=tau2_method)
    return TrimFill(int(k0), se_k0, side, tuple(map(float, fill_y)), tuple(map(float, fill_v)),
                    result, it)
