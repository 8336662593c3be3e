"""Meaning checks: what the rows say, alone and together, as SQL over the loaded tables.

The rules the Table Schemas cannot state: units and plausible ranges per outcome, fields that
must agree within a row, arm sizes across tables, the same trial under two ids, years after the
build, numbers that are not finite or do not fit 64 bits, text with control characters. The
pydantic models of :mod:`mscreview.models` state the row rules for trial files and the API;
tests/validate/test_rules.py holds both to the same verdicts.

Rules of one row are :class:`~mscreview.validate.load.RowCheck` s, run in the resource's single
pass; rules across resources are queries returning ``(resource, line, field, code, message)``,
run as one statement. Each runs only when the resources it reads are usable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import date

import duckdb

from mscreview.validate.cells import ident, literal
from mscreview.validate.load import Loaded, RowCheck
from mscreview.validate.problems import Report
from mscreview.vocabulary import ALLOWED_UNITS, BASELINE_ONLY, PLAUSIBLE_RANGES

__all__ = ["row_checks", "check_across", "report_rows",
           "ROW_MODELS", "ALL_EXPERIMENTAL", "CONTROL_CHARACTERS", "RATIO_MEASURES", "EXTREME"]

#: The pydantic model (a class of :mod:`mscreview.models`, named here so that validation never
#: imports pydantic) stating the same row rules for trial files and the API, per resource.
ROW_MODELS = {
    "studies": "Study",
    "arms": "Arm",
    "continuous_outcomes": "ContinuousOutcome",
    "dichotomous_outcomes": "DichotomousOutcome",
}
#: adverse_events may name this instead of one arm when the source pools all experimental arms.
ALL_EXPERIMENTAL = "experimental"
#: Characters a text cell may not hold: C0 controls but tab and line feed (carriage returns are
#: line-ending problems), DEL, C1 controls (ANSI escapes start with ESC or CSI), and the
#: bidirectional marks, overrides and isolates that make text display other than it reads.
CONTROL_CHARACTERS = (r"[\x{00}-\x{08}\x{0b}\x{0c}\x{0e}-\x{1f}\x{7f}-\x{9f}\x{200e}\x{200f}"
                      r"\x{202a}-\x{202e}\x{2066}-\x{2069}\x{061c}]")
#: Largest size of a number (and 1/EXTREME the smallest but 0): no clinical value is anywhere
#: near, and beyond it squares and weights overflow or vanish (the build crashed on 1e300 and
#: on an SD of 1e-160; fuzzed builds at 1e12 and 1e-12 succeed).
EXTREME = 1e12
#: Study-level effects on a ratio scale: estimate and limits must be > 0 (their log is pooled).
RATIO_MEASURES = ("HR", "OR", "RR")
#: Registry ids in a registration field (ClinicalTrials.gov, ChiCTR, IRCT, ISRCTN, ANZCTR, ...).
_REGISTRY_ID = (r"(NCT[0-9]{8}|CHICTR-?[A-Z]*-?[0-9]+|IRCT[0-9A-Z]+|ISRCTN[0-9]+|ACTRN[0-9]+"
                r"|CTRI/[0-9/]+|KCT[0-9]+|DRKS[0-9]+|UMIN[0-9]+|JPRN-[A-Z0-9]+)")
_CONTROL = "control-character"
_UNUSABLE = "integer-out-of-range"
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e"
                         "\u2066-\u2069\u061c]")


def _g(x: str) -> str:
    """SQL for a number as Python's ``:g`` prints it."""
    return f"printf('%g', {x})"


def _check(field: str, code: str, when: str, message: str) -> RowCheck:
    return RowCheck(field, code, when, message)


# --------------------------------------------------------------------------- one row


