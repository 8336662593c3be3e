"""The ``diff`` verb, and the comparison the report's "What changed" section shows.

Two states of the evidence are compared: rows added, removed and changed per resource (matched by
primary key), and pooled estimates that moved, with the conclusions whose significance flipped.
A state is the working tree, a released version (its git tag ``vX.Y.Z`` for rows and
``reports/versions/X.Y.Z/results.json`` for estimates) or any git ref.
"""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mscreview.errors import UsageError
from mscreview.vocabulary import SEMVER, SINGLE_LABEL

__all__ = ["State", "diff_states", "compare_results", "render_diff", "latest_release", "WORKTREE"]

WORKTREE = "WORKTREE"
_NULL = {"RR": 1.0, "OR": 1.0, "PETO": 1.0, "HR": 1.0}


@dataclass
class State:
    """What one side of a comparison holds."""

    label: str
    tables: dict[str, dict[tuple[str, ...], dict[str, str]]]
    results: dict[str, Any] | None


def _version_key(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("-")[0].split(".")[:3])


def latest_release(root: Path) -> str | None:
    """The highest version kept under ``reports/versions/``."""
    versions = [p.name for p in (root / "reports" / "versions").glob("*")
                if p.is_dir() and SEMVER.match(p.name)]
    return max(versions, key=_version_key) if versions else None


def _git(root: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                             timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout if out.returncode == 0 else None


def _index(text: str, key: list[str]) -> dict[tuple[str, ...], dict[str, str]]:
    rows = csv.DictReader(io.StringIO(text))
    return {tuple(r.get(k, "") for k in key): r for r in rows}


def _load_state(root: Path, spec: str) -> State:
    descriptor_path = root / "datapackage.json"
    if spec == WORKTREE:
        read = lambda rel: (root / rel).read_text(encoding="utf-8")  # noqa: E731
        results_path = root / "reports" / "results.json"
        results = json.loads(results_path.read_text()) if results_path.exists() else None
        label = "working tree"
    else:
        if (spec[:1] == "v" and SEMVER.match(spec[1:])
                and _git(root, "rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}") is None):
            spec = spec[1:]  # the tag's name (v0.1.0) of a release whose tag is not made yet
        ref = spec
        results = None
        if SEMVER.match(spec):
            kept = root / "reports" / "versions" / spec / "results.json"
            results = json.loads(kept.read_text()) if kept.exists() else None
            ref = f"v{spec}"
            if _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}") is None:
                # no tag: the commit that added the version's results holds its data
                added = _git(root, "log", "--diff-filter=A", "--format=%H", "-1", "--",
                             f"reports/versions/{spec}/results.json")
                ref = (added or "").strip() or ref
        if _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}") is None:
            raise UsageError(f"'{spec}' is neither a released version (git tag v{spec} or a commit "
                             f"adding reports/versions/{spec}/) nor a git ref")

        def read(rel: str, ref: str = ref) -> str:
            text = _git(root, "show", f"{ref}:{rel}")
            if text is None:
                raise FileNotFoundError(rel)
            return text

        if results is None:
            try:
                results = json.loads(read("reports/results.json"))
            except (FileNotFoundError, json.JSONDecodeError):
                results = None
        label = spec
    try:
        descriptor = json.loads(read(descriptor_path.name))
    except (FileNotFoundError, json.JSONDecodeError) as err:
        raise UsageError(f"{label}: no readable datapackage.json") from err
    tables = {}
    for res in descriptor.get("resources", []):
        try:
            schema = json.loads(read(res["schema"]))
            tables[res["name"]] = _index(read(res["path"]), schema.get("primaryKey", []))
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            tables[res["name"]] = {}
    return State(label, tables, results)


def _significant(total: dict[str, Any], measure: str) -> bool | None:
    lo, hi = total.get("ci_low"), total.get("ci_high")
    if lo is None or hi is None or any(isinstance(x, float) and math.isnan(x) for x in (lo, hi)):
        return None
    null = _NULL.get(measure, 0.0)
    return bool(lo > null or hi < null)


#: The criterion of a conclusion without sequential monitoring.
CI_CRITERION = "95% CI excluding no effect (not adjusted for repeated updates)"


def _conclusion(analysis: dict[str, Any] | None, measure: str) -> tuple[bool | None, str]:
    """Whether an analysis's conclusion is "an effect", and by which criterion.

    A main analysis under sequential monitoring (``monitoring``, written by
    ``pipeline.robustness``) counts as conclusive when its Z crossed the O'Brien-Fleming boundary;
    any other by its 95% CI excluding no effect.
    """
    mon = (analysis or {}).get("monitoring")
    if mon and mon.get("crossed") is not None:
        return bool(mon["crossed"]), str(mon.get("criterion") or "sequential monitoring boundary")
    total = (analysis or {}).get("total")
    return (_significant(total, measure) if total else None), CI_CRITERION


@dataclass
class Moved:
    """A pooled estimate that changed between two states."""

    analysis_id: str
    title: str
    measure: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    significance_flipped: bool
    criterion: str = CI_CRITERION


