"""The ``add-trial`` verb: one file describing a trial becomes rows of every resource, or nothing.

The trial file (YAML, JSON or TOML; see :mod:`mscreview.pipeline.trialfile`) has one key per
resource: ``study`` (one mapping, the studies row), lists under ``sources``, ``arms``,
``continuous_outcomes``, ``dichotomous_outcomes``, ``study_effects``, ``adverse_events``,
``risk_of_bias``, ``discrepancies``, and optionally ``screening`` (how the trial was found; see
:mod:`mscreview.pipeline.screening`).

``add`` appends the rows of a new trial; ``update`` fills or corrects a trial that is already in
the package: each row given replaces the fields it names of the row with the same primary key, or
is inserted when there is none; nothing else changes. Either way the changed package is written to
a scratch folder and validated as a whole; only a valid package is committed, every file or none
(:mod:`mscreview.atomic`: staged files, a journal as the commit point, recovery by the next
reader), under the package lock, so two runs never interleave and none loses the other's rows.
Problems are reported against the trial file's lines (``smith2024.yaml:41: arms[1].n_analysed``).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mscreview.atomic import Transaction, scratch, writing
from mscreview.errors import ProblemsError
from mscreview.pipeline.resources import Table, load_tables, resource_paths
from mscreview.pipeline.screening import apply_screening
from mscreview.pipeline.trialfile import (
    SECTIONS,
    TrialFile,
    check_rows,
    normalise_number,
    read_trial,
)
from mscreview.validate import Problem, validate_package
from mscreview.validate.reading import display_path

__all__ = ["TrialRejected", "Change", "add_trial", "template", "TRIAL_SECTIONS", "render_changes"]

#: Trial-file keys and the resource each fills (kept for callers of the old name).
TRIAL_SECTIONS = {k: v for k, v in SECTIONS.items() if v}


class TrialRejected(ProblemsError):
    """The trial file or the package it would make is invalid; nothing was written."""


@dataclass
class Change:
    """What ``add-trial`` did (or, with ``dry_run``, would do) to each resource."""

    study_id: str
    mode: str  # "add" or "update"
    written: bool = False
    added: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    changed: dict[str, list[tuple[dict[str, str], dict[str, tuple[str, str]]]]] = field(
        default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Rows added or changed per resource."""
        names = sorted(set(self.added) | set(self.changed))
        return {n: len(self.added.get(n, [])) + len(self.changed.get(n, [])) for n in names}


def _descriptor(package_path: Path | str) -> Path:
    path = Path(package_path)
    return path / "datapackage.json" if path.is_dir() else path


def _reject(problems: list[Problem]) -> TrialRejected:
    return TrialRejected(sorted(set(problems)))


def _cells(trial: TrialFile, table: Table, row: Any) -> dict[str, str]:
    types = {f["name"]: f.get("type") for f in table.schema["fields"]}
    out = {}
    for name, text in row.cells.items():
        if name not in types:
            continue
        value = "" if text is None else text
        if types[name] in ("number", "integer"):
            value = normalise_number(value)
        out[name] = value
    return out


def _scratch_copy(root: Path, descriptor_path: Path, tables: dict[str, Table], tmp: Path) -> Path:
    """The package's descriptor, schemas and data under ``tmp``, with the changed tables."""
    copy = tmp / "pkg"
    copy.mkdir()
    shutil.copy(descriptor_path, copy / descriptor_path.name)
    for name, res in resource_paths(descriptor_path).items():
        for rel in (res["schema"], res["path"]):
            (copy / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / res["schema"], copy / res["schema"])
        table = tables.get(name)
        if table is not None and table.touched:
            (copy / res["path"]).write_text(table.text(), encoding="utf-8", newline="")
        else:
            shutil.copy(root / res["path"], copy / res["path"])
    return copy / descriptor_path.name


