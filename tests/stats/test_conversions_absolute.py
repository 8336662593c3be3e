"""Median conversions (Wan 2014 / Luo 2018) and absolute effects per 1,000 (GRADE).

Wan 2014's Tables 1-2 are the expected range and interquartile range of n standard normal values;
they are checked here against numerical integration of the normal order statistics (tolerance:
one unit of the tables' third decimal). Worked examples are computed by hand in the comments.
"""

from __future__ import annotations

import math

import pytest
from scipy import integrate, special

from mscreview import stats
from mscreview.stats import (
    StatsError,
    absolute_effect,
    mean_sd_from_median,
    median_control_risk,
    risk_with,
    sd_from_iqr,
    sd_from_range,
    wan_eta,
    wan_xi,
)
from mscreview.stats.conversions import WAN_TABLE1, WAN_TABLE2


def expected_order_statistic(r: int, n: int) -> float:
    """E(Z_(r)) of n standard normal values, by quadrature."""
    log_c = math.lgamma(n + 1) - math.lgamma(r) - math.lgamma(n - r + 1)

    def f(x: float) -> float:
        cdf = special.ndtr(x)
        return x * math.exp(log_c) * cdf ** (r - 1) * (1 - cdf) ** (n - r) * math.exp(
            -x * x / 2) / math.sqrt(2 * math.pi)

    return float(integrate.quad(f, -12, 12, epsabs=1e-12, limit=200)[0])


#: One unit in the tables' last decimal: Table 1 prints 3.259 for n = 12, where the exact value is
#: 3.25846 (every other entry is within 5e-4).
ROUNDING = 1e-3


@pytest.mark.parametrize("n", range(2, 51))
def test_wan_table1_is_the_expected_range(n: int) -> None:
    assert WAN_TABLE1[n - 1] == pytest.approx(2 * expected_order_statistic(n, n), abs=ROUNDING)
    assert wan_xi(n) == WAN_TABLE1[n - 1]


@pytest.mark.parametrize("q", [1, 2, 3, 5, 8, 13, 21, 34, 50])
def test_wan_table2_is_the_expected_iqr(q: int) -> None:
    n = 4 * q + 1
    exact = 2 * expected_order_statistic(3 * q + 1, n)
    assert WAN_TABLE2[q - 1] == pytest.approx(exact, abs=ROUNDING)
    assert wan_eta(n) == WAN_TABLE2[q - 1]


def test_large_n_uses_the_approximations() -> None:
    # Wan 2014 eqs. 9 and 16; R: qnorm((51-0.375)/51.25), qnorm((0.75*202-0.125)/202.25)
    assert wan_xi(51) == pytest.approx(2 * 2.2509256965028, rel=1e-9)
    assert wan_eta(202) == pytest.approx(2 * 0.6696354107268, rel=1e-9)
    assert wan_xi(51) > WAN_TABLE1[-1] and wan_eta(202) == pytest.approx(1.3398, abs=1e-3)


def test_worked_example_median_iqr() -> None:
    # n = 21 (Q = 5, eta = 1.260), median 15, IQR 12-20:
    # mean (Luo S3) = (0.7 + 0.39/21) * 16 + (0.3 - 0.39/21) * 15 = 15.71857...
    # sd (Wan S3)  = 8 / 1.260 = 6.34920...
    mean, sd = mean_sd_from_median(21, 15.0, q1=12.0, q3=20.0)
    assert mean.value == pytest.approx((0.7 + 0.39 / 21) * 16 + (0.3 - 0.39 / 21) * 15)
    assert mean.value == pytest.approx(15.718571, abs=1e-6)
    assert sd.value == pytest.approx(8 / 1.260)
    assert sd_from_iqr(12.0, 20.0, 21).value == sd.value


def test_worked_example_median_range() -> None:
    # n = 10 (xi = 3.078), median 15, range 8-30:
    # w = 4/(4 + 10^0.75) = 0.41565...; mean = w * 19 + (1 - w) * 15 = 16.66261...
    # sd = 22 / 3.078 = 7.14756...
    mean, sd = mean_sd_from_median(10, 15.0, minimum=8.0, maximum=30.0)
    w = 4 / (4 + 10**0.75)
    assert mean.value == pytest.approx(w * 19 + (1 - w) * 15)
    assert mean.value == pytest.approx(16.66261, abs=1e-5)
    assert sd.value == pytest.approx(22 / 3.078)
    assert sd_from_range(8.0, 30.0, 10).value == sd.value
    assert sd.flag == "sd from median+range (Wan 2014)"


def test_worked_example_five_numbers() -> None:
    # n = 41 (xi = 4.341, Q = 10, eta = 1.303): sd = 22/(2 * 4.341) + 8/(2 * 1.303)
    _, sd = mean_sd_from_median(41, 15.0, q1=12.0, q3=20.0, minimum=8.0, maximum=30.0)
    assert sd.value == pytest.approx(22 / (2 * 4.341) + 8 / (2 * 1.303))


def test_bad_medians_are_refused() -> None:
    with pytest.raises(StatsError, match="ordered"):
        mean_sd_from_median(20, 10.0, q1=12.0, q3=14.0)
    with pytest.raises(StatsError, match="n >= 2"):
        sd_from_range(1.0, 2.0, 1)


# ------------------------------------------------------------------ absolute effects per 1,000


def test_absolute_effect_from_a_risk_ratio() -> None:
    # GRADE SoF arithmetic: control risk 10% = 100 per 1,000; RR 0.80 (0.60 to 1.10)
    # -> 80 per 1,000, 20 fewer (40 fewer to 10 more).
    a = absolute_effect(0.10, 0.80, 0.60, 1.10, "RR")
    assert (a.control, a.intervention) == pytest.approx((100.0, 80.0))
    assert (a.difference, a.difference_low, a.difference_high) == pytest.approx((-20, -40, 10))
    assert not a.capped


def test_absolute_effect_from_an_odds_ratio_and_a_hazard_ratio() -> None:
    # OR 0.5 at 20%: 0.5*0.2/(0.8 + 0.1) = 0.1111 -> 111 per 1,000
    assert risk_with(0.2, 0.5, "OR") == pytest.approx(1 / 9)
    # HR 0.5 at 36% by time t: 1 - 0.64^0.5 = 0.2 -> 200 per 1,000 (Altman & Andersen 1999)
    assert risk_with(0.36, 0.5, "HR") == pytest.approx(0.2)
    assert absolute_effect(0.36, 0.5, 0.25, 1.0, "HR").difference == pytest.approx(-160.0)
    assert risk_with(0.3, -0.05, "RD") == pytest.approx(0.25)


def test_risks_above_one_are_capped_and_said() -> None:
    a = absolute_effect(0.6, 1.5, 1.1, 2.0, "RR")
    assert a.capped and a.difference_high == pytest.approx(400.0)


def test_median_control_risk_ignores_arms_without_n() -> None:
    assert median_control_risk([1, 2, 3, 0], [10, 10, 10, float("nan")]) == pytest.approx(0.2)
    with pytest.raises(StatsError):
        median_control_risk([1], [0])
    with pytest.raises(StatsError):
        stats.risk_with(1.5, 1.0, "RR")
