"""Structural checks by frictionless: types, constraints, primary and foreign keys, headers.

frictionless reports record numbers and terse notes; this module turns them into problems on
physical lines with messages a contributor understands, and folds the cascade a ragged row or a
bad header would otherwise cause into one problem.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from mscreview.validate.problems import Report
from mscreview.validate.reading import PackageFiles, RawTable

__all__ = ["start_structure", "PARALLEL_ROWS"]

_HEADER_ERRORS = {"missing-label", "extra-label", "blank-label", "duplicate-label", "incorrect-label"}
_RAGGED = {"missing-cell", "extra-cell"}


def _constraint_message(err: Any, field: dict[str, Any] | None) -> str:
    note = getattr(err, "note", "") or ""
    cell = getattr(err, "cell", "")
    constraints = (field or {}).get("constraints", {})
    if 'constraint "required"' in note:
        return "is required but empty"
    if 'constraint "enum"' in note:
        return f"{cell!r} is not one of: {', '.join(map(str, constraints.get('enum', [])))}"
    if 'constraint "pattern"' in note:
        hint = (field or {}).get("description", "")
        return f"{cell!r} does not match the pattern {constraints.get('pattern')}" + (
            f" ({hint})" if hint else "")
    for key, word in (("minimum", ">="), ("maximum", "<="), ("minLength", "length >="),
                      ("maxLength", "length <=")):
        if f'constraint "{key}"' in note:
            return f"{cell!r} must be {word} {constraints.get(key)}"
    return f"{cell!r} breaks a constraint: {note}"


_TYPE_WORDS = {"integer": "a whole number", "number": "a number", "boolean": "true or false",
               "date": "a date (YYYY-MM-DD)", "string": "text"}


def _map_errors(table: RawTable, errors: list[Any], report: Report) -> None:
    fields = {f["name"]: f for f in table.schema.get("fields", [])}
    header_bad = [e for e in errors if e.type in _HEADER_ERRORS]
    for e in header_bad:
        label = getattr(e, "label", "") or ""
        fname = getattr(e, "field_name", "") or ""
        msg = {
            "missing-label": f"the header lacks the column '{fname}'",
            "extra-label": f"the header has a column '{label}' that the schema does not define",
            "blank-label": "the header has an empty column name",
            "duplicate-label": f"the column '{label}' appears twice in the header",
            "incorrect-label": f"column {getattr(e, 'field_number', '?')} is '{label}' but the "
                               f"schema expects '{fname}' there",
        }[e.type]
        report.add(table.file, 1, fname or label, e.type, msg)
    if header_bad:
        return  # row errors under a wrong header are noise
    by_row: dict[int, list[Any]] = defaultdict(list)
    for e in errors:
        rn = getattr(e, "row_number", None)
        if rn is None:
            report.add(table.file, 0, "", e.type, e.message)
        else:
            by_row[rn].append(e)
    width = len(table.header)
    for rn, row_errors in by_row.items():
        line = table.line_of_row(rn)
        if any(e.type in _RAGGED for e in row_errors):
            cells = getattr(row_errors[0], "cells", None)
            got = len(cells) if cells is not None else "a different number of"
            report.add(table.file, line, "", "ragged-row",
                       f"the row has {got} cells but the header has {width}")
            continue
        for e in row_errors:
            fname = getattr(e, "field_name", "") or ""
            if e.type == "type-error":
                ftype = fields.get(fname, {}).get("type", "")
                msg = f"{e.cell!r} is not {_TYPE_WORDS.get(ftype, ftype)}"
            elif e.type == "constraint-error":
                msg = _constraint_message(e, fields.get(fname))
            elif e.type == "primary-key":
                key = table.schema.get("primaryKey", [])
                msg = f"duplicate primary key ({', '.join(key)}): another row has the same values"
            elif e.type == "foreign-key":
                msg = e.note or e.message
                fk_fields = getattr(e, "field_names", None) or []
                fname = ", ".join(fk_fields) if fk_fields else fname
                msg = f"not found where it must point: {msg}"
            elif e.type == "blank-row":
                msg = "the line is blank; remove it"
            else:
                msg = e.message
            report.add(table.file, line, fname, e.type, msg)


_ERROR_ATTRS = ("type", "row_number", "field_name", "field_number", "cell", "cells", "note",
                "message", "label")
#: Packages with more data rows than this are checked by frictionless in a second process while
#: the key and semantic checks run in this one (2 cores: about 40% less wall time on 100k rows).
PARALLEL_ROWS = 20_000


def _frictionless_descriptor(pkg: PackageFiles, readable: set[str]) -> dict[str, Any]:
    resources = []
    for res in pkg.descriptor.get("resources", []):
        name = res.get("name") if isinstance(res, dict) else None
        if name not in readable:
            continue
        schema = copy.deepcopy(pkg.tables[name].schema)
        schema.pop("$schema", None)
        schema.pop("primaryKey", None)  # keys are checked by validate.keys
        schema.pop("foreignKeys", None)
        resources.append({k: v for k, v in res.items() if k != "schema"} | {"schema": schema})
    descriptor = {k: v for k, v in pkg.descriptor.items() if k not in ("resources", "$schema")}
    descriptor["resources"] = resources
    return descriptor


def _run_frictionless(descriptor: dict[str, Any], basepath: str
                      ) -> tuple[str | None, list[str], dict[str, list[SimpleNamespace]]]:
    """(descriptor error, package errors, errors per resource) as plain, picklable records."""
    from frictionless import FrictionlessException, Package, system

    try:
        with system.use_context(trusted=False):
            result = Package(descriptor, basepath=basepath).validate(limit_errors=100000)
    except FrictionlessException as err:
        return err.error.message, [], {}
    plain = lambda e: SimpleNamespace(**{a: getattr(e, a, None) for a in _ERROR_ATTRS})  # noqa: E731
    return (None, [f"{e.type}: {e.message}" for e in result.errors],
            {t.name: [plain(e) for e in t.errors] for t in result.tasks})


def start_structure(pkg: PackageFiles) -> Callable[[Report], None]:
    """Start the frictionless checks (types, constraints, headers) of every readable resource.

    Returns a function that waits for them and adds their problems to a report. Large packages
    are checked in a second process, so the caller can do other checks meanwhile.
    """
    readable = {n for n, t in pkg.tables.items() if t.text is not None}
    descriptor = _frictionless_descriptor(pkg, readable)
    rows = sum(len(pkg.tables[n].records) for n in readable)
    if rows > PARALLEL_ROWS:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
        future = pool.submit(_run_frictionless, descriptor, str(pkg.root))
        pool.shutdown(wait=False)
        result = future.result
    else:
        done = _run_frictionless(descriptor, str(pkg.root))
        result = lambda: done  # noqa: E731

    def finish(report: Report) -> None:
        error, package_errors, tasks = result()
        if error is not None:
            report.add(pkg.descriptor_path.name, 0, "", "invalid-descriptor",
                       f"the package descriptor is invalid: {error}")
        for message in package_errors:
            report.add(pkg.descriptor_path.name, 0, "", "package-error", message)
        for name, errors in tasks.items():
            _map_errors(pkg.tables[name], errors, report)

    return finish
