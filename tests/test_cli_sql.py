"""``mscreview sql`` and ``export`` (issue 14, item 6): never stale, bounded, safe to print and write.

Each test is named after the defect it guards against. Synthetic packages only.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from mscreview import store
from mscreview.cli import cli
from mscreview.errors import InputError
from mscreview.pipeline.build import build
from tests.conftest import ROOT, make_package


def _sql(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["sql", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def package_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh clone: the synthetic package, no database, as the working directory."""
    make_package(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _relabel(root: Path, label: str) -> None:
    studies = root / "data" / "studies.csv"
    studies.write_text(studies.read_text().replace("Testa 2020", label))


def test_sql_works_on_a_fresh_clone(package_dir: Path) -> None:
    code, out, err = _sql("--format", "csv", "SELECT label FROM studies")
    assert code == 0, err
    assert out == "label\nTesta 2020\n"
    assert "building mscreview.duckdb (first use)" in err
    assert (package_dir / "mscreview.duckdb").exists()
    code, out, err = _sql("--format", "csv", "SELECT label FROM studies")  # reused, not rebuilt
    assert (code, out, err) == (0, "label\nTesta 2020\n", "")


def test_sql_never_answers_from_stale_data(package_dir: Path) -> None:
    """``sql`` answered from a stale database after data/ changed, with exit 0 and no warning."""
    assert _sql("SELECT 1")[0] == 0
    _relabel(package_dir, "Testa 2021")
    code, out, err = _sql("--format", "csv", "SELECT label FROM studies")
    assert code == 0, err
    assert out == "label\nTesta 2021\n"
    assert "the package changed since it was built" in err


def test_sql_never_answers_from_an_invalid_package(package_dir: Path) -> None:
    assert _sql("SELECT 1")[0] == 0
    arms = package_dir / "data" / "arms.csv"
    arms.write_text(arms.read_text().replace(",20,19,", ",20,21,"))
    code, out, err = _sql("SELECT count(*) FROM arms")
    assert code == 1 and out == ""
    assert "n-analysed-exceeds-randomised" in err


def test_sql_reuses_the_database_build_wrote(package_dir: Path) -> None:
    build(package_dir / "datapackage.json", package_dir / "reports", quiet=True)
    code, out, err = _sql("--format", "csv", "SELECT label FROM studies")
    assert (code, out, err) == (0, "label\nTesta 2020\n", "")
    assert not (package_dir / "mscreview.duckdb").exists()
    _relabel(package_dir, "Testa 2022")  # the report's database is stale now: not used
    code, out, err = _sql("--format", "csv", "SELECT label FROM studies")
    assert out == "label\nTesta 2022\n" and "building mscreview.duckdb" in err


def test_sql_checks_a_named_database_against_the_package_it_was_built_from(
        package_dir: Path, tmp_path_factory: pytest.TempPathFactory,
        monkeypatch: pytest.MonkeyPatch) -> None:
    db = package_dir / "elsewhere.duckdb"
    assert CliRunner().invoke(cli, ["db", "--out", str(db)]).exit_code == 0
    _relabel(package_dir, "Testa 2023")
    monkeypatch.chdir(tmp_path_factory.mktemp("other"))  # no package here
    code, out, err = _sql("--db", str(db), "--format", "csv", "SELECT label FROM studies")
    assert code == 0, err
    assert out == "label\nTesta 2023\n"


def test_sql_never_overwrites_a_database_it_did_not_build(package_dir: Path) -> None:
    foreign = package_dir / "mscreview.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE mine AS SELECT 42 AS answer")
    con.close()
    before = foreign.read_bytes()
    code, _, err = _sql("SELECT 1")
    assert code == 1
    assert "not a database built by mscreview" in err
    assert foreign.read_bytes() == before


def test_sql_cross_join_stops_at_the_timeout(package_dir: Path) -> None:
    """A cross join ran until killed: there was no timeout."""
    started = time.monotonic()
    code, out, err = _sql("--timeout", "0.5",
                          "SELECT count(*) FROM range(1000000000) a, range(1000000000) b")
    assert code == 1 and out == ""
    assert err.splitlines()[-1] == (
        "error: query stopped after 0.5 s (--timeout): filter or aggregate it, or allow more time")
    assert time.monotonic() - started < 60


def test_sql_caps_the_rows_it_shows(package_dir: Path) -> None:
    """There was no result cap: a huge result was fetched whole."""
    code, out, _ = _sql("--max-rows", "3", "SELECT range AS i FROM range(1000000000000)")
    assert code == 0
    assert out.splitlines()[2:] == ["0", "1", "2",
                                    "(first 3 rows; more rows were cut: raise --max-rows)"]
    code, out, err = _sql("--max-rows", "3", "--format", "csv", "SELECT * FROM range(10)")
    assert out == "range\n0\n1\n2\n"
    assert "only the first 3 rows are shown" in err
    code, out, _ = _sql("--max-rows", "0", "--format", "csv", "SELECT * FROM range(1001)")
    assert len(out.splitlines()) == 1002


