"""The ``build`` verb: validate, build the database, pool the plan, render the report.

Unchanged data give byte-identical ``index.html`` and ``results.json`` (set SOURCE_DATE_EPOCH to
fix the build time as well).

Publishing (what build owns, and how a report appears whole)
-------------------------------------------------------------
The output folder may hold files that are not the build's: ``reports/README.md`` and
``reports/versions/`` belong to the package, and ``--out .`` is the package itself. So the folder
is never swapped or emptied as a whole. The build owns a fixed set of *entries* in it,
:data:`ENTRIES` (``index.html``, ``results.json``, ``mscreview.duckdb``, ``parquet/``, ``plots/``,
``data/``), and records what it wrote in a manifest, :data:`MANIFEST` (every file with its
sha256, the data version and hash). Rules:

- a folder is the build's when it is new or empty, holds a manifest, or is the package's own
  ``reports/``; any other non-empty folder is refused unless ``--force``;
- an entry that exists and is not in the manifest is never replaced, even with ``--force``; with
  ``--out`` the package folder, ``data/`` is the package's own and the report links to it;
- entries are replaced whole (a folder is swapped, never emptied file by file), and an entry a
  previous build wrote but this one does not is removed: nothing else is ever deleted.

The publish is one :class:`mscreview.atomic.Transaction` of the output folder: every entry and the
manifest are staged under ``OUT/.mscreview-txn/``; the journal's rename is the commit point; then
each staged entry is renamed over its target (``index.html`` last, so a browser never opens a new
page beside old downloads). Killed before the commit point, the old report is untouched and the
staging is removed by the next build; killed after it, the next build (or anything that opens the
folder through :func:`mscreview.atomic.reading`) finishes the renames first; ``sql`` needs neither,
it trusts a database only by its recorded source hash. The previous report stays whole until the
commit. The downloads (parquet/, plots/, data/, the database) are not fsynced before the commit,
only the page, results.json and the manifest: a kill loses nothing written, and after a power cut
the next build rewrites them. Builds into one folder are serialised by the folder's lock
(``OUT/.mscreview.lock``); the package is read under its shared lock, so ``add-trial`` cannot
change it mid-build. A release stages the same entries in the package's own transaction, together
with the descriptor, the CHANGELOG and the kept version (:mod:`mscreview.pipeline.release`).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mscreview import __version__
from mscreview.atomic import LOCK_NAME, TXN_DIR, Transaction, reading, writing
from mscreview.errors import InputError, MscreviewError
from mscreview.pipeline.database import load_valid, require_valid
from mscreview.tables import neutralise_formulas

if TYPE_CHECKING:
    import duckdb

    from mscreview.store import Preloaded

__all__ = ["ENTRIES", "MANIFEST", "build", "claim_folder", "data_hash", "io_error",
           "make_folders", "previous_results", "read_manifest", "remove_if_failed", "source_date",
           "stage_report"]

#: The build's manifest in the output folder: what it wrote (see the module docstring).
MANIFEST = ".mscreview-build.json"

#: Everything a build may write in the output folder, besides the manifest.
ENTRIES = ("parquet", "plots", "data", "mscreview.duckdb", "results.json", "index.html")

#: Bookkeeping names in the output folder that never make it "not empty".
_OWN_NAMES = frozenset({MANIFEST, LOCK_NAME, TXN_DIR})

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
    """Now, or SOURCE_DATE_EPOCH when set (reproducible builds and releases).

    Raises
    ------
    mscreview.errors.InputError
        When SOURCE_DATE_EPOCH is not a whole number of seconds since 1970 (reproducible-builds.org
        specification).
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return datetime.now(timezone.utc)
    try:
        return datetime.fromtimestamp(int(epoch), timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise InputError(f"SOURCE_DATE_EPOCH={epoch[:40]!r} is not a whole number of seconds since "
                         "1970-01-01 UTC; unset it or give one, e.g. $(git log -1 --format=%ct)"
                         ) from None


def _kept_versions(root: Path) -> list[tuple[str, dict[str, Any]]]:
    """(version, results) of every release kept under ``reports/versions/``, oldest first."""
    from mscreview.pipeline.diff import _version_key
    from mscreview.vocabulary import SEMVER

    kept = sorted((p for p in (root / "reports" / "versions").glob("*")
                   if p.is_dir() and SEMVER.match(p.name) and (p / "results.json").is_file()),
                  key=lambda p: _version_key(p.name))
    out = []
    for p in kept:
        try:
            out.append((p.name, json.loads((p / "results.json").read_text(encoding="utf-8"))))
        except (OSError, ValueError) as err:  # cannot be compared with: said, never silent
            reason = err.strerror if isinstance(err, OSError) else "not valid JSON"
            print(f"warning: reports/versions/{p.name}/results.json: unreadable ({reason}); "
                  f"What's new skips version {p.name}", file=sys.stderr)
            continue
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




def _context(descriptor_path: Path, descriptor: dict[str, Any],
             con: duckdb.DuckDBPyConnection, releasing: bool = False) -> dict[str, Any]:
    """Pool the plan on the database and gather the whole report context."""
    from mscreview.pipeline.analyses import run_plan
    from mscreview.pipeline.context import assemble
    from mscreview.pipeline.robustness import release_history
    from mscreview.plan import analysis_views, load_plan

    version = descriptor.get("version", "")
    plan = load_plan(package_path=descriptor_path, con=con)
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
            {"label": "Plots as SVG (every figure of this page: forest plots, safety, risk of "
                      "bias, PRISMA, robustness and monitoring)", "path": "plots/"},
            *({"label": f"{res['name']}.csv", "path": f"data/{res['name']}.csv"}
              for res in descriptor["resources"]),
        ],
    }
    return assemble(con, run_plan(con, plan, kinds), meta, previous,
                    history=release_history(descriptor_path.parent, version))