def _cells(item: Loaded) -> Iterator[RowCheck]:
    """Numbers finite and within 64 bits; text without control characters."""
    texts = []
    for i, f in enumerate(item.fields):
        kind, name, cell = f.get("type", "string"), f["name"], item.raw(i)
        if kind == "number":
            value = ident(name)
            yield _check(name, "not-finite", f"isnan({value}) OR isinf({value})",
                         f"printf('%s is not a finite number; write the value the source "
                         f"prints', {cell})")
            yield _check(name, "extreme-number", f"isfinite({value}) AND {value} <> 0 AND "
                         f"(abs({value}) > {EXTREME:g} OR abs({value}) < {1 / EXTREME:g})",
                         f"printf('%s is beyond what the analyses compute with: a number other "
                         f"than 0 must be between {1 / EXTREME:g} and {EXTREME:g} in size; "
                         f"check the value and its unit', {cell})")
        if kind == "integer":  # a whole number for frictionless, no BIGINT for DuckDB
            yield RowCheck(name, _UNUSABLE, f"NOT {item.is_missing(i)} AND {item.ok(i)} "
                           f"AND {ident(name)} IS NULL", cell)
        if kind == "string" and "enum" not in f.get("constraints", {}):  # enums hold none
            texts.append(ident(name))
    if texts:  # one match per row; which cell it was is found in Python
        yield RowCheck("", _CONTROL, f"regexp_matches(concat_ws('', {', '.join(texts)}), "
                       f"'{CONTROL_CHARACTERS}')", f"to_json([{', '.join(texts)}])")


def _studies(today: date) -> Iterator[RowCheck]:
    yield _check("exclusion_reason", "exclusion-reason-missing",
                 "included = false AND coalesce(trim(exclusion_reason), '') = ''",
                 "'an excluded study (included = false) needs an exclusion_reason'")
    last = today.year + 1  # an article online in December may carry next year's issue
    yield _check("year", "year-in-future", f"year > {last}",
                 f"printf('year %d is after {last}, the year after this build "
                 f"({today.isoformat()}): a published trial cannot come from the future', year)")


def _arms(today: date) -> Iterator[RowCheck]:
    yield _check("n_analysed", "n-analysed-exceeds-randomised", "n_analysed > n_randomised",
                 "printf('n_analysed (%d) is larger than n_randomised (%d) of arm ''%s''', "
                 "n_analysed, n_randomised, arm_id)")


def _continuous(today: date) -> Iterator[RowCheck]:
    extracted = "status = 'extracted'"
    baseline = ", ".join(literal(o) for o in sorted(BASELINE_ONLY))
    yield _check("timepoint_weeks", "baseline-only",
                 f"outcome IN ({baseline}) AND (timepoint_weeks <> 0 OR value_type <> 'final')",
                 "printf('%s is a baseline characteristic: timepoint_weeks must be 0 and "
                 "value_type final', outcome)")
    yield _check("central", "value-with-missing-status",
                 "status <> 'extracted' AND central IS NOT NULL",
                 "printf('status is ''%s'' but a value is given; use status extracted', status)")
    for name in ("central", "central_kind", "unit", "dispersion_kind", "quote"):
        yield _check(name, "extracted-field-missing", f"{extracted} AND {ident(name)} IS NULL",
                     f"'{name} is required when status is extracted'")
    spread = f"{extracted} AND dispersion_kind IN ('sd', 'se')"
    yield _check("dispersion", "dispersion-missing", f"{spread} AND dispersion IS NULL",
                 "printf('dispersion_kind is %s but dispersion is empty', dispersion_kind)")
    yield _check("dispersion", "sd-not-positive", f"{spread} AND dispersion <= 0",
                 f"printf('%s must be > 0 (got %s)', upper(dispersion_kind), {_g('dispersion')})")
    bounds = f"{extracted} AND dispersion_kind IN ('ci95', 'iqr', 'range')"
    yield _check("dispersion_low", "dispersion-bounds-missing",
                 f"{bounds} AND (dispersion_low IS NULL OR dispersion_high IS NULL)",
                 "printf('dispersion_kind is %s: dispersion_low and dispersion_high are "
                 "required', dispersion_kind)")
    yield _check("dispersion_low", "dispersion-bounds-reversed",
                 f"{bounds} AND dispersion_low > dispersion_high",
                 f"printf('dispersion_low (%s) is above dispersion_high (%s)', "
                 f"{_g('dispersion_low')}, {_g('dispersion_high')})")


