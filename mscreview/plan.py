"""The analysis plan as data: ``analyses.csv`` read into validated, frozen dataclasses.

Why it exists: which outcome is pooled with which measure, model, grouping and time window is a
decision of the review, so it lives in a reviewable CSV, not in code. This module checks each row
against what the rest of the project defines, so a typo fails loudly:

- ``view`` must be a view of ``sql/`` whose header declares ``-- Analysis-input:`` (continuous,
  dichotomous or generic); the measure must fit it (MD/SMD continuous, RR/OR/RD dichotomous,
  HR generic: reported estimates with their 95% CI, pooled on the log scale).
- ``time_window`` must fit the view's ``-- Window:`` line: ``main`` views take 'main',
  ``longest`` views take 'any', ``per_window`` views take a window label of ``time_windows``
  (or 'any' with grouping 'window': separate pools per window, never a total across them).
- A view's ``-- Grouping:`` line, when present, fixes the grouping.
- With a package, outcome codes and ``published_result_ids`` are checked against it; a baseline
  characteristic (``AGE``) is never an analysis's outcome.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mscreview.errors import InputError
from mscreview.store import SQL_DIR, sql_files

__all__ = ["PLAN_PATH", "Analysis", "ViewInfo", "analysis_views", "load_plan", "window_labels"]

#: The shipped plan.
PLAN_PATH = Path(__file__).resolve().parent / "analyses.csv"

COLUMNS = (
    "id", "title", "outcome", "measure", "model", "tau2", "grouping", "time_window", "view",
    "published_result_ids", "hksj", "mods",
)
#: Trailing columns a plan may leave out (then: no HKSJ, no meta-regression).
OPTIONAL_COLUMNS = ("hksj", "mods")
#: Moderators a meta-regression may name in ``mods`` (semicolon-separated), and their labels.
MODERATORS: dict[str, tuple[str, str]] = {
    "log10_cells_per_kg": ("log10 cells per kg (per infusion)", "continuous"),
    "log10_cells_per_infusion": ("log10 cells per infusion", "continuous"),
    "follow_up_months": ("Follow-up (months)", "continuous"),
    "route": ("Route of administration", "factor"),
    "cell_type": ("Cell type", "factor"),
}
CONTINUOUS_MEASURES = frozenset({"MD", "SMD"})
DICHOTOMOUS_MEASURES = frozenset({"RR", "OR", "RD"})
GENERIC_MEASURES = frozenset({"HR"})
KIND_MEASURES = {"continuous": CONTINUOUS_MEASURES, "dichotomous": DICHOTOMOUS_MEASURES,
                 "generic": GENERIC_MEASURES}
#: Resource holding the outcome codes of each kind of analysis.
OUTCOME_TABLES = {"continuous_outcomes": "continuous", "dichotomous_outcomes": "dichotomous",
                  "study_effects": "generic"}
#: Codes of ``continuous_outcomes`` that are baseline characteristics (``models.BASELINE_ONLY``,
#: which this layer may not import): screened by the audit, never an analysis's outcome.
BASELINE_ONLY = frozenset({"AGE"})
#: grouping -> column of the view holding the subgroup (None: one pool).
GROUP_COLUMNS: dict[str, str | None] = {
    "none": None, "window": "window", "route": "route", "etiology": "etiology",
    "dose_class": "dose_class", "cell_type": "cell_type",
}


@dataclass(frozen=True)
class ViewInfo:
    """What an analysis-input view's header declares."""

    name: str
    kind: Literal["continuous", "dichotomous", "generic"]
    window: Literal["main", "per_window", "longest"]
    grouping: str | None


#: What each text column of a plan row must be, checked in column order by :func:`_checked`
#: (plain checks, not a pydantic model: importing pydantic was a tenth of a build).
_PATTERNS = {"id": r"[a-z0-9][a-z0-9-]*", "outcome": r"[A-Za-z_]+", "view": r"[a-z_][a-z0-9_]*"}
_CHOICES: dict[str, tuple[str, ...]] = {
    "measure": ("MD", "SMD", "RR", "OR", "RD", "HR"), "model": ("random", "fixed"),
    "tau2": ("DL", "REML", "PM"), "grouping": tuple(GROUP_COLUMNS),
}
_NOT_EMPTY = ("title", "time_window")


