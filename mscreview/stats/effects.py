"""Study-level effect sizes: MD, SMD (RevMan 5 and exact), log RR, log OR and RD.

Two layers: array kernels (``mean_difference`` ... ``risk_difference``) that compute ``(yi, vi)``
without judgement, and ``continuous_effects`` / ``dichotomous_effects`` that decide which studies
can be analysed, apply RevMan 5's zero-cell rule and report every exclusion with its reason.

References
----------
Deeks JJ, Higgins JPT. Statistical algorithms in Review Manager 5 (2010).
Hedges LV, Olkin I. Statistical Methods for Meta-Analysis (1985), ch. 5 (exact J).
Viechtbauer W. metafor, ``escalc`` (measures MD, SMD with vtype "LS", RR, OR, RD).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from mscreview.stats._common import FloatArray, StatsError, as_float
from mscreview.stats._dist import gammaln
from mscreview.stats.results import EffectSet, Excluded

__all__ = [
    "CONTINUOUS_MEASURES",
    "DICHOTOMOUS_MEASURES",
    "continuous_effects",
    "dichotomous_effects",
    "hedges_j",
    "log_odds_ratio",
    "log_risk_ratio",
    "mean_difference",
    "risk_difference",
    "smd_exact",
    "smd_revman",
]

CONTINUOUS_MEASURES = ("MD", "SMD", "SMD_EXACT")
DICHOTOMOUS_MEASURES = ("RR", "OR", "RD")

#: RevMan 5 adds this to every cell of a 2x2 table that has a zero cell.
ZERO_CELL_INCREMENT = 0.5


def mean_difference(
    n1: ArrayLike, m1: ArrayLike, sd1: ArrayLike, n2: ArrayLike, m2: ArrayLike, sd2: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Mean difference and its variance (RevMan 5; metafor ``escalc("MD")``).

    ``y = m1 - m2``, ``v = sd1^2/n1 + sd2^2/n2``. All inputs have shape (k,); returns two (k,)
    arrays.
    """
    n1_, n2_ = as_float(n1), as_float(n2)
    s1, s2 = as_float(sd1), as_float(sd2)
    return as_float(m1) - as_float(m2), s1**2 / n1_ + s2**2 / n2_


def _pooled_sd(n1: FloatArray, sd1: FloatArray, n2: FloatArray, sd2: FloatArray) -> FloatArray:
    """``s_p = sqrt(((n1-1) sd1^2 + (n2-1) sd2^2) / (N-2))``."""
    return np.sqrt(((n1 - 1.0) * sd1**2 + (n2 - 1.0) * sd2**2) / (n1 + n2 - 2.0))


def smd_revman(
    n1: ArrayLike, m1: ArrayLike, sd1: ArrayLike, n2: ArrayLike, m2: ArrayLike, sd2: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Hedges' g as RevMan 5 computes it (Deeks & Higgins 2010, "Standardized mean difference").

    ``g = (m1 - m2)/s_p * (1 - 3/(4N - 9))``, ``v = N/(n1 n2) + g^2/(2 (N - 3.94))``.
    Shapes (k,) in, two (k,) arrays out.
    """
    n1_, n2_ = as_float(n1), as_float(n2)
    big_n = n1_ + n2_
    sp = _pooled_sd(n1_, as_float(sd1), n2_, as_float(sd2))
    g = (as_float(m1) - as_float(m2)) / sp * (1.0 - 3.0 / (4.0 * big_n - 9.0))
    return g, big_n / (n1_ * n2_) + g**2 / (2.0 * (big_n - 3.94))


def hedges_j(m: ArrayLike) -> FloatArray:
    """Exact small-sample correction ``J(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2))``.

    Hedges & Olkin (1985), eq. 5.10; used by metafor ``escalc("SMD")``. ``m`` = N - 2, shape (k,).
    """
    m_ = as_float(m)
    out: FloatArray = np.exp(gammaln(m_ / 2.0) - 0.5 * np.log(m_ / 2.0) - gammaln((m_ - 1.0) / 2.0))
    return out


def smd_exact(
    n1: ArrayLike, m1: ArrayLike, sd1: ArrayLike, n2: ArrayLike, m2: ArrayLike, sd2: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Hedges' g with the exact J and metafor's large-sample variance (``escalc("SMD")``, "LS").

    ``g = J(N-2) (m1 - m2)/s_p``, ``v = 1/n1 + 1/n2 + g^2/(2N)``. Differs from
    :func:`smd_revman` in about the 4th decimal.
    """
    n1_, n2_ = as_float(n1), as_float(n2)
    big_n = n1_ + n2_
    sp = _pooled_sd(n1_, as_float(sd1), n2_, as_float(sd2))
    g = hedges_j(big_n - 2.0) * (as_float(m1) - as_float(m2)) / sp
    return g, 1.0 / n1_ + 1.0 / n2_ + g**2 / (2.0 * big_n)


