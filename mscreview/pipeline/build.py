"""The ``build`` verb: validate, build the database, pool the plan, render the report.

Everything is written into a temporary folder beside the output folder; only when every file is
ready are they renamed into place, one by one, so a failed build leaves the previous report as it
was. Unchanged data give byte-identical ``index.html`` and ``results.json`` (set SOURCE_DATE_EPOCH
to fix the build time as well).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mscreview.pipeline.database import require_valid
from mscreview.tables import neutralise_formulas

__all__ = ["build", "data_hash", "previous_results", "source_date"]

CITATION = ("mscreview contributors. mscreview: living systematic review of mesenchymal stem cell "
            "therapy for liver cirrhosis, data version {version}. Seeded by Lu W, et al. Stem Cell "
            "Res Ther. 2023;14:301. doi:10.1186/s13287-023-03518-x.")


def data_hash(descriptor_path: Path) -> str:
    """sha256 over the resource files (name and bytes), in descriptor order."""
    descriptor = json.loads(descriptor_path.read_text(encoding="utf-8"))
    h = hashlib.sha256()
    for res in descriptor["resources"]:
        h.update(res["path"].encode() + b"\0")
        h.update((descriptor_path.parent / res["path"]).read_bytes())
    return "sha256:" + h.hexdigest()


def source_date() -> datetime:
    """Now, or SOURCE_DATE_EPOCH when set (reproducible builds and releases)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return datetime.fromtimestamp(int(epoch), timezone.utc) if epoch else datetime.now(timezone.utc)


def _kept_versions(root: Path) -> list[tuple[str, dict[str, Any]]]:
    """(version, results) of every release kept under ``reports/versions/``, oldest first."""
    from mscreview.models import SEMVER
    from mscreview.pipeline.diff import _version_key

    kept = sorted((p for p in (root / "reports" / "versions").glob("*")
                   if p.is_dir() and SEMVER.match(p.name) and (p / "results.json").is_file()),
                  key=lambda p: _version_key(p.name))
    out = []
    for p in kept:
        try:
            out.append((p.name, json.loads((p / "results.json").read_text(encoding="utf-8"))))
        except (OSError, ValueError):
            continue  # an unreadable kept version cannot be compared with
    return out


def previous_results(root: Path, version: str, current_hash: str | None = None, *,
                     releasing: bool = False) -> tuple[dict[str, Any] | None, bool]:
    """The kept results the report compares with, and whether the build is unreleased.

    A build is *released* while it is being released (``releasing``) or when its data are
    exactly those of the kept release of its version (same data hash); it then shows what changed
    since the release before. Otherwise it is *unreleased* (a contributor added a trial and never
    bumped the version): it shows what changed since the latest kept release, so a new trial is
    listed in the very next build. Returns ``(None, unreleased)`` when there is nothing to compare.
    """
    from mscreview.pipeline.diff import _version_key

    kept = _kept_versions(root)
    by_version = dict(kept)
    released = releasing or (version in by_version and current_hash is not None
                             and by_version[version].get("data_hash") == current_hash)
    if not released:
        return (kept[-1][1] if kept else None), True
    try:
        mine = _version_key(version)
    except ValueError:
        mine = None
    older = [r for v, r in kept if v != version and (mine is None or _version_key(v) < mine)]
    return (older[-1] if older else None), False


class _Progress:
    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet or not sys.stderr.isatty()
        self.start = time.perf_counter()

    def __call__(self, step: str) -> None:
        if not self.quiet:
            print(f"[{time.perf_counter() - self.start:5.1f}s] {step}", file=sys.stderr, flush=True)


