"""mscreview.stats.audit: hand-worked examples, metafor cross-checks and rounding properties.

Hand-worked numbers are the seed review's own (Lu 2023) where they illustrate a check; the
reference values come from ``tests/reference/audit_reference.R`` (R 4.2.2, metafor 3.8.1).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mscreview.stats import (
    StatsError,
    check_ci,
    check_p_value,
    count_decimals,
    heterogeneity_k,
    parse_p,
    printed_decimals,
    rounding_interval,
    se_from_ci,
)

REFERENCE = json.loads((Path(__file__).parents[1] / "reference" / "audit_reference.json")
                       .read_text(encoding="utf-8"))
CASES = REFERENCE["cases"]
TWO = (2, 2, 2)


# --------------------------------------------------------------------------- printed numbers

def test_rounding_interval_is_closed_half_unit() -> None:
    lo, hi = rounding_interval(0.10, 2)
    assert lo == pytest.approx(0.095) and hi == pytest.approx(0.105)
    assert lo < 0.095 and hi > 0.105  # closed, with a floating-point margin
    assert rounding_interval(45, 0) == pytest.approx((44.5, 45.5))
    with pytest.raises(StatsError):
        rounding_interval(1.0, -1)


@pytest.mark.parametrize(("text", "expected"), [
    ("0.50", 2), ("12", 0), (".05", 2), ("1e-5", 5), ("2.5e-3", 4), ("-1.840", 3)])
def test_count_decimals(text: str, expected: int) -> None:
    assert count_decimals(text) == expected


def test_printed_decimals_come_from_the_quote() -> None:
    quote = "the MSC group (SMD: 0.50; 95% CI [0.02, 0.97]; p=0.04; I2=79%)"
    assert printed_decimals(0.5, quote) == 2      # the float lost the trailing zero
    assert printed_decimals(79.0, quote) == 0
    assert printed_decimals(1.1, "SMD=1.68; 95% CI [1.10, 2.25]") == 2
    # a Unicode minus and an en dash count as minus signs
    assert printed_decimals(-0.4, "95% CI = [\u22121.84, \u22120.40]") == 2
    assert printed_decimals(-0.4, "95% CI = [\u20131.84, \u20130.40]") == 2
    # "I2" is not the number 2
    assert printed_decimals(2.0, "I2=80%") == 0
    # not in the quote: the stored number's own decimals (never narrower than printed)
    assert printed_decimals(2.6, "no number here") == 1
    assert printed_decimals(3.0, None) == 0
    # the same value printed twice with different precision: the coarser one
    assert printed_decimals(0.5, "0.5 and 0.50") == 1


@pytest.mark.parametrize(("text", "lo", "hi"), [
    ("0.09", 0.085, 0.095), ("0.010", 0.0095, 0.0105), ("<0.0001", 0.0, 0.0001),
    ("< 0.00001", 0.0, 0.00001), ("p = .04", 0.035, 0.045), (">0.99", 0.99, 1.0),
    ("\u2264 0.05", 0.0, 0.05), ("1.00", 0.995, 1.0), ("0.000", 0.0, 0.0005)])
def test_parse_p(text: str, lo: float, hi: float) -> None:
    assert parse_p(text) == pytest.approx((lo, hi), abs=1e-8)


@pytest.mark.parametrize("text", ["NS", "1.5", "p", "", "0.05*"])
def test_parse_p_refuses_what_is_not_a_p_value(text: str) -> None:
    with pytest.raises(StatsError):
        parse_p(text)


# --------------------------------------------------------------------------- SE and p from CI

def test_se_from_ci_hand_worked() -> None:
    # (0.05 - (-0.59)) / (2 x 1.959964) = 0.163268
    assert se_from_ci(-0.59, 0.05) == pytest.approx(0.64 / 3.919928, rel=1e-6)
    # ratio: (ln 0.76 - ln 0.29) / 3.919928 = 0.245807 (Li 2023's HR 0.47 [0.29, 0.76])
    assert se_from_ci(0.29, 0.76, ratio=True) == pytest.approx(
        (math.log(0.76) - math.log(0.29)) / 3.919928, rel=1e-6)
    with pytest.raises(StatsError):
        se_from_ci(0.0, 1.2, ratio=True)


@pytest.mark.parametrize("name", sorted(CASES))
def test_se_and_p_from_ci_match_metafor(name: str) -> None:
    """metafor prints CI and p from an SE; inverting the CI recovers both (tolerance 1e-9)."""
    case = CASES[name]
    se = se_from_ci(case["ci_low"], case["ci_high"], ratio=case["ratio"])
    assert se == pytest.approx(case["se"], rel=1e-9)
    full = (15, 15, 15)  # full precision: the rounding intervals are negligible
    check = check_p_value(case["estimate"], case["ci_low"], case["ci_high"], f"{case['p']:.15f}",
                          decimals=full, ratio=case["ratio"])
    assert check.p == pytest.approx(case["p"], rel=1e-7, abs=1e-300)
    assert abs(check.z) == pytest.approx(abs(case["z"]), rel=1e-9)


def test_seed_meld_two_weeks_excludes_zero_with_p_010() -> None:
    """Lu 2023, MELD 2 weeks: SMD -0.27 [-0.59, -0.05], p = 0.10 (Results, Time subgroup)."""
    check = check_p_value(-0.27, -0.59, -0.05, "0.10", decimals=TWO)
    # SE = 0.54 / 3.92 = 0.1378, z = 0.27 / 0.1378 = 1.96, p = 0.050
    assert check.p == pytest.approx(0.0500, abs=5e-4)
    assert check.p_low == pytest.approx(0.042, abs=1e-3)
    assert check.p_high == pytest.approx(0.059, abs=1e-3)
    assert not check.consistent and check.decision_error
    # with the upper limit's sign flipped every number agrees: SE 0.1633, z 1.654, p 0.098
    fixed = check_p_value(-0.27, -0.59, 0.05, "0.10", decimals=TWO)
    assert fixed.consistent and not fixed.decision_error
    assert fixed.p == pytest.approx(0.0982, abs=5e-4)


def test_metafor_single_estimate_rounded_as_printed_is_consistent() -> None:
    """metafor: yi -0.27, SE 0.163 -> [-0.5895, 0.0495], p = 0.0976, printed to 2 decimals."""
    case = CASES["single_1"]
    printed = [round(case[k], 2) for k in ("estimate", "ci_low", "ci_high")]
    assert printed == [-0.27, -0.59, 0.05]
    assert check_p_value(*printed, "0.10", decimals=TWO).consistent


@pytest.mark.parametrize(("est", "lo", "hi", "p"), [
    (-0.22, -0.45, 0.00, "0.05"),   # seed TBIL 2 weeks: 0.0553 at the printed numbers
    (0.20, 0.00, 0.39, "0.05"),     # exact 0.196 +/- 1.96 x 0.1, p = 0.0500; printed gives 0.044
    (-0.01, -1.43, 1.41, "0.99"),   # seed ALB 12 months
    (1.68, 1.10, 2.25, "<0.00001"),  # seed ALB low dose
    (-1.12, -1.84, -0.40, "0.002"),  # seed MELD overall
])
def test_rounding_edge_cases_do_not_flag(est: float, lo: float, hi: float, p: str) -> None:
    check = check_p_value(est, lo, hi, p, decimals=TWO)
    assert check.consistent and not check.decision_error
    ci = check_ci(est, lo, hi, decimals=TWO)
    assert ci.contains and ci.symmetric


def test_p_at_printed_numbers_alone_would_have_flagged() -> None:
    """The edge case above is real: without the rounding intervals 0.044 is not 0.05."""
    check = check_p_value(0.20, 0.00, 0.39, "0.05", decimals=TWO)
    assert not 0.045 <= check.p <= 0.055
    assert check.p_low <= 0.055 and check.p_high >= 0.045


def test_decision_error_when_ci_includes_null_but_p_small() -> None:
    check = check_p_value(0.20, -0.01, 0.41, "0.01", decimals=TWO)
    assert not check.consistent and check.decision_error


def test_ratio_p_value_on_the_log_scale() -> None:
    """Li 2023: HR 0.47 [0.29, 0.76], P = 0.002: log SE 0.2458, z = -3.07, p = 0.0021."""
    check = check_p_value(0.47, 0.29, 0.76, "0.002", decimals=TWO, ratio=True)
    assert check.p == pytest.approx(0.0021, abs=1e-4) and check.consistent
    assert not check_p_value(0.47, 0.29, 0.76, "0.2", decimals=TWO, ratio=True).consistent


# --------------------------------------------------------------------------- CI checks

def test_ci_that_misses_its_estimate() -> None:
    """Lu 2023, TBIL 1 week: SMD -0.02 [-0.30, -0.26]."""
    ci = check_ci(-0.02, -0.30, -0.26, decimals=TWO)
    assert not ci.contains and not ci.symmetric
    assert ci.midpoint == pytest.approx(-0.28)
    assert check_ci(-0.02, -0.30, 0.26, decimals=TWO).symmetric


def test_ci_asymmetry_beyond_rounding() -> None:
    """Lu 2023, MELD 2 weeks: [-0.59, -0.05] is centred on -0.32, not -0.27."""
    ci = check_ci(-0.27, -0.59, -0.05, decimals=TWO)
    assert ci.contains and not ci.symmetric
    assert ci.asymmetry == pytest.approx(-0.05) and ci.tolerance == pytest.approx(0.01)


def test_ci_symmetric_within_rounding() -> None:
    # ALB overall 0.50 [0.02, 0.97]: midpoint 0.495, within the 0.01 that rounding allows
    assert check_ci(0.50, 0.02, 0.97, decimals=TWO).symmetric


def test_ratio_ci_is_symmetric_on_the_log_scale_only() -> None:
    assert check_ci(2.00, 1.00, 4.00, decimals=TWO, ratio=True).symmetric
    assert not check_ci(2.00, 1.00, 4.00, decimals=TWO).symmetric
    case = CASES["bcg_rr_reml"]
    printed = [round(case[k], 2) for k in ("estimate", "ci_low", "ci_high")]
    assert check_ci(*printed, decimals=TWO, ratio=True).symmetric


# --------------------------------------------------------------------------- heterogeneity

def test_seed_meld_i2_45_p_009_fits_only_seven_studies() -> None:
    """living-statistics.md: I² = 45% with p = 0.09 fits only df = 6 (k = 7).

    df = 5: Q in [5/0.555, 5/0.545] = [9.01, 9.17], p in [0.102, 0.109] (not 0.09);
    df = 6: Q in [10.81, 11.01], p in [0.088, 0.094]; df = 7: p in [0.076, 0.082].
    """
    implied = heterogeneity_k(45, "0.09")
    assert implied.ks == (7,) and not implied.unbounded
    assert implied.bounds == (7, 7)
    assert implied.admits(7) and not implied.admits(6)


def test_seed_tbil_i2_51_p_006_fits_only_seven_studies() -> None:
    # df = 5: Q in [10.10, 10.31], p in [0.067, 0.072]; df = 6: p in [0.054, 0.059]
    assert heterogeneity_k(51, "0.06").ks == (7,)


def test_i2_zero_admits_every_q_up_to_df() -> None:
    # I² = 0% means Q <= df (/0.995 for rounding): p >= P(chi²_df > df/0.995), which is 0.316 for
    # df = 1, 0.444 for df = 14 and 0.447 for df = 15, so p = 0.44 fits k = 2 to 15 (the seed's
    # ALB AC subgroup)
    implied = heterogeneity_k(0, "0.44")
    assert implied.ks == tuple(range(2, 16)) and not implied.unbounded
    assert implied.bounds == (2, 15)
    # p = 0.80 fits every k: the set is unbounded above
    wide = heterogeneity_k(0, "0.80")
    assert wide.ks[0] == 2 and wide.unbounded
    assert wide.bounds == (2, None) and wide.admits(500)
    # ... and a small p with I² = 0 fits no k at all
    assert heterogeneity_k(0, "0.01").ks == ()
    assert heterogeneity_k(0, "0.01").bounds is None


def test_large_i2_with_p_below_a_threshold_is_unbounded() -> None:
    # I² = 90%, p < 0.00001: df = 2 gives p >= 2.7e-5, df = 3 gives p ~ 1e-6
    implied = heterogeneity_k(90, "<0.00001")
    assert implied.ks[0] == 4 and implied.unbounded


def test_printed_q_narrows_the_set() -> None:
    # Q = 10.91 on 6 df: I² = (10.91 - 6)/10.91 = 45.0%, p = 0.091
    assert heterogeneity_k(45, "0.09", q=10.91).ks == (7,)
    assert heterogeneity_k(45, "0.09", q=12.0).ks == ()


def test_i2_must_be_a_percentage() -> None:
    with pytest.raises(StatsError):
        heterogeneity_k(120, "0.1")


def _print_p(p: float) -> str:
    """A p-value as RevMan prints it: '<0.00001', or one significant decimal below 0.01."""
    if p < 0.00001:
        return "<0.00001"
    decimals = max(2, -math.floor(math.log10(p)))
    return f"{p:.{decimals}f}"


@pytest.mark.parametrize("name", sorted(n for n in CASES if CASES[n]["k"] > 1))
def test_metafor_heterogeneity_rounded_admits_the_true_k(name: str) -> None:
    """metafor's Q and its p, rounded as printed, admit metafor's k (and at full precision)."""
    case = CASES[name]
    i2 = case["i2_revman"]
    assert heterogeneity_k(round(i2), _print_p(case["q_p"])).admits(case["k"])
    exact = heterogeneity_k(i2, f"{case['q_p']:.12e}" if case["q_p"] < 1e-6 else
                            f"{case['q_p']:.12f}", i2_decimals=8, q=case["q"], q_decimals=8)
    assert exact.admits(case["k"])


@settings(max_examples=300, deadline=None)
@given(df=st.integers(min_value=1, max_value=60),
       ratio=st.floats(min_value=0.2, max_value=8.0, allow_nan=False))
def test_rounded_heterogeneity_statistics_always_admit_their_k(df: int, ratio: float) -> None:
    """Property: I² and p computed from an exact Q, then rounded, never exclude the true k."""
    from scipy.special import chdtrc

    q = df * ratio
    i2 = max(0.0, (q - df) / q) * 100
    p = float(chdtrc(df, q))
    assume(p > 0)
    assert heterogeneity_k(round(i2), _print_p(p)).admits(df + 1)


@settings(max_examples=300, deadline=None)
@given(est=st.floats(min_value=-3, max_value=3, allow_nan=False),
       se=st.floats(min_value=0.01, max_value=2, allow_nan=False),
       decimals=st.integers(min_value=1, max_value=3))
def test_exact_results_rounded_as_printed_never_flag(est: float, se: float, decimals: int
                                                     ) -> None:
    """Property (statcheck's premise): a correct result printed with rounding is never flagged."""
    from scipy.special import ndtr

    half = 1.959963984540054 * se
    p = float(2 * ndtr(-abs(est) / se))
    assume(p > 0)
    printed = [round(v, decimals) for v in (est, est - half, est + half)]
    assume(printed[1] < printed[2])
    d = (decimals,) * 3
    check = check_p_value(*printed, _print_p(p), decimals=d)
    assert check.consistent and not check.decision_error
    ci = check_ci(*printed, decimals=d)
    assert ci.contains and ci.symmetric


@settings(max_examples=200, deadline=None)
@given(log_est=st.floats(min_value=-2, max_value=2, allow_nan=False),
       se=st.floats(min_value=0.02, max_value=0.6, allow_nan=False))
def test_exact_ratio_results_rounded_never_flag(log_est: float, se: float) -> None:
    from scipy.special import ndtr

    half = 1.959963984540054 * se
    printed = [round(math.exp(v), 2) for v in (log_est, log_est - half, log_est + half)]
    assume(printed[1] > 0 and printed[1] < printed[2])
    p = float(2 * ndtr(-abs(log_est) / se))
    assume(p > 0)
    check = check_p_value(*printed, _print_p(p), decimals=TWO, ratio=True)
    assert check.consistent
    ci = check_ci(*printed, decimals=TWO, ratio=True)
    assert ci.contains and ci.symmetric