@dataclass(frozen=True)
class Analysis:
    """One row of the plan (checked by :func:`load_plan`)."""

    id: str
    title: str
    outcome: str
    measure: Literal["MD", "SMD", "RR", "OR", "RD", "HR"]
    model: Literal["random", "fixed"]
    tau2: Literal["DL", "REML", "PM"]
    grouping: Literal["none", "window", "route", "etiology", "dose_class", "cell_type"]
    time_window: str
    view: str
    published_result_ids: tuple[str, ...] = ()
    #: Hartung-Knapp-Sidik-Jonkman CI and t test (random model only).
    hksj: bool = False
    #: Moderators of meta-regressions run on this analysis (each alone), from MODERATORS.
    mods: tuple[str, ...] = ()

    @property
    def group_column(self) -> str | None:
        """Column of the view that splits the pools (None: one pool)."""
        return GROUP_COLUMNS[self.grouping]

    def query(self) -> tuple[str, list[Any]]:
        """SQL (with ``?`` parameters) selecting this analysis's rows from its view."""
        sql = f'SELECT * FROM {self.view} WHERE outcome = ?'
        params: list[Any] = [self.outcome]
        if self.time_window == "main":
            sql += ' AND "window" = (SELECT label FROM time_windows WHERE is_main)'
        elif self.time_window != "any":
            sql += ' AND "window" = ?'
            params.append(self.time_window)
        return sql, params

    def matches(self, row: dict[str, Any], main_window: str) -> bool:
        """Whether a row of the view belongs to this analysis (the Python twin of ``query``).

        ``main_window`` is the label of the main time window; the build fetches each view once
        and filters with this, instead of one query per analysis.
        """
        if row.get("outcome") != self.outcome:
            return False
        if self.time_window == "any":
            return True
        want = main_window if self.time_window == "main" else self.time_window
        return row.get("window") == want


_META_RE = re.compile(r"^--\s*(Analysis-input|Window|Grouping):\s*(\S+)\s*$")


def analysis_views(sql_dir: Path = SQL_DIR) -> dict[str, ViewInfo]:
    """The views of ``sql_dir`` that may feed an analysis, from their header comments."""
    found: dict[str, ViewInfo] = {}
    for path in sql_files(sql_dir):
        meta: dict[str, str] = {}
        name = None
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("--"):
                match = re.search(r"VIEW\s+([a-z_][a-z0-9_]*)", line, re.IGNORECASE)
                if match:
                    name = match.group(1)
                    break
                continue
            m = _META_RE.match(line)
            if m:
                meta[m.group(1)] = m.group(2)
        if name and "Analysis-input" in meta:
            kind, window = meta["Analysis-input"], meta.get("Window", "")
            if kind not in ("continuous", "dichotomous", "generic") or window not in (
                "main", "per_window", "longest"
            ):
                raise InputError(f"{path}: bad Analysis-input/Window header ({kind!r}, {window!r})")
            grouping = meta.get("Grouping")
            found[name] = ViewInfo(name, kind, window, grouping)  # type: ignore[arg-type]
    return found


def window_labels(sql_dir: Path = SQL_DIR, con: Any = None) -> list[str]:
    """Labels of the time windows, read by running the ``time_windows`` view definition.

    ``con``: a DuckDB connection whose ``time_windows`` (view or table) is this one's, e.g. the
    build's; it is read instead (a DuckDB of its own costs 0.1-0.2 s to start).
    """
    import duckdb

    if con is not None:
        return [r[0] for r in con.execute(
            "SELECT label FROM time_windows ORDER BY sort_order").fetchall()]
    path = next((p for p in sql_files(sql_dir) if "VIEW time_windows" in p.read_text()), None)
    if path is None:
        raise InputError(f"{sql_dir}: no time_windows view")
    con = duckdb.connect()
    try:
        con.execute(path.read_text(encoding="utf-8"))
        return [r[0] for r in con.execute(
            "SELECT label FROM time_windows ORDER BY sort_order").fetchall()]
    finally:
        con.close()