def compare_results(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[Moved]:
    """Pooled estimates that moved (estimate, CI or k) between two results files."""
    def by_id(res: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
        return {a["id"]: a for a in (res or {}).get("analyses", [])}

    before, after = by_id(old), by_id(new)
    moved = []
    for aid in sorted(set(before) | set(after)):
        a, b = before.get(aid), after.get(aid)
        ta = (a or {}).get("total")
        tb = (b or {}).get("total")
        pick = lambda t: None if t is None else {  # noqa: E731
            k: t.get(k) for k in ("estimate", "ci_low", "ci_high", "k", "p")}
        if pick(ta) == pick(tb):
            continue
        measure = (b or a or {}).get("measure", "")
        sa, ca = _conclusion(a, measure)
        sb, cb = _conclusion(b, measure)
        # a flip counts only under one criterion: a release without monitoring is not compared
        # against a boundary (the boundary exists so that repeated updates do not flip by chance)
        same = ca == cb
        moved.append(Moved(aid, (b or a or {}).get("title", aid), measure, pick(ta), pick(tb),
                           same and sa is not None and sb is not None and sa != sb,
                           cb if same else f"{cb} (previous: {ca}; not compared)"))
    return moved


@dataclass
class Diff:
    """Row and estimate changes between two states."""

    old: str
    new: str
    rows: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    moved: list[Moved] = field(default_factory=list)


def diff_states(root: Path | str = ".", old: str | None = None, new: str = WORKTREE, *,
                old_results: Path | None = None, new_results: Path | None = None) -> Diff:
    """Compare two states of the package under ``root`` (default: last release vs working tree).

    ``old_results``/``new_results`` name results.json files to compare instead of the states' own
    (e.g. a report just built from the base branch of a pull request).
    """
    root = Path(root)
    if old is None:
        old = latest_release(root)
        if old is None and old_results is not None:
            old = new  # no release yet: only the given results are compared
        if old is None:
            raise UsageError("no released version under reports/versions/; name OLD explicitly")
    a, b = _load_state(root, old), _load_state(root, new)
    for state, path in ((a, old_results), (b, new_results)):
        if path is not None:
            try:
                state.results = json.loads(Path(path).read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as err:
                raise UsageError(f"cannot read results file {path}: {err}") from err
    diff = Diff(a.label, b.label)
    for name in sorted(set(a.tables) | set(b.tables)):
        ta, tb = a.tables.get(name, {}), b.tables.get(name, {})
        added = sorted(set(tb) - set(ta))
        removed = sorted(set(ta) - set(tb))
        changed = []
        for key in sorted(set(ta) & set(tb)):
            fields = {f: (ta[key].get(f, ""), tb[key].get(f, ""))
                      for f in sorted(set(ta[key]) | set(tb[key]))
                      if ta[key].get(f, "") != tb[key].get(f, "")}
            if fields:
                changed.append((key, fields))
        if added or removed or changed:
            diff.rows[name] = {"added": added, "removed": removed, "changed": changed}
    diff.moved = compare_results(a.results, b.results)
    return diff


def _fmt(t: dict[str, Any] | None) -> str:
    if not t or t.get("estimate") is None:
        return "no data"
    ci = ("" if t.get("ci_low") is None or t.get("ci_high") is None
          else f" [{t['ci_low']:.2f}, {t['ci_high']:.2f}]")
    k = t.get("k")
    return f"{t['estimate']:.2f}{ci} ({SINGLE_LABEL if k == 1 else f'k = {k}'})"


def render_diff(diff: Diff, fmt: str = "text") -> str:
    """The diff as text, markdown or JSON."""
    if fmt == "json":
        return json.dumps({
            "old": diff.old, "new": diff.new,
            "rows": {n: {"added": [list(k) for k in r["added"]],
                         "removed": [list(k) for k in r["removed"]],
                         "changed": [{"key": list(k), "fields": {f: {"old": o, "new": v}
                                                                  for f, (o, v) in fs.items()}}
                                     for k, fs in r["changed"]]}
                     for n, r in diff.rows.items()},
            "estimates": [{"analysis_id": m.analysis_id, "title": m.title, "old": m.old,
                           "new": m.new, "significance_flipped": m.significance_flipped,
                           "criterion": m.criterion}
                          for m in diff.moved],
        }, indent=2)
    md = fmt == "markdown"
    out = [f"{'## ' if md else ''}Changes from {diff.old} to {diff.new}", ""]
    if not diff.rows and not diff.moved:
        out.append("No rows and no pooled estimates changed.")
    for name, r in diff.rows.items():
        out.append(f"{'### ' if md else ''}{name}: {len(r['added'])} added, "
                   f"{len(r['removed'])} removed, {len(r['changed'])} changed")
        for key in r["added"]:
            out.append(f"- added {' / '.join(key)}")
        for key in r["removed"]:
            out.append(f"- removed {' / '.join(key)}")
        for key, fields in r["changed"]:
            parts = "; ".join(f"{f}: {o!r} -> {v!r}" for f, (o, v) in fields.items())
            out.append(f"- changed {' / '.join(key)}: {parts}")
        out.append("")
    if diff.moved:
        out.append(f"{'### ' if md else ''}Pooled estimates that moved")
        for m in diff.moved:
            flag = (f" **conclusion changed** ({m.criterion})" if (m.significance_flipped and md)
                    else (f" [conclusion changed: {m.criterion}]" if m.significance_flipped
                          else ""))
            out.append(f"- {m.title} ({m.measure}): {_fmt(m.old)} -> {_fmt(m.new)}{flag}")
    return "\n".join(out).rstrip() + "\n"
