"""The package's vocabulary: missing-value codes, units, plausible ranges, status labels.

Plain data, shared by the validator, the pipeline and the pydantic models of
:mod:`mscreview.models` (which re-exports it). Kept apart from the models so that validation,
which states these rules in SQL, never imports pydantic (its import is a third of a fast
``validate``).
"""

from __future__ import annotations

import re

__all__ = [
    "MISSING_CODES",
    "ALLOWED_UNITS",
    "BASELINE_ONLY",
    "PLAUSIBLE_RANGES",
    "SEMVER",
    "ANALYSIS_STATUSES",
    "SINGLE_LABEL",
    "SOURCE_KINDS",
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