def _package_facts(
    package_path: str | os.PathLike[str],
) -> tuple[dict[str, set[str]], dict[str, str]]:
    """Outcome codes per kind (from the Table Schemas) and published result id -> outcome."""
    path = Path(package_path)
    if path.is_dir():
        path = path / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    base = path.parent
    outcomes: dict[str, set[str]] = {}
    published: dict[str, str] = {}
    for resource in descriptor["resources"]:
        name = resource["name"]
        schema = resource["schema"]
        if isinstance(schema, str):
            schema = json.loads((base / schema).read_text(encoding="utf-8"))
        kind = OUTCOME_TABLES.get(name)
        if kind:
            field = next(f for f in schema["fields"] if f["name"] == "outcome")
            outcomes[kind] = set(field.get("constraints", {}).get("enum", []))
        if name == "published_results":
            with (base / resource["path"]).open(newline="", encoding="utf-8") as handle:
                published = {r["result_id"]: r["outcome"] for r in csv.DictReader(handle)}
    return outcomes, published


def load_plan(
    path: str | os.PathLike[str] = PLAN_PATH,
    *,
    package_path: str | os.PathLike[str] | None = None,
    sql_dir: Path = SQL_DIR,
    con: Any = None,
) -> list[Analysis]:
    """Read and check the analysis plan.

    Parameters
    ----------
    path
        The plan CSV (default: the shipped ``mscreview/analyses.csv``).
    package_path
        When given, outcome codes are checked against the package's Table Schemas and
        ``published_result_ids`` against ``data/published_results.csv``.
    sql_dir
        Folder of the view definitions the plan refers to.
    con
        A database built from ``sql_dir`` (its ``time_windows``), to read the window labels
        from (:func:`window_labels`).

    Raises
    ------
    InputError
        Naming the file, line and column of the first problem.
    """
    source = Path(path)
    views = analysis_views(sql_dir)
    labels = window_labels(sql_dir, con)
    outcomes, published = _package_facts(package_path) if package_path else ({}, {})
    try:
        handle = source.open(newline="", encoding="utf-8")
    except OSError as err:
        raise InputError(f"{source}: cannot read the analysis plan ({err})") from None
    plan: list[Analysis] = []
    seen: dict[str, int] = {}
    with handle:
        reader = csv.DictReader(handle)
        header = tuple(reader.fieldnames or ())
        required = COLUMNS[: len(COLUMNS) - len(OPTIONAL_COLUMNS)]
        if header not in (COLUMNS, required):
            raise InputError(
                f"{source}, line 1: header must be {','.join(COLUMNS)} (the last "
                f"{len(OPTIONAL_COLUMNS)} optional; found {','.join(reader.fieldnames or [])})"
            )
        for row in reader:
            line = reader.line_num

            def fail(column: str, message: str, line: int = line) -> InputError:
                return InputError(f"{source}, line {line}, column {column!r}: {message}")

            ids = row["published_result_ids"].strip()
            values: dict[str, Any] = {k: row[k] for k in COLUMNS
                                      if k not in ("published_result_ids", *OPTIONAL_COLUMNS)}
            values["published_result_ids"] = tuple(i for i in ids.split(";") if i) if ids else ()
            values.update(_options(row, fail))
            analysis = _checked(values, fail)
            _check(analysis, views, labels, outcomes, published, fail)
            if analysis.id in seen:
                raise fail("id", f"{analysis.id!r} already on line {seen[analysis.id]}")
            seen[analysis.id] = line
            plan.append(analysis)
    return plan


