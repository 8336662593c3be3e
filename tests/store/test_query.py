"""run_query: read-only statements only, refused before and by the connection."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mscreview.errors import InputError
from mscreview.store import connect_readonly, run_query


def _state(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def test_a_select_returns_columns_and_rows(synthetic_db: Path) -> None:
    columns, rows = run_query(synthetic_db, "SELECT study_id, label FROM studies")
    assert (columns, rows) == (["study_id", "label"], [("testa2020", "Testa 2020")])


@pytest.mark.parametrize("sql", [
    "DELETE FROM studies",
    "INSERT INTO sources (source_id) VALUES ('x')",
    "UPDATE studies SET label = 'x'",
    "DROP VIEW arm_pairs",
    "CREATE TABLE t AS SELECT 1",
    "COPY studies TO '/tmp/mscreview-should-not-exist.csv'",
    "ATTACH ':memory:' AS other",
    "SET threads = 1",
    "INSTALL httpfs",
    "SELECT 1; DELETE FROM studies",
    "EXPLAIN ANALYZE DELETE FROM studies",
])
def test_write_statements_are_refused_and_the_file_is_unchanged(synthetic_db: Path,
                                                               sql: str) -> None:
    before = _state(synthetic_db)
    with pytest.raises(InputError, match="refused|exactly one"):
        run_query(synthetic_db, sql)
    assert _state(synthetic_db) == before
    assert run_query(synthetic_db, "SELECT count(*) FROM studies")[1] == [(1,)]


def test_the_connection_itself_is_read_only_and_closed_to_files(synthetic_db: Path) -> None:
    con = connect_readonly(synthetic_db)
    with pytest.raises(Exception, match="read-only|read only"):
        con.execute("DELETE FROM studies")
    with pytest.raises(Exception, match="disabled"):
        con.execute("SELECT * FROM read_csv('/etc/hostname')")


def test_a_bad_query_is_an_input_error(synthetic_db: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="parse"):
        run_query(synthetic_db, "SELEC 1")
    with pytest.raises(InputError, match="query failed"):
        run_query(synthetic_db, "SELECT * FROM no_such_table")
    with pytest.raises(InputError, match="not found"):
        run_query(tmp_path / "missing.duckdb", "SELECT 1")
