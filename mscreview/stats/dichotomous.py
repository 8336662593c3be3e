"""Mantel-Haenszel and Peto pooling of 2x2 tables, as RevMan 5.

References
----------
Deeks JJ, Higgins JPT. Statistical algorithms in Review Manager 5 (2010), "Mantel-Haenszel
    methods" and "Peto odds ratio".
Robins J, Breslow N, Greenland S. Biometrics 1986;42:311-23 (variance of ln OR_MH).
Greenland S, Robins JM. Biometrics 1985;41:55-68 (variances of ln RR_MH and RD_MH).
Yusuf S, Peto R, Lewis J, Collins R, Sleight P. Prog Cardiovasc Dis 1985;27:335-71.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from mscreview.stats._common import FloatArray, StatsError
from mscreview.stats.effects import ZERO_CELL_INCREMENT
from mscreview.stats.pooling import _empty, _usable, finish, pool
from mscreview.stats.results import EffectSet, Excluded, PoolResult

__all__ = ["mantel_haenszel", "pool_mh", "pool_peto"]


def mantel_haenszel(
    a: FloatArray, n1: FloatArray, c: FloatArray, n2: FloatArray, measure: str
) -> tuple[float, float, FloatArray]:
    """Mantel-Haenszel pooled effect on the analysis scale, its SE and the MH weights.

    Parameters
    ----------
    a, n1, c, n2 : numpy.ndarray, shape (k,)
        Events and totals of arm 1 (experimental) and arm 2 (control), after any correction.
    measure : {"RR", "OR", "RD"}

    Returns
    -------
    theta : float
        ln RR_MH, ln OR_MH or RD_MH.
    se : float
        OR: Robins-Breslow-Greenland; RR: ``sqrt(sum D/(sum R sum S))`` with
        ``D = (n1 n2 (a+c) - a c N)/N^2``, ``R = a n2/N``, ``S = c n1/N``; RD: Greenland-Robins
        ``sqrt(sum (a b n2^3 + c d n1^3)/(n1 n2 N^2)) / sum(n1 n2/N)``.
    weights : numpy.ndarray, shape (k,)
        RevMan's MH weights: OR ``b c/N``, RR ``c n1/N``, RD ``n1 n2/N``.
    """
    b, d = n1 - a, n2 - c
    big_n = n1 + n2
    if measure == "OR":
        r, s = a * d / big_n, b * c / big_n
        p, q = (a + d) / big_n, (b + c) / big_n
        sr, ss = float(np.sum(r)), float(np.sum(s))
        var = (
            float(np.sum(p * r)) / (2 * sr**2)
            + float(np.sum(p * s + q * r)) / (2 * sr * ss)
            + float(np.sum(q * s)) / (2 * ss**2)
        )
        return math.log(sr / ss), math.sqrt(var), s
    if measure == "RR":
        r, s = a * n2 / big_n, c * n1 / big_n
        dd = (n1 * n2 * (a + c) - a * c * big_n) / big_n**2
        sr, ss = float(np.sum(r)), float(np.sum(s))
        return math.log(sr / ss), math.sqrt(float(np.sum(dd)) / (sr * ss)), s
    if measure == "RD":
        w = n1 * n2 / big_n
        sw = float(np.sum(w))
        theta = float(np.sum((a * n2 - c * n1) / big_n)) / sw
        num = float(np.sum((a * b * n2**3 + c * d * n1**3) / (n1 * n2 * big_n**2)))
        return theta, math.sqrt(num) / sw, w
    raise StatsError(f"Mantel-Haenszel needs RR, OR or RD, not {measure!r}")


def pool_mh(
    effects: EffectSet,
    *,
    model: str = "fixed",
    tau2_method: str = "DL",
    hksj: bool = False,
    correct_mh: bool = True,
) -> PoolResult:
    """Mantel-Haenszel meta-analysis ("M-H, Fixed" or "M-H, Random" in RevMan 5).

    Parameters
    ----------
    effects : EffectSet
        From :func:`~mscreview.stats.effects.dichotomous_effects` (needs ``counts``).
    model : {"fixed", "random"}
        ``fixed``: the MH estimate with its MH variance. ``random``: inverse-variance random effects
        of the study effects, with the DerSimonian-Laird tau^2 computed from the MH-centred Q, as
        RevMan 5 (other ``tau2_method`` values use the usual IV estimators).
    correct_mh : bool, default True
        Use the zero-cell-corrected counts (0.5 added to studies with a zero cell) in the MH sums
        too, as RevMan 5 does; False uses the raw counts, as metafor ``rma.mh``.

    Returns
    -------
    PoolResult
        Heterogeneity ``Q = sum (y_i - theta_MH)^2 / v_i`` (IV weights, centred on the MH
        estimate, RevMan 5); ``I^2 = (Q - df)/Q``.
    """
    if effects.counts is None or effects.corrected is None:
        raise StatsError("Mantel-Haenszel pooling needs the 2x2 counts")
    measure = effects.measure
    usable, dropped = _usable(effects)
    excluded = (*effects.excluded, *dropped)
    if usable.k == 0:
        return _empty(effects, model, "MH", None if model == "fixed" else tau2_method,
                      excluded, effects.notes)
    assert usable.counts is not None and usable.corrected is not None
    a, n1, c, n2 = usable.counts
    notes = list(usable.notes)
    if correct_mh and usable.corrected.any():
        inc = np.where(usable.corrected, ZERO_CELL_INCREMENT, 0.0)
        a, c, n1, n2 = a + inc, c + inc, n1 + 2 * inc, n2 + 2 * inc
        notes.append("corrected counts used in the Mantel-Haenszel sums (RevMan 5)")
    theta, se, mh_w = mantel_haenszel(a, n1, c, n2, measure)
    q = float(np.sum((usable.yi - theta) ** 2 / usable.vi))
    if model == "random":
        return _mh_random(usable, tau2_method, hksj, q, excluded, notes)
    return finish(usable, theta=theta, se=se, weights=mh_w, model="fixed", method="MH",
                  tau2_method=None, q=q, tau2=0.0, excluded=excluded, notes=notes)


def _mh_random(
    usable: EffectSet, tau2_method: str, hksj: bool, q: float, excluded: tuple[Excluded, ...],
    notes: list[str],
) -> PoolResult:
    """IV random effects with tau^2 (DL) from the MH-centred Q, as RevMan's "M-H, Random"."""
    res = pool(
        EffectSet(usable.measure, usable.study, usable.yi, usable.vi, (), ()),
        model="random", tau2_method=tau2_method, hksj=hksj, q=q, method="MH", notes=notes,
    )
    return replace(res, excluded=excluded)


def pool_peto(effects: EffectSet) -> PoolResult:
    """Peto one-step odds ratio (Yusuf et al. 1985; Deeks & Higgins 2010).

    ``ln OR = sum(O - E)/sum V``, ``SE = 1/sqrt(sum V)`` with ``E = n1 (a + c)/N`` and
    ``V = n1 n2 (a + c)(b + d)/(N^2 (N - 1))``; ``Q = sum (O - E)^2/V - (sum(O - E))^2/sum V``.
    Fixed effect only. ``effects`` must come from ``dichotomous_effects(measure="PETO")``, whose
    ``yi = (O - E)/V`` and ``vi = 1/V``, so this equals IV pooling of those.
    """
    if effects.measure != "PETO":
        raise StatsError("pool_peto needs effects computed with measure='PETO'")
    return pool(effects, model="fixed", method="PETO")
