"""``mscreview sql`` prints numbers as a person typed them: no binary float noise, no NaN in JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mscreview.cli import cli
from mscreview.pipeline.database import format_rows
from tests.conftest import make_package

NOISY = ("SELECT 0.1::DOUBLE + 0.2 AS a, 1.1::DOUBLE * 1.1 AS b, 1::DOUBLE / 3 AS third, "
         "7::DOUBLE AS whole, 'x' AS s")


@pytest.fixture(scope="module")
def db_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("sqlfmt")
    out = tmp / "x.duckdb"
    result = CliRunner().invoke(cli, ["db", "--package", str(make_package(tmp)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _sql(db_file: Path, fmt: str) -> str:
    result = CliRunner().invoke(cli, ["sql", "--db", str(db_file), "--format", fmt, NOISY])
    assert result.exit_code == 0, result.output
    return result.output


def test_text_table_has_no_float_noise(db_file: Path) -> None:
    row = _sql(db_file, "table").splitlines()[2].split()
    assert row == ["0.3", "1.21", "0.333333333333333", "7.0", "x"]


def test_csv_has_no_float_noise(db_file: Path) -> None:
    assert _sql(db_file, "csv").splitlines()[1] == "0.3,1.21,0.333333333333333,7.0,x"


def test_json_has_no_float_noise(db_file: Path) -> None:
    assert json.loads(_sql(db_file, "json")) == [
        {"a": 0.3, "b": 1.21, "third": 0.333333333333333, "whole": 7.0, "s": "x"}]


@pytest.mark.parametrize("value", [2.8000000000000003, 0.1 + 0.2, 1e-20 * 3, 123456.78901])
def test_every_format_prints_the_short_form(value: float) -> None:
    short = repr(float(f"{value:.15g}"))
    assert short != repr(value) or value == 123456.78901
    assert format_rows(["v"], [(value,)], "table").splitlines()[2].strip() == short
    assert format_rows(["v"], [(value,)], "csv").splitlines()[1] == short
    assert json.loads(format_rows(["v"], [(value,)], "json"))[0]["v"] == float(short)


def test_json_has_no_nan_or_infinity() -> None:
    text = format_rows(["v", "w"], [(float("nan"), float("inf"))], "json")
    assert json.loads(text) == [{"v": None, "w": None}]
    assert "NaN" not in text and "Infinity" not in text
