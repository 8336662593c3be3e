"""mscreview.stats.integrity: GRIM/GRIMMER, percentages, Carlisle's baseline balance, Stouffer.

Published examples: GRIM (Brown & Heathers 2017, as retold in The Economist 2016: 49
participants with mean 5.93), the Wikipedia die example (20 rolls, 3.48), R scrutiny's
``grim("5.27", 43)`` and ``grimmer("7.3", "2.51", 12)``, both FALSE. Baseline p-values are
checked against ``scipy.stats.ttest_ind_from_stats`` and ``scipy.stats.f_oneway``.
"""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from mscreview.stats import (
    StatsError,
    baseline_balance,
    grim,
    grimmer,
    percent_consistent,
    stouffer,
)

# --------------------------------------------------------------------------- GRIM


@pytest.mark.parametrize(("mean", "n", "decimals", "expected"), [
    (5.93, 49, 2, False),  # Brown & Heathers: 5.93 x 49 = 290.57; 290/49 = 5.918, 291/49 = 5.939
    (3.48, 20, 2, False),  # 20 die rolls: every mean is a multiple of 0.05
    (5.27, 43, 2, False),  # scrutiny vignette: grim("5.27", 43) is FALSE
    (3.47, 15, 2, True),   # 52/15 = 3.4667
    (3.53, 10, 2, False),  # 35/10 = 3.50, 36/10 = 3.60
    (3.45, 10, 2, False),  # Allard 2018: 3.45 x 10 = 34.5 (34/10 = 3.40, 35/10 = 3.50)
    (1.12, 8, 2, True),    # 9/8 = 1.125 may be printed 1.12 (round half even) ...
    (1.13, 8, 2, True),    # ... or 1.13 (round half up): neither is a flag
    (14.0, 7, 0, True),    # an integer mean is always possible
    (4.37, 100, 2, True),  # n >= 10^decimals: GRIM cannot tell
])
def test_grim_examples(mean: float, n: int, decimals: int, expected: bool) -> None:
    assert grim(mean, n, decimals) is expected


def test_grim_with_items() -> None:
    # a two-item scale: means are multiples of 1/(n x 2); 3.25 from 2 people is possible
    assert grim(3.25, 2, 2, items=2)
    assert not grim(3.25, 2, 2)
    with pytest.raises(StatsError):
        grim(3.0, 0, 1)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.integers(min_value=0, max_value=40), min_size=2, max_size=40),
       decimals=st.integers(min_value=0, max_value=3))
def test_grim_and_grimmer_pass_real_integer_data(values: list[int], decimals: int) -> None:
    """Property: the printed mean and SD of any integer data set pass GRIM and GRIMMER."""
    n = len(values)
    mean = round(statistics.fmean(values), decimals)
    sd = round(statistics.stdev(values), decimals)
    assert grim(mean, n, decimals)
    assert grimmer(mean, sd, n, decimals, decimals).consistent


# --------------------------------------------------------------------------- GRIMMER


def test_grimmer_scrutiny_example_is_inconsistent() -> None:
    # grimmer(x = "7.3", sd = "2.51", n = 12) is FALSE in R scrutiny (Allard's A-GRIMMER)
    result = grimmer(7.3, 2.51, 12, 1, 2)
    assert not result.consistent


def test_grimmer_hand_worked() -> None:
    # 1..5: mean 3.00, SD sqrt(2.5) = 1.58 -> consistent
    assert grimmer(3.00, 1.58, 5, 2, 2).consistent
    # SD 1.60: S = 4 x [1.595², 1.605²] + 45 = [55.18, 55.30] holds no integer
    assert not grimmer(3.00, 1.60, 5, 2, 2).consistent
    assert grimmer(3.00, 1.60, 5, 2, 2).reason == "sd_range"
    # SD 1.66: S in [55.96, 56.09] holds only 56, even, but the total 15 is odd (x² = x mod 2)
    assert grimmer(3.00, 1.66, 5, 2, 2).reason == "parity"
    # the mean itself impossible: reported as a GRIM failure
    assert grimmer(5.93, 1.0, 49, 2, 2).reason == "grim"
    # a non-integer mean cannot have SD 0: 1.5 from two people needs (1, 2), SD 0.71
    assert not grimmer(1.5, 0.0, 2, 1, 1).consistent
    assert grimmer(1.5, 0.71, 2, 1, 2).consistent
    with pytest.raises(StatsError):
        grimmer(3.0, 1.0, 1, 1, 1)


# --------------------------------------------------------------------------- percentages


def test_percentages_against_counts() -> None:
    # Salama 2014 Table 1: encephalopathy 1 (5%) and 2 (10%) of 20
    assert percent_consistent(1, 20, 5, 0) and percent_consistent(2, 20, 10, 0)
    assert percent_consistent(13, 20, 65, 0)
    assert not percent_consistent(13, 20, 66, 0)
    # rounding: 1/3 printed 33% or 33.3% both fine, 34% is not
    assert percent_consistent(1, 3, 33, 0) and percent_consistent(1, 3, 33.3, 1)
    assert not percent_consistent(1, 3, 34, 0)
    with pytest.raises(StatsError):
        percent_consistent(1, 0, 5, 0)


# --------------------------------------------------------------------------- Carlisle


SALAMA = [  # Salama 2014 Table 1 (mean ± SD, 20 per arm): treated, control
    (1.88, 1.05, 2.51, 0.94), (2.59, 0.28, 2.62, 0.37), (55.34, 9.06, 52.85, 10.16),
    (1.53, 0.19, 1.66, 0.33), (1.35, 0.87, 0.9, 0.52), (2.29, 1.51, 1.81, 0.84),
]