def log_risk_ratio(
    a: ArrayLike, n1: ArrayLike, c: ArrayLike, n2: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Log risk ratio ``ln((a/n1)/(c/n2))``, ``v = 1/a - 1/n1 + 1/c - 1/n2`` (Deeks & Higgins 2010).

    ``a``/``c`` are events in arm 1/2; no correction is applied here.
    """
    a_, c_, n1_, n2_ = as_float(a), as_float(c), as_float(n1), as_float(n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(a_ / n1_) - np.log(c_ / n2_), 1.0 / a_ - 1.0 / n1_ + 1.0 / c_ - 1.0 / n2_


def log_odds_ratio(
    a: ArrayLike, n1: ArrayLike, c: ArrayLike, n2: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Log odds ratio ``ln(a d/(b c))``, ``v = 1/a + 1/b + 1/c + 1/d`` (Woolf; Deeks & Higgins)."""
    a_, c_ = as_float(a), as_float(c)
    b_, d_ = as_float(n1) - a_, as_float(n2) - c_
    with np.errstate(divide="ignore", invalid="ignore"):
        yi = np.log(a_) + np.log(d_) - np.log(b_) - np.log(c_)
        return yi, 1.0 / a_ + 1.0 / b_ + 1.0 / c_ + 1.0 / d_


def risk_difference(
    a: ArrayLike, n1: ArrayLike, c: ArrayLike, n2: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Risk difference ``p1 - p2``, ``v = p1(1-p1)/n1 + p2(1-p2)/n2`` (Deeks & Higgins 2010)."""
    n1_, n2_ = as_float(n1), as_float(n2)
    p1, p2 = as_float(a) / n1_, as_float(c) / n2_
    return p1 - p2, p1 * (1.0 - p1) / n1_ + p2 * (1.0 - p2) / n2_


_CONTINUOUS_KERNELS = {"MD": mean_difference, "SMD": smd_revman, "SMD_EXACT": smd_exact}
_DICHOTOMOUS_KERNELS = {"RR": log_risk_ratio, "OR": log_odds_ratio, "RD": risk_difference}


def _names(study: Sequence[str] | None, k: int) -> tuple[str, ...]:
    if study is None:
        return tuple(f"study {i + 1}" for i in range(k))
    if len(study) != k:
        raise StatsError(f"{len(study)} study names for {k} studies")
    return tuple(str(s) for s in study)


def _check_lengths(*arrays: FloatArray) -> int:
    k = len(arrays[0])
    if any(len(a) != k for a in arrays):
        raise StatsError("input arrays differ in length")
    return k


def continuous_effects(
    n1: ArrayLike,
    mean1: ArrayLike,
    sd1: ArrayLike,
    n2: ArrayLike,
    mean2: ArrayLike,
    sd2: ArrayLike,
    *,
    measure: str = "MD",
    study: Sequence[str] | None = None,
) -> EffectSet:
    """Effects of two-arm continuous data, excluding (with a reason) what cannot be analysed.

    Parameters
    ----------
    n1, mean1, sd1, n2, mean2, sd2 : array_like, shape (k,)
        Arm 1 is experimental, arm 2 control. NaN (or None) marks a missing value.
    measure : {"MD", "SMD", "SMD_EXACT"}
        ``SMD`` is RevMan 5's Hedges' g (:func:`smd_revman`); ``SMD_EXACT`` is metafor's
        (:func:`smd_exact`).
    study : sequence of str, optional

    Returns
    -------
    EffectSet
        A study with a missing or non-positive n (or N < 3 for an SMD), a missing mean or SD, or
        an SD <= 0 in either arm gets no weight and is listed in ``excluded`` (statistics.md,
        "A study with sd <= 0 ... is reported as excluded").
    """
    if measure not in _CONTINUOUS_KERNELS:
        raise StatsError(f"unknown continuous measure {measure!r}")
    arrays = [as_float(x) for x in (n1, mean1, sd1, n2, mean2, sd2)]
    k = _check_lengths(*arrays)
    names = _names(study, k)
    a_n1, a_m1, a_s1, a_n2, a_m2, a_s2 = arrays
    excluded: list[Excluded] = []
    keep = np.ones(k, dtype=bool)
    for i in range(k):
        reason = None
        if not (np.isfinite(a_n1[i]) and np.isfinite(a_n2[i])):
            reason = "missing n"
        elif a_n1[i] < 1 or a_n2[i] < 1:
            reason = "n < 1"
        elif not (np.isfinite(a_m1[i]) and np.isfinite(a_m2[i])):
            reason = "missing mean"
        elif not (np.isfinite(a_s1[i]) and np.isfinite(a_s2[i])):
            reason = "missing sd"
        elif a_s1[i] <= 0 or a_s2[i] <= 0:
            reason = "sd <= 0 in arm " + ("1" if a_s1[i] <= 0 else "2")
        elif measure != "MD" and a_n1[i] + a_n2[i] < 3:
            reason = "N < 3: SMD undefined"
        if reason is not None:
            keep[i] = False
            excluded.append(Excluded(names[i], reason))
    kernel = _CONTINUOUS_KERNELS[measure]
    yi, vi = kernel(*(a[keep] for a in arrays))
    return EffectSet(
        measure=measure,
        study=tuple(n for n, kp in zip(names, keep, strict=True) if kp),
        yi=yi,
        vi=vi,
        excluded=tuple(excluded),
    )


def dichotomous_effects(
    events1: ArrayLike,
    n1: ArrayLike,
    events2: ArrayLike,
    n2: ArrayLike,
    *,
    measure: str = "RR",
    study: Sequence[str] | None = None,
    zero_cell_correction: bool = True,
    drop_double_zero: bool | None = None,
) -> EffectSet:
    """Effects of two-arm dichotomous data with RevMan 5's zero-cell rule.

    Parameters
    ----------
    events1, n1, events2, n2 : array_like, shape (k,)
    measure : {"RR", "OR", "RD", "PETO"}
        ``RR``/``OR`` give log-scale ``yi``/``vi``; ``PETO`` gives the per-study Peto log OR
        ``(O - E)/V`` with variance ``1/V`` (no correction needed).
    zero_cell_correction : bool, default True
        Add 0.5 to every cell of a study with a zero cell (Deeks & Higgins 2010, "zero cells").
    drop_double_zero : bool, optional
        Drop studies with no events (or only events) in both arms. Default: True for RR/OR/PETO,
        False for RD (RevMan 5).

    Returns
    -------
    EffectSet
        With ``counts`` (uncorrected, shape (4, k)) for Mantel-Haenszel and Peto pooling.
    """
    if measure not in (*DICHOTOMOUS_MEASURES, "PETO"):
        raise StatsError(f"unknown dichotomous measure {measure!r}")
    if drop_double_zero is None:
        drop_double_zero = measure != "RD"
    arrays = [as_float(x) for x in (events1, n1, events2, n2)]
    k = _check_lengths(*arrays)
    names = _names(study, k)
    a, m1, c, m2 = arrays
    excluded: list[Excluded] = []
    keep = np.ones(k, dtype=bool)
    for i in range(k):
        reason = None
        if not (np.isfinite(m1[i]) and np.isfinite(m2[i])):
            reason = "missing n"
        elif m1[i] < 1 or m2[i] < 1:
            reason = "n < 1"
        elif not (np.isfinite(a[i]) and np.isfinite(c[i])):
            reason = "missing events"
        elif a[i] < 0 or c[i] < 0 or a[i] > m1[i] or c[i] > m2[i]:
            reason = "events outside 0..n"
        elif drop_double_zero and a[i] == 0 and c[i] == 0:
            reason = f"no events in either arm: not estimable for {measure}"
        elif drop_double_zero and a[i] == m1[i] and c[i] == m2[i]:
            reason = f"all participants had events in both arms: not estimable for {measure}"
        if reason is not None:
            keep[i] = False
            excluded.append(Excluded(names[i], reason))
    a, m1, c, m2 = (x[keep] for x in arrays)
    counts = np.vstack([a, m1, c, m2])
    notes: list[str] = []
    corrected = np.zeros(len(a), dtype=bool)
    if measure == "PETO":
        big_n = m1 + m2
        e = m1 * (a + c) / big_n
        v = m1 * m2 * (a + c) * (big_n - a - c) / (big_n**2 * (big_n - 1.0))
        yi, vi = (a - e) / v, 1.0 / v
    else:
        if zero_cell_correction:
            corrected = (a == 0) | (c == 0) | (a == m1) | (c == m2)
            inc = np.where(corrected, ZERO_CELL_INCREMENT, 0.0)
            a, c, m1, m2 = a + inc, c + inc, m1 + 2 * inc, m2 + 2 * inc
            if corrected.any():
                kept = [n for n, kp in zip(names, keep, strict=True) if kp]
                names_c = ", ".join(n for n, f in zip(kept, corrected, strict=True) if f)
                notes.append(f"0.5 added to every cell of studies with a zero cell: {names_c}")
        yi, vi = _DICHOTOMOUS_KERNELS[measure](a, m1, c, m2)
    return EffectSet(
        measure=measure,
        study=tuple(n for n, kp in zip(names, keep, strict=True) if kp),
        yi=yi,
        vi=vi,
        excluded=tuple(excluded),
        notes=tuple(notes),
        counts=counts,
        corrected=corrected,
    )
