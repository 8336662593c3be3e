"""Subgroup analyses: separate pools and RevMan 5's test for subgroup differences.

Each subgroup is pooled on its own (its own tau^2, as RevMan 5). The test for subgroup differences
is a fixed-effect Cochran's Q over the subgroup estimates and their standard errors, with
df = (number of subgroups - 1) and its own I^2 (Deeks & Higgins 2010, "Tests for subgroup
differences"; Borenstein & Higgins, Prev Sci 2013;14:134-43).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from mscreview.stats._common import chi2_sf
from mscreview.stats.pooling import i2_revman
from mscreview.stats.results import EffectSet, PoolResult

__all__ = ["SubgroupAnalysis", "SubgroupTest", "analyse_subgroups", "subgroup_differences"]


@dataclass(frozen=True)
class SubgroupTest:
    """Test for subgroup differences: Q (Chi^2), df, p and I^2 in percent."""

    q: float
    df: int
    p: float
    i2: float


@dataclass(frozen=True)
class SubgroupAnalysis:
    """An overall pool, one pool per subgroup (in first-appearance order) and the test."""

    overall: PoolResult
    names: tuple[str, ...]
    subgroups: tuple[PoolResult, ...]
    test: SubgroupTest


def subgroup_differences(results: Sequence[PoolResult]) -> SubgroupTest:
    """Fixed-effect Q across subgroup estimates (analysis scale) weighted by ``1/se^2``.

    Subgroups without an estimate (k = 0) are skipped. Fewer than two estimable subgroups give
    Q = 0, df = 0 and NaN p and I^2.
    """
    est = np.array([r.theta for r in results if r.k > 0 and math.isfinite(r.se)])
    se = np.array([r.se for r in results if r.k > 0 and math.isfinite(r.se)])
    df = len(est) - 1
    if df < 1:
        return SubgroupTest(0.0, 0, float("nan"), float("nan"))
    w = 1.0 / se**2
    mu = float(np.sum(w * est) / np.sum(w))
    q = float(np.sum(w * (est - mu) ** 2))
    return SubgroupTest(q, df, float(chi2_sf(q, df)), i2_revman(q, df))


def analyse_subgroups(
    effects: EffectSet,
    labels: Sequence[str],
    pool_fn: Callable[[EffectSet], PoolResult],
) -> SubgroupAnalysis:
    """Pool ``effects`` overall and within each subgroup with the same ``pool_fn``.

    Parameters
    ----------
    effects : EffectSet
        Included studies, shape (k,).
    labels : sequence of str, shape (k,)
        Subgroup of each included study (aligned with ``effects.study``).
    pool_fn : callable
        E.g. ``functools.partial(pool, model="random")`` or :func:`~mscreview.stats.pool_mh`.
    """
    if len(labels) != effects.k:
        raise ValueError(f"{len(labels)} subgroup labels for {effects.k} studies")
    names = tuple(dict.fromkeys(labels))
    arr = np.array(labels, dtype=object)
    subs = tuple(pool_fn(effects.subset(arr == name)) for name in names)
    return SubgroupAnalysis(pool_fn(effects), names, subs, subgroup_differences(subs))
