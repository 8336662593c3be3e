"""Influence diagnostics of a (random- or fixed-effect) meta-analysis, as metafor ``influence()``.

Each study is left out in turn and the model refitted with the same tau^2 estimator; the
diagnostics compare the two fits. A study is flagged as influential when any of metafor's cut-offs
is met (Viechtbauer & Cheung 2010).

References
----------
Viechtbauer W, Cheung MW-L. Outlier and influence diagnostics for meta-analysis. Res Synth
    Methods 2010;1:112-25 (externally standardised residuals, DFFITS, Cook's distance,
    COVRATIO, DFBETAS and the cut-offs).
Viechtbauer W. metafor ``influence.rma.uni`` (version 3.8): the formulas below for the
    intercept-only model (p = 1) with normal-theory tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import chdtr  # type: ignore[import-untyped]

from mscreview.stats._common import StatsError
from mscreview.stats.pooling import pool
from mscreview.stats.results import EffectSet

__all__ = ["Influence", "influence"]


@dataclass(frozen=True)
class Influence:
    """Per-study influence diagnostics, every field a tuple of shape (k,).

    Attributes
    ----------
    study : tuple of str
    rstudent : tuple of float
        Externally standardised residual ``(y_i - mu_(-i)) / sqrt(v_i + tau2_(-i) + se_(-i)^2)``.
    dffits : tuple of float
        ``(mu - mu_(-i)) / sqrt(h_i (tau2_(-i) + v_i))``.
    cook_d : tuple of float
        Cook's distance ``(mu - mu_(-i))^2 / se^2``.
    cov_r : tuple of float
        COVRATIO ``se_(-i)^2 / se^2``.
    tau2_del, qe_del : tuple of float
        tau^2 and Cochran's Q without study i.
    hat : tuple of float
        Leverage ``w_i / sum w``.
    weight : tuple of float
        Weight in percent.
    dfbetas : tuple of float
        ``(mu - mu_(-i)) / sqrt(1 / sum_j 1/(v_j + tau2_(-i)))`` (sum over all k studies).
    influential : tuple of bool
        ``|dffits| > 3 sqrt(1/(k - 1))`` or ``P(chi2_1 <= cook_d) > 0.5`` or ``hat > 3/k`` or
        ``|dfbetas| > 1`` (metafor's ``inf`` column).
    """

    study: tuple[str, ...]
    rstudent: tuple[float, ...]
    dffits: tuple[float, ...]
    cook_d: tuple[float, ...]
    cov_r: tuple[float, ...]
    tau2_del: tuple[float, ...]
    qe_del: tuple[float, ...]
    hat: tuple[float, ...]
    weight: tuple[float, ...]
    dfbetas: tuple[float, ...]
    influential: tuple[bool, ...]


def influence(effects: EffectSet, *, model: str = "random", tau2_method: str = "DL",
              tol: float = 1e-12) -> Influence:
    """Leave-one-out influence diagnostics of the inverse-variance model (metafor ``influence``).

    Parameters
    ----------
    effects : EffectSet
        At least 3 studies with usable ``yi``/``vi`` (analysis scale).
    model, tau2_method : str
        As :func:`~mscreview.stats.pooling.pool`; normal-theory tests (no HKSJ), as metafor
        with ``test = "z"``.

    Returns
    -------
    Influence

    Raises
    ------
    StatsError
        With fewer than 3 studies (a study left out must leave a heterogeneity estimate).
    """
    k = effects.k
    if k < 3:
        raise StatsError(f"{k} studies: influence diagnostics need at least 3")
    yi, vi = effects.yi, effects.vi
    full = pool(effects, model=model, tau2_method=tau2_method, tol=tol)
    tau2 = full.tau2 if model == "random" else 0.0
    w = 1.0 / (vi + tau2)
    hat = w / np.sum(w)
    out: dict[str, list[float]] = {key: [] for key in (
        "rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "qe_del", "dfbetas")}
    for i in range(k):
        mask = np.ones(k, dtype=bool)
        mask[i] = False
        res = pool(effects.subset(mask), model=model, tau2_method=tau2_method, tol=tol)
        t2 = res.tau2 if model == "random" else 0.0
        diff = full.theta - res.theta
        resid = float(yi[i]) - res.theta
        if abs(resid) < 100 * np.finfo(float).eps:
            resid = 0.0
        out["rstudent"].append(resid / math.sqrt(float(vi[i]) + t2 + res.se**2))
        out["dffits"].append(diff / math.sqrt(float(hat[i]) * (t2 + float(vi[i]))))
        out["cook_d"].append(diff**2 / full.se**2)
        out["cov_r"].append(res.se**2 / full.se**2)
        out["tau2_del"].append(t2)
        out["qe_del"].append(res.q)
        out["dfbetas"].append(diff / math.sqrt(1.0 / float(np.sum(1.0 / (vi + t2)))))
    cut = 3.0 * math.sqrt(1.0 / (k - 1))
    flags = tuple(
        bool(abs(df) > cut or chdtr(1, cd) > 0.5 or h > 3.0 / k or abs(db) > 1.0)
        for df, cd, h, db in zip(out["dffits"], out["cook_d"], hat, out["dfbetas"], strict=True)
    )
    return Influence(
        study=effects.study, rstudent=tuple(out["rstudent"]), dffits=tuple(out["dffits"]),
        cook_d=tuple(out["cook_d"]), cov_r=tuple(out["cov_r"]),
        tau2_del=tuple(out["tau2_del"]), qe_del=tuple(out["qe_del"]),
        hat=tuple(map(float, hat)), weight=tuple(float(x) for x in 100.0 * hat),
        dfbetas=tuple(out["dfbetas"]), influential=flags,
    )
