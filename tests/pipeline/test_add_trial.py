"""add-trial: a complete trial lands in every resource; a broken one changes nothing.

Each broken fixture is named after the defect it reproduces (several from issue 10) and is
expected to be refused with the trial file's line and field.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mscreview.cli import cli
from mscreview.validate import validate_package
from mscreview.validate.reading import display_path
from tests.conftest import FIXTURES, ROOT, tree_digest

TRIALS = FIXTURES / "trials"
#: How the synthetic fixture trial was found, for packages that record their search (PRISMA).
SCREENING = """
screening:
  round: update-2026-11
  found_in: trial_registry
  source_name: ClinicalTrials.gov
  reason: SYNTHETIC fixture trial (not evidence).
"""


def screened_trial(tmp_path: Path) -> Path:
    """complete.yaml with a screening record (the shipped package checks PRISMA counts)."""
    path = tmp_path / "zeta2030.yaml"
    path.write_text((TRIALS / "complete.yaml").read_text() + SCREENING)
    return path


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """A copy of the shipped package (real data) to add synthetic trials to."""
    for name in ("datapackage.json",):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    return tmp_path / "datapackage.json"


def test_complete_trial_is_added_to_every_resource(package_copy: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["add-trial", str(screened_trial(tmp_path)),
                                      "--package", str(package_copy)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("added zeta2030: rows per resource: ")
    assert "candidates 1" in result.output  # no '1 candidates'
    assert validate_package(package_copy).problems == []
    data = package_copy.parent / "data"
    for name in ("studies", "sources", "arms", "continuous_outcomes", "dichotomous_outcomes",
                 "adverse_events", "risk_of_bias"):
        assert "zeta2030" in (data / f"{name}.csv").read_text(), name


def test_readding_a_study_is_refused(package_copy: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["add-trial", str(screened_trial(tmp_path)), "--package", str(package_copy)]
    assert runner.invoke(cli, args).exit_code == 0
    before = tree_digest(package_copy.parent)
    again = runner.invoke(cli, args)
    assert again.exit_code == 1
    assert "study-exists" in again.output and "--update" in again.output
    assert tree_digest(package_copy.parent) == before


#: fixture -> the (line, field, code) of every problem it must get (line 0: the whole file).
EXPECTED: dict[str, list[tuple[int, str, str]]] = {
    "broken-sd-not-positive": [(74, "continuous_outcomes[1].dispersion", "sd-not-positive")],
    "broken-unknown-field": [(37, "arms[0].sample_size", "unknown-field")],
    "broken-unknown-source": [(61, "continuous_outcomes[0].source_id", "foreign-key")],
    "broken-missing-study": [(0, "study", "missing-section")],
    "broken-events-exceed-n": [(118, "dichotomous_outcomes[0].events", "events-exceed-n")],
    "broken-bad-study-id": [(3, "study.study_id", "constraint-error")],
    # issue 10: template placeholders were accepted
    "broken-placeholder": [(7, "study.journal", "placeholder"),
                           (15, "arms[0].locator", "placeholder")],
    # issue 10: `central: 12,1` in a {...} row silently became 12 plus a bogus key
    "broken-decimal-comma": [(5, "continuous_outcomes[0].central", "decimal-comma")],
    # issue 10: YAML 1.1 typing (010 -> 8, NO -> false, 1:30 -> 90)
    "broken-yaml11-forms": [(9, "study.infusions", "number-form"),
                            (10, "study.follow_up_months", "number-form"),
                            (11, "study.included", "boolean-form")],
    # issue 10: duplicate keys and nested values were accepted
    "broken-duplicate-key": [(18, "arms[0].n_randomised", "duplicate-key")],
    "broken-nested-value": [(17, "arms[0].n_randomised", "not-a-scalar")],
    # issue 10: a bai2014 row went in through a smith2024 file
    "broken-foreign-study": [(15, "arms[1].study_id", "foreign-study")],
    # a misspelt enum value and field get the nearest valid word
    "broken-misspelt-enum": [(16, "continuous_outcomes[0].outcome", "constraint-error"),
                             (18, "continuous_outcomes[0].value_typ", "unknown-field")],
}
#: fixtures refused as a whole file: (line, words of the message)
FILE_ERRORS = {
    "broken-syntax": (5, "not valid YAML"),
    # issue 10: an alias bomb grew to 4 GB
    "broken-alias-bomb": (14, "aliases (*name) expand to more than 1000 values"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED) + sorted(FILE_ERRORS))
def test_broken_trial_leaves_package_byte_for_byte_unchanged(synthetic_package: Path,
                                                             name: str) -> None:
    before = tree_digest(synthetic_package.parent)
    path = TRIALS / f"{name}.yaml"
    result = CliRunner().invoke(cli, ["add-trial", str(path), "--package", str(synthetic_package)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert tree_digest(synthetic_package.parent) == before
    shown = display_path(path)
    if name in FILE_ERRORS:
        line, words = FILE_ERRORS[name]
        assert f"{shown}:{line}: " in result.output and words in result.output, result.output
        return
    for line, field, code in EXPECTED[name]:
        where = f"{shown}:{line}: " if line else f"{shown}: "
        assert f"{where}{field}: " in result.output and f"[{code}]" in result.output, result.output


def test_misspelt_words_get_the_nearest_valid_one(synthetic_package: Path) -> None:
    result = CliRunner().invoke(cli, ["add-trial", str(TRIALS / "broken-misspelt-enum.yaml"),
                                      "--package", str(synthetic_package)])
    assert "(did you mean MELD?)" in result.output
    assert "(did you mean value_type?)" in result.output


def test_decimal_comma_names_the_field_and_the_comma(synthetic_package: Path) -> None:
    result = CliRunner().invoke(cli, ["add-trial", str(TRIALS / "broken-decimal-comma.yaml"),
                                      "--package", str(synthetic_package)])
    assert "central: 12,1: use a decimal point (12.1)" in result.output


def test_yaml_1_1_forms_in_text_fields_are_kept_as_written(synthetic_package: Path,
                                                             tmp_path: Path) -> None:
    """Norway stays NO, 010 stays 010, 1:30 stays 1:30: text is what the contributor typed."""
    trial = (TRIALS / "complete.yaml").read_text().replace(
        "  country: Nowhere\n", "  country: NO\n  age: 010\n  period: 1:30\n  stage: yes\n")
    path = tmp_path / "zeta2030.yaml"
    path.write_text(trial)
    result = CliRunner().invoke(cli, ["add-trial", str(path), "--package", str(synthetic_package)])
    assert result.exit_code == 0, result.output
    studies = (synthetic_package.parent / "data" / "studies.csv").read_text()
    row = next(line for line in studies.splitlines() if line.startswith("zeta2030,"))
    assert ",NO,1:30," in row and ",yes,HBV,010," in row, row


def test_file_over_one_megabyte_is_refused(synthetic_package: Path, tmp_path: Path) -> None:
    """Issue 10: a 50 MB trial file was accepted."""
    path = tmp_path / "big.yaml"
    path.write_text((TRIALS / "complete.yaml").read_text().replace(
        "  country: Nowhere", "  notes: " + "x" * 1_100_000))
    before = tree_digest(synthetic_package.parent)
    result = CliRunner().invoke(cli, ["add-trial", str(path), "--package", str(synthetic_package)])
    assert result.exit_code == 1 and "larger than 1 MB" in result.output
    assert tree_digest(synthetic_package.parent) == before


def test_classic_billion_laughs_is_refused_without_expanding(synthetic_package: Path,
                                                             tmp_path: Path) -> None:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 9):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    lines.append("arms: [*l8]")
    path = tmp_path / "lol.yaml"
    path.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(cli, ["add-trial", str(path), "--package", str(synthetic_package)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "unknown section 'l0'" in result.output


def test_json_and_toml_trial_files_report_lines(synthetic_package: Path, tmp_path: Path) -> None:
    json_path = tmp_path / "t.json"
    json_path.write_text('{"study": {"study_id": "zeta2030",\n\t"journal": "<journal>"}}')
    toml_path = tmp_path / "t.toml"
    toml_path.write_text('[study]\nstudy_id = "zeta2030"\n\n[[arms]]\narm_id = "control"\n'
                         'n_randomised = "12,1"\n')
    for path, line, field in ((json_path, 2, "study.journal"),
                              (toml_path, 6, "arms[0].n_randomised")):
        result = CliRunner().invoke(cli, ["add-trial", str(path), "--package",
                                          str(synthetic_package)])
        assert result.exit_code == 1
        assert f"{display_path(path)}:{line}: {field}: " in result.output, result.output


def test_every_broken_fixture_has_an_expectation() -> None:
    assert {p.stem for p in TRIALS.glob("broken-*.yaml")} == set(EXPECTED) | set(FILE_ERRORS)


def test_template_is_printed_and_names_every_section() -> None:
    result = CliRunner().invoke(cli, ["add-trial", "--template"])
    assert result.exit_code == 0
    for section in ("study:", "screening:", "sources:", "arms:", "continuous_outcomes:",
                    "dichotomous_outcomes:", "adverse_events:", "risk_of_bias:"):
        assert section in result.output


def test_missing_trial_file_is_a_usage_error(package_copy: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["add-trial", str(tmp_path / "nope.yaml"),
                                      "--package", str(package_copy)])
    assert result.exit_code == 2
