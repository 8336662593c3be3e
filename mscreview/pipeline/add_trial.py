"""The ``add-trial`` verb: one file describing a trial becomes rows of every resource, or nothing.

The trial file (YAML, JSON or TOML) has one key per resource: ``study`` (one mapping, the studies
row) and lists under ``sources``, ``arms``, ``continuous_outcomes``, ``dichotomous_outcomes``,
``study_effects``, ``adverse_events``, ``risk_of_bias``, ``discrepancies``. The rows are appended to
a copy of the package, which is validated as a whole; only a valid copy replaces the real files.
Problems in the new rows are reported against the trial file (``arms[1].n_randomised``).
"""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from mscreview.errors import InputError, ProblemsError, UsageError
from mscreview.pipeline.database import require_valid
from mscreview.tables import csv_text, primary_key_sorter, to_cell, write_csv_atomic
from mscreview.validate import Problem, Report, validate_package
from mscreview.validate.reading import display_path

__all__ = ["TrialRejected", "add_trial", "template", "TRIAL_SECTIONS"]

#: Trial-file keys and the resource each fills (``study`` is a single row).
TRIAL_SECTIONS = {
    "study": "studies",
    "sources": "sources",
    "arms": "arms",
    "continuous_outcomes": "continuous_outcomes",
    "dichotomous_outcomes": "dichotomous_outcomes",
    "study_effects": "study_effects",
    "adverse_events": "adverse_events",
    "risk_of_bias": "risk_of_bias",
    "discrepancies": "discrepancies",
}


class TrialRejected(ProblemsError):
    """The trial file or the package it would make is invalid; nothing was written."""


def _load(path: Path) -> dict[str, Any]:
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise UsageError(f"no trial file at {shown}") from err
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{shown}: cannot be read as UTF-8 text ({err})") from err
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            data = json.loads(text)
        elif suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as err:  # every parser has its own error type; all mean "bad syntax"
        line = getattr(getattr(err, "problem_mark", None), "line", None)
        where = f"{shown}:{line + 1}" if line is not None else shown
        raise InputError(f"{where}: not valid {suffix.lstrip('.') or 'YAML'}: {err}") from err
    if not isinstance(data, dict):
        raise InputError(f"{shown}: the trial file must be a mapping of sections")
    return data


def _rows(data: dict[str, Any], shown: str) -> tuple[dict[str, list[dict[str, Any]]], list[Problem]]:
    problems: list[Problem] = []
    out: dict[str, list[dict[str, Any]]] = {}
    for key, value in data.items():
        if key not in TRIAL_SECTIONS:
            problems.append(Problem(shown, 0, key, "unknown-section",
                                    f"unknown section '{key}' (allowed: {', '.join(TRIAL_SECTIONS)})"))
            continue
        items = [value] if key == "study" else value
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            kind = "a mapping" if key == "study" else "a list of mappings"
            problems.append(Problem(shown, 0, key, "bad-section", f"section '{key}' must be {kind}"))
            continue
        out[TRIAL_SECTIONS[key]] = items
    if "studies" not in out:
        problems.append(Problem(shown, 0, "study", "missing-section", "the trial file needs a 'study'"))
    return out, problems


def add_trial(trial_path: Path | str, package_path: Path | str = "datapackage.json") -> dict[str, int]:
    """Append the trial in ``trial_path`` to the package; returns rows added per resource.

    Raises
    ------
    TrialRejected
        With every problem, when the trial or the resulting package is invalid (nothing written).
    """
    trial_path, package_path = Path(trial_path), Path(package_path)
    if package_path.is_dir():
        package_path = package_path / "datapackage.json"
    shown = display_path(trial_path)
    new, problems = _rows(_load(trial_path), shown)
    if problems:
        raise TrialRejected(problems)
    require_valid(package_path)  # the package must be valid before we touch it
    root = package_path.parent
    descriptor = json.loads(package_path.read_text(encoding="utf-8"))
    resources = {r["name"]: r for r in descriptor["resources"]}
    study_id = new["studies"][0].get("study_id")
    with open(root / resources["studies"]["path"], newline="", encoding="utf-8") as fh:
        if any(r.get("study_id") == study_id for r in csv.DictReader(fh)):
            raise TrialRejected([Problem(shown, 0, "study.study_id", "study-exists",
                                         f"study '{study_id}' is already in the package; correct "
                                         "its rows by editing the CSV files instead")])
    with tempfile.TemporaryDirectory(prefix="mscreview-add-") as tmp:
        shutil.copytree(root, Path(tmp) / "pkg",
                        ignore=shutil.ignore_patterns(".git", "reports", "*.duckdb"))
        copy = Path(tmp) / "pkg"
        origin: dict[tuple[str, int], str] = {}  # (file in copy, line) -> "section[i]"
        texts: dict[str, str] = {}
        for name, rows in new.items():
            res = resources[name]
            schema = json.loads((root / res["schema"]).read_text(encoding="utf-8"))
            header = [f["name"] for f in schema["fields"]]
            section = next(k for k, v in TRIAL_SECTIONS.items() if v == name)
            for i, row in enumerate(rows):
                for f in set(row) - set(header):
                    label = section if section == "study" else f"{section}[{i}]"
                    problems.append(Problem(shown, 0, f"{label}.{f}", "unknown-field",
                                            f"'{f}' is not a field of {name} "
                                            f"(fields: {', '.join(header)})"))
            with open(root / res["path"], newline="", encoding="utf-8") as fh:
                records = list(csv.reader(fh))[1:]
            tagged = [(rec, None) for rec in records] + [
                ([to_cell(row.get(f)) for f in header], i) for i, row in enumerate(rows)]
            _, key = primary_key_sorter(schema, header)
            tagged.sort(key=lambda t: key(t[0]))
            target = copy / res["path"]
            for line, (_, i) in enumerate(tagged, start=2):
                if i is not None:
                    origin[(display_path(target), line)] = (
                        section if section == "study" else f"{section}[{i}]")
            texts[res["path"]] = csv_text(header, [rec for rec, _ in tagged])
            target.write_text(texts[res["path"]], encoding="utf-8", newline="")
        if problems:
            raise TrialRejected(problems)
        check: Report = validate_package(copy / package_path.name)
        if not check.valid:
            mapped = []
            for p in check.sorted():
                label = origin.get((p.file, p.line))
                if label is not None:
                    mapped.append(Problem(shown, 0, f"{label}.{p.field}" if p.field else label,
                                          p.code, p.message))
                else:
                    rel = Path(p.file).resolve().relative_to(copy.resolve())
                    mapped.append(Problem(display_path(root / rel), p.line, p.field, p.code,
                                          p.message))
            raise TrialRejected(mapped)
    for rel, text in texts.items():
        write_csv_atomic(root / rel, text)
    return {name: len(rows) for name, rows in new.items()}


def template() -> str:
    """A commented trial file to copy and fill in."""
    from importlib.resources import files

    return (files("mscreview") / "templates" / "trial.yaml").read_text(encoding="utf-8")