def _map_problems(problems: list[Problem], trial: TrialFile, tables: dict[str, Table],
                  copy_root: Path, root: Path) -> list[Problem]:
    """Problems of the scratch package, on the trial file's lines where a trial row made them."""
    origin: dict[tuple[str, int], Any] = {}
    for t in tables.values():
        if t.touched:
            shown = display_path(copy_root / t.path)
            for line, row in zip(t.record_lines(), t.origin):
                if row is not None:
                    origin[(shown, line)] = row
    out = []
    for p in problems:
        if p.code == "prisma-included" and not trial.rows.get("screening"):
            study = trial.rows["study"][0]
            out.append(Problem(trial.shown, study.line, "screening", "missing-screening",
                               "the package records its search (PRISMA), so a new trial needs a "
                               "'screening:' section saying how it was found (round, found_in, "
                               f"source_name, reason); see the template. ({p.message})"))
            continue
        row = origin.get((p.file, p.line))
        if row is not None:
            first = p.field.split(", ")[0] if p.field else ""
            where = f"{row.label}.{p.field}" if p.field else row.label
            out.append(Problem(trial.shown, row.line_of(first) if first else row.line, where,
                               p.code, p.message))
            continue
        try:
            rel = Path(p.file).resolve().relative_to(copy_root.resolve())
            shown = display_path(root / rel)
        except ValueError:
            shown = p.file
        out.append(Problem(shown, p.line, p.field, p.code, p.message))
    return out


def _apply(trial: TrialFile, tables: dict[str, Table], update: bool, change: Change) -> None:
    """Put the trial's rows into ``tables``; refusals go to ``trial.problems``."""
    study_id = change.study_id
    studies = tables["studies"]
    exists = studies.find({"study_id": study_id}) is not None
    study_row = trial.rows["study"][0]
    if exists and not update:
        trial.add(study_row.line_of("study_id"), "study.study_id", "study-exists",
                  f"study '{study_id}' is already in the package: to fill in or correct its "
                  "values run mscreview add-trial --update (add --dry-run to see the change first)")
        return
    if update and not exists:
        trial.add(study_row.line_of("study_id"), "study.study_id", "study-not-found",
                  f"study '{study_id}' is not in the package; add it without --update")
        return
    for section, rows in trial.rows.items():
        resource = SECTIONS.get(section)
        if not resource:
            continue
        table = tables[resource]
        for row in rows:
            cells = _cells(trial, table, row)
            if section == "study" and update and set(cells) <= {"study_id"}:
                continue  # an update form names its study and changes nothing of it
            before = None
            if update:
                i = table.find(cells)
                if i is not None:
                    before = dict(zip(table.header, table.records[i]))
            outcome = table.put(cells, row, merge=update)
            if outcome == "added":
                change.added.setdefault(resource, []).append(
                    {f: cells.get(f, "") for f in table.header})
            elif outcome == "changed" and before is not None:
                after = table.rows()[table.find(cells) or 0]
                fields = {f: (before[f], after[f]) for f in table.header if before[f] != after[f]}
                change.changed.setdefault(resource, []).append(
                    ({k: after[k] for k in table.key}, fields))
    if trial.rows.get("screening"):
        before_tables = {n: [list(r) for r in tables[n].records] for n in ("screening",
                                                                            "candidates")}
        sources = [dict(zip(tables["sources"].header, rec)) for rec in tables["sources"].records
                   if rec[tables["sources"].header.index("study_id")] == study_id]
        study = dict(zip(studies.header, studies.records[studies.find({"study_id": study_id})
                                                         or 0]))
        if apply_screening(trial, tables, study, sources):
            for name, old in before_tables.items():
                _record_table_change(tables[name], old, change)


def _record_table_change(table: Table, old: list[list[str]], change: Change) -> None:
    before = {table.record_key(r): dict(zip(table.header, r)) for r in old}
    for rec in table.records:
        now = dict(zip(table.header, rec))
        was = before.get(table.record_key(rec))
        if was is None:
            change.added.setdefault(table.name, []).append(now)
        elif was != now:
            fields = {f: (was[f], now[f]) for f in table.header if was[f] != now[f]}
            change.changed.setdefault(table.name, []).append(
                ({k: now[k] for k in table.key}, fields))