@pytest.mark.parametrize(("m1", "s1", "m2", "s2"), SALAMA)
def test_two_arm_p_matches_scipy_ttest_ind_from_stats(m1: float, s1: float, m2: float,
                                                      s2: float) -> None:
    expected = scipy.stats.ttest_ind_from_stats(m1, s1, 20, m2, s2, 20, equal_var=True)
    test = baseline_balance([m1, m2], [s1, s2], [20, 20])
    assert test.p == pytest.approx(expected.pvalue, rel=1e-10)
    assert test.statistic == pytest.approx(expected.statistic**2, rel=1e-10)


def test_unequal_arms_match_scipy() -> None:
    # Bai 2014 albumin: 33.5 ± 3.6 (n = 32) vs 30.3 ± 2.2 (n = 15)
    expected = scipy.stats.ttest_ind_from_stats(33.5, 3.6, 32, 30.3, 2.2, 15)
    assert baseline_balance([33.5, 30.3], [3.6, 2.2], [32, 15]).p == pytest.approx(
        expected.pvalue, rel=1e-10)


def test_three_arms_match_scipy_f_oneway() -> None:
    rng = np.random.default_rng(7)
    groups = [rng.normal(10, 2, n) for n in (18, 18, 19)]
    expected = scipy.stats.f_oneway(*groups)
    test = baseline_balance([g.mean() for g in groups], [g.std(ddof=1) for g in groups],
                            [len(g) for g in groups])
    assert test.p == pytest.approx(expected.pvalue, rel=1e-9)


def test_rounding_bounds_contain_the_printed_p() -> None:
    test = baseline_balance([1.88, 2.51], [1.05, 0.94], [20, 20],
                            mean_decimals=[2, 2], sd_decimals=[2, 2])
    assert test.p_low < test.p < test.p_high
    # identical printed means: p = 1 at the printed numbers, lower with rounding
    same = baseline_balance([5.1, 5.1], [1.0, 1.0], [30, 30], mean_decimals=[1, 1],
                            sd_decimals=[1, 1])
    assert same.p == pytest.approx(1.0) and same.p_high == pytest.approx(1.0)
    assert same.p_low < 0.9


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(min_value=0, max_value=10_000), arms=st.integers(min_value=2, max_value=4))
def test_rounded_baseline_bounds_contain_the_exact_p(seed: int, arms: int) -> None:
    """Property: p of the unrounded data lies within the bounds computed from the rounded."""
    rng = np.random.default_rng(seed)
    groups = [rng.normal(50, 10, int(rng.integers(5, 40))) for _ in range(arms)]
    means = [float(g.mean()) for g in groups]
    sds = [float(g.std(ddof=1)) for g in groups]
    ns = [len(g) for g in groups]
    exact = baseline_balance(means, sds, ns).p
    test = baseline_balance([round(m, 1) for m in means], [round(s, 1) for s in sds], ns,
                            mean_decimals=[1] * arms, sd_decimals=[1] * arms)
    assert test.p_low - 1e-12 <= exact <= test.p_high + 1e-12


def test_baseline_balance_refuses_bad_input() -> None:
    with pytest.raises(StatsError):
        baseline_balance([1.0], [1.0], [10])
    with pytest.raises(StatsError):
        baseline_balance([1.0, 2.0], [1.0, 1.0], [1, 10])


# --------------------------------------------------------------------------- Stouffer


def test_stouffer_hand_worked() -> None:
    assert stouffer([0.5, 0.5]).z == pytest.approx(0.0) and stouffer([0.5, 0.5]).p == 0.5
    # two p = 0.025: z = 2 x (-1.95996) / sqrt(2) = -2.7718, p = Phi(-2.7718) = 0.00279
    both = stouffer([0.025, 0.025])
    assert both.z == pytest.approx(-2 * 1.959964 / math.sqrt(2), rel=1e-6)
    assert both.p == pytest.approx(0.002788, abs=1e-6)
    counts = stouffer([0.001, 0.5, 0.995, 0.999])
    assert (counts.below, counts.above, counts.m) == (1, 2, 4)
    assert math.isfinite(stouffer([1.0, 1.0]).z)
    with pytest.raises(StatsError):
        stouffer([])


def test_stouffer_matches_scipy_combine_pvalues() -> None:
    """scipy: Z = sum(Phi^-1(1 - p_i))/sqrt(m), p = 1 - Phi(Z): the same p as Phi(our z)."""
    p = [0.053, 0.774, 0.418, 0.135, 0.054, 0.222]
    expected = scipy.stats.combine_pvalues(p, method="stouffer").pvalue
    assert stouffer(p).p == pytest.approx(expected, rel=1e-10)


def test_two_arm_batch_gives_the_numbers_of_one_at_a_time() -> None:
    """baseline_balance_two_arms (the audit of thousands of trials) is baseline_balance per
    variable, to the last bit: overlapping and separate rounding boxes, equal means, SD 0."""
    from mscreview.stats import baseline_balance_two_arms

    rng = np.random.default_rng(3)
    v = 300
    m = np.round(rng.normal(30, 3, (v, 2)), 1)
    m[:20, 1] = m[:20, 0]  # identical printed means
    s = np.round(rng.uniform(0.5, 5, (v, 2)), 2)
    s[20:25] = 0.0
    n = rng.integers(2, 80, (v, 2))
    dm = rng.integers(0, 3, (v, 2))
    ds = rng.integers(0, 3, (v, 2))
    batch = baseline_balance_two_arms(m, s, n, dm, ds)
    for i in range(v):
        one = baseline_balance(m[i].tolist(), s[i].tolist(), n[i].tolist(),
                               mean_decimals=dm[i].tolist(), sd_decimals=ds[i].tolist())
        assert batch[i] == one, i
