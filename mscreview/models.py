"""What the evidence means: pydantic records for the rows that carry numbers, and the rules.

The Table Schemas in ``schemas/`` fix the structure (types, enums, keys); this module adds the
meaning that a schema cannot say: which units an outcome may have, which values are plausible, and
how fields of one row must agree. No I/O here: rows come in as dicts of strings. The vocabulary
(codes, units, ranges, labels) lives in :mod:`mscreview.vocabulary`, without pydantic, and is
re-exported here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from mscreview.vocabulary import (
    ALLOWED_UNITS,
    ANALYSIS_STATUSES,
    BASELINE_ONLY,
    MISSING_CODES,
    PLAUSIBLE_RANGES,
    SEMVER,
    SINGLE_LABEL,
    SOURCE_KINDS,
)

__all__ = [
    "MISSING_CODES",
    "ALLOWED_UNITS",
    "BASELINE_ONLY",
    "PLAUSIBLE_RANGES",
    "SEMVER",
    "ANALYSIS_STATUSES",
    "SINGLE_LABEL",
    "SOURCE_KINDS",
    "Arm",
    "ContinuousOutcome",
    "DichotomousOutcome",
    "AdverseEvent",
    "Study",
    "RowProblem",
]

RowProblem = tuple[str, str, str]  # (field, code, message)


Num = float | None
Int = int | None
Bool = bool | None
Str = str | None


class _Row(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)

    def problems(self) -> list[RowProblem]:
        """Meaning problems of this row alone."""
        return []


class Study(_Row):
    """A trial: the fields whose meaning goes beyond the schema."""

    study_id: Str = None
    included: Bool = None
    exclusion_reason: Str = None

    def problems(self) -> list[RowProblem]:
        if self.included is False and not self.exclusion_reason:
            return [("exclusion_reason", "exclusion-reason-missing",
                     "an excluded study (included = false) needs an exclusion_reason")]
        return []


class Arm(_Row):
    """A randomised group."""

    study_id: Str = None
    arm_id: Str = None
    role: Str = None
    n_randomised: Int = None
    n_analysed: Int = None

    def problems(self) -> list[RowProblem]:
        if self.n_randomised is not None and self.n_analysed is not None:
            if self.n_analysed > self.n_randomised:
                return [("n_analysed", "n-analysed-exceeds-randomised",
                         f"n_analysed ({self.n_analysed}) is larger than n_randomised "
                         f"({self.n_randomised}) of arm '{self.arm_id}'")]
        return []


class _Extracted(_Row):
    status: Str = None
    quote: Str = None


class ContinuousOutcome(_Extracted):
    """An arm-level continuous value (mean or median with its dispersion) at one time point."""

    study_id: Str = None
    arm_id: Str = None
    outcome: Str = None
    timepoint_weeks: Num = None
    value_type: Str = None
    n: Int = None
    central_kind: Str = None
    central: Num = None
    dispersion_kind: Str = None
    dispersion: Num = None
    dispersion_low: Num = None
    dispersion_high: Num = None
    unit: Str = None
    range_checked: Bool = None
    flags: Str = None

    @property
    def flag_set(self) -> set[str]:
        return {f.strip() for f in (self.flags or "").split(";") if f.strip()}

    def problems(self) -> list[RowProblem]:
        out: list[RowProblem] = []
        if self.outcome in BASELINE_ONLY and (self.timepoint_weeks not in (None, 0)
                                              or self.value_type not in (None, "final")):
            out.append(("timepoint_weeks", "baseline-only",
                        f"{self.outcome} is a baseline characteristic: timepoint_weeks must be 0 "
                        "and value_type final"))
        if self.status != "extracted":
            if self.central is not None:
                out.append(("central", "value-with-missing-status",
                            f"status is '{self.status}' but a value is given; use status extracted"))
            return out
        for name in ("central", "central_kind", "unit", "dispersion_kind", "quote"):
            if getattr(self, name) is None:
                out.append((name, "extracted-field-missing",
                            f"{name} is required when status is extracted"))
        kind = self.dispersion_kind
        if kind in ("sd", "se"):
            if self.dispersion is None:
                out.append(("dispersion", "dispersion-missing",
                            f"dispersion_kind is {kind} but dispersion is empty"))
            elif self.dispersion <= 0:
                out.append(("dispersion", "sd-not-positive",
                            f"{kind.upper()} must be > 0 (got {self.dispersion:g})"))
        elif kind in ("ci95", "iqr", "range"):
            lo, hi = self.dispersion_low, self.dispersion_high
            if lo is None or hi is None:
                out.append(("dispersion_low", "dispersion-bounds-missing",
                            f"dispersion_kind is {kind}: dispersion_low and dispersion_high are required"))
            elif lo > hi:
                out.append(("dispersion_low", "dispersion-bounds-reversed",
                            f"dispersion_low ({lo:g}) is above dispersion_high ({hi:g})"))
        if self.outcome and self.unit:
            allowed = ALLOWED_UNITS.get(self.outcome)
            implausible = "unit_implausible" in self.flag_set
            if allowed is not None and self.unit not in allowed and not implausible:
                out.append(("unit", "unit-not-allowed",
                            f"unit '{self.unit}' is not allowed for {self.outcome} "
                            f"(allowed: {', '.join(sorted(allowed))}); if the source prints it so, "
                            "keep it and add the flag unit_implausible"))
            bounds = PLAUSIBLE_RANGES.get((self.outcome, self.unit))
            if (bounds and self.value_type == "final" and self.central is not None
                    and not self.range_checked and not implausible):
                lo, hi = bounds
                if not lo <= self.central <= hi:
                    out.append(("central", "out-of-range",
                                f"{self.outcome} {self.central:g} {self.unit} is outside the plausible "
                                f"range {lo:g}-{hi:g}; if the source prints it so, set range_checked "
                                "to true"))
        return out


class DichotomousOutcome(_Extracted):
    """Events per arm."""

    study_id: Str = None
    arm_id: Str = None
    outcome: Str = None
    events: Int = None
    n: Int = None
    percent: Num = None

    def problems(self) -> list[RowProblem]:
        out: list[RowProblem] = []
        if self.status == "extracted":
            if self.events is None and self.percent is None:
                out.append(("events", "extracted-field-missing",
                            "events (or percent) is required when status is extracted"))
            if self.quote is None:
                out.append(("quote", "extracted-field-missing",
                            "quote is required when status is extracted"))
        if self.events is not None and self.n is not None and self.events > self.n:
            out.append(("events", "events-exceed-n",
                        f"events ({self.events}) is larger than n ({self.n})"))
        return out


class AdverseEvent(_Extracted):
    """An adverse event count of one arm."""

    study_id: Str = None
    arm_id: Str = None
    event: Str = None
    events: Int = None
