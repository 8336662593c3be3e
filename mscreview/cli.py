"""Command line: parse arguments, call the pipeline, choose the exit code.

Exit codes: 0 success, 1 invalid input or failed job, 2 usage error.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from mscreview import __version__
from mscreview.errors import MscreviewError, ProblemsError, printable

T = TypeVar("T")

#: Exit status after Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130

#: Exit status of ``diff --check-conclusions`` when a conclusion's significance changed.
EXIT_CONCLUSION_CHANGED = 3


def _fail(err: MscreviewError) -> NoReturn:
    lines = [printable(line) for line in str(err).splitlines()] or [""]
    # a multi-line message (DuckDB's caret under the error) keeps its lines, each escaped
    click.echo("error: " + "\n  ".join(line for line in lines), err=True)
    sys.exit(err.exit_code)


def _call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a pipeline function; a user error becomes its message(s) and exit code, never a trace."""
    try:
        return fn(*args, **kwargs)
    except ProblemsError as err:
        from mscreview.pipeline.checks import render_problems

        click.echo(render_problems(err.problems), err=True)
        _fail(err)
    except MscreviewError as err:
        _fail(err)


class _Commands(click.Group):
    """The command group; Ctrl-C (and SIGTERM, see :func:`main`) in any command is one line.

    The interrupt unwinds the command first, so every ``finally`` ran: staging folders are
    removed and nothing half-written is left. Exit status 130, as shells report SIGINT.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("error: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mscreview")
def cli() -> None:
    """mscreview: the living review of MSC therapy for liver cirrhosis.

    Validate the data package, pool analyses and build the report.
    """


@cli.command()
@click.argument("input_csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--measure",
    required=True,
    type=click.Choice(["MD", "SMD", "SMD_EXACT", "RR", "OR", "RD", "PETO", "GIV"], case_sensitive=False),
    help="Effect measure. GIV pools given estimates with their SE.",
)
@click.option("--model", type=click.Choice(["fixed", "random"]), default="random", show_default=True)
@click.option(
    "--tau2", "tau2_method", type=click.Choice(["DL", "REML", "PM"]), default="DL", show_default=True,
    help="Between-study variance estimator (random model).",
)
@click.option("--hksj", is_flag=True, help="Hartung-Knapp-Sidik-Jonkman CI (random model).")
@click.option("--by", "by", default=None, help="Column whose values define subgroups.")
@click.option("--log", "log", is_flag=True,
              help="GIV: estimates (and CI limits) are ratios, pooled on the log scale.")
@click.option("--sensitivity", is_flag=True,
              help="Add leave-one-out, cumulative (by a 'year' column if any) and influence.")
@click.option("--funnel", is_flag=True,
              help="Add funnel coordinates, Egger's test and trim-and-fill (k >= 10).")
@click.option("--mods", "mods", multiple=True, metavar="COLUMN",
              help="Meta-regression (REML, Knapp-Hartung) on this column; repeat or separate "
                   "with commas for several, each fitted alone.")
@click.option("--tau2-ci", "tau2_ci", is_flag=True,
              help="Add the Q-profile 95% CI of tau-squared and I-squared.")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="table", show_default=True)
def pool(
    input_csv: Path, measure: str, model: str, tau2_method: str, hksj: bool, by: str | None,
    log: bool, sensitivity: bool, funnel: bool, mods: tuple[str, ...], tau2_ci: bool, fmt: str,
) -> None:
    """Pool one analysis from a CSV file.

    Continuous: study,n1,mean1,sd1,n2,mean2,sd2 (1 = experimental, 2 = control).
    Dichotomous: study,events1,n1,events2,n2. Generic (GIV): study,estimate,se, or
    ci_low,ci_high instead of se; ratios with --log, or a column hr (rr, or) with its CI.

    Example: mscreview pool meld.csv --measure MD --model random --format json

    Example: mscreview pool survival.csv --measure GIV --log   (study,estimate,ci_low,ci_high)

    Example: mscreview pool meld.csv --measure MD --sensitivity --funnel --mods dose,route
    """
    from mscreview.pipeline.pool import format_pool_json, format_pool_table, run_pool

    names = [m.strip() for group in mods for m in group.split(",") if m.strip()]
    result = _call(run_pool, input_csv, measure=measure.upper(), model=model,
                   tau2_method=tau2_method, hksj=hksj, by=by, log=log, sensitivity=sensitivity,
                   funnel=funnel, mods=names, tau2_ci=tau2_ci)
    click.echo(format_pool_json(result) if fmt == "json" else format_pool_table(result))


PACKAGE_OPTION = click.option(
    "--package",
    "package",
    type=click.Path(path_type=Path),
    default=Path("datapackage.json"),
    show_default=True,
    help="The data package descriptor (or its folder).",
)


@cli.command()
@PACKAGE_OPTION
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True,
    help="text for people, json for tools, github for pull-request annotations.",
)
def validate(package: Path, fmt: str) -> None:
    """Validate the data package: structure (frictionless) and meaning (units, ranges, arms).

    Every problem is listed with its file, line and field. Exit 0 when valid, 1 when invalid,
    2 on usage errors. Nothing is written.

    Example: mscreview validate --format github
    """
    from mscreview.pipeline.checks import render_report, run_validate

    report = _call(run_validate, package)
    click.echo(render_report(report, fmt))
    sys.exit(0 if report.valid else 1)


@cli.command()
@PACKAGE_OPTION
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="text for people, json for tools (results and trials).")
def audit(package: Path, fmt: str) -> None:
    """Audit the seed's published results and screen the trials' own numbers.

    Published results: p-value against estimate and CI, estimate inside a symmetric CI, the
    numbers of studies that I² and the heterogeneity p admit, totals against subgroups, one
    measure per outcome. Trials: baseline balance (Carlisle), GRIM/GRIMMER, copied baselines,
    percentages and arm sizes. Rounding never raises a flag. Flags are for the reader, not
    verdicts: exit 0 whatever is flagged, 1 for an invalid package, 2 on usage errors. Nothing
    is written.

    Example: mscreview audit --format json > audit.json
    """
    from mscreview.pipeline.audit import audit_package, format_audit

    result = _call(audit_package, package)
    click.echo(format_audit(result, fmt))


@cli.command("add-trial")
@click.argument("trial_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@PACKAGE_OPTION
@click.option("--template", "show_template", is_flag=True, help="Print a commented trial file.")
@click.option("--update", is_flag=True,
              help="Fill in or correct a trial already in the package: each row given replaces "
                   "the fields it names of the row with the same key, or is inserted.")
@click.option("--dry-run", is_flag=True, help="Show the rows that would change; write nothing.")
def add_trial_cmd(trial_file: Path | None, package: Path, show_template: bool, update: bool,
                  dry_run: bool) -> None:
    """Add one trial (YAML, JSON or TOML) to every resource, or nothing.

    The trial file and the package it makes are validated first; if anything is wrong nothing is
    written and every problem is listed with the trial file's line and field. Adding a study that
    is already in the package is refused: use --update (with --dry-run to see the diff first).
    Writes are all-or-nothing even if interrupted, one command at a time.

    Example: mscreview add-trial --template > smith2024.yaml; mscreview add-trial smith2024.yaml

    Example: mscreview add-trial --update --dry-run smith2024-form.yaml
    """
    from mscreview.pipeline.add_trial import add_trial, render_changes, schema_keys, template

    if show_template:
        click.echo(template(), nl=False)
        return
    if trial_file is None:
        raise click.UsageError("give a TRIAL_FILE, or --template to print one")
    change = _call(add_trial, trial_file, package, update=update, dry_run=dry_run)
    keys = _call(schema_keys, package)
    if dry_run:
        click.echo(f"dry run: {change.mode} {change.study_id} would change (nothing written):")
        click.echo(render_changes(change, keys))
        return
    counts = change.counts()
    verb = "added" if change.mode == "add" else "updated"
    if not counts:
        click.echo(f"{verb} {change.study_id}: nothing changed (every value is already there)")
        return
    click.echo(f"{verb} {change.study_id}: rows per resource: "
               + ", ".join(f"{name} {n}" for name, n in counts.items()))
    if update:
        click.echo(render_changes(change, keys))


@cli.command("format")
@PACKAGE_OPTION
@click.option("--check", is_flag=True,
              help="Change nothing; list the files that would change and exit 1 if any (for CI).")
def format_cmd(package: Path, check: bool) -> None:
    """Mend what is mechanical in the CSV files, never a value.

    Sorts every resource by its primary key, makes line endings LF, removes a byte-order mark
    and blank lines. Rows are moved as they are written: no cell is changed or re-quoted.

    Example: mscreview format --check || mscreview format
    """
    from mscreview.pipeline.format import format_package

    mended = _call(format_package, package, check=check)
    for m in mended:
        click.echo(f"{m.shown}: {'would be ' if check else ''}{'; '.join(m.reasons)}")
    if check and mended:
        click.echo(f"{len(mended)} file(s) need `mscreview format`", err=True)
        sys.exit(1)
    if not mended:
        click.echo("every file is already formatted")


@cli.command("call-for-data")
@click.argument("study_id")
@PACKAGE_OPTION
@click.option("--form", is_flag=True,
              help="Write a fill-in trial file of the missing values (for add-trial --update).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the form (default: STUDY_ID-form.yaml; never overwritten).")
def call_for_data_cmd(study_id: str, package: Path, form: bool, out: Path | None) -> None:
    """List one trial's missing values, or write them as a form to fill in.

    A value is missing when its row's status is not 'extracted'. Each is listed with its arm,
    outcome, time point, expected unit and the source (and place in it) that should hold it.

    Example: mscreview call-for-data suk2016 --form; mscreview add-trial --update suk2016-form.yaml
    """
    from mscreview.pipeline.callfordata import missing_values, render_missing, write_form

    if form:
        path = _call(write_form, package, study_id, out)
        click.echo(f"form: {path}\nfill every <...>, then check with: mscreview add-trial --update "
                   f"--dry-run {path}\nand write with:  mscreview add-trial --update {path}")
        return
    click.echo(render_missing(study_id, _call(missing_values, package, study_id)))


@cli.command()
@click.argument("a_file", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("b_file", type=click.Path(dir_okay=False, path_type=Path))
@PACKAGE_OPTION
def compare(a_file: Path, b_file: Path, package: Path) -> None:
    """Compare two independent extractions (trial files) of the same trial.

    Lists every row only one has and every field they fill differently, by resource, key and
    field, with both values and lines. Exit 0 when they agree, 1 when they do not.

    Example: mscreview compare smith2024-anna.yaml smith2024-ben.yaml
    """
    from mscreview.pipeline.compare import compare_trials, render_disagreements

    found = _call(compare_trials, a_file, b_file, package)
    click.echo(render_disagreements(a_file, b_file, found))
    sys.exit(1 if found else 0)


@cli.command()
@PACKAGE_OPTION
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"),
              show_default=True, help="Folder for index.html, results.json and the downloads.")
@click.option("--quiet", is_flag=True, help="No progress output (for CI).")
@click.option("--force", is_flag=True,
              help="Write into a non-empty folder no build wrote (its files are left alone).")
def build(package: Path, out: Path, quiet: bool, force: bool) -> None:
    """Validate, build the database, pool every analysis of the plan and render the report.

    Writes OUT/index.html (self-contained), OUT/results.json, the database and the downloads,
    and a manifest of them (OUT/.mscreview-build.json). Everything is staged first and published
    in one step: a failed or killed build leaves the previous report whole. Only files listed
    in the manifest are ever replaced; a non-empty folder that no build wrote is refused unless
    --force. Honours SOURCE_DATE_EPOCH.

    Example: mscreview build --out reports
    """
    from mscreview.pipeline.build import build as run_build

    written = _call(run_build, package, out, quiet=quiet, force=force)
    if not quiet:
        click.echo(f"report: {written}")


@cli.command()
@PACKAGE_OPTION
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("mscreview.duckdb"), show_default=True, help="DuckDB file to write.")
def db(package: Path, out: Path) -> None:
    """Build a DuckDB database: one typed table per resource plus the analysis views.

    The package is validated first; an invalid package writes nothing.

    Example: mscreview db --out mscreview.duckdb && duckdb mscreview.duckdb
    """
    from mscreview.pipeline.database import make_database

    path = _call(make_database, package, out)
    click.echo(f"database: {path}")


DB_OPTION = click.option(
    "--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Database file [default: the report's reports/mscreview.duckdb or ./mscreview.duckdb, "
         "whichever is current; built on first use]. Rebuilt when the package changed.")


def _note(message: str) -> None:
    click.echo(message, err=True)


SQL_PACKAGE_OPTION = click.option(
    "--package", "package", type=click.Path(path_type=Path), default=None,
    help="The data package [default: the one --db was built from, else ./datapackage.json].")


@cli.command()
@click.argument("query", required=False)
@SQL_PACKAGE_OPTION
@DB_OPTION
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@click.option("--timeout", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Stop the query after this many seconds (0: no limit).")
@click.option("--max-rows", type=click.IntRange(min=0), default=1000, show_default=True,
              help="Show at most this many rows (0: all).")
def sql(query: str | None, package: Path | None, db_path: Path | None, fmt: str, timeout: float,
        max_rows: int) -> None:
    """Run a read-only SQL query against the package's database.

    The database is built on first use and rebuilt whenever the data changed (never stale).
    Statements that write are refused; control characters in the results are shown escaped.
    Without QUERY, open the DuckDB shell if installed, or print how to.

    Example: mscreview sql "SELECT study_id, label, design FROM studies"
    """
    from mscreview.pipeline.database import (
        current_database,
        format_rows,
        open_shell,
        query_database,
    )

    path = _call(current_database, package, db_path, notify=_note)
    if query is None:
        click.echo(_call(open_shell, path))
        return
    columns, rows, more = _call(query_database, path, query, timeout=timeout or None,
                                max_rows=max_rows or None)
    click.echo(format_rows(columns, rows, fmt, more=more))
    if more and fmt != "table":
        _note(f"note: only the first {max_rows} rows are shown; raise --max-rows")


@cli.command()
@click.option("--parquet", "parquet_dir", required=True,
              type=click.Path(file_okay=False, path_type=Path), help="Folder for the Parquet files.")
@SQL_PACKAGE_OPTION
@DB_OPTION
def export(parquet_dir: Path, package: Path | None, db_path: Path | None) -> None:
    """Write the package's tables and views as Parquet (NAME.parquet), all or nothing.

    Only the package's own tables and views are written, only inside the folder; the database
    is the current one (built or rebuilt as for sql).

    Example: mscreview export --parquet parquet/
    """
    from mscreview.pipeline.database import export_all

    paths = _call(export_all, parquet_dir, package, db_path)
    click.echo(f"{len(paths)} Parquet files in {parquet_dir}")


@cli.command()
@click.argument("old", required=False)
@click.argument("new", required=False, default="WORKTREE")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text",
              show_default=True)
@click.option("--old-results", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="results.json to use for OLD's estimates (e.g. a build of the base branch).")
@click.option("--new-results", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="results.json to use for NEW's estimates.")
@click.option("--check-conclusions", is_flag=True,
              help=f"Exit with status {EXIT_CONCLUSION_CHANGED} when a pooled conclusion's "
                   "significance changed (for the nightly alert).")
def diff(old: str | None, new: str, fmt: str, old_results: Path | None,
         new_results: Path | None, check_conclusions: bool) -> None:
    """Rows and pooled estimates changed between two states of the evidence.

    OLD and NEW are released versions (0.2.0, or v0.2.0), git refs (main, HEAD~3) or WORKTREE; the default
    compares the last release with the working tree. Conclusions whose significance flipped are
    marked.

    Example: mscreview diff 0.1.0 --format markdown
    """
    from mscreview.pipeline.diff import diff_states, render_diff

    result = _call(diff_states, Path("."), old, new, old_results=old_results,
                   new_results=new_results)
    click.echo(render_diff(result, fmt), nl=False)
    if check_conclusions and any(m.significance_flipped for m in result.moved):
        sys.exit(EXIT_CONCLUSION_CHANGED)


@cli.command()
@click.argument("part", type=click.Choice(["major", "minor", "patch"]))
def release(part: str) -> None:
    """Release a new version of the data package.

    Bumps datapackage.json's version (MAJOR: renamed, retyped or removed fields or tighter
    constraints; MINOR: new rows or resources; PATCH: corrections), moves the CHANGELOG's
    [Unreleased] entries under it, rebuilds the report and keeps the version's results.json and
    hashed descriptor under reports/versions/.

    Example: mscreview release minor, then tag the commit vX.Y.Z
    """
    from mscreview.pipeline.release import release as run_release

    version = _call(run_release, Path("."), part)
    click.echo(f"released {version}")


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwinds like Ctrl-C: every finally runs, staging is removed


def main() -> None:
    """Entry point of the ``mscreview`` console script (SIGTERM ends it like Ctrl-C)."""
    signal.signal(signal.SIGTERM, _terminated)
    cli()
