"""Each validation rule rejects the fixture named after its defect, on the right line and field."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mscreview.cli import cli
from mscreview.validate import validate_package
from tests.conftest import FIXTURES, ROOT, tree_digest

DEFECTS = FIXTURES / "defects"

# fixture name -> (code, physical line, field[, resource reported in]) that must be reported
EXPECTED = {
    "continuous_outcomes--sd-not-positive": ("sd-not-positive", 2, "dispersion"),
    "continuous_outcomes--unit-not-allowed": ("unit-not-allowed", 2, "unit"),
    "continuous_outcomes--out-of-range": ("out-of-range", 2, "central"),
    "continuous_outcomes--baseline-only": ("baseline-only", 3, "timepoint_weeks"),
    "continuous_outcomes--n-exceeds-arm": ("n-exceeds-arm", 2, "n"),
    "continuous_outcomes--n-below-one": ("constraint-error", 2, "n"),
    "continuous_outcomes--negative-timepoint": ("constraint-error", 2, "timepoint_weeks"),
    "continuous_outcomes--missing-locator": ("constraint-error", 2, "locator"),
    "continuous_outcomes--unknown-source": ("foreign-key", 2, "source_id"),
    "continuous_outcomes--dispersion-bounds-reversed": ("dispersion-bounds-reversed", 2, "dispersion_low"),
    "continuous_outcomes--dispersion-bounds-missing": ("dispersion-bounds-missing", 2, "dispersion_low"),
    "continuous_outcomes--dispersion-missing": ("dispersion-missing", 2, "dispersion"),
    "continuous_outcomes--missing-quote": ("extracted-field-missing", 2, "quote"),
    "continuous_outcomes--value-with-missing-status": ("value-with-missing-status", 2, "central"),
    "continuous_outcomes--bad-study-id": ("constraint-error", 2, "study_id"),
    "continuous_outcomes--unknown-unit": ("constraint-error", 2, "unit"),
    "continuous_outcomes--non-numeric-mean": ("type-error", 2, "central"),
    "continuous_outcomes--not-sorted": ("not-sorted", 3, "study_id"),
    # '0.0' and '0' are the same number: a duplicate key
    "continuous_outcomes--primary-key": (
        "primary-key", 3, "study_id, arm_id, outcome, timepoint_weeks, value_type, source_id"),
    "continuous_outcomes--ragged-row": ("ragged-row", 2, ""),
    "continuous_outcomes--duplicate-label": ("duplicate-label", 1, "arm_id"),
    "continuous_outcomes--extra-label": ("extra-label", 1, "x"),
    "continuous_outcomes--empty-file": ("empty-file", 1, ""),
    "continuous_outcomes--binary-content": ("binary-content", 3, ""),
    "continuous_outcomes--encoding-error": ("encoding-error", 2, ""),
    "continuous_outcomes--line-ending": ("line-ending", 1, ""),
    "arms--n-analysed-exceeds-randomised": ("n-analysed-exceeds-randomised", 3, "n_analysed"),
    # reported where the outcome data are, since that is what needs the arm
    "arms--no-control-arm": ("no-control-arm", 2, "study_id", "continuous_outcomes"),
    "dichotomous_outcomes--events-exceed-n": ("events-exceed-n", 2, "events"),
    "studies--exclusion-reason-missing": ("exclusion-reason-missing", 2, "exclusion_reason"),
    "studies--bad-boolean": ("type-error", 2, "included"),
    # the meaning rules of issue 14
    "adverse_events--events-exceed-arm": ("events-exceed-arm", 2, "events"),
    "adverse_events--near-duplicate-key": (
        "near-duplicate-key", 3, "study_id, arm_id, event, source_id"),
    "dichotomous_outcomes--percent-contradicts-events": ("percent-contradicts-events", 2,
                                                          "percent"),
    "studies--same-trial-two-ids": ("same-trial-two-ids", 3, "study_id"),
    "studies--year-in-future": ("year-in-future", 2, "year"),
    "studies--control-character": ("control-character", 2, "title"),
    "study_effects--ci-reversed": ("ci-reversed", 2, "ci_low"),
    "study_effects--ratio-not-positive": ("ratio-not-positive", 2, "estimate"),
    "continuous_outcomes--not-finite": ("not-finite", 2, "dispersion"),
    "continuous_outcomes--extreme-number": ("extreme-number", 2, "central"),
    "arms--integer-out-of-range": ("integer-out-of-range", 2, "n_randomised"),
}
VALID_VARIANTS = sorted(p.stem for p in DEFECTS.glob("*--valid-*.csv"))


def _with_defect(tmp_path: Path, stem: str) -> Path:
    from tests.conftest import make_package

    pkg = make_package(tmp_path)
    resource = stem.split("--")[0]
    shutil.copy(DEFECTS / f"{stem}.csv", tmp_path / "data" / f"{resource}.csv")
    return pkg


def test_every_defect_fixture_has_an_expectation() -> None:
    stems = {p.stem for p in DEFECTS.glob("*.csv")} - set(VALID_VARIANTS)
    assert stems == set(EXPECTED)


def test_synthetic_package_is_valid(synthetic_package: Path) -> None:
    report = validate_package(synthetic_package)
    assert report.problems == []


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_defect_is_reported_at_its_cell(tmp_path: Path, stem: str) -> None:
    code, line, field, *where = EXPECTED[stem]
    resource = where[0] if where else stem.split("--")[0]
    report = validate_package(_with_defect(tmp_path, stem))
    found = [(p.code, p.line, p.field) for p in report.problems
             if p.file.endswith(f"data/{resource}.csv")]
    assert (code, line, field) in found, report.problems


@pytest.mark.parametrize("stem", VALID_VARIANTS)
def test_valid_variants_pass(tmp_path: Path, stem: str) -> None:
    assert validate_package(_with_defect(tmp_path, stem)).problems == []


def test_shipped_package_is_valid() -> None:
    report = validate_package(ROOT / "datapackage.json")
    assert report.problems == []
    assert report.checked["published_results"] > 0


def test_shipped_package_passes_frictionless_cli() -> None:
    from frictionless import validate

    assert validate(str(ROOT / "datapackage.json")).valid


def test_version_must_be_semver(synthetic_package: Path) -> None:
    desc = json.loads(synthetic_package.read_text())
    desc["version"] = "1.0"
    synthetic_package.write_text(json.dumps(desc))
    codes = [p.code for p in validate_package(synthetic_package).problems]
    assert codes == ["version-not-semver"]


def test_missing_resource_file(synthetic_package: Path) -> None:
    (synthetic_package.parent / "data" / "arms.csv").unlink()
    problems = validate_package(synthetic_package).problems
    assert ("file-missing", "arms.csv") in [(p.code, Path(p.file).name) for p in problems]
    # resources pointing at arms are still checked, without that foreign key
    assert "foreign-key-skipped" in {p.code for p in problems}


def test_broken_descriptor_json(synthetic_package: Path) -> None:
    synthetic_package.write_text('{"name": "x",\n "resources": [\n')
    problems = validate_package(synthetic_package).problems
    assert [(p.code, p.line) for p in problems] == [("invalid-json", 3)]


def test_all_problems_reported_not_just_the_first(tmp_path: Path) -> None:
    pkg = _with_defect(tmp_path, "continuous_outcomes--sd-not-positive")
    shutil.copy(DEFECTS / "arms--n-analysed-exceeds-randomised.csv", tmp_path / "data" / "arms.csv")
    codes = {p.code for p in validate_package(pkg).problems}
    assert {"sd-not-positive", "n-analysed-exceeds-randomised"} <= codes


@pytest.mark.parametrize("stem", ["continuous_outcomes--binary-content",
                                  "continuous_outcomes--encoding-error",
                                  "continuous_outcomes--ragged-row",
                                  "continuous_outcomes--empty-file",
                                  "continuous_outcomes--duplicate-label",
                                  "continuous_outcomes--extra-label",
                                  "continuous_outcomes--sd-not-positive"])
@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_cli_bad_input_exit_1_no_traceback_no_writes(tmp_path: Path, stem: str, fmt: str) -> None:
    pkg = _with_defect(tmp_path, stem)
    before = tree_digest(tmp_path)
    result = CliRunner().invoke(cli, ["validate", "--package", str(pkg), "--format", fmt])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert tree_digest(tmp_path) == before
    if fmt == "json":
        items = json.loads(result.output)
        assert items and set(items[0]) == {"file", "line", "field", "code", "message"}
    if fmt == "github":
        assert result.output.startswith("::error file=")
        assert "line=" in result.output


def test_cli_valid_exit_0(synthetic_package: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", "--package", str(synthetic_package)])
    assert result.exit_code == 0
    assert result.output.startswith("valid:")


def test_cli_usage_errors_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["validate", "--package", str(tmp_path / "nope")]).exit_code == 2
    assert runner.invoke(cli, ["validate", "--format", "xml"]).exit_code == 2


def test_github_annotation_escapes_separators(tmp_path: Path) -> None:
    from mscreview.validate.problems import Report, format_github

    report = Report()
    report.add("data/a,b.csv", 4, "f", "code", "50% bad\nline")
    assert format_github(report) == "::error file=data/a%2Cb.csv,line=4,title=code%3A f::50%25 bad%0Aline"


# --------------------------------------------------------------------------- SQL and pydantic

MODEL_CODES = {"exclusion-reason-missing", "n-analysed-exceeds-randomised",
               "value-with-missing-status", "extracted-field-missing", "dispersion-missing",
               "sd-not-positive", "dispersion-bounds-missing", "dispersion-bounds-reversed",
               "unit-not-allowed", "out-of-range", "events-exceed-n", "baseline-only"}


def test_every_model_rule_is_an_sql_rule() -> None:
    """A meaning rule a pydantic model states (trial files, the API) is one validate enforces in
    SQL too: its code is compared on every fixture below, and a defect fixture names it."""
    import inspect
    import re

    from mscreview import models
    from mscreview.validate import semantic

    codes = set(re.findall(r'"([a-z]+(?:-[a-z]+)+)"', inspect.getsource(models)))
    assert codes == MODEL_CODES
    sql_rules = inspect.getsource(semantic)
    assert {c for c in codes if c not in sql_rules} == set()
    assert codes <= {code for code, *_ in EXPECTED.values()}


def _model_problems(package: Path, bad_lines: set[tuple[str, int]]) -> set[tuple[str, int, str, str]]:
    """The row problems the pydantic models find, on lines without structural problems."""
    import csv

    from mscreview import models
    from mscreview.validate.semantic import ROW_MODELS

    out = set()
    for resource, model in ROW_MODELS.items():
        path = package.parent / "data" / f"{resource}.csv"
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header, start = next(reader), reader.line_num + 1
            for record in reader:
                line, start = start, reader.line_num + 1
                if (resource, line) in bad_lines or len(record) != len(header):
                    continue
                row = getattr(models, model).model_validate(
                    {k: None if v in models.MISSING_CODES else v for k, v in zip(header, record)})
                out |= {(resource, line, f, code) for f, code, _ in row.problems()}
    return out


@pytest.mark.parametrize("stem", sorted(EXPECTED) + VALID_VARIANTS)
def test_sql_rules_and_pydantic_models_agree(tmp_path: Path, stem: str) -> None:
    package = _with_defect(tmp_path, stem)
    if stem.split("--")[1] in {"binary-content", "encoding-error", "empty-file", "line-ending",
                               "ragged-row", "duplicate-label", "extra-label"}:
        pytest.skip("the models see rows only under the schema's header")
    problems = validate_package(package).problems
    resource = lambda p: Path(p.file).stem  # noqa: E731
    bad = {(resource(p), p.line) for p in problems if p.code not in MODEL_CODES}
    ours = {(resource(p), p.line, p.field, p.code) for p in problems if p.code in MODEL_CODES}
    assert ours == _model_problems(package, bad)


def test_bidirectional_overrides_are_control_characters(synthetic_package: Path) -> None:
    sources = synthetic_package.parent / "data" / "sources.csv"
    sources.write_text(sources.read_text().replace("not evidence.", "not \u202eevidence."))
    problems = validate_package(synthetic_package).problems
    assert [(p.line, p.field, p.code) for p in problems] == [(2, "citation", "control-character")]
    assert "U+202E" in problems[0].message


def test_a_decimal_comma_gets_the_decimal_point_hint(synthetic_package: Path) -> None:
    """QA: add-trial says '12,1: use a decimal point', validate only said 'is not a number'."""
    arms = synthetic_package.parent / "data" / "arms.csv"
    lines = arms.read_text().splitlines(keepends=True)
    head = lines[0].rstrip("\n").split(",")
    cells = lines[1].rstrip("\n").split(",")
    cells[head.index("n_randomised")] = '"20,5"'
    lines[1] = ",".join(cells) + "\n"
    arms.write_text("".join(lines))
    (problem,) = [p for p in validate_package(synthetic_package).problems
                  if p.code == "type-error"]
    assert (problem.line, problem.field) == (2, "n_randomised")
    assert problem.message == "'20,5' is not a whole number: use a decimal point (20.5)"


def test_validation_never_draws_duckdbs_progress_bar(synthetic_package: Path) -> None:
    """DuckDB draws a progress bar on stdout once a query runs past 2 s (a 1M-row validation
    did, into the benchmark's pipe): it would corrupt `validate --format json`."""
    import duckdb

    con = duckdb.connect()
    assert validate_package(synthetic_package, into=con).valid
    assert con.execute("SELECT current_setting('enable_progress_bar')").fetchone() == (False,)
