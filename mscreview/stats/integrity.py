"""Trustworthiness screening of trial reports from their printed summary statistics.

The data-driven items of INSPECT-SR (Wilkinson et al., the Cochrane-endorsed tool for assessing
the trustworthiness of randomised trials in systematic reviews): baseline balance (Carlisle,
Anaesthesia 2017;72:944-52), the granularity of means and SDs of integer data (GRIM, Brown &
Heathers, Soc Psychol Personal Sci 2017;8:363-9; GRIMMER, Anaya, PeerJ Preprints 2016;4:e2400,
in the analytic form of Allard 2018), and percentages against their counts.

As in :mod:`mscreview.stats.audit`, every printed number stands for the interval of values that
round to it, and a check fails only when no value inside the intervals passes it. The results
are screening signals ("concerns"), never grounds to exclude a trial on their own.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mscreview.stats._common import StatsError
from mscreview.stats._dist import fdtrc, ndtr, ndtri
from mscreview.stats.audit import rounding_interval

__all__ = [
    "BalanceTest",
    "GrimmerResult",
    "Stouffer",
    "baseline_balance",
    "baseline_balance_two_arms",
    "grim",
    "grimmer",
    "percent_consistent",
    "stouffer",
]

#: Stouffer's z uses Phi^-1(p); p-values of exactly 0 or 1 (identical printed means give p = 1)
#: are moved this far inside (0, 1) so that z stays finite (|z| <= 8.2).
_P_CLIP = 1e-16

#: More arms than this make the vertex search of :func:`baseline_balance` too slow.
_MAX_ARMS = 12


def grim(mean: float, n: int, decimals: int, *, items: int = 1) -> bool:
    """GRIM: can ``n`` integer values have a mean that prints as ``mean``?

    The mean of n integers is T/n for an integer total T (Brown & Heathers 2017); for a score
    averaged over ``items`` integer items it is T/(n x items). The check passes when an integer
    T exists with T/(n items) inside the rounding interval of the printed mean.

    Parameters
    ----------
    mean : float
        The mean as printed.
    n : int
        Participants the mean is based on.
    decimals : int
        Printed decimals of the mean.
    items : int
        Items averaged per participant (1 for a single integer score such as MELD).

    Returns
    -------
    bool
        True when the mean is possible.

    Examples
    --------
    A mean of 5.93 from 49 participants is impossible (5.93 x 49 = 290.57; 290/49 = 5.918 and
    291/49 = 5.939), the example of Brown & Heathers as retold in The Economist (2016):

    >>> grim(5.93, 49, 2)
    False
    """
    if n < 1 or items < 1:
        raise StatsError(f"n and items must be >= 1, got n={n}, items={items}")
    lo, hi = rounding_interval(mean, decimals)
    units = n * items
    return math.ceil(lo * units) <= math.floor(hi * units)


@dataclass(frozen=True)
class GrimmerResult:
    """GRIMMER: ``consistent`` and, when not, ``reason``: ``"grim"`` (the mean is impossible),
    ``"sd_range"`` (no integer sum of squares gives the SD) or ``"parity"`` (the sums of the
    values and of their squares must have the same parity)."""

    consistent: bool
    reason: str | None


def grimmer(mean: float, sd: float, n: int, mean_decimals: int, sd_decimals: int, *,
            items: int = 1) -> GrimmerResult:
    """GRIMMER: can ``n`` integer values have this mean and this sample SD, as printed?

    For integer data the total ``T`` and the sum of squares ``S`` are integers, and
    ``sd² = (S - T²/n) / (n - 1)``. For each total T that passes GRIM, the SD's rounding interval
    gives an interval of S; the SD is possible when that interval holds an integer of the
    parity of T (x² and x have the same parity) that is at least the smallest sum of squares of
    n integers summing to T (Anaya 2016; Allard 2018, "Analytic-GRIMMER").

    Parameters
    ----------
    mean, sd : float
        As printed.
    n : int
        Participants (at least 2).
    mean_decimals, sd_decimals : int
        Printed decimals.
    items : int
        Items averaged per participant.

    Returns
    -------
    GrimmerResult
    """
    if n < 2:
        raise StatsError(f"an SD needs n >= 2, got {n}")
    if not grim(mean, n, mean_decimals, items=items):
        return GrimmerResult(False, "grim")
    m_lo, m_hi = (v * items for v in rounding_interval(mean, mean_decimals))
    s_lo, s_hi = (max(0.0, v) * items for v in rounding_interval(sd, sd_decimals))
    in_range = False
    for total in range(math.ceil(m_lo * n), math.floor(m_hi * n) + 1):
        base = total * total / n
        q, r = divmod(total, n)
        least = (n - r) * q * q + r * (q + 1) * (q + 1)  # the values as equal as possible
        first = math.ceil(max((n - 1) * s_lo * s_lo + base, least) - 1e-9)
        last = math.floor((n - 1) * s_hi * s_hi + base + 1e-9)
        if first > last:
            continue
        in_range = True
        if last > first or first % 2 == total % 2:
            return GrimmerResult(True, None)
    return GrimmerResult(False, "parity" if in_range else "sd_range")


def percent_consistent(events: int, n: int, percent: float, decimals: int) -> bool:
    """Whether ``100 events / n`` prints as ``percent`` with ``decimals`` decimals.

    Parameters
    ----------
    events, n : int
        The count and its denominator.
    percent : float
        The percentage as printed.
    decimals : int
        Its printed decimals.

    Returns
    -------
    bool
    """
    if n < 1:
        raise StatsError(f"n must be >= 1, got {n}")
    lo, hi = rounding_interval(percent, decimals)
    return lo <= 100.0 * events / n <= hi


def _anova_f(means: np.ndarray, sds: np.ndarray, ns: np.ndarray) -> float:
    total = float(ns.sum())
    grand = float((ns * means).sum()) / total
    between = float((ns * (means - grand) ** 2).sum()) / (len(ns) - 1)
    within = float(((ns - 1) * sds**2).sum()) / (total - len(ns))
    if within <= 0:
        return math.inf if between > 0 else 0.0
    return between / within


def _p_of_f(f: float, groups: int, total: float) -> float:
    if math.isinf(f):
        return 0.0
    return float(fdtrc(groups - 1, total - groups, f))


def _min_spread(lo: np.ndarray, hi: np.ndarray, ns: np.ndarray) -> np.ndarray:
    """Means inside their boxes with the least weighted spread: clip(c) at the fixed point."""
    c = float((ns * (lo + hi) / 2).sum() / ns.sum())
    for _ in range(200):
        x = np.clip(c, lo, hi)
        new = float((ns * x).sum() / ns.sum())
        if abs(new - c) < 1e-15:
            break
        c = new
    return np.asarray(np.clip(c, lo, hi))


@dataclass(frozen=True)
class BalanceTest:
    """Baseline balance of one variable: ``p`` at the printed numbers (one-way ANOVA; Student's
    t-test for two arms), and ``p_low``/``p_high`` over the rounding intervals."""

    statistic: float
    p: float
    p_low: float
    p_high: float


def baseline_balance(means: Sequence[float], sds: Sequence[float], ns: Sequence[int], *,
                     mean_decimals: Sequence[int] | None = None,
                     sd_decimals: Sequence[int] | None = None) -> BalanceTest:
    """p-value of a baseline difference between randomised arms, from means, SDs and sizes.

    Carlisle (Anaesthesia 2017;72:944) tests each continuous baseline variable: under
    randomisation the p-values are uniform on (0, 1). Two arms: Student's t-test with pooled
    variance (``scipy.stats.ttest_ind_from_stats(equal_var=True)``); more arms: the one-way ANOVA
    F test, of which the t-test is the two-arm case (F = t²). The bounds recompute the statistic
    over the rounding intervals of the printed means and SDs: the smallest F pairs the least
    spread of means with the largest SDs, the largest F the widest spread with the smallest SDs.

    Parameters
    ----------
    means, sds : sequence of float, shape (g,)
        Per arm, as printed.
    ns : sequence of int, shape (g,)
        Patients per arm.
    mean_decimals, sd_decimals : sequence of int, shape (g,), optional
        Printed decimals; without them only ``p`` is meaningful (bounds equal ``p``).

    Returns
    -------
    BalanceTest
        ``statistic`` is F (t² for two arms).
    """
    m = np.asarray(means, dtype=np.float64)
    s = np.asarray(sds, dtype=np.float64)
    n = np.asarray(ns, dtype=np.float64)
    g = len(m)
    if not (len(s) == len(n) == g) or g < 2:
        raise StatsError("baseline balance needs means, SDs and sizes for at least two arms")
    if g > _MAX_ARMS:
        raise StatsError(f"at most {_MAX_ARMS} arms, got {g}")
    if np.any(n < 2) or np.any(s < 0):
        raise StatsError("every arm needs n >= 2 and a non-negative SD")
    total = float(n.sum())
    f = _anova_f(m, s, n)
    p = _p_of_f(f, g, total)
    if mean_decimals is None or sd_decimals is None:
        return BalanceTest(f, p, p, p)
    m_box = np.array([rounding_interval(v, d) for v, d in zip(m, mean_decimals)])
    s_box = np.array([rounding_interval(v, d) for v, d in zip(s, sd_decimals)])
    s_small = np.maximum(s_box[:, 0], 0.0)
    s_large = s_box[:, 1]
    f_min = _anova_f(_min_spread(m_box[:, 0], m_box[:, 1], n), s_large, n)
    f_max = max(_anova_f(np.array(vertex), s_small, n)
                for vertex in itertools.product(*m_box.tolist()))
    return BalanceTest(f, p, _p_of_f(f_max, g, total), _p_of_f(f_min, g, total))


def _anova_f_two(m: np.ndarray, s: np.ndarray, n: np.ndarray) -> np.ndarray:
    """:func:`_anova_f` of many two-arm variables at once (rows of (v, 2) arrays): the same
    operations in the same order, so the same numbers."""
    total = n[:, 0] + n[:, 1]
    grand = (n[:, 0] * m[:, 0] + n[:, 1] * m[:, 1]) / total
    between = n[:, 0] * (m[:, 0] - grand) ** 2 + n[:, 1] * (m[:, 1] - grand) ** 2
    within = ((n[:, 0] - 1) * s[:, 0] ** 2 + (n[:, 1] - 1) * s[:, 1] ** 2) / (total - 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = between / within
    bad = within <= 0
    f[bad] = np.where(between[bad] > 0, math.inf, 0.0)
    return np.asarray(f)


def _min_spread_two(lo: np.ndarray, hi: np.ndarray, n: np.ndarray) -> np.ndarray:
    """:func:`_min_spread` of many two-arm variables at once, each stopping where it would."""
    total = n[:, 0] + n[:, 1]
    mid = n * (lo + hi) / 2
    c = (mid[:, 0] + mid[:, 1]) / total
    active = np.ones(len(c), dtype=bool)
    for _ in range(200):
        idx = np.flatnonzero(active)
        if not len(idx):
            break
        x = np.clip(c[idx, None], lo[idx], hi[idx])
        nx = n[idx] * x
        new = (nx[:, 0] + nx[:, 1]) / total[idx]
        done = np.abs(new - c[idx]) < 1e-15
        c[idx[~done]] = new[~done]
        active[idx[done]] = False
    return np.asarray(np.clip(c[:, None], lo, hi))


def baseline_balance_two_arms(means: np.ndarray, sds: np.ndarray, ns: np.ndarray,
                              mean_decimals: np.ndarray, sd_decimals: np.ndarray
                              ) -> list[BalanceTest]:
    """:func:`baseline_balance` of many two-arm variables at once (the same numbers).

    Parameters
    ----------
    means, sds, ns : array_like, shape (v, 2)
        Per variable and arm, as printed.
    mean_decimals, sd_decimals : array_like of int, shape (v, 2)
        Printed decimals.

    Returns
    -------
    list of BalanceTest, shape (v,)
    """
    m = np.asarray(means, dtype=np.float64).reshape(-1, 2)
    s = np.asarray(sds, dtype=np.float64).reshape(-1, 2)
    n = np.asarray(ns, dtype=np.float64).reshape(-1, 2)
    if not (m.shape == s.shape == n.shape):
        raise StatsError("means, SDs and sizes must have the same shape (v, 2)")
    if np.any(n < 2) or np.any(s < 0):
        raise StatsError("every arm needs n >= 2 and a non-negative SD")
    if not len(m):
        return []
    dm = np.asarray(mean_decimals).reshape(-1, 2).tolist()
    ds = np.asarray(sd_decimals).reshape(-1, 2).tolist()
    m_box = np.array([[rounding_interval(v, d) for v, d in zip(mr, dr, strict=True)]
                      for mr, dr in zip(m.tolist(), dm, strict=True)])  # (v, 2, 2)
    s_box = np.array([[rounding_interval(v, d) for v, d in zip(sr, dr, strict=True)]
                      for sr, dr in zip(s.tolist(), ds, strict=True)])
    s_small = np.maximum(s_box[..., 0], 0.0)
    s_large = s_box[..., 1]
    f = _anova_f_two(m, s, n)
    f_min = _anova_f_two(_min_spread_two(m_box[..., 0], m_box[..., 1], n), s_large, n)
    lo, hi = m_box[..., 0], m_box[..., 1]
    f_max = _anova_f_two(lo, s_small, n)  # the vertices in itertools.product order
    for vertex in (np.stack([lo[:, 0], hi[:, 1]], axis=1), np.stack([hi[:, 0], lo[:, 1]], axis=1),
                   hi):
        f_v = _anova_f_two(vertex, s_small, n)
        f_max = np.where(f_v > f_max, f_v, f_max)  # max() keeps the first of equal values
    d2 = n[:, 0] + n[:, 1] - 2
    ps = [np.where(np.isinf(x), 0.0, fdtrc(1.0, d2, np.where(np.isinf(x), 0.0, x)))
          for x in (f, f_max, f_min)]
    return [BalanceTest(*row) for row in zip(f.tolist(), *(p.tolist() for p in ps), strict=True)]


@dataclass(frozen=True)
class Stouffer:
    """Stouffer's combination: ``z = sum(Phi^-1(p_i)) / sqrt(m)`` and ``p = Phi(z)``.

    ``p`` near 0: an excess of small p-values (imbalance); near 1: an excess of large ones
    (arms more alike than randomisation makes them). ``below``/``above`` count the p-values
    under 0.01 and over 0.99.
    """

    m: int
    z: float
    p: float
    below: int
    above: int


def stouffer(pvalues: Sequence[float]) -> Stouffer:
    """Combine independent one-variable p-values by Stouffer's method (Carlisle 2017).

    Parameters
    ----------
    pvalues : sequence of float, shape (m,)

    Returns
    -------
    Stouffer
    """
    p = np.asarray(pvalues, dtype=np.float64)
    if p.size == 0 or np.any((p < 0) | (p > 1)) or np.any(np.isnan(p)):
        raise StatsError("Stouffer's method needs at least one p-value in [0, 1]")
    clipped = np.clip(p, _P_CLIP, 1.0 - _P_CLIP)
    z = float(np.sum(ndtri(clipped)) / math.sqrt(p.size))
    return Stouffer(int(p.size), z, float(ndtr(z)), int(np.sum(p < 0.01)), int(np.sum(p > 0.99)))
