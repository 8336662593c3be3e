"""mscreview db / sql / export / diff / release through the command line."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mscreview.cli import cli
from tests.conftest import ROOT, make_package


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    pkg = make_package(tmp_path)
    out = tmp_path / "x.duckdb"
    result = CliRunner().invoke(cli, ["db", "--package", str(pkg), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_sql_formats(db_file: Path) -> None:
    runner = CliRunner()
    q = "SELECT study_id, label FROM studies"
    table = runner.invoke(cli, ["sql", "--db", str(db_file), q])
    assert table.exit_code == 0
    assert table.output.splitlines()[0].split() == ["study_id", "label"]
    assert "testa2020" in table.output and "(1 row)" in table.output
    csv_out = runner.invoke(cli, ["sql", "--db", str(db_file), "--format", "csv", q])
    assert csv_out.output == "study_id,label\ntesta2020,Testa 2020\n"
    js = runner.invoke(cli, ["sql", "--db", str(db_file), "--format", "json", q])
    assert json.loads(js.output) == [{"study_id": "testa2020", "label": "Testa 2020"}]


@pytest.mark.parametrize("statement", [
    "DELETE FROM studies",
    "DROP TABLE studies",
    "INSERT INTO studies (study_id) VALUES ('x')",
    "CREATE TABLE t AS SELECT 1",
    "COPY studies TO 'out.csv'",
    "SELECT 1; DELETE FROM studies",
])
def test_sql_refuses_writes_and_changes_nothing(db_file: Path, statement: str) -> None:
    before = hashlib.sha256(db_file.read_bytes()).hexdigest()
    result = CliRunner().invoke(cli, ["sql", "--db", str(db_file), statement])
    assert result.exit_code == 1
    assert "refused" in result.output or "only" in result.output
    assert hashlib.sha256(db_file.read_bytes()).hexdigest() == before
    count = CliRunner().invoke(cli, ["sql", "--db", str(db_file), "--format", "csv",
                                     "SELECT count(*) AS n FROM studies"])
    assert count.output == "n\n1\n"


def test_sql_without_query_explains_the_shell(db_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    result = CliRunner().invoke(cli, ["sql", "--db", str(db_file)])
    assert result.exit_code == 0
    assert "duckdb -readonly" in result.output


def test_export_parquet(db_file: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["export", "--db", str(db_file), "--parquet",
                                      str(tmp_path / "pq")])
    assert result.exit_code == 0, result.output
    names = {p.stem for p in (tmp_path / "pq").glob("*.parquet")}
    assert {"studies", "continuous_outcomes", "arm_pairs", "missing_values"} <= names


def test_db_refuses_an_invalid_package(tmp_path: Path) -> None:
    pkg = make_package(tmp_path)
    arms = tmp_path / "data" / "arms.csv"
    arms.write_text(arms.read_text().replace(",20,19,", ",20,21,"))
    out = tmp_path / "x.duckdb"
    result = CliRunner().invoke(cli, ["db", "--package", str(pkg), "--out", str(out)])
    assert result.exit_code == 1
    assert "n-analysed-exceeds-randomised" in result.output
    assert not out.exists()


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for name, command in cli.commands.items():
        assert command.help and "Example:" in command.help, name
        assert runner.invoke(cli, [name, "--help"]).exit_code == 0


def test_release_bumps_version_changelog_and_keeps_results(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    make_package(tmp_path)
    (tmp_path / "CHANGELOG.md").write_text(
        "# Changelog\n\n## [Unreleased]\n### Data\n- synthetic change\n\n## [0.1.0] - 2026-01-01\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    result = CliRunner().invoke(cli, ["release", "minor"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "datapackage.json").read_text())["version"] == "0.2.0"
    log = (tmp_path / "CHANGELOG.md").read_text()
    assert "## [Unreleased]\n\n## [0.2.0] - 2023-11-14\n### Data\n- synthetic change" in log
    kept = tmp_path / "reports" / "versions" / "0.2.0"
    frozen = json.loads((kept / "datapackage.json").read_text())
    arms = next(r for r in frozen["resources"] if r["name"] == "arms")
    data = (tmp_path / "data" / "arms.csv").read_bytes()
    assert arms["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
    assert arms["bytes"] == len(data)
    assert json.loads((kept / "results.json").read_text())["data_version"] == "0.2.0"
    # nothing left to release: refused, nothing changes
    again = CliRunner().invoke(cli, ["release", "patch"])
    assert again.exit_code == 1
    assert json.loads((tmp_path / "datapackage.json").read_text())["version"] == "0.2.0"


def test_frozen_release_descriptor_passes_frictionless(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from frictionless import validate

    from mscreview.pipeline.release import keep_version

    make_package(tmp_path)
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "results.json").write_text("{}")
    kept = keep_version(tmp_path, "0.1.0")
    # the frozen descriptor, placed beside the data, validates hashes and sizes
    shutil.copy(kept / "datapackage.json", tmp_path / "frozen.json")
    assert validate(str(tmp_path / "frozen.json")).valid


def test_shipped_package_version_matches_changelog() -> None:
    version = json.loads((ROOT / "datapackage.json").read_text())["version"]
    assert f"## [{version}]" in (ROOT / "CHANGELOG.md").read_text()
