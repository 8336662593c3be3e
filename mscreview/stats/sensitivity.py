"""Sensitivity analyses: leave-one-out and cumulative meta-analysis (Cochrane Handbook 10.14)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from mscreview.stats.results import EffectSet, PoolResult

__all__ = ["cumulative", "leave_one_out"]


def leave_one_out(
    effects: EffectSet, pool_fn: Callable[[EffectSet], PoolResult]
) -> tuple[tuple[str, PoolResult], ...]:
    """Pool again without each study in turn; returns ``(omitted study, result)`` pairs.

    ``pool_fn`` is applied unchanged (same model and tau^2 estimator), as metafor ``leave1out``.
    """
    out = []
    for i, name in enumerate(effects.study):
        mask = np.ones(effects.k, dtype=bool)
        mask[i] = False
        out.append((name, pool_fn(effects.subset(mask))))
    return tuple(out)


def cumulative(
    effects: EffectSet,
    pool_fn: Callable[[EffectSet], PoolResult],
    order: Sequence[float] | None = None,
) -> tuple[tuple[str, PoolResult], ...]:
    """Cumulative meta-analysis: add studies one at a time, sorted by ``order``.

    ``order`` (shape (k,)) is e.g. the publication year or the data version in which a trial was
    added; ties keep input order (stable sort). Returns ``(study added, result)`` pairs.
    """
    idx = np.arange(effects.k) if order is None else np.argsort(np.asarray(order), kind="stable")
    return tuple(
        (effects.study[int(idx[j])], pool_fn(effects.subset(idx[: j + 1])))
        for j in range(effects.k)
    )
