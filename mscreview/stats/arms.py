"""Unit of analysis: multi-arm trials and repeated time points.

A multi-arm trial (e.g. control, one infusion, two infusions) must not count its control group
twice. The default is to combine the experimental arms into one group (Cochrane Handbook 6.5.2.10
for means; events and totals simply add); the alternative is to choose one arm. A study may
contribute at most one time point to any single pooled estimate.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from mscreview.stats._common import StatsError

__all__ = [
    "ContinuousArm",
    "DichotomousArm",
    "check_one_timepoint",
    "choose_arm",
    "combine_continuous_arms",
    "combine_dichotomous_arms",
]


@dataclass(frozen=True)
class ContinuousArm:
    """An arm summarised by its size, mean and SD."""

    n: float
    mean: float
    sd: float


@dataclass(frozen=True)
class DichotomousArm:
    """An arm summarised by its events and size."""

    events: float
    n: float


def combine_continuous_arms(arms: Sequence[ContinuousArm]) -> ContinuousArm:
    """Combine arms into one group (Cochrane Handbook 6.5.2.10, Table 6.5.a).

    For two groups ``n = n1 + n2``, ``mean = (n1 m1 + n2 m2)/n`` and
    ``sd = sqrt(((n1-1) s1^2 + (n2-1) s2^2 + n1 n2/(n1+n2) (m1 - m2)^2) / (n - 1))``; more groups
    are combined one at a time, which gives the SD of the pooled sample.
    """
    if not arms:
        raise StatsError("no arms to combine")
    acc = arms[0]
    for arm in arms[1:]:
        n = acc.n + arm.n
        mean = (acc.n * acc.mean + arm.n * arm.mean) / n
        ss = (
            (acc.n - 1) * acc.sd**2
            + (arm.n - 1) * arm.sd**2
            + acc.n * arm.n / n * (acc.mean - arm.mean) ** 2
        )
        acc = ContinuousArm(n, mean, math.sqrt(ss / (n - 1)))
    return acc


def combine_dichotomous_arms(arms: Sequence[DichotomousArm]) -> DichotomousArm:
    """Combine arms by adding events and totals (Cochrane Handbook 6.5.2.10)."""
    if not arms:
        raise StatsError("no arms to combine")
    return DichotomousArm(sum(a.events for a in arms), sum(a.n for a in arms))


def choose_arm(arms: Sequence[ContinuousArm], index: int) -> ContinuousArm:
    """Use one experimental arm only (the alternative to combining); the others are dropped."""
    if not 0 <= index < len(arms):
        raise StatsError(f"arm {index} does not exist (the study has {len(arms)} arms)")
    return arms[index]


def check_one_timepoint(studies: Sequence[str], timepoints: Sequence[str]) -> None:
    """Refuse a pool in which a study appears at more than one time point.

    Parameters
    ----------
    studies, timepoints : sequence of str, shape (k,)
        The study and time point of each row meant for one pooled estimate.

    Raises
    ------
    StatsError
        Naming each study and its time points: pooling them would count the same patients more
        than once (the unit-of-analysis error of the seed review's "overall" time analyses).
    """
    if len(studies) != len(timepoints):
        raise StatsError("studies and timepoints differ in length")
    seen: dict[str, list[str]] = {}
    for s, t in zip(studies, timepoints, strict=True):
        seen.setdefault(s, []).append(t)
    counts = Counter(studies)
    bad = [f"{s} ({', '.join(seen[s])})" for s in counts if counts[s] > 1]
    if bad:
        raise StatsError(
            "a study may contribute one time point to a pooled estimate; "
            "several given for: " + "; ".join(bad)
        )
