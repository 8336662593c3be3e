"""Command line: parse arguments, call the pipeline, choose the exit code.

Exit codes: 0 success, 1 invalid input or failed job, 2 usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mscreview import __version__
from mscreview.errors import MscreviewError


def _fail(err: MscreviewError) -> None:
    click.echo(f"error: {err}", err=True)
    sys.exit(err.exit_code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="table", show_default=True)
def pool(
    input_csv: Path, measure: str, model: str, tau2_method: str, hksj: bool, by: str | None, fmt: str
) -> None:
    """Pool one analysis from a CSV file.

    Continuous: study,n1,mean1,sd1,n2,mean2,sd2 (1 = experimental, 2 = control).
    Dichotomous: study,events1,n1,events2,n2. Generic (GIV): study,estimate,se.

    Example: mscreview pool meld.csv --measure MD --model random --format json
    """
    from mscreview.pipeline.pool import format_pool_json, format_pool_table, run_pool

    try:
        result = run_pool(
            input_csv, measure=measure.upper(), model=model, tau2_method=tau2_method, hksj=hksj, by=by
        )
    except MscreviewError as err:
        _fail(err)
        return
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

    try:
        report = run_validate(package)
    except MscreviewError as err:
        _fail(err)
        return
    click.echo(render_report(report, fmt))
    sys.exit(0 if report.valid else 1)


def _print_problems(problems: list, fmt: str = "text") -> None:
    from mscreview.pipeline.checks import render_problems

    click.echo(render_problems(problems, fmt), err=True)


@cli.command("add-trial")
@click.argument("trial_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@PACKAGE_OPTION
@click.option("--template", "show_template", is_flag=True, help="Print a commented trial file.")
def add_trial_cmd(trial_file: Path | None, package: Path, show_template: bool) -> None:
    """Add one trial (YAML, JSON or TOML) to every resource, or nothing.

    The trial and the package it makes are validated first; if anything is wrong nothing is
    written and every problem is listed. Re-adding an existing study id is refused.

    Example: mscreview add-trial --template > smith2024.yaml; mscreview add-trial smith2024.yaml
    """
    from mscreview.pipeline.add_trial import TrialRejected, add_trial, template

    if show_template:
        click.echo(template(), nl=False)
        return
    if trial_file is None:
        raise click.UsageError("give a TRIAL_FILE, or --template to print one")
    try:
        added = add_trial(trial_file, package)
    except TrialRejected as err:
        _print_problems(err.problems)
        _fail(err)
        return
    except MscreviewError as err:
        _fail(err)
        return
    click.echo("added: " + ", ".join(f"{n} {name}" for name, n in added.items()))


def main() -> None:
    """Entry point of the ``mscreview`` console script."""
    cli()
