"""Data conversions: units, and SDs or means derived from other statistics.

Every derived value carries a flag naming its derivation, so the report can say which numbers
were not reported as such.

References
----------
Cochrane Handbook for Systematic Reviews of Interventions, 6.5.2.2 (SD from SE and CI).
Wan X, Wang W, Liu J, Tong T. BMC Med Res Methodol 2014;14:135 (SD from range / IQR).
Luo D, Wan X, Liu J, Tong T. Stat Methods Med Res 2018;27:1785-805 (mean from median).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.special import ndtri, stdtrit  # type: ignore[import-untyped]

from mscreview.stats._common import StatsError

__all__ = [
    "Derived",
    "convert_unit",
    "mean_sd_from_median",
    "sd_from_ci",
    "sd_from_se",
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

    Mean (Luo 2018): S1 ``w (a + b)/2 + (1 - w) m`` with ``w = 4/(4 + n^0.75)``;
    S2 ``w1 (a + b)/2 + w2 (q1 + q3)/2 + (1 - w1 - w2) m`` with ``w1 = 2.2/(2.2 + n^0.75)``,
    ``w2 = 0.7 - 0.72/n^0.55``; S3 ``(0.7 + 0.39/n)(q1 + q3)/2 + (0.3 - 0.39/n) m``.

    SD (Wan 2014): S1 ``(b - a)/xi``, ``xi = 2 Phi^-1((n - 0.375)/(n + 0.25))``;
    S3 ``(q3 - q1)/eta``, ``eta = 2 Phi^-1((0.75 n - 0.125)/(n + 0.25))``;
    S2 ``(b - a)/(2 xi) + (q3 - q1)/(2 eta)``.

    Returns
    -------
    (Derived, Derived)
        Mean and SD, flagged e.g. ``"mean from median+IQR (Luo 2018)"``.
    """
    has_iqr = q1 is not None and q3 is not None
    has_range = minimum is not None and maximum is not None
    xi = 2.0 * float(ndtri((n - 0.375) / (n + 0.25)))
    eta = 2.0 * float(ndtri((0.75 * n - 0.125) / (n + 0.25)))
    if has_iqr and has_range:
        assert q1 is not None and q3 is not None and minimum is not None and maximum is not None
        w1 = 2.2 / (2.2 + n**0.75)
        w2 = 0.7 - 0.72 / n**0.55
        mean = w1 * (minimum + maximum) / 2 + w2 * (q1 + q3) / 2 + (1 - w1 - w2) * median
        sd = (maximum - minimum) / (2 * xi) + (q3 - q1) / (2 * eta)
        what = "median+IQR+range"
    elif has_iqr:
        assert q1 is not None and q3 is not None
        mean = (0.7 + 0.39 / n) * (q1 + q3) / 2 + (0.3 - 0.39 / n) * median
        sd = (q3 - q1) / eta
        what = "median+IQR"
    elif has_range:
        assert minimum is not None and maximum is not None
        w = 4.0 / (4.0 + n**0.75)
        mean = w * (minimum + maximum) / 2 + (1 - w) * median
        sd = (maximum - minimum) / xi
        what = "median+range"
    else:
        raise StatsError("a median needs its IQR (q1, q3), its range (min, max) or both")
    return (
        Derived(mean, f"mean from {what} (Luo 2018)"),
        Derived(sd, f"sd from {what} (Wan 2014)"),
    )
