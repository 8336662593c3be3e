"""Influence diagnostics of a (random- or fixed-effect) meta-analysis, as metafor ``influence()``.

Each study is left out in turn and the model refitted with the same tau^2 estimator; the
diagnostics compare the two fits. Fixed-effect and DerSimonian-Laird fits without each study are
closed forms, computed for all studies at once (:func:`~.batch.leave_one_out_batch`); the
iterated estimators are refitted study by study. A study is flagged as influential when any of
metafor's cut-offs is met (Viechtbauer & Cheung 2010).

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

from mscreview.stats._common import StatsError
from mscreview.stats._dist import chdtrc
from mscreview.stats.batch import leave_one_out_batch
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
    if model == "fixed" or tau2_method == "DL":  # closed form: every deletion at once
        loo = leave_one_out_batch(yi[None, :], vi[None, :], model=model)
        theta_del, se_del, q_del = loo.theta[0], loo.se[0], loo.q[0]
        t2_del = loo.tau2[0] if model == "random" else np.zeros(k)
    else:  # iterated tau^2: refit without each study
        fits = [pool(effects.subset(np.arange(k) != i), model=model, tau2_method=tau2_method,
                     tol=tol) for i in range(k)]
        theta_del = np.array([f.theta for f in fits])
        se_del = np.array([f.se for f in fits])
        q_del = np.array([f.q for f in fits])
        t2_del = np.array([f.tau2 if model == "random" else 0.0 for f in fits])
    diff = full.theta - theta_del
    resid = yi - theta_del
    resid[np.abs(resid) < 100 * np.finfo(float).eps] = 0.0
    out = {
        "rstudent": resid / np.sqrt(vi + t2_del + se_del**2),
        "dffits": diff / np.sqrt(hat * (t2_del + vi)),
        "cook_d": diff**2 / full.se**2,
        "cov_r": se_del**2 / full.se**2,
        "tau2_del": t2_del,
        "qe_del": q_del,
        # sum over all k studies of 1/(v_j + tau2_(-i)): the deletion's own sum plus study i
        "dfbetas": diff * np.sqrt(1.0 / se_del**2 + 1.0 / (vi + t2_del)),
    }
    cut = 3.0 * math.sqrt(1.0 / (k - 1))
    flags = tuple((np.abs(out["dffits"]) > cut) | (1.0 - chdtrc(1, out["cook_d"]) > 0.5)
                  | (hat > 3.0 / k) | (np.abs(out["dfbetas"]) > 1.0))
    fields = {name: tuple(arr.tolist()) for name, arr in out.items()}
    return Influence(
        study=effects.study, hat=tuple(hat.tolist()), weight=tuple((100.0 * hat).tolist()),
        influential=tuple(map(bool, flags)), **fields,
    )
