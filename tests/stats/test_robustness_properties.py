"""Invariants of the robustness statistics (hypothesis property tests)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mscreview.stats import EffectSet, StatsError, influence, meta_regression, trim_and_fill

studies = st.lists(st.tuples(st.floats(-2, 2), st.floats(0.02, 1.0)), min_size=10, max_size=16)


def _effects(data: list[tuple[float, float]], sign: float = 1.0) -> EffectSet:
    y, v = zip(*data)
    return EffectSet("GIV", tuple(f"s{i}" for i in range(len(y))), sign * np.asarray(y),
                     np.asarray(v))


@settings(max_examples=40, deadline=None)
@given(studies, st.sampled_from(["random", "fixed"]))
def test_trim_and_fill_mirrors(data: list[tuple[float, float]], model: str) -> None:
    """Negating every effect mirrors trim-and-fill: same k0, other side, negated estimate."""
    a = trim_and_fill(_effects(data), model=model, side="left")
    b = trim_and_fill(_effects(data, -1.0), model=model, side="right")
    assert a.k0 == b.k0
    assert b.result.theta == pytest.approx(-a.result.theta, rel=1e-9, abs=1e-12)
    assert sorted(b.filled_yi) == pytest.approx(sorted(-x for x in a.filled_yi), abs=1e-12)
    assert a.k0 <= len(data)


@settings(max_examples=40, deadline=None)
@given(studies, st.floats(-50, 50))
def test_meta_regression_shift_invariance(data: list[tuple[float, float]], shift: float) -> None:
    """Shifting a moderator moves only the intercept (slope, tau^2, QM and R^2 unchanged)."""
    y, v = zip(*data)
    x = np.arange(len(y), dtype=float)
    try:
        a = meta_regression(y, v, x, method="DL")
        b = meta_regression(y, v, x + shift, method="DL")
    except StatsError:
        assume(False)
        return
    assume(np.isfinite(a.qm))  # identical effects: Knapp-Hartung's s2w = 0, no test
    assert b.coef[1] == pytest.approx(a.coef[1], rel=1e-7, abs=1e-9)
    assert b.tau2 == pytest.approx(a.tau2, rel=1e-7, abs=1e-10)
    assert b.qm == pytest.approx(a.qm, rel=1e-6, abs=1e-9)
    assert b.coef[0] == pytest.approx(a.coef[0] - shift * a.coef[1], rel=1e-6, abs=1e-7)
    assert 0.0 <= a.r2 <= 100.0


@settings(max_examples=40, deadline=None)
@given(studies)
def test_influence_basic_identities(data: list[tuple[float, float]]) -> None:
    inf = influence(_effects(data))
    assert sum(inf.hat) == pytest.approx(1.0, rel=1e-12)
    assert sum(inf.weight) == pytest.approx(100.0, rel=1e-12)
    assert all(c > 0 for c in inf.cov_r) and all(d >= 0 for d in inf.cook_d)