def _checked(values: dict[str, Any], fail: Any) -> Analysis:
    """The row as an :class:`Analysis`; the first column that is not what it must be fails
    (the messages are pydantic's, which checked these before)."""
    for column in COLUMNS:
        value = values.get(column)
        if not isinstance(value, str):
            continue
        message = None
        if column in _PATTERNS and not re.fullmatch(_PATTERNS[column], value):
            message = f"String should match pattern '^{_PATTERNS[column]}$'"
        elif column in _CHOICES and value not in _CHOICES[column]:
            *first, last = (repr(c) for c in _CHOICES[column])
            message = f"Input should be {', '.join(first)} or {last}"
        elif column in _NOT_EMPTY and not value:
            message = "String should have at least 1 character"
        if message:
            raise fail(column, f"{message} (got {value!r})")
    return Analysis(**values)


def _options(row: dict[str, Any], fail: Any) -> dict[str, Any]:
    """The optional columns: ``hksj`` (true/false, empty = false) and ``mods`` (a;b;c)."""
    flag = (row.get("hksj") or "").strip().lower()
    if flag not in ("", "true", "false"):
        raise fail("hksj", f"use true or false (got {row.get('hksj')!r})")
    mods = tuple(m.strip() for m in (row.get("mods") or "").split(";") if m.strip())
    for m in mods:
        if m not in MODERATORS:
            raise fail("mods", f"unknown moderator {m!r} (known: {', '.join(MODERATORS)})")
    if len(set(mods)) != len(mods):
        raise fail("mods", "a moderator is named twice")
    return {"hksj": flag == "true", "mods": mods}


def _check(
    a: Analysis,
    views: dict[str, ViewInfo],
    labels: Sequence[str],
    outcomes: dict[str, set[str]],
    published: dict[str, str],
    fail: Any,
) -> None:
    """Cross-field checks of one analysis (see the module docstring)."""
    if a.hksj and a.model != "random":
        raise fail("hksj", "HKSJ applies to the random-effects model only")
    info = views.get(a.view)
    if info is None:
        raise fail("view", f"unknown view {a.view!r}; analysis views: {', '.join(sorted(views))}")
    measures = KIND_MEASURES[info.kind]
    if a.measure not in measures:
        raise fail("measure", f"{a.measure} does not fit {info.kind} view {a.view!r} "
                   f"(use {'/'.join(sorted(measures))})")
    if info.grouping is not None and a.grouping != info.grouping:
        raise fail("grouping",
                   f"view {a.view!r} is grouped by {info.grouping!r}, not {a.grouping!r}")
    if a.grouping == "window" and info.window != "per_window":
        raise fail("grouping", f"view {a.view!r} has one window per study; 'window' needs a "
                   "per_window view")
    tw = a.time_window
    if info.window == "main" and tw != "main":
        raise fail("time_window", f"view {a.view!r} holds the main window only: use 'main'")
    if info.window == "longest" and tw != "any":
        raise fail("time_window",
                   f"view {a.view!r} holds each study's longest follow-up: use 'any'")
    if info.window == "per_window":
        if tw == "any" and a.grouping != "window":
            raise fail("time_window", f"view {a.view!r} has several windows per study: 'any' would "
                       "pool the same patients more than once; name a window or group by window")
        if tw not in ("any", "main") and tw not in labels:
            raise fail("time_window", f"unknown window {tw!r} (known: {', '.join(labels)})")
    if a.outcome in BASELINE_ONLY:
        raise fail("outcome", f"{a.outcome!r} is a baseline characteristic, screened by "
                   "'mscreview audit', not an outcome to pool")
    if outcomes and a.outcome not in outcomes.get(info.kind, set()):
        raise fail("outcome", f"{a.outcome!r} is not a {info.kind} outcome code")
    for rid in a.published_result_ids:
        if published and rid not in published:
            raise fail("published_result_ids", f"{rid!r} is not in published_results.csv")
        if published and published[rid] != a.outcome:
            raise fail("published_result_ids",
                       f"{rid!r} is about {published[rid]}, not {a.outcome}")
