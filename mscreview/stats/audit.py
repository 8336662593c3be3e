"""Audit of published pooled results: do the printed numbers agree with one another?

A pooled result is printed as an estimate, its 95% CI, a p-value and, often, I² with the p-value
of the heterogeneity test. These numbers are tied together (the CI is ``estimate +/- 1.96 SE`` on
the analysis scale; I² and its p-value follow from Q and the number of studies), so an error in one
shows up as a disagreement with the others, as in statcheck (Nuijten et al., Behav Res Methods
2016;48:1205-26; Epskamp & Nuijten, R package ``statcheck``).

Rounding never raises a flag: every printed number stands for the interval of values that round
to it (``0.10`` for [0.095, 0.105]), and a check fails only when no combination of values inside
those intervals satisfies it. The intervals are closed, so both round-half-up and round-half-even
printing are accepted.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from mscreview.stats._common import StatsError, chi2_sf, norm_crit, norm_p

__all__ = [
    "DF_MAX",
    "CICheck",
    "ImpliedK",
    "PValueCheck",
    "check_ci",
    "check_p_value",
    "count_decimals",
    "heterogeneity_k",
    "parse_p",
    "printed_decimals",
    "rounding_interval",
    "se_from_ci",
]

#: Largest number of degrees of freedom searched for the implied number of studies. A set that
#: still fits at this df is reported as unbounded above ("k >= lo").
DF_MAX = 200

#: Relative slack added to every rounding interval so that binary floating point never turns a
#: value printed on the boundary (0.125 printed as 0.13) into a flag.
_EPS = 1e-9

_NUMBER = re.compile(r"(?<![\w.])[-\u2212\u2013]?\s?(?:\d+(?:\.\d*)?|\.\d+)")
_P_TEXT = re.compile(
    r"^\s*(?:p\s*)?(?P<op><=|>=|=|<|>|\u2264|\u2265)?\s*(?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:e-?\d+)?)\s*$",
    re.IGNORECASE,
)


def rounding_interval(value: float, decimals: int) -> tuple[float, float]:
    """The closed interval of values that print as ``value`` with ``decimals`` decimals.

    Parameters
    ----------
    value : float
        The number as printed.
    decimals : int
        Decimal places printed (0 for an integer; negative values are refused).

    Returns
    -------
    (float, float)
        ``value -/+ 0.5 * 10**-decimals``, widened by a relative 1e-9 for floating point.
    """
    if decimals < 0:
        raise StatsError(f"decimals must be >= 0, got {decimals}")
    half = 0.5 * 10.0 ** (-decimals)
    slack = _EPS * max(1.0, abs(value))
    return value - half - slack, value + half + slack


def count_decimals(text: str) -> int:
    """Decimal places of a number as printed: ``"0.50"`` -> 2, ``"12"`` -> 0, ``"1e-5"`` -> 5.

    Parameters
    ----------
    text : str
        One printed number.

    Returns
    -------
    int
    """
    t = text.strip().lower()
    if "e" in t:
        mantissa, _, exponent = t.partition("e")
        return max(0, count_decimals(mantissa) - int(exponent))
    return len(t.partition(".")[2]) if "." in t else 0


def _repr_decimals(value: float) -> int:
    """Decimals of the shortest representation of ``value`` (never more than printed)."""
    text = repr(float(value))
    if "e" in text or "E" in text:
        return count_decimals(text)
    return 0 if text.endswith(".0") else count_decimals(text)


def printed_decimals(value: float, text: str | None) -> int:
    """Decimal places with which ``value`` was printed in ``text`` (the source's own words).

    The numbers of ``text`` whose value equals ``value`` are found (a Unicode minus or an en dash
    counts as a minus sign); the smallest number of decimals among them is returned, so the
    interval is never narrower than the printed one. When ``value`` is not found in ``text``,
    the decimals of the stored number are used (``2.6`` stored for a printed ``2.60`` gives 1):
    again never narrower than printed, so rounding cannot raise a flag.

    Parameters
    ----------
    value : float
        The number as stored (a float loses trailing zeros).
    text : str or None
        The quote the number comes from.

    Returns
    -------
    int
    """
    found = []
    for match in _NUMBER.finditer(text or ""):
        token = match.group(0).replace(" ", "").replace("\u2212", "-").replace("\u2013", "-")
        if token in ("-", "."):
            continue
        try:
            number = float(token)
        except ValueError:
            continue
        if math.isclose(number, value, rel_tol=1e-12, abs_tol=1e-12):
            found.append(count_decimals(token.lstrip("-")))
    return min(found) if found else _repr_decimals(value)


def parse_p(text: str) -> tuple[float, float]:
    """The interval of true p-values a printed p-value stands for.

    ``"0.09"`` -> [0.085, 0.095]; ``"<0.0001"`` -> [0, 0.0001]; ``">0.99"`` -> [0.99, 1];
    ``"p = .04"`` and ``"≤ 0.05"`` are accepted.

    Parameters
    ----------
    text : str
        The p-value as printed.

    Returns
    -------
    (float, float)
        Clipped to [0, 1].

    Raises
    ------
    StatsError
        When ``text`` is not a p-value.
    """
    match = _P_TEXT.match(text.replace(" ", " "))
    if not match:
        raise StatsError(f"not a p-value: {text!r}")
    number = float(match.group("num"))
    if not 0.0 <= number <= 1.0:
        raise StatsError(f"a p-value lies in [0, 1], got {text!r}")
    op = match.group("op") or "="
    if op in ("<", "<=", "\u2264"):
        return 0.0, number * (1 + _EPS)
    if op in (">", ">=", "\u2265"):
        return number * (1 - _EPS), 1.0
    lo, hi = rounding_interval(number, count_decimals(match.group("num")))
    return max(0.0, lo), min(1.0, hi)


def se_from_ci(lower: float, upper: float, *, ratio: bool = False, level: float = 0.95) -> float:
    """Standard error on the analysis scale from a symmetric confidence interval.

    ``SE = (upper - lower) / (2 z_{(1+level)/2})``, with the limits log-transformed first for
    ratio measures (Cochrane Handbook 6.3.1 and 6.3.2; Altman & Bland, BMJ 2011;343:d2090).

    Parameters
    ----------
    lower, upper : float
        The confidence limits as printed (on the ratio scale when ``ratio``).
    ratio : bool
        Ratio measure (RR, OR, HR): the analysis scale is the natural log.
    level : float
        Confidence level, 0.95 by default.

    Returns
    -------
    float
    """
    if ratio:
        if lower <= 0 or upper <= 0:
            raise StatsError(f"ratio CI limits must be positive, got [{lower}, {upper}]")
        lower, upper = math.log(lower), math.log(upper)
    return (upper - lower) / (2.0 * norm_crit(level))


@dataclass(frozen=True)
class PValueCheck:
    """The p-value a printed estimate and CI imply, against the printed p.

    ``p`` is computed at the printed numbers (``z = estimate / SE``, SE from the CI);
    ``p_low``/``p_high`` bound it over the rounding intervals of the three numbers;
    ``printed_low``/``printed_high`` is the interval the printed p stands for. ``consistent`` is
    false only when the two intervals do not meet. ``decision_error`` marks a gross inconsistency
    (statcheck's term): the CI excludes the null for every value inside the rounding intervals
    while the printed p is >= 0.05, or includes it for every such value while p < 0.05.
    """

    z: float
    p: float
    p_low: float
    p_high: float
    printed_low: float
    printed_high: float
    consistent: bool
    decision_error: bool


def _scale(x: float, ratio: bool) -> float:
    if not ratio:
        return x
    return math.log(x) if x > 0 else -math.inf


def _intervals(values: tuple[float, float, float], decimals: tuple[int, int, int],
               ratio: bool) -> list[tuple[float, float]]:
    out = []
    for v, d in zip(values, decimals):
        lo, hi = rounding_interval(v, d)
        out.append((_scale(lo, ratio), _scale(hi, ratio)))
    return out


def check_p_value(estimate: float, ci_low: float, ci_high: float, p_text: str, *,
                  decimals: tuple[int, int, int], ratio: bool = False,
                  alpha: float = 0.05) -> PValueCheck:
    """Recompute the two-sided p-value of a printed result and compare it with the printed one.

    ``SE = (upper - lower) / (2 x 1.959964)`` on the analysis scale (log for ratios),
    ``z = estimate / SE``, ``p = 2 (1 - Phi(|z|))`` (Altman & Bland, BMJ 2011;343:d2090). The
    bounds recompute z at the ends of the rounding interval of every printed number (statcheck's
    rule, Nuijten et al. 2016): the smallest |z| pairs the smallest |estimate| with the widest
    CI, the largest |z| the largest |estimate| with the narrowest CI.

    Parameters
    ----------
    estimate, ci_low, ci_high : float
        As printed (ratio scale for ratio measures).
    p_text : str
        The printed p-value, e.g. ``"0.10"`` or ``"<0.00001"``.
    decimals : (int, int, int)
        Printed decimals of the estimate, lower and upper limit.
    ratio : bool
        Ratio measure: the null is 1 and the analysis scale is the log.
    alpha : float
        Significance level for the decision-error check.

    Returns
    -------
    PValueCheck
    """
    printed_low, printed_high = parse_p(p_text)
    se = se_from_ci(ci_low, ci_high, ratio=ratio)
    y = _scale(estimate, ratio)
    z = y / se if se > 0 else math.copysign(math.inf, y) if y else 0.0
    p = float(norm_p(z))
    (e_lo, e_hi), (l_lo, l_hi), (u_lo, u_hi) = _intervals((estimate, ci_low, ci_high), decimals,
                                                          ratio)
    crit = 2.0 * norm_crit()
    se_max = (u_hi - l_lo) / crit
    se_min = max(0.0, (u_lo - l_hi) / crit)
    abs_min = 0.0 if e_lo <= 0.0 <= e_hi else min(abs(e_lo), abs(e_hi))
    abs_max = max(abs(e_lo), abs(e_hi))
    z_min = abs_min / se_max if se_max > 0 else (0.0 if abs_min == 0 else math.inf)
    z_max = abs_max / se_min if se_min > 0 else math.inf
    p_low, p_high = float(norm_p(z_max)), float(norm_p(z_min))
    consistent = p_low <= printed_high and printed_low <= p_high
    excludes_null = l_lo > 0.0 or u_hi < 0.0
    includes_null = l_hi <= 0.0 <= u_lo
    decision_error = (excludes_null and printed_low >= alpha) or (
        includes_null and printed_high < alpha)
    return PValueCheck(z, p, p_low, p_high, printed_low, printed_high, consistent,
                       decision_error)


@dataclass(frozen=True)
class CICheck:
    """Whether a printed CI contains its estimate and is symmetric about it.

    On the analysis scale (log for ratios): ``midpoint = (lower + upper) / 2`` and
    ``asymmetry = midpoint - estimate`` at the printed numbers; ``tolerance`` is the largest
    asymmetry rounding alone can produce. ``contains`` and ``symmetric`` are false only when no
    values inside the rounding intervals satisfy them.
    """

    contains: bool
    symmetric: bool
    midpoint: float
    asymmetry: float
    tolerance: float


def check_ci(estimate: float, ci_low: float, ci_high: float, *, decimals: tuple[int, int, int],
             ratio: bool = False) -> CICheck:
    """Check that a printed estimate lies inside its CI and at its centre.

    A Wald interval ``estimate +/- z SE`` is symmetric about the estimate on the analysis scale
    (RevMan 5, metafor; log scale for ratio measures, Cochrane Handbook 6.3.2). Asymmetry beyond
    rounding points to a typographical error, a different model, or a CI on another scale.

    Parameters
    ----------
    estimate, ci_low, ci_high : float
        As printed.
    decimals : (int, int, int)
        Printed decimals of the estimate, lower and upper limit.
    ratio : bool
        Ratio measure (log scale).

    Returns
    -------
    CICheck
    """
    (e_lo, e_hi), (l_lo, l_hi), (u_lo, u_hi) = _intervals((estimate, ci_low, ci_high), decimals,
                                                          ratio)
    contains = l_lo <= e_hi and e_lo <= u_hi
    mid_lo, mid_hi = (l_lo + u_lo) / 2.0, (l_hi + u_hi) / 2.0
    symmetric = mid_lo <= e_hi and e_lo <= mid_hi
    y = _scale(estimate, ratio)
    midpoint = (_scale(ci_low, ratio) + _scale(ci_high, ratio)) / 2.0
    tolerance = (e_hi - e_lo) / 2.0 + (mid_hi - mid_lo) / 2.0
    return CICheck(contains, symmetric, midpoint, midpoint - y, tolerance)


@dataclass(frozen=True)
class ImpliedK:
    """The numbers of studies k = df + 1 that a printed I² and heterogeneity p-value admit.

    ``ks`` lists them in increasing order (empty when none fits); ``unbounded`` is true when the
    largest searched df (:data:`DF_MAX`) still fits, i.e. every larger k fits too.
    """

    ks: tuple[int, ...]
    unbounded: bool

    @property
    def bounds(self) -> tuple[int, int | None] | None:
        """``(lowest k, highest k)``, ``None`` as the highest when unbounded; ``None`` if empty."""
        if not self.ks:
            return None
        return self.ks[0], None if self.unbounded else self.ks[-1]

    def admits(self, k: int) -> bool:
        """Whether ``k`` studies fit the printed heterogeneity statistics."""
        return k in self.ks or (self.unbounded and k > self.ks[-1])


def heterogeneity_k(i2_percent: float, p_text: str, *, i2_decimals: int = 0,
                    q: float | None = None, q_decimals: int = 2,
                    df_max: int = DF_MAX) -> ImpliedK:
    """Every number of studies consistent with a printed I² and heterogeneity p-value.

    ``I² = max(0, (Q - df) / Q)`` (Higgins & Thompson, Stat Med 2002;21:1539; RevMan 5) and
    ``p = P(chi²_df > Q)`` with ``df = k - 1``. For each df the printed I² interval maps to an
    interval of Q (``Q = df / (1 - I²)``; any Q in [0, df] when I² rounds to 0), and that to an
    interval of p (decreasing in Q). A df fits when this interval meets the printed p's interval
    (and the printed Q's, if given).

    Parameters
    ----------
    i2_percent : float
        I² in percent as printed.
    p_text : str
        The heterogeneity p-value as printed.
    i2_decimals : int
        Printed decimals of I² (usually 0).
    q : float, optional
        Cochran's Q as printed, when printed.
    q_decimals : int
        Printed decimals of Q.
    df_max : int
        Largest df searched.

    Returns
    -------
    ImpliedK

    Examples
    --------
    The seed review's MELD result (I² = 45%, p = 0.09) fits only df = 6, i.e. k = 7:

    >>> heterogeneity_k(45, "0.09").ks
    (7,)
    """
    if not 0.0 <= i2_percent <= 100.0:
        raise StatsError(f"I² must be a percentage in [0, 100], got {i2_percent}")
    p_lo, p_hi = parse_p(p_text)
    i_lo, i_hi = rounding_interval(i2_percent / 100.0, i2_decimals + 2)
    df = np.arange(1, df_max + 1, dtype=np.float64)
    q_lo = np.zeros_like(df) if i_lo <= 0.0 else df / (1.0 - i_lo)
    q_hi = np.full_like(df, np.inf) if i_hi >= 1.0 else df / (1.0 - i_hi)
    if q is not None:
        lo, hi = rounding_interval(q, q_decimals)
        q_lo, q_hi = np.maximum(q_lo, lo), np.minimum(q_hi, hi)
    ok = q_lo <= q_hi
    pq_hi = np.asarray(chi2_sf(q_lo, df), dtype=np.float64)  # p decreases as Q grows
    pq_lo = np.where(np.isinf(q_hi), 0.0, np.asarray(chi2_sf(np.where(np.isinf(q_hi), 0.0, q_hi),
                                                             df), dtype=np.float64))
    ok &= (pq_lo <= p_hi) & (p_lo <= pq_hi)
    fitting = tuple(int(d) + 1 for d in df[ok])
    return ImpliedK(fitting, bool(ok[-1]))