def _write_plots(context: dict[str, Any], folder: Path) -> None:
    """Every figure of the report as a standalone SVG file (:func:`mscreview.report.plot_files`:
    forest plots of outcomes and safety events, risk of bias, PRISMA, robustness and monitoring).
    """
    from mscreview.report import plot_files

    folder.mkdir(exist_ok=True)
    for name, svg in plot_files(context):
        (folder / name).write_text(svg, encoding="utf-8")


# --------------------------------------------------------------------------- publishing


def io_error(err: OSError, where: Path) -> MscreviewError:
    """A one-line error for a failed read or write (unwritable folder, full disk, ...)."""
    name = err.filename if err.filename else where
    reason = err.strerror or str(err) or type(err).__name__
    return MscreviewError(f"{name}: {reason}; nothing was published")


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def make_folders(out: Path) -> list[Path]:
    """Create ``out`` and its missing parents; return the folders created, outermost first."""
    missing = [p for p in (out, *out.parents) if not p.exists()]
    out.mkdir(parents=True, exist_ok=True)
    return missing[::-1]


@contextmanager
def remove_if_failed(created: list[Path]) -> Iterator[None]:
    """Folders created for a build that failed are removed again (with our lock file only)."""
    try:
        yield
    except BaseException:
        for folder in reversed(created):
            try:
                if os.listdir(folder) == [LOCK_NAME]:
                    (folder / LOCK_NAME).unlink()
                folder.rmdir()
            except OSError:
                break
        raise


def read_manifest(out: Path) -> dict[str, Any] | None:
    """The manifest of the last build into ``out`` (None when there is none)."""
    path = out / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: unreadable build manifest ({str(err)[:120]}); if this folder "
                         "holds no report of yours, delete the manifest and build again") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("entries"), list):
        raise InputError(f"{path}: not a build manifest (no 'entries' list)")
    return manifest


def claim_folder(out: Path, root: Path, force: bool) -> tuple[dict[str, Any] | None, list[str]]:
    """May we build into ``out``? Returns the previous manifest and the entries to write."""
    previous = read_manifest(out)
    owned = set(previous["entries"]) if previous else set()
    entries = [e for e in ENTRIES if not (e == "data" and _same(out, root))]
    if previous is None and not force and not _same(out, root / "reports"):
        foreign = sorted(p.name for p in out.iterdir() if p.name not in _OWN_NAMES)
        if foreign:
            raise InputError(
                f"{out}: the folder is not empty ({', '.join(foreign[:3])}"
                f"{', ...' if len(foreign) > 3 else ''}) and no mscreview build wrote it (no "
                f"{MANIFEST}); choose a new or empty folder, or --force to write beside its files")
    clash = [e for e in entries if e not in owned and os.path.lexists(out / e)]
    if clash:
        raise InputError(
            f"{out / clash[0]}: exists and was not written by mscreview build (not in {MANIFEST}); "
            "build never replaces files it did not write: move it away or choose another --out")
    return previous, entries


