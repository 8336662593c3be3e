"""Data conversions: units, and SDs or means derived from other statistics.

Every derived value carries a flag naming its derivation, so the report can say which numbers
were not reported as such.

References
----------
Cochrane Handbook for Systematic Reviews of Interventions, 6.5.2.2 (SD from SE and CI).
Wan X, Wang W, Liu J, Tong T. BMC Med Res Methodol 2014;14:135 (SD from range / IQR), eqs. 7, 9,
    12, 15, 16 and Tables 1-2, as implemented in R ``meta`` (Schwarzer; ``mean.sd.*``).
Luo D, Wan X, Liu J, Tong T. Stat Methods Med Res 2018;27:1785-805 (mean from median).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mscreview.stats._common import StatsError
from mscreview.stats._scipy import ndtri, stdtrit

__all__ = [
    "Derived",
    "convert_unit",
    "mean_sd_from_median",
    "sd_from_ci",
    "sd_from_iqr",
    "sd_from_range",
    "sd_from_se",
    "wan_eta",
    "wan_xi",
]

#: Multiply to convert (analyte, from unit, to unit). Bilirubin: 1 mg/dL = 17.1 umol/L.
UNIT_FACTORS: dict[tuple[str, str, str], float] = {
    ("albumin", "g/dL", "g/L"): 10.0,
    ("bilirubin", "mg/dL", "umol/L"): 17.1,
}

#: Units that are multiples of a laboratory's upper limit of normal: no fixed factor exists.
ULN_UNITS = frozenset({"xULN", "ULN"})

#: Cochrane Handbook 6.5.2.2: use t for a CI of a mean from n <= 100, z above.
T_THRESHOLD = 100

#: Wan et al. 2014, Table 1: xi(n) = 2 E(Z_(n)), the expected range of n standard normal values,
#: for n = 1..50 (eq. 7); eq. 9 approximates it above 50. Checked against numerical integration
#: of the normal order statistics in tests/stats/test_conversions.py.
WAN_TABLE1 = (
    0.000, 1.128, 1.693, 2.059, 2.326, 2.534, 2.704, 2.847, 2.970, 3.078,
    3.173, 3.259, 3.336, 3.407, 3.472, 3.532, 3.588, 3.640, 3.689, 3.735,
    3.778, 3.819, 3.858, 3.895, 3.931, 3.964, 3.997, 4.027, 4.057, 4.086,
    4.113, 4.139, 4.165, 4.189, 4.213, 4.236, 4.259, 4.280, 4.301, 4.322,
    4.341, 4.361, 4.379, 4.398, 4.415, 4.433, 4.450, 4.466, 4.482, 4.498,
)
#: Wan et al. 2014, Table 2: eta(Q) = 2 E(Z_(3Q+1)) for n = 4Q + 1, Q = 1..50 (n up to 201): the
#: expected interquartile range of n standard normal values (eq. 15); eq. 16 approximates it
#: above. Indexed by Q = ceil((n - 1)/4), as R ``meta`` does.
WAN_TABLE2 = (
    0.990, 1.144, 1.206, 1.239, 1.260, 1.274, 1.284, 1.292, 1.298, 1.303,
    1.307, 1.311, 1.313, 1.316, 1.318, 1.320, 1.322, 1.323, 1.324, 1.326,
    1.327, 1.328, 1.329, 1.330, 1.330, 1.331, 1.332, 1.332, 1.333, 1.333,
    1.334, 1.334, 1.335, 1.335, 1.336, 1.336, 1.336, 1.337, 1.337, 1.337,
    1.338, 1.338, 1.338, 1.338, 1.339, 1.339, 1.339, 1.339, 1.339, 1.340,
)


@dataclass(frozen=True)
class Derived:
    """A derived value and the flag naming how it was obtained."""

    value: float
    flag: str


def convert_unit(value: float, analyte: str, from_unit: str, to_unit: str) -> Derived:
    """Convert a laboratory value (albumin g/dL -> g/L x 10; bilirubin mg/dL -> umol/L x 17.1).

    The reverse conversions divide. ALT/AST given as multiples of the upper limit of normal
    cannot be converted to U/L: such data can enter an SMD, never an MD. Raises
    :class:`StatsError` for those and for unknown pairs.
    """
    if from_unit == to_unit:
        return Derived(value, "as reported")
    if from_unit in ULN_UNITS or to_unit in ULN_UNITS:
        raise StatsError(
            f"{analyte} in {from_unit} cannot be converted to {to_unit}: multiples of the upper "
            "limit of normal have no fixed factor (use an SMD, never an MD)"
        )
    key = (analyte.lower(), from_unit, to_unit)
    rev = (analyte.lower(), to_unit, from_unit)
    if key in UNIT_FACTORS:
        return Derived(value * UNIT_FACTORS[key], f"converted {from_unit}->{to_unit}")
    if rev in UNIT_FACTORS:
        return Derived(value / UNIT_FACTORS[rev], f"converted {from_unit}->{to_unit}")
    raise StatsError(f"no conversion of {analyte} from {from_unit} to {to_unit}")


def sd_from_se(se: float, n: float) -> Derived:
    """``sd = se sqrt(n)`` (Cochrane Handbook 6.5.2.2)."""
    return Derived(se * math.sqrt(n), "sd from se")


def sd_from_ci(lower: float, upper: float, n: float) -> Derived:
    """SD from the 95% CI of a mean: ``sqrt(n) (upper - lower) / (2 c)``.

    ``c = t_{0.975, n-1}`` for n <= 100, else ``z_{0.975}`` (Cochrane Handbook 6.5.2.2).
    """
    if n <= T_THRESHOLD:
        c, flag = float(stdtrit(n - 1, 0.975)), "sd from 95% CI (t)"
    else:
        c, flag = float(ndtri(0.975)), "sd from 95% CI (z)"
    return Derived(math.sqrt(n) * (upper - lower) / (2.0 * c), flag)


def wan_xi(n: float) -> float:
    """Divisor of the range, ``xi(n)`` (Wan et al. 2014).

    Table 1 (exact expected range of n standard normal values, eq. 7) for integer n <= 50,
    otherwise ``2 Phi^-1((n - 0.375)/(n + 0.25))`` (eq. 9, Blom's approximation).
    """
    if n < 2:
        raise StatsError(f"a range needs n >= 2 (n = {n:g})")
    if n <= len(WAN_TABLE1) and n == int(n):
        return WAN_TABLE1[int(n) - 1]
    return 2.0 * float(ndtri((n - 0.375) / (n + 0.25)))


def wan_eta(n: float) -> float:
    """Divisor of the interquartile range, ``eta(n)`` (Wan et al. 2014).

    Table 2 (exact expected IQR for n = 4Q + 1, eq. 15) at ``Q = ceil((n - 1)/4)`` for
    n <= 201, otherwise ``2 Phi^-1((0.75 n - 0.125)/(n + 0.25))`` (eq. 16).
    """
    if n < 2:
        raise StatsError(f"an interquartile range needs n >= 2 (n = {n:g})")
    q = math.ceil((n - 1) / 4)
    if q <= len(WAN_TABLE2):
        return WAN_TABLE2[q - 1]
    return 2.0 * float(ndtri((0.75 * n - 0.125) / (n + 0.25)))


def sd_from_range(minimum: float, maximum: float, n: float) -> Derived:
    """SD from the range: ``(max - min)/xi(n)`` (Wan et al. 2014, scenario S1, eqs. 7 and 9)."""
    return Derived((maximum - minimum) / wan_xi(n), "sd from range (Wan 2014)")


def sd_from_iqr(q1: float, q3: float, n: float) -> Derived:
    """SD from the interquartile range: ``(q3 - q1)/eta(n)`` (Wan et al. 2014, S3, eqs. 15-16).

    Assumes roughly normal data, as Wan's estimators do; used for a median or a mean given
    with its IQR.
    """
    return Derived((q3 - q1) / wan_eta(n), "sd from IQR (Wan 2014)")


def mean_sd_from_median(
    n: float,
    median: float,
    *,
    q1: float | None = None,
    q3: float | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
) -> tuple[Derived, Derived]:
    """Estimate mean (Luo et al. 2018) and SD (Wan et al. 2014) from a median.

    Scenarios (Wan 2014): S1 = {min, median, max}, S2 = {min, q1, median, q3, max},
    S3 = {q1, median, q3}.

    Mean (Luo 2018, its estimators for S1, S2 and S3): S1 ``w (a + b)/2 + (1 - w) m`` with
    ``w = 4/(4 + n^0.75)``; S2 ``w1 (a + b)/2 + w2 (q1 + q3)/2 + (1 - w1 - w2) m`` with
    ``w1 = 2.2/(2.2 + n^0.75)``, ``w2 = 0.7 - 0.72/n^0.55``; S3
    ``(0.7 + 0.39/n)(q1 + q3)/2 + (0.3 - 0.39/n) m``.

    SD (Wan 2014): S1 ``(b - a)/xi(n)``; S3 ``(q3 - q1)/eta(n)``; S2
    ``(b - a)/(2 xi(n)) + (q3 - q1)/(2 eta(n))`` (eq. 12), with :func:`wan_xi` and
    :func:`wan_eta` (the paper's Tables 1-2 for small n, its approximations above).

    Returns
    -------
    (Derived, Derived)
        Mean and SD, flagged e.g. ``"mean from median+IQR (Luo 2018)"``.

    Raises
    ------
    StatsError
        Without an IQR or a range, with n < 2, or with bounds out of order.
    """
    has_iqr = q1 is not None and q3 is not None
    has_range = minimum is not None and maximum is not None
    if not (has_iqr or has_range):
        raise StatsError("a median needs its IQR (q1, q3), its range (min, max) or both")
    bounds = [b for b in (minimum, q1, median, q3, maximum) if b is not None]
    if any(lo > hi for lo, hi in zip(bounds, bounds[1:])):
        raise StatsError("the bounds of a median must be ordered: min <= q1 <= median <= q3 <= max")
    if has_iqr and has_range:
        assert q1 is not None and q3 is not None and minimum is not None and maximum is not None
        w1 = 2.2 / (2.2 + n**0.75)
        w2 = 0.7 - 0.72 / n**0.55
        mean = w1 * (minimum + maximum) / 2 + w2 * (q1 + q3) / 2 + (1 - w1 - w2) * median
        sd = (maximum - minimum) / (2 * wan_xi(n)) + (q3 - q1) / (2 * wan_eta(n))
        what = "median+IQR+range"
    elif has_iqr:
        assert q1 is not None and q3 is not None
        mean = (0.7 + 0.39 / n) * (q1 + q3) / 2 + (0.3 - 0.39 / n) * median
        sd = (q3 - q1) / wan_eta(n)
        what = "median+IQR"
    else:
        assert minimum is not None and maximum is not None
        w = 4.0 / (4.0 + n**0.75)
        mean = w * (minimum + maximum) / 2 + (1 - w) * median
        sd = (maximum - minimum) / wan_xi(n)
        what = "median+range"
    return (
        Derived(mean, f"mean from {what} (Luo 2018)"),
        Derived(sd, f"sd from {what} (Wan 2014)"),
    )