def add_trial(trial_path: Path | str, package_path: Path | str = "datapackage.json", *,
              update: bool = False, dry_run: bool = False, timeout: float = 60.0) -> Change:
    """Add (or, with ``update``, fill in or correct) the trial in ``trial_path``.

    Returns what was written, or with ``dry_run`` what would be written (nothing is).

    Raises
    ------
    TrialRejected
        With every problem, when the trial or the resulting package is invalid (nothing written).
    mscreview.atomic.BusyError
        When another command holds the package lock for longer than ``timeout`` seconds.
    """
    descriptor_path = _descriptor(package_path)
    trial = read_trial(trial_path)  # the file alone: syntax, duplicates, non-scalars, size
    if trial.problems:
        raise _reject(trial.problems)
    if not descriptor_path.exists():
        from mscreview.errors import UsageError

        raise UsageError(f"no data package at {display_path(descriptor_path)}")
    root = descriptor_path.parent
    with writing(root, "add-trial --update" if update else "add-trial", timeout=timeout):
        # read inside the lock: a run that waited sees the previous run's rows
        current = validate_package(descriptor_path)
        if not current.valid:
            raise ProblemsError(current.sorted(),
                                "the package is invalid before the trial was added; run "
                                "mscreview validate; nothing was written")
        tables = load_tables(descriptor_path)
        check_rows(trial, {n: t.schema for n, t in tables.items()})
        if trial.problems:
            raise _reject(trial.problems)
        change = Change(str(trial.study_id), "update" if update else "add")
        _apply(trial, tables, update, change)
        if trial.problems:
            raise _reject(trial.problems)
        for table in tables.values():
            if table.touched:
                table.sort()
        with scratch(root) as tmp:  # inside the package: a kill leaves nothing in /tmp
            copy = _scratch_copy(root, descriptor_path, tables, tmp)
            check = validate_package(copy)
            if not check.valid:
                raise _reject(_map_problems(check.sorted(), trial, tables, copy.parent, root))
        if dry_run:
            return change
        changed = [t for t in tables.values() if t.touched and t.text() != t.original]
        if not changed:
            return change
        with Transaction(root) as txn:
            for table in changed:
                txn.write(table.path, table.text())
            _test_hook("before-commit")
            txn.commit()
        change.written = True
    return change


def _test_hook(point: str) -> None:
    """Let the kill test stop the process at a named point (MSCREVIEW_TEST_KILL=point)."""
    if os.environ.get("MSCREVIEW_TEST_KILL") == point:  # pragma: no cover - subprocess only
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def _key_text(keys: dict[str, str]) -> str:
    return " / ".join(v for v in keys.values())


def render_changes(change: Change, table_keys: dict[str, list[str]] | None = None) -> str:
    """The rows ``add-trial`` adds and the fields it changes, as a diff a person reads."""
    out = []
    for name in sorted(set(change.added) | set(change.changed)):
        added, changed = change.added.get(name, []), change.changed.get(name, [])
        out.append(f"{name}: {len(added)} added, {len(changed)} changed")
        key = (table_keys or {}).get(name)
        for row in added:
            shown = {k: row[k] for k in key} if key else row
            out.append(f"  + {_key_text(shown)}")
        for keys, fields in changed:
            parts = "; ".join(f"{f}: {o!r} -> {v!r}" for f, (o, v) in fields.items())
            out.append(f"  ~ {_key_text(keys)}: {parts}")
    if not out:
        out.append("no change: every value given is already in the package")
    return "\n".join(out)


def template() -> str:
    """A commented trial file to copy and fill in."""
    from importlib.resources import files

    return (files("mscreview") / "templates" / "trial.yaml").read_text(encoding="utf-8")


def schema_keys(package_path: Path | str) -> dict[str, list[str]]:
    """Primary key fields per resource (to print added rows by their key)."""
    descriptor_path = _descriptor(package_path)
    root = descriptor_path.parent
    return {name: json.loads((root / res["schema"]).read_text(encoding="utf-8")).get(
        "primaryKey", []) for name, res in resource_paths(descriptor_path).items()}
