"""Semantic checks: what the rows mean, alone (pydantic models) and together (arms, sorting).

Runs on the raw text that ``reading`` kept, so every problem keeps its physical line.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pydantic import BaseModel, ValidationError

from mscreview import models
from mscreview.validate.problems import Report
from mscreview.validate.reading import PackageFiles, RawTable

__all__ = ["check_semantics"]

ROW_MODELS: dict[str, type[BaseModel]] = {
    "studies": models.Study,
    "arms": models.Arm,
    "continuous_outcomes": models.ContinuousOutcome,
    "dichotomous_outcomes": models.DichotomousOutcome,
    "adverse_events": models.AdverseEvent,
}
_ARM_DATA = ("continuous_outcomes", "dichotomous_outcomes")
#: adverse_events may name this instead of one arm when the source pools all experimental arms.
ALL_EXPERIMENTAL = "experimental"


def _parse(table: RawTable, model: type[BaseModel], skip: set[int]) -> list[tuple[int, Any]]:
    """Rows as models; lines in ``skip`` (already reported) and ragged rows are left out."""
    validate = model.model_validate
    missing = models.MISSING_CODES
    idx = [(f, table.header.index(f)) for f in model.model_fields if f in table.header]
    width = len(table.header)
    out = []
    for line, rec in zip(table.lines, table.records):
        if line in skip or len(rec) != width:
            continue
        try:
            out.append((line, validate({f: (None if rec[i] in missing else rec[i])
                                        for f, i in idx})))
        except ValidationError:  # an unparsable cell: frictionless reports it on this line
            continue
    return out


def check_semantics(pkg: PackageFiles, report: Report) -> None:
    """Add every meaning problem of the package to ``report``."""
    parsed: dict[str, list[tuple[int, Any]]] = {}
    bad_lines: dict[str, set[int]] = defaultdict(set)
    for p in report.problems:  # one problem per cell: structural ones win
        bad_lines[p.file].add(p.line)
    for name, table in pkg.tables.items():
        if table.text is None:
            continue
        report.checked[name] = len(table.records)
        if not table.usable:
            continue  # header problems are reported; rows under a wrong header mean nothing
        model = ROW_MODELS.get(name)
        if model is None:
            continue
        parsed[name] = _parse(table, model, bad_lines[table.file])
        for line, row in parsed[name]:
            for field, code, message in row.problems():
                report.add(table.file, line, field, code, message)

    arms: dict[tuple[str, str], Any] = {
        (a.study_id, a.arm_id): a for _, a in parsed.get("arms", [])}
    roles: dict[str, set[str]] = defaultdict(set)
    for (study, _), arm in arms.items():
        roles[study].add(arm.role)
    seen_studies: set[str] = set()
    for name in _ARM_DATA:
        if name not in parsed:
            continue
        table = pkg.tables[name]
        for line, row in parsed[name]:
            arm = arms.get((row.study_id, row.arm_id))
            if arm is not None and row.n is not None and arm.n_randomised is not None \
                    and row.n > arm.n_randomised:
                report.add(table.file, line, "n", "n-exceeds-arm",
                           f"n ({row.n}) is larger than the {arm.n_randomised} patients randomised "
                           f"to arm '{row.arm_id}'")
            if row.study_id in seen_studies or "arms" not in parsed:
                continue
            seen_studies.add(row.study_id)
            for role in ("control", "experimental"):
                if role not in roles.get(row.study_id, set()):
                    report.add(table.file, line, "study_id", f"no-{role}-arm",
                               f"study '{row.study_id}' has outcome data but no {role} arm in arms.csv")
    if "adverse_events" in parsed and "arms" in parsed:
        table = pkg.tables["adverse_events"]
        for line, row in parsed["adverse_events"]:
            if row.arm_id != ALL_EXPERIMENTAL and (row.study_id, row.arm_id) not in arms:
                report.add(table.file, line, "arm_id", "unknown-arm",
                           f"arm '{row.arm_id}' of study '{row.study_id}' is not in arms.csv "
                           f"(use '{ALL_EXPERIMENTAL}' when the source pools all experimental arms)")