def _dichotomous(today: date) -> Iterator[RowCheck]:
    yield _check("events", "extracted-field-missing",
                 "status = 'extracted' AND events IS NULL AND percent IS NULL",
                 "'events (or percent) is required when status is extracted'")
    yield _check("quote", "extracted-field-missing", "status = 'extracted' AND quote IS NULL",
                 "'quote is required when status is extracted'")
    yield _check("events", "events-exceed-n", "events > n",
                 "printf('events (%d) is larger than n (%d)', events, n)")


def _percent(item: Loaded) -> Iterator[RowCheck]:
    """A percent printed with d decimals is events/n rounded: off by more than half a unit of
    its last digit, one of the three numbers was copied wrong (or the percent is of another n).
    When the quote shows that very percent, the source prints it so: it is kept (the audit
    reports such a source) and not refused here."""
    raw = f"trim({item.raw(item.index('percent'))})"
    decimals = f"length(coalesce(regexp_extract({raw}, '\\.([0-9]*)', 1), ''))"
    printed = (f"(contains(coalesce(quote, ''), {raw} || '%') "
               f"OR contains(coalesce(quote, ''), {raw} || ' %'))")
    yield _check("percent", "percent-contradicts-events",
                 "events IS NOT NULL AND n > 0 AND isfinite(percent) AND events <= n "
                 f"AND abs(percent - 100.0 * events / n) > 0.5 * pow(10, -{decimals}) + 1e-9 "
                 f"AND NOT {printed}",
                 f"printf('percent %s contradicts events/n = %d/%d = %.2f%%; correct the one "
                 "that differs from the source (if the source prints it so, quote the printed "
                 f"percent)', {_g('percent')}, events, n, 100.0 * events / n)")


def _study_effects(today: date) -> Iterator[RowCheck]:
    yield _check("ci_low", "ci-reversed", "ci_low > ci_high",
                 f"printf('ci_low (%s) is above ci_high (%s)', {_g('ci_low')}, {_g('ci_high')})")
    measures = ", ".join(literal(m) for m in RATIO_MEASURES)
    for name in ("estimate", "ci_low", "ci_high"):
        yield _check(name, "ratio-not-positive", f"measure IN ({measures}) AND {name} <= 0",
                     f"printf('%s is a ratio: {name} must be > 0 (got %s)', measure, "
                     f"{_g(name)})")


_ROW_RULES: dict[str, Callable[[date], Iterator[RowCheck]]] = {
    "studies": _studies,
    "arms": _arms,
    "continuous_outcomes": _continuous,
    "dichotomous_outcomes": _dichotomous,
    "study_effects": _study_effects,
}


def report_rows(item: Loaded, hits: list[tuple[int, RowCheck, str]], report: Report) -> None:
    """Meaning hits of one resource as problems."""
    for line, check, detail in hits:
        if check.code == _CONTROL:
            texts = [f["name"] for f in item.fields if f.get("type", "string") == "string"
                     and "enum" not in f.get("constraints", {})]
            for name, value in zip(texts, json.loads(detail)):
                found = _CONTROL_RE.search(value or "")
                if found:
                    report.add(item.file, line, name, _CONTROL,
                               f"contains the control character U+{ord(found.group()):04X}; "
                               "remove it (terminal escapes and bidirectional overrides make "
                               "text display other than it reads)")
        elif check.code == _UNUSABLE:  # a whole number DuckDB's BIGINT cannot hold
            report.add(item.file, line, check.field, "integer-out-of-range",
                       "the number is beyond the 64-bit integer range (about 9.2e18)")
        else:
            report.add(item.file, line, check.field, check.code, detail)


def row_checks(item: Loaded, today: date) -> list[RowCheck]:
    """The meaning checks of one row of a usable resource."""
    checks = list(_cells(item))
    if item.name in _ROW_RULES:
        checks += _ROW_RULES[item.name](today)
    if item.name == "dichotomous_outcomes":
        checks += _percent(item)
    return checks


# --------------------------------------------------------------------------- across tables