def _files(folder: Path, prefix: str) -> dict[str, str]:
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            out[f"{prefix}/{path.relative_to(folder).as_posix()}"] = _sha256(path.read_bytes())
    return out


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Staged:
    """A report staged in a transaction, not yet committed."""

    manifest: dict[str, Any]
    results: str


def stage_report(txn: Transaction, prefix: str, descriptor_path: Path, *,
                 version: str | None = None, force: bool = False, quiet: bool = True,
                 releasing: bool = False, loaded: Preloaded | None = None) -> Staged:
    """Stage the whole report of a validated package as ``PREFIX/*`` in ``txn``.

    ``prefix`` is the output folder relative to the transaction's root ("" when the transaction
    is the output folder's own); ``version`` overrides the descriptor's (a release states the
    version it makes) and ``releasing`` says so (the report then compares with the release before,
    see :func:`previous_results`). Hold the package's lock and the folder's (see :func:`build`).
    Nothing outside the transaction's staging folder is written. ``loaded`` is the package
    already validated and loaded (:func:`~mscreview.pipeline.database.load_valid`): its tables
    become the database without a second read of the CSVs.
    """
    from mscreview.store import build_database, copy_parquet, materialise_views, package_relations

    if loaded is None:
        with load_valid(descriptor_path) as loaded:
            return stage_report(txn, prefix, descriptor_path, version=version, force=force,
                                quiet=quiet, releasing=releasing, loaded=loaded)
    progress = _Progress(quiet)
    out = txn.root / prefix if prefix else txn.root
    root = descriptor_path.parent

    def rel(name: str) -> str:
        return f"{prefix}/{name}" if prefix else name

    descriptor = json.loads(descriptor_path.read_text(encoding="utf-8"))
    if version is not None:
        descriptor["version"] = version
    previous, entries = claim_folder(out, root, force)
    work = txn.folder / "work"
    work.mkdir()
    progress("building the database")
    # the database file and the Parquet downloads are written by DuckDB's own threads while we
    # pool and render (each through a connection of its own)
    copied = threading.Event()
    # the file's checkpoint waits until this thread writes nothing more into the in-memory
    # database (DuckDB refuses a checkpoint while another write transaction is active)
    idle = threading.Event()

    def write_database() -> Path:
        try:
            return build_database(descriptor_path, work / "mscreview.duckdb", preloaded=loaded,
                                  copied=copied.set, idle=idle.wait)
        finally:
            copied.set()  # also when it failed before the copy: never wait forever

    background = ThreadPoolExecutor(max_workers=2)
    database = background.submit(write_database)
    parquet: Future[list[Path]] | None = None
    con = loaded.con.cursor()
    try:
        copied.wait()
        if database.done():
            database.result()  # failed before the copy: its error
        # pooling and the Parquet files read each view once, as a table in memory (the file
        # keeps the views themselves)
        materialise_views(loaded)
        parquet_dir = txn.folder_for(rel("parquet"), durable=False)
        parquet = background.submit(copy_parquet, con.cursor(), package_relations(con),
                                    parquet_dir)
        background.shutdown(wait=False)
        progress("pooling the analysis plan")
        context = _context(descriptor_path, descriptor, con, releasing)
        progress("rendering the report")
        html = render_report(context)
        results = json.dumps(context, indent=2, ensure_ascii=False, sort_keys=True,
                             allow_nan=False) + "\n"
        progress("exporting downloads")
        plots_dir = txn.folder_for(rel("plots"), durable=False)
        _write_plots(context, plots_dir)
    finally:
        # never leave a thread writing into a folder being removed
        if parquet is not None:
            wait([parquet])
        idle.set()  # nothing more is written into memory: the file may be checkpointed
        wait([database])
        background.shutdown(wait=False)
        con.close()
    db_path = database.result()
    parquet.result()
    files = {**_files(parquet_dir, "parquet"), **_files(plots_dir, "plots")}
    if "data" in entries:
        data_dir = txn.folder_for(rel("data"), durable=False)
        for res in descriptor["resources"]:
            # the downloads, safe to open in a spreadsheet
            schema = json.loads((root / res["schema"]).read_text(encoding="utf-8"))
            text = (root / res["path"]).read_text(encoding="utf-8")
            (data_dir / Path(res["path"]).name).write_text(
                neutralise_formulas(text, schema), encoding="utf-8", newline="")
        files.update(_files(data_dir, "data"))
    files["mscreview.duckdb"] = _sha256(db_path.read_bytes())
    txn.add_file(rel("mscreview.duckdb"), db_path, durable=False)
    txn.write(rel("results.json"), results)
    files["results.json"] = _sha256(results.encode("utf-8"))
    files["index.html"] = _sha256(html.encode("utf-8"))
    # an entry an earlier build wrote and this one does not: only the report's own names, and
    # never the package's data folder (``--out`` the package itself)
    retired = set(previous["entries"] if previous else []) & set(ENTRIES) - set(entries)
    for gone in sorted(retired - ({"data"} if _same(out, root) else set())):
        if os.path.lexists(out / gone):
            txn.delete(rel(gone))
    manifest = {
        "generator": f"mscreview {__version__} build",
        "data_version": descriptor.get("version", ""),
        "data_hash": context["data_hash"],
        "entries": entries,
        "files": files,
    }
    txn.write(rel(MANIFEST), json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    txn.write(rel("index.html"), html)  # renamed last on commit
    return Staged(manifest, results)


def _warm_up() -> None:
    """Import the engine (NumPy) and the report (jinja2 and its compiled templates), which
    pooling and rendering need next. Run in a thread while the package is validated: DuckDB
    releases the GIL while it works, so this takes little or nothing off the build's own
    thread (0.2-0.5 s of a build of the shipped package). Both layers import nothing else of
    ours, so this thread and validation never wait on each other's imports. A failure here is
    left to the build's own import of the same module to report."""
    try:
        import mscreview.stats  # noqa: F401 (NumPy)
        from mscreview.report import load_templates

        load_templates()
    except Exception:  # pragma: no cover - the build imports them again and says why
        pass


def render_report(context: dict[str, Any]) -> str:
    """The report page (jinja2) of a context."""
    from mscreview.report import render

    return render(context)


def build(package: Path | str = "datapackage.json", out: Path | str = "reports", *,
          quiet: bool = False, force: bool = False) -> Path:
    """Build the report of ``package`` into ``out``; returns the path of ``index.html``.

    ``force`` allows a non-empty folder that no build wrote (its files are left alone).

    Raises
    ------
    mscreview.errors.ProblemsError
        When the package is invalid (nothing is written).
    mscreview.errors.MscreviewError
        When the folder is not the build's, or a file cannot be read or written (one line).
    """
    import duckdb

    progress = _Progress(quiet)
    descriptor_path = Path(package)
    if descriptor_path.is_dir():
        descriptor_path = descriptor_path / "datapackage.json"
    root = descriptor_path.parent
    out = Path(out)
    same = _same(root, out)
    if not descriptor_path.is_file():
        require_valid(descriptor_path)  # says there is no package there
    try:
        source_date()  # a bad SOURCE_DATE_EPOCH fails before anything is written
        # the package under its shared lock (exclusive when it is also the output folder: a
        # process must not take one flock twice), then the output folder under its own
        with (writing if same else reading)(root, "build"):
            # one read of the package: validated and loaded in memory at once, before anything
            # is written to the output folder; meanwhile a thread imports what comes next
            progress("validating and loading the data package")
            warm_up = threading.Thread(target=_warm_up, name="mscreview-warm-up", daemon=True)
            warm_up.start()
            try:
                loaded = load_valid(descriptor_path)
            finally:
                warm_up.join()
            with loaded:
                if out.is_dir():
                    claim_folder(out, root, force)  # refused before anything is written
                with remove_if_failed(make_folders(out)), ExitStack() as stack:
                    if not same:
                        stack.enter_context(writing(out, "build"))
                    txn = stack.enter_context(Transaction(out))
                    stage_report(txn, "", descriptor_path, force=force, quiet=quiet,
                                 loaded=loaded)
                    progress("publishing")
                    txn.commit()
    except OSError as err:
        raise io_error(err, out) from None
    except duckdb.Error as err:
        raise MscreviewError(f"{out}: {str(err).strip().splitlines()[0]}; nothing was published"
                             ) from None
    progress(f"done: {out / 'index.html'}")
    return out / "index.html"
