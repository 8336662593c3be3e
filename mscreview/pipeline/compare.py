"""The ``compare`` verb: two independent extractions of one trial, side by side.

Cochrane reviews extract every trial twice, by two people who do not see each other's work, then
settle each disagreement. ``mscreview compare A.yaml B.yaml`` reads two trial files of the same
trial, matches their rows by resource and primary key, and lists every row only one of them has
and every field on which they differ, with both values and both lines. Numbers compare as numbers
(``12.10`` = ``12.1``, ``1.0e6`` = ``1000000``), text ignoring surrounding and repeated spaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from mscreview.errors import UsageError
from mscreview.pipeline.resources import load_schemas
from mscreview.pipeline.trialfile import SECTIONS, Row, TrialFile, check_rows, read_trial
from mscreview.validate import Problem
from mscreview.validate.reading import display_path

__all__ = ["Disagreement", "compare_trials", "render_disagreements"]


@dataclass(frozen=True)
class Disagreement:
    """A row only one extraction has, or a field the two extractions fill differently."""

    resource: str
    key: tuple[str, ...]
    field: str  # "" for a missing row
    a: str | None
    b: str | None
    a_line: int
    b_line: int


def _norm(value: str | None, kind: str | None) -> Any:
    if value is None or value.strip() == "":
        return None
    if kind in ("number", "integer"):
        try:
            return format(Decimal(value.strip()).normalize(), "f")
        except InvalidOperation:
            return value.strip()
    return re.sub(r"\s+", " ", value.strip())


def _keyed(trial: TrialFile, schemas: dict[str, dict[str, Any]]
           ) -> dict[tuple[str, tuple[str, ...]], Row]:
    out = {}
    for section, rows in trial.rows.items():
        resource = SECTIONS.get(section) or "screening"
        schema = schemas.get(resource, {})
        key = schema.get("primaryKey", []) if resource != "screening" else []
        types = {f["name"]: f.get("type") for f in schema.get("fields", [])}
        for row in rows:
            k = tuple(str(_norm(row.cells.get(f), types.get(f)) or "") for f in key)
            out[(resource, k)] = row
    return out


def compare_trials(a_path: Path | str, b_path: Path | str,
                   package: Path | str = "datapackage.json") -> list[Disagreement]:
    """Every disagreement between two extractions (empty when they agree).

    Raises
    ------
    mscreview.errors.ProblemsError
        When either file cannot be read as a trial file.
    """
    from mscreview.errors import ProblemsError

    descriptor = Path(package)
    if descriptor.is_dir():
        descriptor = descriptor / "datapackage.json"
    if not descriptor.exists():
        raise UsageError(f"no data package at {display_path(descriptor)} (its schemas give the "
                         "keys that match rows); give --package")
    schemas = load_schemas(descriptor)
    trials = [read_trial(a_path), read_trial(b_path)]
    problems: list[Problem] = []
    for t in trials:
        if not t.problems:
            check_rows(t, schemas)
        problems += [p for p in t.problems if p.code not in ("placeholder",)]
    if problems:
        raise ProblemsError(problems, "nothing compared")
    a, b = (_keyed(t, schemas) for t in trials)
    out = []
    for resource, key in sorted(set(a) | set(b)):
        ra, rb = a.get((resource, key)), b.get((resource, key))
        if ra is None or rb is None:
            out.append(Disagreement(resource, key, "", "row" if ra else None,
                                    "row" if rb else None, ra.line if ra else 0,
                                    rb.line if rb else 0))
            continue
        types = {f["name"]: f.get("type") for f in schemas.get(resource, {}).get("fields", [])}
        for name in sorted(set(ra.cells) | set(rb.cells)):
            va, vb = ra.cells.get(name), rb.cells.get(name)
            if _norm(va, types.get(name)) != _norm(vb, types.get(name)):
                out.append(Disagreement(resource, key, name, va, vb, ra.line_of(name),
                                        rb.line_of(name)))
    return out


def render_disagreements(a_path: Path | str, b_path: Path | str,
                         found: list[Disagreement]) -> str:
    """One line per disagreement, by resource, key and field, with both values and lines."""
    a, b = display_path(Path(a_path)), display_path(Path(b_path))
    if not found:
        return f"{a} and {b} agree on every row and field"
    out = [f"{len(found)} disagreement(s) between {a} (A) and {b} (B):"]
    for d in found:
        where = f"{d.resource} {' / '.join(d.key) or '(the record)'}"
        if not d.field:
            who, line = ("A", d.a_line) if d.a else ("B", d.b_line)
            out.append(f"- {where}: only {who} has this row ({a if who == 'A' else b}:{line})")
            continue
        shown = [("(empty)" if v in (None, "") else repr(v)) for v in (d.a, d.b)]
        out.append(f"- {where}: {d.field}: A {shown[0]} ({a}:{d.a_line}) vs B {shown[1]} "
                   f"({b}:{d.b_line})")
    return "\n".join(out)