def _arm_sizes(arms: str) -> str:
    """Every arm's randomised size, plus 'experimental' = all experimental arms together."""
    return (f"(SELECT study_id, arm_id, n_randomised AS n FROM {arms} UNION ALL "
            f"SELECT study_id, '{ALL_EXPERIMENTAL}', CASE WHEN count(*) = count(n_randomised) "
            f"THEN sum(n_randomised) END FROM {arms} WHERE role = 'experimental' "
            "GROUP BY study_id)")


def _across(rows: dict[str, str]) -> Iterator[tuple[str, str]]:
    """(resource, SQL returning line, field, code, message) for every rule whose resources
    are usable (``rows`` maps them to their tables); resource "" for SQL that returns the
    resource first."""
    arms = rows.get("arms")
    outcome_tables = [n for n in ("continuous_outcomes", "dichotomous_outcomes") if n in rows]
    if arms:
        for name in outcome_tables:
            yield name, (
                f"SELECT r.__line, 'n', 'n-exceeds-arm', printf('n (%d) is larger than the %d "
                "patients randomised to arm ''%s''', r.n, a.n_randomised, r.arm_id) "
                f"FROM {rows[name]} AS r JOIN {arms} AS a ON a.study_id = r.study_id "
                "AND a.arm_id = r.arm_id WHERE r.n > a.n_randomised")
        if outcome_tables:  # reported once per study, on its first outcome row
            union = " UNION ALL ".join(f"SELECT study_id, {t} AS t, '{n}' AS name, min(__line) "
                                       f"AS line FROM {rows[n]} WHERE study_id IS NOT NULL "
                                       "GROUP BY study_id" for t, n in enumerate(outcome_tables))
            first = (f"SELECT study_id, arg_min(name, t) AS name, arg_min(line, t) AS line "
                     f"FROM ({union}) GROUP BY study_id")
            yield "", (  # one query for both roles and every outcome table
                "SELECT f.name, f.line, 'study_id', 'no-' || r.role || '-arm', printf('study "
                "''%s'' has outcome data but no %s arm in arms.csv', f.study_id, r.role) "
                f"FROM ({first}) AS f, (VALUES ('control'), ('experimental')) AS r(role) "
                f"WHERE NOT EXISTS (SELECT 1 FROM {arms} AS a WHERE a.role = r.role "
                "AND a.study_id = f.study_id)")
    if arms and "adverse_events" in rows:
        ae = rows["adverse_events"]
        yield "adverse_events", (
            f"SELECT __line, 'arm_id', 'unknown-arm', printf('arm ''%s'' of study ''%s'' is not "
            f"in arms.csv (use ''{ALL_EXPERIMENTAL}'' when the source pools all experimental "
            f"arms)', arm_id, study_id) FROM {ae} AS e WHERE arm_id <> '{ALL_EXPERIMENTAL}' "
            f"AND NOT EXISTS (SELECT 1 FROM {arms} AS a WHERE a.study_id = e.study_id "
            "AND a.arm_id = e.arm_id)")
        yield "adverse_events", (
            f"SELECT e.__line, 'events', 'events-exceed-arm', printf('events (%d) exceed the %d "
            "patients randomised to arm ''%s''; a count of patients cannot, and the report "
            "reads these counts as patients', e.events, a.n, e.arm_id) "
            f"FROM {ae} AS e JOIN {_arm_sizes(arms)} AS a ON a.study_id = e.study_id "
            "AND a.arm_id = e.arm_id WHERE e.events > a.n")
    if "continuous_outcomes" in rows:
        yield from _units_and_ranges(rows["continuous_outcomes"])
    if "studies" in rows and "sources" in rows:
        yield "studies", _same_trial(rows["studies"], rows["sources"])


