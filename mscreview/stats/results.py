"""Result records of the statistics engine: frozen dataclasses, no behaviour beyond conversion.

Ratio measures (RR, OR, PETO, and GIV on a log scale) keep every study's ``yi``/``vi`` and the
pooled ``theta``/``se`` on the log scale; ``estimate``, the confidence and prediction limits and the
study ``effect`` limits are back-transformed to the ratio scale, as RevMan prints them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mscreview.stats._common import FloatArray

__all__ = [
    "RATIO_MEASURES",
    "EffectSet",
    "Excluded",
    "PoolResult",
    "StudyEffect",
    "display",
]

#: Measures analysed on the log scale and shown on the ratio scale ("RATIO": a generic ratio
#: given as such, e.g. ``mscreview pool --measure GIV --log``).
RATIO_MEASURES = frozenset({"RR", "OR", "PETO", "HR", "ROM", "RATIO"})


def display(value: float, measure: str) -> float:
    """Back-transform an analysis-scale value for display (``exp`` for ratio measures)."""
    return math.exp(value) if measure in RATIO_MEASURES else value


@dataclass(frozen=True)
class Excluded:
    """A study left out of a pool, and why (never silently)."""

    study: str
    reason: str


@dataclass(frozen=True)
class StudyEffect:
    """One study in a pool.

    ``yi``/``vi`` are on the analysis scale (log for ratios); ``effect``, ``ci_low`` and ``ci_high``
    on the display scale; ``weight`` is the percentage weight in the pool (sums to 100).
    """

    study: str
    yi: float
    vi: float
    weight: float
    effect: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True, eq=False)
class EffectSet:
    """Study-level effects ready for pooling.

    Attributes
    ----------
    measure : str
        ``MD``, ``SMD``, ``SMD_EXACT``, ``RR``, ``OR``, ``RD``, ``PETO`` or ``GIV``.
    study : tuple of str, shape (k,)
        Included studies, in input order.
    yi, vi : numpy.ndarray, shape (k,)
        Effect and sampling variance on the analysis scale.
    excluded : tuple of Excluded
        Studies dropped, with the reason.
    notes : tuple of str
        Derivations applied (for example the zero-cell correction) in words.
    counts : numpy.ndarray or None, shape (4, k)
        For dichotomous data, the uncorrected ``events1, n1, events2, n2`` of included studies.
    corrected : numpy.ndarray of bool or None, shape (k,)
        Which studies received the zero-cell correction.
    """

    measure: str
    study: tuple[str, ...]
    yi: FloatArray
    vi: FloatArray
    excluded: tuple[Excluded, ...] = ()
    notes: tuple[str, ...] = ()
    counts: FloatArray | None = None
    corrected: np.ndarray | None = None

    @property
    def k(self) -> int:
        """Number of included studies."""
        return len(self.study)

    def subset(self, index: np.ndarray) -> EffectSet:
        """Return the studies selected by ``index`` (integer positions or a boolean mask)."""
        idx = np.arange(self.k)[index]
        return EffectSet(
            measure=self.measure,
            study=tuple(self.study[i] for i in idx),
            yi=self.yi[idx],
            vi=self.vi[idx],
            excluded=(),
            notes=self.notes,
            counts=None if self.counts is None else self.counts[:, idx],
            corrected=None if self.corrected is None else self.corrected[idx],
        )


@dataclass(frozen=True)
class PoolResult:
    """One pooled analysis.

    Attributes
    ----------
    k : int
        Number of studies that received weight.
    measure, model : str
        Effect measure; ``"fixed"`` or ``"random"``.
    method : str
        ``"IV"`` (inverse variance), ``"MH"`` (Mantel-Haenszel) or ``"PETO"``.
    tau2_method : str or None
        ``"DL"``, ``"REML"`` or ``"PM"`` for the random model, else None.
    estimate, ci_low, ci_high : float
        Pooled effect and 95% CI on the display scale (ratio scale for ratio measures).
    theta, se : float
        Pooled effect and its standard error on the analysis (log) scale.
    z, p : float
        Test of the overall effect (a t statistic with ``test_df`` df under HKSJ).
    q, q_df, q_p : float, int, float
        Cochran's Q (centred on the MH estimate for MH), its df and p-value.
    i2 : float
        ``100 max(0, (Q - df)/Q)`` in percent (RevMan 5 definition).
    tau2 : float
        Between-study variance (0 for the fixed model; NaN when k < 2).
    pi_low, pi_high : float
        95% prediction interval, t with k-2 df (NaN for k < 3 and the fixed model).
    studies : tuple of StudyEffect
    excluded : tuple of Excluded
    notes : tuple of str
        Flags in words (corrections, non-convergence, derivations).
    hksj : bool
    test_df : float or None
        Degrees of freedom of the t test/CI (HKSJ), None for normal-theory intervals.
    tau2_ci, i2_ci : tuple of float or None
        Q-profile 95% CI of tau^2 and I^2 (percent) when requested.
    converged : bool or None
        For iterative tau^2 estimators, whether the iteration met its tolerance.
    iterations : int or None
    """

    k: int
    measure: str
    model: str
    method: str
    tau2_method: str | None
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    z: float
    p: float
    q: float
    q_df: int
    q_p: float
    i2: float
    tau2: float
    pi_low: float
    pi_high: float
    theta: float
    studies: tuple[StudyEffect, ...] = ()
    excluded: tuple[Excluded, ...] = ()
    notes: tuple[str, ...] = ()
    hksj: bool = False
    test_df: float | None = None
    tau2_ci: tuple[float, float] | None = None
    i2_ci: tuple[float, float] | None = None
    converged: bool | None = None
    iterations: int | None = None

    @property
    def ratio(self) -> bool:
        """Whether the measure is shown on the ratio scale."""
        return self.measure in RATIO_MEASURES