def test_sql_out_of_memory_is_one_line(package_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "QUERY_MEMORY_LIMIT", "64MB")
    code, out, err = _sql("--timeout", "120",
                          "SELECT list(repeat('x', 1000)) FROM range(10000000)")
    assert code == 1 and out == ""
    assert err.splitlines()[-1].startswith("error: query needs more than the 64MB memory limit")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_sql_interrupt_is_one_line(package_dir: Path, sig: signal.Signals) -> None:
    assert _sql("SELECT 1")[0] == 0  # the database exists: the query starts at once
    proc = subprocess.Popen(
        [sys.executable, "-c", "import signal; signal.signal(signal.SIGINT, "
         "signal.default_int_handler)\nfrom mscreview.cli import main; main()",
         "sql", "--timeout", "0", "SELECT count(*) FROM range(1000000000000) a"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    time.sleep(3)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert (proc.returncode, out, err) == (130, "", "error: interrupted\n")


ANSI = "chr(27) || '[2J' || chr(27) || ']0;pwned' || chr(7) || chr(155) || 'x' || chr(8238) || 'y'"


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_sql_escapes_ansi_and_bidi_controls(package_dir: Path, fmt: str) -> None:
    """ANSI and bidi control characters were printed raw by ``sql``."""
    code, out, _ = _sql("--format", fmt, f'SELECT {ANSI} AS "a{chr(27)}b", 1 AS n')
    assert code == 0
    assert not any(ch in out for ch in ("\x1b", "\x07", "\x9b", "\u202e"))
    if fmt == "json":  # escaped losslessly
        assert json.loads(out) == [{"a\x1bb": "\x1b[2J\x1b]0;pwned\x07\x9bx\u202ey", "n": 1}]
    else:
        assert "\\x1b[2J\\x1b]0;pwned\\x07\\x9bx\\u202ey" in out


def test_error_messages_escape_control_characters(package_dir: Path) -> None:
    code, _, err = _sql("SELECT * FROM \"no\x1b[31m_table\"")
    assert code == 1
    assert "\x1b" not in err and "no\\x1b[31m_table" in err


def test_a_multi_line_error_keeps_its_lines(package_dir: Path) -> None:
    """QA: DuckDB's caret line printed as a literal '\\n' on one line."""
    code, _, err = _sql("SELEC 1")
    assert code == 1 and "\\n" not in err
    lines = err.splitlines()
    assert any(line.startswith("error: cannot parse the query") for line in lines)
    assert "LINE 1: SELEC 1" in err
    assert any(line.strip() == "^^^^^" for line in lines)


# --------------------------------------------------------------------------- export


def _crafted_db(path: Path) -> Path:
    con = duckdb.connect(str(path))
    con.execute("CREATE VIEW studies AS SELECT * FROM read_csv('/etc/passwd', header = false)")
    con.execute('CREATE TABLE "../../escaped" AS SELECT 1 AS x')
    con.execute('CREATE TABLE "/tmp/absolute" AS SELECT 1 AS x')
    con.execute("CREATE TABLE arms AS SELECT 1 AS x")
    con.close()
    return path


def test_export_crafted_db_cannot_export_etc_passwd(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """``export`` with a crafted --db exported /etc/passwd through a view."""
    monkeypatch.chdir(tmp_path)  # no package here: the database is used as it is
    db = _crafted_db(tmp_path / "crafted.duckdb")
    out = tmp_path / "pq"
    result = CliRunner().invoke(cli, ["export", "--db", str(db), "--parquet", str(out)])
    assert result.exit_code == 1
    assert "studies: cannot be exported" in result.stderr and "disabled" in result.stderr
    assert "root:" not in result.output
    assert sorted(p.name for p in out.iterdir()) == [".mscreview.lock"]  # all or nothing


def test_export_dotdot_table_name_writes_nothing_outside(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``../`` table name wrote outside the target folder."""
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "crafted.duckdb"
    con = duckdb.connect(str(db))
    con.execute('CREATE TABLE "../../escaped" AS SELECT 1 AS x')
    con.execute("CREATE TABLE arms AS SELECT 1 AS x")
    con.close()
    out = tmp_path / "a" / "b" / "pq"
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    result = CliRunner().invoke(cli, ["export", "--db", str(db), "--parquet", str(out)])
    assert result.exit_code == 0, result.output
    after = sorted(str(p) for p in tmp_path.rglob("*"))
    assert set(after) - set(before) == {str(tmp_path / "a"), str(tmp_path / "a" / "b"), str(out),
                                        str(out / ".mscreview.lock"), str(out / "arms.parquet")}
    with pytest.raises(InputError, match="not a plain table name"):
        store.copy_parquet(duckdb.connect(), ["../../escaped"], out)


def test_export_writes_only_the_packages_own_relations(package_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["export", "--parquet", "pq"])
    assert result.exit_code == 0, result.output
    names = {p.stem for p in (package_dir / "pq").glob("*.parquet")}
    assert {"studies", "arms", "arm_pairs", store.T_TABLE} <= names
    assert store.INFO_TABLE not in names
    assert {n for n in names - store.own_relations(package_dir / "datapackage.json")
            if not n.startswith("ref_")} == set()


def test_export_never_writes_through_a_symlink(package_dir: Path, tmp_path: Path) -> None:
    out = package_dir / "pq"
    out.mkdir()
    victim = tmp_path.parent / f"{tmp_path.name}-victim.txt"
    victim.write_text("keep")
    try:
        (out / "studies.parquet").symlink_to(victim)
        result = CliRunner().invoke(cli, ["export", "--parquet", str(out)])
        assert result.exit_code == 0, result.output
        assert victim.read_text() == "keep"
        assert not (out / "studies.parquet").is_symlink()
    finally:
        victim.unlink()


def test_db_never_overwrites_a_file_it_did_not_build(package_dir: Path) -> None:
    foreign = package_dir / "notes.duckdb"
    foreign.write_bytes(b"not a database")
    result = CliRunner().invoke(cli, ["db", "--out", str(foreign)])
    assert result.exit_code == 1
    assert "is not a database built by mscreview" in result.stderr
    assert foreign.read_bytes() == b"not a database"
    ours = package_dir / "ours.duckdb"
    for _ in range(2):  # its own database is rebuilt in place
        assert CliRunner().invoke(cli, ["db", "--out", str(ours)]).exit_code == 0
    assert store.build_record(ours)["source_hash"] == store.source_hash(package_dir)