def _units_and_ranges(rows: str) -> Iterator[tuple[str, str]]:
    """Units each outcome may have, and plausible final values per outcome and unit, unless
    the row says the source prints it so (flag ``unit_implausible``, ``range_checked``)."""
    implausible = r"regexp_matches(coalesce(flags, ''), '(^|;)\s*unit_implausible\s*(;|$)')"
    units = ", ".join(f"({literal(o)}, {literal(', '.join(sorted(us)))}, "
                      f"[{', '.join(literal(u) for u in sorted(us))}])"
                      for o, us in ALLOWED_UNITS.items())
    yield "continuous_outcomes", (
        "SELECT r.__line, 'unit', 'unit-not-allowed', printf('unit ''%s'' is not allowed for %s "
        "(allowed: %s); if the source prints it so, keep it and add the flag unit_implausible', "
        f"r.unit, r.outcome, a.shown) FROM {rows} AS r JOIN (VALUES {units}) "
        "AS a(outcome, shown, units) ON a.outcome = r.outcome WHERE r.status = 'extracted' "
        f"AND r.unit IS NOT NULL AND NOT list_contains(a.units, r.unit) AND NOT {implausible}")
    ranges = ", ".join(f"({literal(o)}, {literal(u)}, {float(lo)!r}, {float(hi)!r})"
                       for (o, u), (lo, hi) in PLAUSIBLE_RANGES.items())
    yield "continuous_outcomes", (
        f"SELECT r.__line, 'central', 'out-of-range', printf('%s %s %s is outside the plausible "
        "range %s-%s; if the source prints it so, set range_checked to true', r.outcome, "
        f"{_g('r.central')}, r.unit, {_g('b.lo')}, {_g('b.hi')}) FROM {rows} AS r "
        f"JOIN (VALUES {ranges}) AS b(outcome, unit, lo, hi) ON b.outcome = r.outcome "
        "AND b.unit = r.unit WHERE r.status = 'extracted' AND r.value_type = 'final' "
        "AND r.central IS NOT NULL AND NOT coalesce(r.range_checked, false) "
        f"AND NOT (r.central BETWEEN b.lo AND b.hi) AND NOT {implausible}")


def _same_trial(studies: str, sources: str) -> str:
    """One trial under two ids: two study ids share a registry id (studies or sources), or a
    source DOI or PubMed id, and no overlap_group says they are distinct reports sharing
    patients. (Titles are not compared: distinct trials may share a generic one.)"""
    registry = f"unnest(regexp_extract_all(upper(registration), '{_REGISTRY_ID}'))"
    ids = (f"SELECT study_id, 'registry id ' || {registry} AS id FROM {studies} "
           f"UNION SELECT study_id, 'registry id ' || {registry} FROM {sources} "
           f"UNION SELECT study_id, 'DOI ' || lower(doi) FROM {sources} "
           f"UNION SELECT study_id, 'PubMed id ' || pmid FROM {sources}")
    present = f"SELECT * FROM ({ids}) WHERE study_id IS NOT NULL AND id IS NOT NULL"
    return (
        f"SELECT s.__line, 'study_id', 'same-trial-two-ids', printf('study ''%s'' has the same %s "
        "as ''%s'': one trial needs one study_id (or, for distinct reports sharing patients, the "
        "same overlap_group)', s.study_id, arg_min(b.id, o.__line), "
        f"arg_min(b.study_id, o.__line)) FROM ({present}) AS a JOIN ({present}) AS b "
        "ON a.id = b.id AND a.study_id > b.study_id "
        f"JOIN {studies} AS s ON s.study_id = a.study_id JOIN {studies} AS o "
        "ON o.study_id = b.study_id WHERE s.overlap_group IS NULL "
        "OR s.overlap_group IS DISTINCT FROM o.overlap_group GROUP BY s.__line, s.study_id")


def check_across(con: duckdb.DuckDBPyConnection, loaded: dict[str, Loaded],
                 report: Report) -> None:
    """Rules across resources, in one statement."""
    usable = {name: item for name, item in loaded.items() if item.usable}
    queries = list(_across({name: item.rows for name, item in usable.items()}))
    if not queries:
        return
    union = " UNION ALL ".join(f"(SELECT {literal(name)} AS resource, * FROM ({sql}))" if name
                               else f"({sql})" for name, sql in queries)
    for name, line, field, code, message in con.execute(union).fetchall():
        report.add(usable[name].file, line, field, code, message)
