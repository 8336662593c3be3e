"""Sequential monitoring: required information size, diversity and O'Brien-Fleming boundaries.

Reference values: tests/reference/robustness_reference.json (written by robustness_reference.R
beside it; rpact version and the exact calls are recorded there).

Tolerances:
- boundaries vs rpact: 1e-7 absolute. rpact stops its root search at a tolerance of 1e-8 on the
  alpha spent and computes the spending as ``2 - 2 pnorm(.)``, so its boundaries move in the
  8th-9th decimal (up to 8e-8 over five looks); ours are converged to 1e-10 (grid test below).
- alpha spent vs rpact: 1e-6 relative (rpact spends alpha - 1e-8 at the final look).
- RIS continuous vs rpact ``getSampleSizeMeans(normalApproximation = TRUE)``: 1e-10 relative
  (closed form on both sides).
- RIS dichotomous: closed-form worked examples (Wetterslev 2008) to 1e-12 relative, and a
  published diversity-adjusted RIS to the rounding of its printed D^2.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mscreview.stats import (
    StatsError,
    diversity,
    information_size_continuous,
    information_size_dichotomous,
    obf_boundaries,
    obf_spending,
    pool_yi_vi,
)

REF = json.loads((Path(__file__).parents[1] / "reference" / "robustness_reference.json")
                 .read_text())
CASES = REF["cases"]
Z975, Z90, Z80 = 1.959963984540054, 1.2815515655446004, 0.8416212335729143


def test_reference_records_versions_and_calls() -> None:
    assert REF["rpact_version"] and REF["r_version"].startswith("R version")
    assert all(c["calls"] for c in CASES.values())


@pytest.mark.parametrize("name", sorted(n for n in CASES if n.startswith("obf_")))
def test_boundaries_match_rpact(name: str) -> None:
    case = CASES[name]
    d = case["data"]
    res = obf_boundaries(d["t"], alpha=d["alpha"], sided=d["sided"])
    for ours, theirs in zip(res.bounds, case["expected"]["bounds"], strict=True):
        if theirs is None:  # rpact: spending too small to represent (t = 0.05)
            assert ours > 8
            continue
        assert ours == pytest.approx(theirs, abs=1e-7)
    for ours, theirs in zip(res.spent, case["expected"]["spent"], strict=True):
        if theirs > 1e-8:
            assert ours == pytest.approx(theirs, rel=1e-6)


def test_first_look_is_closed_form_and_last_look_spends_alpha() -> None:
    res = obf_boundaries([0.04, 0.3, 1.0])
    assert res.bounds[0] == pytest.approx(Z975 / 0.2, rel=1e-12)
    assert res.spent[-1] == pytest.approx(0.05, rel=1e-12)
    assert 1.96 < res.bounds[-1] < 2.1


def test_grid_converged() -> None:
    t = [0.2, 0.45, 0.7, 1.0]
    a, b = obf_boundaries(t).bounds, obf_boundaries(t, grid=2401).bounds
    np.testing.assert_allclose(a, b, atol=1e-10, rtol=0)


def test_fractions_capped_and_repeated_looks_repeat_bounds() -> None:
    res = obf_boundaries([0.3, 0.3, 0.8, 1.4, 2.0])
    assert res.t == (0.3, 0.3, 0.8, 1.0, 1.0)
    assert res.bounds[0] == res.bounds[1] and res.bounds[3] == res.bounds[4]
    ref = obf_boundaries([0.3, 0.8, 1.0]).bounds
    assert (res.bounds[0], res.bounds[2], res.bounds[3]) == ref


@pytest.mark.parametrize("t", [[], [0.5, 0.2], [0.0, 0.5], [float("nan")]])
def test_bad_fractions_refused(t: list[float]) -> None:
    with pytest.raises(StatsError):
        obf_boundaries(t)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.05, 1.5), min_size=1, max_size=6))
def test_boundaries_bounded_by_spending(fractions: list[float]) -> None:
    """P(|Z_j| >= c_j) <= alpha(t_j) <= alpha, so c_j >= z_{1 - alpha(t_j)/2} >= z_0.975.

    (Boundaries need not decrease: two close looks are so correlated that the second one's
    boundary rises above the first.)
    """
    t = sorted(fractions)
    res = obf_boundaries(t)
    assert all(s1 <= s2 for s1, s2 in zip(res.spent, res.spent[1:]))
    for c, spent in zip(res.bounds, res.spent, strict=True):
        assert math.erfc(c / math.sqrt(2)) <= spent * (1 + 1e-9)
        assert c >= Z975 - 1e-9
    np.testing.assert_allclose(res.spent, obf_spending(t), rtol=1e-15)


@pytest.mark.parametrize("name", sorted(n for n in CASES if n.startswith("ris_continuous")))
def test_ris_continuous_matches_rpact_fixed_design(name: str) -> None:
    d = CASES[name]["data"]
    res = information_size_continuous(d["delta"], d["sd"] ** 2, alpha=d["alpha"], beta=d["beta"])
    assert res.ris == pytest.approx(CASES[name]["expected"]["ris"], rel=1e-10)
    assert res.adjusted == res.ris and res.d2 == 0.0


def test_ris_dichotomous_worked_examples() -> None:
    # Pc = 20%, RRR = 20%: Pe = 16%, mean risk 18%, delta = 4%; alpha 5%, beta 20%.
    res = information_size_dichotomous(0.20, 0.20, alpha=0.05, beta=0.20)
    expected = 4 * (Z975 + Z80) ** 2 * 0.18 * 0.82 / 0.04**2
    assert res.ris == pytest.approx(expected, rel=1e-12)
    assert round(res.ris) == 2896
    # the defaults (alpha 5%, beta 10%) and a diversity of 25%
    res = information_size_dichotomous(0.30, 0.25, d2=0.25)
    expected = 4 * (Z975 + Z90) ** 2 * 0.2625 * 0.7375 / 0.075**2
    assert res.ris == pytest.approx(expected, rel=1e-12)
    assert res.adjusted == pytest.approx(expected / 0.75, rel=1e-12)


def test_ris_published_vitamin_a_example() -> None:
    # Bjelakovic et al. 2013 (PLoS One 8:e74558, Fig. 4): DARIS = 48,417 participants with
    # Pc = 10%, RRR = 15%, alpha 5%, beta 20% and a diversity printed as 76%.
    low = information_size_dichotomous(0.10, 0.15, alpha=0.05, beta=0.20, d2=0.755).adjusted
    high = information_size_dichotomous(0.10, 0.15, alpha=0.05, beta=0.20, d2=0.765).adjusted
    assert low <= 48417 <= high


@pytest.mark.parametrize("kw", [dict(control_risk=0.0, rrr=0.2), dict(control_risk=0.2, rrr=0.0),
                                dict(control_risk=0.2, rrr=0.2, d2=1.0),
                                dict(control_risk=0.2, rrr=0.2, alpha=0.0)])
def test_ris_bad_inputs(kw: dict[str, float]) -> None:
    with pytest.raises(StatsError):
        information_size_dichotomous(**kw)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-3, 3), st.floats(0.01, 2)), min_size=2, max_size=12))
def test_diversity_at_least_i2(studies: list[tuple[float, float]]) -> None:
    """Wetterslev 2009: D^2 >= I^2 (DerSimonian-Laird), and D^2 = 0 when tau^2 = 0."""
    y, v = zip(*studies)
    fe, re = pool_yi_vi(y, v, model="fixed"), pool_yi_vi(y, v)
    d2 = diversity(fe.se, re.se)
    assert 0.0 <= d2 < 1.0
    assert d2 >= re.i2 / 100 - 1e-9
    if re.tau2 == 0:
        assert d2 == pytest.approx(0.0, abs=1e-12)


def test_diversity_not_finite() -> None:
    assert math.isnan(diversity(0.0, 0.1)) and math.isnan(diversity(0.1, float("nan")))