def _context(descriptor_path: Path, descriptor: dict[str, Any], db_path: Path,
             releasing: bool = False) -> dict[str, Any]:
    """Pool the plan on the database and gather the whole report context."""
    import duckdb

    from mscreview.pipeline.analyses import run_plan
    from mscreview.pipeline.context import assemble
    from mscreview.pipeline.robustness import release_history
    from mscreview.plan import analysis_views, load_plan

    version = descriptor.get("version", "")
    plan = load_plan(package_path=descriptor_path)
    kinds = {name: info.kind for name, info in analysis_views().items()}
    current_hash = data_hash(descriptor_path)
    previous, unreleased = previous_results(descriptor_path.parent, version, current_hash,
                                            releasing=releasing)
    meta = {
        "title": descriptor.get("title", "mscreview"),
        "data_version": version,
        "data_hash": current_hash,
        "unreleased": unreleased,
        "built_at": source_date().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "rebuild_command": "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/mscreview build",
        "citation": CITATION.format(version=version),
        "downloads": [
            {"label": "Results (JSON)", "path": "results.json"},
            {"label": "DuckDB database", "path": "mscreview.duckdb"},
            {"label": "Parquet files (one per table and view)", "path": "parquet/"},
            {"label": "Plots as SVG (forest plots, risk of bias, PRISMA)", "path": "plots/"},
            *({"label": f"{res['name']}.csv", "path": f"data/{res['name']}.csv"}
              for res in descriptor["resources"]),
        ],
    }
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return assemble(con, run_plan(con, plan, kinds), meta, previous,
                        history=release_history(descriptor_path.parent, version))
    finally:
        con.close()


def _write_plots(context: dict[str, Any], folder: Path) -> None:
    """Every figure of the report as a standalone SVG file."""
    from mscreview.report import forest_svg, prisma_svg, rob_summary_svg, rob_traffic_light_svg

    folder.mkdir()
    for analysis in context["analyses"]:
        (folder / f"forest-{analysis['id']}.svg").write_text(forest_svg(analysis, inline=False),
                                                              encoding="utf-8")
    for rob in context["risk_of_bias"]:
        who = rob["assessor_id"]
        (folder / f"rob-traffic-light-{who}.svg").write_text(
            rob_traffic_light_svg(rob, inline=False), encoding="utf-8")
        (folder / f"rob-summary-{who}.svg").write_text(rob_summary_svg(rob, inline=False),
                                                       encoding="utf-8")
    (folder / "prisma.svg").write_text(prisma_svg(context["prisma"], inline=False), encoding="utf-8")


def build(package: Path | str = "datapackage.json", out: Path | str = "reports", *,
          quiet: bool = False, releasing: bool = False) -> Path:
    """Build the report of ``package`` into ``out``; returns the path of ``index.html``.

    ``releasing`` is set by ``release``: the build is the new version, compared with the previous
    release (see :func:`previous_results`).

    Raises
    ------
    mscreview.errors.ProblemsError
        When the package is invalid (nothing is written).
    """
    from mscreview.report import render
    from mscreview.store import build_database, export_parquet

    progress = _Progress(quiet)
    progress("validating the data package")
    descriptor_path = require_valid(package)
    root = descriptor_path.parent
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    descriptor = json.loads(descriptor_path.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(dir=out, prefix=".tmp-build-") as tmp_name:
        tmp = Path(tmp_name)
        progress("building the database")
        db_path = build_database(descriptor_path, tmp / "mscreview.duckdb")
        # the Parquet downloads are written by DuckDB's own threads while we pool and render
        exporter = ThreadPoolExecutor(max_workers=1)
        parquet = exporter.submit(export_parquet, db_path, tmp / "parquet")
        exporter.shutdown(wait=False)
        try:
            progress("pooling the analysis plan")
            context = _context(descriptor_path, descriptor, db_path, releasing)
            progress("rendering the report")
            (tmp / "index.html").write_text(render(context), encoding="utf-8")
            (tmp / "results.json").write_text(
                json.dumps(context, indent=2, ensure_ascii=False, sort_keys=True,
                           allow_nan=False) + "\n", encoding="utf-8")
            progress("exporting downloads")
            _write_plots(context, tmp / "plots")
        finally:
            wait([parquet])  # never leave the exporter writing into a folder being removed
        parquet.result()
        (tmp / "data").mkdir()
        for res in descriptor["resources"]:  # the downloads, safe to open in a spreadsheet
            schema = json.loads((root / res["schema"]).read_text(encoding="utf-8"))
            text = (root / res["path"]).read_text(encoding="utf-8")
            (tmp / "data" / Path(res["path"]).name).write_text(
                neutralise_formulas(text, schema), encoding="utf-8", newline="")
        progress("publishing")
        for item in ("parquet", "data", "plots"):
            target = out / item
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp / item, target)
        for name in ("mscreview.duckdb", "results.json", "index.html"):
            os.replace(tmp / name, out / name)
    progress(f"done: {out / 'index.html'}")
    return out / "index.html"
