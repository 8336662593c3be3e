"""Absolute effects for a summary of findings: risks per 1,000 from a relative effect.

A relative effect means little to a reader without the baseline risk it applies to. GRADE's
summary-of-findings tables give the assumed control risk (ACR) and the corresponding risk with the
intervention, per 1,000 people, with the 95% CI carried over from the relative effect.

References
----------
Schünemann H, Brożek J, Guyatt G, Oxman A (eds). GRADE Handbook, 2013, section 5.2 (assumed
    control risk: the median control-group risk of the included studies).
Cochrane Handbook for Systematic Reviews of Interventions, version 6.4, 14.1.5 and 15.4.4
    (risk with the intervention from a RR, an OR or a HR).
Altman DG, Andersen PK. BMJ 1999;319:1492-5 (absolute risks from a hazard ratio under
    proportional hazards: ``S_e(t) = S_c(t)^HR``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mscreview.stats._common import StatsError

__all__ = ["PER", "AbsoluteEffect", "absolute_effect", "median_control_risk", "risk_with"]

#: Absolute effects are given per this many people (GRADE summary-of-findings tables).
PER = 1000


@dataclass(frozen=True)
class AbsoluteEffect:
    """Risks per :data:`PER` people with control and with the intervention.

    Attributes
    ----------
    control, intervention : float
        Assumed control risk and the corresponding risk with the intervention, per 1,000.
    difference, difference_low, difference_high : float
        ``intervention - control`` per 1,000 and its 95% CI (from the relative effect's CI).
    capped : bool
        True when ``ACR x RR`` exceeded 1 for some limit and was capped at 1,000 per 1,000.
    """

    control: float
    intervention: float
    difference: float
    difference_low: float
    difference_high: float
    capped: bool = False


def risk_with(acr: float, effect: float, measure: str) -> float:
    """Risk with the intervention for an assumed control risk ``acr`` (a proportion).

    ``RR``: ``acr x RR``; ``OR``/``PETO``: ``OR acr / (1 - acr + OR acr)``; ``HR``:
    ``1 - (1 - acr)^HR`` (proportional hazards); ``RD``: ``acr + RD`` (Cochrane Handbook
    14.1.5, 15.4.4). Not capped: see :func:`absolute_effect`.
    """
    if not 0.0 <= acr <= 1.0:
        raise StatsError(f"an assumed control risk is a proportion in [0, 1], not {acr!r}")
    if measure == "RR":
        return acr * effect
    if measure in ("OR", "PETO"):
        return effect * acr / (1.0 - acr + effect * acr)
    if measure == "HR":
        return 1.0 - float((1.0 - acr) ** effect)
    if measure == "RD":
        return acr + effect
    raise StatsError(f"no absolute effect for measure {measure!r} (RR, OR, PETO, HR or RD)")


def absolute_effect(
    acr: float, estimate: float, ci_low: float, ci_high: float, measure: str
) -> AbsoluteEffect:
    """Absolute effect per 1,000 of a pooled relative effect (GRADE Handbook 5.2).

    Parameters
    ----------
    acr : float
        Assumed control risk as a proportion (e.g. the median control-arm risk).
    estimate, ci_low, ci_high : float
        Pooled effect and its 95% CI on the display scale (ratio, or RD as a proportion).
    measure : {"RR", "OR", "PETO", "HR", "RD"}

    Returns
    -------
    AbsoluteEffect
        Risks are clipped to [0, 1] (an ``acr x RR`` above 1 is impossible); ``capped`` says so.
        The transformation is monotone, so the CI limits map to the CI of the difference.
    """
    values = [risk_with(acr, x, measure) for x in (estimate, ci_low, ci_high)]
    capped = any(v > 1.0 or v < 0.0 for v in values)
    est, lo, hi = (min(1.0, max(0.0, v)) for v in values)
    control = PER * acr
    return AbsoluteEffect(
        control=control,
        intervention=PER * est,
        difference=PER * est - control,
        difference_low=PER * min(lo, hi) - control,
        difference_high=PER * max(lo, hi) - control,
        capped=capped,
    )


def median_control_risk(events: Sequence[float], n: Sequence[float]) -> float:
    """Median of the control-arm risks ``events/n`` of the pooled trials (GRADE Handbook 5.2).

    Parameters
    ----------
    events, n : sequence of float, shape (k,)
        Control-arm events and totals; trials with a missing or non-positive n are ignored.

    Raises
    ------
    StatsError
        When no trial has a usable control arm.
    """
    e = np.asarray(events, dtype=np.float64)
    t = np.asarray(n, dtype=np.float64)
    if e.shape != t.shape:
        raise StatsError("events and n differ in length")
    ok = np.isfinite(e) & np.isfinite(t) & (t > 0)
    if not ok.any():
        raise StatsError("no control arm with events and n: no assumed control risk")
    risk = float(np.median(e[ok] / t[ok]))
    if math.isnan(risk):
        raise StatsError("control risk is not a number")
    return risk
