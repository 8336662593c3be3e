"""Number formatting in the style of RevMan.

The report computes nothing: these helpers only turn numbers the pipeline has already
computed into the strings a Cochrane reader expects (``-1.23 [-2.34, -0.12]``,
``P < 0.00001``, ``I² = 45%``, ``12.3%``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypeGuard

__all__ = [
    "MEASURE_NAMES",
    "fmt_ci",
    "fmt_count",
    "fmt_effect",
    "fmt_i2",
    "fmt_num",
    "fmt_p",
    "fmt_plain",
    "fmt_stat",
    "fmt_weight",
    "fmt_words",
    "is_number",
    "measure_name",
    "num",
]

#: Full names RevMan prints in column headers.
MEASURE_NAMES = {
    "MD": "Mean Difference",
    "SMD": "Std. Mean Difference",
    "RR": "Risk Ratio",
    "OR": "Odds Ratio",
    "RD": "Risk Difference",
    "HR": "Hazard Ratio",
    "PETO": "Peto Odds Ratio",
}

#: Codes of the data package shown in words; any other code has its underscores turned to spaces.
WORDS = {
    "rct": "RCT",
    "non_randomised": "non-randomised",
    "not_reachable": "source not reachable",
    "not_yet_extracted": "not yet extracted",
    "primary_used": "primary source used",
    "single_study": "1 trial \u2014 not pooled",
    "no_data": "no usable data",
}

#: Row flags of the analysis views (``sql/30_arm_pairs.sql``, ``60_dichotomous.sql``) in words,
#: for forest-plot footnotes. A flag not listed here is shown with its underscores as spaces.
FLAG_WORDS = {
    "experimental_arms_combined": "MSC arms combined into one group (Cochrane Handbook 6.5.2.10)",
    "control_arms_combined": "control arms combined into one group (Cochrane Handbook 6.5.2.10)",
    "partial_experimental_arms": "not every MSC arm had a value: only the arms with one are combined",
    "sd_from_se": "SD derived from the standard error (SD = SE \u00d7 \u221an)",
    "sd_from_ci95_t": "SD derived from the 95% CI of the mean (t distribution, n \u2264 100)",
    "sd_from_ci95_z": "SD derived from the 95% CI of the mean (normal distribution, n > 100)",
    "sd_from_iqr_wan2014": "SD estimated from the interquartile range (Wan 2014)",
    "sd_from_range_wan2014": "SD estimated from the range (Wan 2014)",
    "mean_from_median_iqr_luo2018": "mean estimated from the median and interquartile range (Luo 2018)",
    "mean_from_median_range_luo2018": "mean estimated from the median and range (Luo 2018)",
    "n_from_arms.n_analysed": "n taken from the arm's number analysed (not given with the value)",
    "n_from_arms.n_randomised": "n taken from the arm's number randomised (not given with the value)",
    "smd_only": "values as multiples of the upper limit of normal: usable in an SMD only",
    "change_from_baseline": "change from baseline, not final values",
    "unit_implausible": "the printed unit cannot be right; kept as printed, not converted",
}


def fmt_flag(flag: str) -> str:
    """A row flag of the analysis views in words (``sd_from_se`` -> "SD derived from ...")."""
    if not isinstance(flag, str) or not flag:
        return DASH
    return FLAG_WORDS.get(flag, flag.replace("_", " "))


#: RevMan prints P below this bound as "P < 0.00001".
P_FLOOR = 0.00001

DASH = "\u2014"


def is_number(value: Any) -> TypeGuard[float]:
    """Return True for a finite int or float (bools excluded)."""
    kind = type(value)
    if kind is float or kind is int:  # the common cases first (called per cell of every figure)
        return math.isfinite(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value)


def measure_name(measure: str | None) -> str:
    """Return the RevMan name of ``measure`` (``"MD"`` -> ``"Mean Difference"``)."""
    if not measure:
        return "Effect"
    return MEASURE_NAMES.get(measure, measure)


def fmt_effect(value: Any, decimals: int = 2) -> str:
    """Format an effect estimate with ``decimals`` decimals; a dash when missing."""
    if not is_number(value):
        return DASH
    text = f"{value:.{decimals}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return text


def fmt_ci(low: Any, high: Any, decimals: int = 2) -> str:
    """Format a confidence interval as ``[low, high]``."""
    if not (is_number(low) and is_number(high)):
        return ""
    return f"[{fmt_effect(low, decimals)}, {fmt_effect(high, decimals)}]"


def fmt_stat(value: Any, decimals: int = 2) -> str:
    """Format a test statistic (Chi², Z, Tau²)."""
    return fmt_effect(value, decimals)


def fmt_num(value: Any, max_decimals: int = 2) -> str:
    """Format a raw data value (mean, SD) with at most ``max_decimals`` decimals."""
    if not is_number(value):
        return DASH
    if float(value).is_integer():
        return str(int(value))
    text = f"{value:.{max_decimals}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def fmt_words(value: Any) -> str:
    """Show a code of the data package (``not_reachable``, ``hepatic_artery``) in words."""
    if isinstance(value, float) and not math.isfinite(value) or value is None or value == "":
        return DASH
    text = str(value)
    return WORDS.get(text, text.replace("_", " "))


def fmt_plain(value: Any) -> str:
    """Format a raw data value as it was recorded: ``2.8`` (never ``2.8000000000000003``), ``12``."""
    if not is_number(value):
        return DASH
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.12g}"


def fmt_count(value: Any) -> str:
    """Format a count; a dash when missing."""
    if not is_number(value):
        return DASH
    return str(int(round(value)))


def fmt_weight(value: Any) -> str:
    """Format a weight in percent with one decimal (``12.3%``)."""
    if not is_number(value):
        return DASH
    return f"{value:.1f}%"


def fmt_i2(value: Any) -> str:
    """Format I² as a whole percentage (``45%``), as RevMan does."""
    if not is_number(value):
        return DASH
    return f"{value:.0f}%"


def fmt_p(value: Any, prefix: bool = True) -> str:
    """Format a P value as RevMan does.

    ``P < 0.00001`` below the floor; one significant digit below 0.01 (``P = 0.0004``);
    two decimals otherwise (``P = 0.14``). Strings (published, "as reported" values such
    as ``"<0.05"``) are returned unchanged.
    """
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in "<>=≤≥" and text:
            body = f"{text[0]} {text[1:].strip()}"
            return f"P {body}" if prefix else body
        if prefix and text[:1].isdigit():  # a bare number as printed ("0.24")
            return f"P = {text}"
        return text or DASH
    if not is_number(value):
        return DASH
    if value < P_FLOOR:
        body = "< 0.00001"
    elif value < 0.01:
        digits = -int(math.floor(math.log10(value)))
        body = "= " + f"{value:.{digits}f}"
        if float(body[2:]) >= 0.01:
            body = "= 0.01"
    elif value > 0.995:
        body = "= 1.00"
    else:
        body = f"= {value:.2f}"
    return f"P {body}" if prefix else body.removeprefix("= ")


def num(mapping: Mapping[str, Any] | None, key: str) -> float | None:
    """Return ``mapping[key]`` as a float when it is a finite number, else None."""
    if not isinstance(mapping, Mapping):
        return None
    value = mapping.get(key)
    return float(value) if is_number(value) else None


def dig(mapping: Mapping[str, Any] | None, *keys: str) -> Any:
    """Return ``mapping[k1][k2]...`` or None when any level is missing."""
    current: Any = mapping
    for key in keys:
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current
