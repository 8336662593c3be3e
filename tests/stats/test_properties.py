"""Hypothesis property tests of the pooling engine."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mscreview.stats import continuous_effects, dichotomous_effects, pool, pool_mh, pool_yi_vi

finite = st.floats(-50, 50, allow_nan=False)
variance = st.floats(0.01, 25, allow_nan=False)
studies = st.lists(st.tuples(finite, variance), min_size=1, max_size=12)
arm = st.tuples(st.integers(2, 200), st.floats(-20, 20), st.floats(0.1, 10))
two_arm = st.lists(st.tuples(arm, arm), min_size=2, max_size=8)
events, totals = st.integers(1, 40), st.integers(41, 120)
table = st.tuples(events, events, totals, totals)
tables = st.lists(table, min_size=2, max_size=8)
models = st.sampled_from([("fixed", "DL"), ("random", "DL"), ("random", "REML"), ("random", "PM")])


@settings(max_examples=60, deadline=None)
@given(studies, models, st.randoms(use_true_random=False))
def test_study_order_does_not_matter(data, model, rnd) -> None:  # type: ignore[no-untyped-def]
    y, v = map(list, zip(*data, strict=True))
    a = pool_yi_vi(y, v, model=model[0], tau2_method=model[1])
    order = list(range(len(y)))
    rnd.shuffle(order)
    b = pool_yi_vi([y[i] for i in order], [v[i] for i in order], model=model[0],
                   tau2_method=model[1])
    assert math.isclose(a.estimate, b.estimate, rel_tol=1e-7, abs_tol=1e-9)
    assert math.isclose(a.se, b.se, rel_tol=1e-7)


@settings(max_examples=60, deadline=None)
@given(two_arm, st.sampled_from(["MD", "SMD", "SMD_EXACT"]))
def test_swapping_arms_flips_sign(data, measure) -> None:  # type: ignore[no-untyped-def]
    e, c = zip(*data, strict=True)
    cols_e, cols_c = list(zip(*e, strict=True)), list(zip(*c, strict=True))
    fwd = continuous_effects(*cols_e, *cols_c, measure=measure)
    rev = continuous_effects(*cols_c, *cols_e, measure=measure)
    np.testing.assert_allclose(rev.yi, -fwd.yi, rtol=1e-12, atol=1e-12)
    a, b = pool(fwd), pool(rev)
    assert math.isclose(a.estimate, -b.estimate, rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=60, deadline=None)
@given(tables, st.sampled_from(["RR", "OR"]))
def test_swapping_arms_inverts_ratios(data, measure) -> None:  # type: ignore[no-untyped-def]
    a, c, n1, n2 = map(list, zip(*data, strict=True))
    fwd = pool_mh(dichotomous_effects(a, n1, c, n2, measure=measure))
    rev = pool_mh(dichotomous_effects(c, n2, a, n1, measure=measure))
    assert math.isclose(fwd.estimate, 1.0 / rev.estimate, rel_tol=1e-9)
    assert math.isclose(fwd.ci_low, 1.0 / rev.ci_high, rel_tol=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.lists(variance, min_size=2, max_size=10), finite)
def test_fixed_equals_random_when_tau2_is_zero(v, y0) -> None:  # type: ignore[no-untyped-def]
    y = [y0] * len(v)  # identical effects: Q = 0, tau^2 = 0
    f = pool_yi_vi(y, v, model="fixed")
    for method in ("DL", "REML", "PM"):
        r = pool_yi_vi(y, v, model="random", tau2_method=method)
        assert r.tau2 == 0.0
        assert math.isclose(r.estimate, f.estimate, rel_tol=1e-12, abs_tol=1e-12)
        assert math.isclose(r.se, f.se, rel_tol=1e-12)


@settings(max_examples=80, deadline=None)
@given(studies, models, st.booleans())
def test_ci_contains_estimate_and_weights_sum_to_100(data, model, hksj) -> None:  # type: ignore[no-untyped-def]
    y, v = map(list, zip(*data, strict=True))
    r = pool_yi_vi(y, v, model=model[0], tau2_method=model[1], hksj=hksj)
    assert r.ci_low <= r.estimate <= r.ci_high
    assert math.isclose(sum(s.weight for s in r.studies), 100.0, rel_tol=1e-9)
    if r.k >= 3 and model[0] == "random":
        assert r.pi_low <= r.ci_low and r.ci_high <= r.pi_high
