"""add-trial: a complete trial lands in every resource; a broken one changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mscreview.cli import cli
from mscreview.validate import validate_package
from tests.conftest import FIXTURES, ROOT, tree_digest

TRIALS = FIXTURES / "trials"


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """A copy of the shipped package (real data) to add synthetic trials to."""
    for name in ("datapackage.json",):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    return tmp_path / "datapackage.json"


def test_complete_trial_is_added_to_every_resource(package_copy: Path) -> None:
    result = CliRunner().invoke(cli, ["add-trial", str(TRIALS / "complete.yaml"),
                                      "--package", str(package_copy)])
    assert result.exit_code == 0, result.output
    assert validate_package(package_copy).problems == []
    data = package_copy.parent / "data"
    for name in ("studies", "sources", "arms", "continuous_outcomes", "dichotomous_outcomes",
                 "adverse_events", "risk_of_bias"):
        assert "zeta2030" in (data / f"{name}.csv").read_text(), name


def test_readding_a_study_is_refused(package_copy: Path) -> None:
    runner = CliRunner()
    args = ["add-trial", str(TRIALS / "complete.yaml"), "--package", str(package_copy)]
    assert runner.invoke(cli, args).exit_code == 0
    before = tree_digest(package_copy.parent)
    again = runner.invoke(cli, args)
    assert again.exit_code == 1
    assert "study-exists" in again.output
    assert tree_digest(package_copy.parent) == before


EXPECTED = {
    "broken-sd-not-positive": ("continuous_outcomes[1].dispersion", "sd-not-positive"),
    "broken-unknown-field": ("arms[0].sample_size", "unknown-field"),
    "broken-unknown-source": ("continuous_outcomes[0].source_id", "foreign-key"),
    "broken-missing-study": ("study", "missing-section"),
    "broken-events-exceed-n": ("dichotomous_outcomes[0].events", "events-exceed-n"),
    "broken-bad-study-id": ("study.study_id", "constraint-error"),
    "broken-syntax": (None, None),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_trial_leaves_package_byte_for_byte_unchanged(package_copy: Path, name: str) -> None:
    before = tree_digest(package_copy.parent)
    result = CliRunner().invoke(cli, ["add-trial", str(TRIALS / f"{name}.yaml"),
                                      "--package", str(package_copy)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert tree_digest(package_copy.parent) == before
    field, code = EXPECTED[name]
    if field is None:
        assert "not valid" in result.output
    else:
        assert f"{field}: " in result.output and f"[{code}]" in result.output, result.output


def test_every_broken_fixture_has_an_expectation() -> None:
    assert {p.stem for p in TRIALS.glob("broken-*.yaml")} == set(EXPECTED)


def test_template_is_printed_and_names_every_section() -> None:
    result = CliRunner().invoke(cli, ["add-trial", "--template"])
    assert result.exit_code == 0
    for section in ("study:", "sources:", "arms:", "continuous_outcomes:", "dichotomous_outcomes:",
                    "adverse_events:", "risk_of_bias:"):
        assert section in result.output


def test_missing_trial_file_is_a_usage_error(package_copy: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["add-trial", str(tmp_path / "nope.yaml"),
                                      "--package", str(package_copy)])
    assert result.exit_code == 2
