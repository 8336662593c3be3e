"""What the evidence means: pydantic records for the rows that carry numbers, and the rules.

The Table Schemas in ``schemas/`` fix the structure (types, enums, keys); this module adds the
meaning that a schema cannot say: which units an outcome may have, which values are plausible, and
how fields of one row must agree. No I/O here: rows come in as dicts of strings.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

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

#: Missing-value codes of every schema: empty, not reported, not applicable, not yet extracted.
MISSING_CODES = frozenset({"", "NR", "NA", "NYE"})

#: Semantic version (semver.org 2.0.0), as the Data Package Version recipe asks.
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)

#: The stable values of an analysis record's ``status`` (results.json, report, diff, summary of
#: findings): ``pooled`` (k >= 2 trials pooled), ``single_study`` (k = 1: that trial's own effect,
#: never called pooled) and ``no_data`` (k = 0).
ANALYSIS_STATUSES = ("pooled", "single_study", "no_data")
#: How every output labels an analysis with one trial.
SINGLE_LABEL = "1 trial \u2014 not pooled"

#: Kinds of source a PRISMA identification box names (``screening.source_kind``), as readers
#: know them: PRISMA 2020's databases and registers, and its "other methods".
SOURCE_KINDS = {
    "bibliographic_database": "Bibliographic databases",
    "trial_registry": "Trial registries",
    "reference_list": "Reference lists",
    "web_page": "Web pages",
}

#: Units a source may print for each outcome. Any other unit is an error unless the row carries the
#: flag ``unit_implausible`` (kept as printed, never converted, until a source settles it).
ALLOWED_UNITS: dict[str, frozenset[str]] = {
    "MELD": frozenset({"none", "points"}),
    "CHILD_PUGH": frozenset({"none", "points"}),
    "INR": frozenset({"none"}),
    "ALB": frozenset({"g/L", "g/dL"}),
    "TBIL": frozenset({"umol/L", "mg/dL"}),
    "ALT": frozenset({"U/L", "IU/L", "xULN"}),
    "AST": frozenset({"U/L", "IU/L", "xULN"}),
    "PT": frozenset({"s"}),
    "PTA": frozenset({"%"}),
    "PC": frozenset({"%"}),
    "CHE": frozenset({"U/L", "IU/L", "kU/L"}),
    "ALP": frozenset({"U/L", "IU/L"}),
    "GGT": frozenset({"U/L", "IU/L"}),
    "ASCITES_VOLUME": frozenset({"mL"}),
    "PIIINP": frozenset({"ng/mL", "ug/L"}),
    "PIIICP": frozenset({"ng/mL", "ug/L"}),
    "HA": frozenset({"ng/mL", "ug/L"}),
    "LN": frozenset({"ng/mL", "ug/L"}),
    "CIV": frozenset({"ng/mL", "ug/L"}),
    "AGE": frozenset({"years"}),
}

#: Codes of ``continuous_outcomes`` that are baseline characteristics, not outcomes: a row is a
#: final value at timepoint 0, read by the trustworthiness screening (``mscreview audit``:
#: baseline balance, copied baselines) and never pooled (``plan`` refuses them in an analysis).
BASELINE_ONLY = frozenset({"AGE"})

#: Plausible (low, high) of a final value in cirrhosis, per outcome and unit. Outside it is an error
#: unless ``range_checked`` is true (the value was re-read in the source and is printed so).
PLAUSIBLE_RANGES: dict[tuple[str, str], tuple[float, float]] = {
    ("MELD", "none"): (6, 40), ("MELD", "points"): (6, 40),
    ("CHILD_PUGH", "none"): (5, 15), ("CHILD_PUGH", "points"): (5, 15),
    ("INR", "none"): (0.5, 10),
    ("ALB", "g/L"): (10, 60), ("ALB", "g/dL"): (1.0, 6.0),
    ("TBIL", "umol/L"): (2, 900), ("TBIL", "mg/dL"): (0.1, 50),
    ("ALT", "U/L"): (1, 5000), ("ALT", "IU/L"): (1, 5000), ("ALT", "xULN"): (0.1, 100),
    ("AST", "U/L"): (1, 5000), ("AST", "IU/L"): (1, 5000), ("AST", "xULN"): (0.1, 100),
    ("PT", "s"): (8, 60),
    ("PTA", "%"): (5, 150), ("PC", "%"): (5, 150),
    ("CHE", "U/L"): (100, 20000), ("CHE", "IU/L"): (100, 20000), ("CHE", "kU/L"): (0.1, 20),
    ("ALP", "U/L"): (1, 3000), ("ALP", "IU/L"): (1, 3000),
    ("GGT", "U/L"): (1, 3000), ("GGT", "IU/L"): (1, 3000),
    ("ASCITES_VOLUME", "mL"): (0, 30000),
    ("AGE", "years"): (16, 90),  # the mean age of an adult arm
}

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
