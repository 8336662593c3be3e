"""Building the database: tables typed from the Table Schemas, loads, views, atomic writes."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from mscreview.errors import InputError
from mscreview.store import (
    INFO_TABLE,
    STORAGE_VERSION,
    build_database,
    declared_columns,
    export_parquet,
    sql_files,
    view_columns,
)
from tests.conftest import ROOT


def _resources(package: Path) -> list[tuple[str, Path, dict]]:
    descriptor = json.loads(package.read_text())
    return [(r["name"], package.parent / r["path"],
             json.loads((package.parent / r["schema"]).read_text()))
            for r in descriptor["resources"]]


def test_every_view_returns_its_declared_columns(multi_db: Path) -> None:
    actual = view_columns(multi_db)
    declared = dict(declared_columns(p) for p in sql_files())
    assert sorted(actual) == sorted(declared)
    for view, columns in declared.items():
        assert [c for c, _ in actual[view]] == columns, view
    con = duckdb.connect(str(multi_db), read_only=True)
    for view in declared:
        con.execute(f"SELECT * FROM {view}").fetchall()


def test_table_row_counts_match_the_csvs(synthetic_package: Path, synthetic_db: Path) -> None:
    con = duckdb.connect(str(synthetic_db), read_only=True)
    for name, path, _ in _resources(synthetic_package):
        with path.open(newline="") as handle:
            expected = sum(1 for _ in csv.reader(handle)) - 1
        assert con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] == expected, name


def _columns(db: Path, table: str) -> dict[str, tuple[str, bool]]:
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute(
        "SELECT column_name, data_type, is_nullable FROM duckdb_columns() "
        "WHERE table_name = ?", [table]).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def _primary_key(db: Path, table: str) -> list[str]:
    con = duckdb.connect(str(db), read_only=True)
    row = con.execute(
        "SELECT constraint_column_names FROM duckdb_constraints() "
        "WHERE table_name = ? AND constraint_type = 'PRIMARY KEY'", [table]).fetchone()
    return list(row[0]) if row else []


TYPES = {"string": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN",
         "date": "DATE"}


def test_types_not_null_and_keys_follow_the_schemas(synthetic_package: Path,
                                                    synthetic_db: Path) -> None:
    for name, _, schema in _resources(synthetic_package):
        columns = _columns(synthetic_db, name)
        assert list(columns) == [f["name"] for f in schema["fields"]]
        for field in schema["fields"]:
            required = field.get("constraints", {}).get("required", False)
            in_key = field["name"] in schema.get("primaryKey", [])
            assert columns[field["name"]] == (TYPES[field["type"]], not (required or in_key))
        assert _primary_key(synthetic_db, name) == schema.get("primaryKey", [])


def test_a_changed_schema_changes_the_table(synthetic_package: Path, tmp_path: Path) -> None:
    path = tmp_path / "schemas" / "arms.json"
    schema = json.loads(path.read_text())
    for field in schema["fields"]:
        if field["name"] == "n_randomised":
            field["type"] = "number"
        if field["name"] == "notes":
            field.setdefault("constraints", {})["required"] = False
        if field["name"] == "quote":
            field.setdefault("constraints", {})["required"] = True
    schema["primaryKey"] = ["study_id", "arm_id", "role"]
    path.write_text(json.dumps(schema))
    db = build_database(synthetic_package, tmp_path / "changed.duckdb")
    columns = _columns(db, "arms")
    assert columns["n_randomised"] == ("DOUBLE", True)
    assert columns["quote"] == ("VARCHAR", False)
    assert _primary_key(db, "arms") == ["study_id", "arm_id", "role"]


def test_missing_value_codes_load_as_null(synthetic_package: Path, tmp_path: Path) -> None:
    studies = tmp_path / "data" / "studies.csv"
    text = studies.read_text().replace("rct,cirrhosis,,", "rct,cirrhosis,NR,", 1)
    studies.write_text(text.replace(",true,,,full_text", ",true,NA,NYE,full_text", 1))
    db = build_database(synthetic_package, tmp_path / "nulls.duckdb")
    con = duckdb.connect(str(db), read_only=True)
    row = con.execute("SELECT stage, exclusion_reason, overlap_group, included FROM studies"
                      ).fetchone()
    assert row == (None, None, None, True)


def test_database_uses_the_compatible_storage_version(synthetic_db: Path) -> None:
    con = duckdb.connect()
    con.execute(f"ATTACH '{synthetic_db}' AS db (READ_ONLY)")
    tags = con.execute("SELECT tags FROM duckdb_databases() WHERE database_name = 'db'").fetchone()
    assert tags[0]["storage_version"].startswith(STORAGE_VERSION)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_failed_build_leaves_nothing_behind(synthetic_package: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "review.duckdb"
    build_database(synthetic_package, out)
    before = _digest(out)
    arms = tmp_path / "data" / "arms.csv"
    arms.write_text(arms.read_text() + "testa2020,msc,experimental,duplicate key,1,1,"
                    "extracted,fixture-article,T1,x,\n")
    with pytest.raises(InputError, match="arms"):
        build_database(synthetic_package, out)
    assert _digest(out) == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["review.duckdb"]


def test_a_header_that_differs_from_the_schema_is_refused(synthetic_package: Path,
                                                         tmp_path: Path) -> None:
    arms = tmp_path / "data" / "arms.csv"
    lines = arms.read_text().splitlines(keepends=True)
    arms.write_text(lines[0].replace("n_randomised,n_analysed", "n_analysed,n_randomised")
                    + "".join(lines[1:]))
    with pytest.raises(InputError, match="header"):
        build_database(synthetic_package, tmp_path / "x.duckdb")
    assert not (tmp_path / "x.duckdb").exists()


def test_export_parquet_writes_every_table_and_view(synthetic_db: Path, tmp_path: Path) -> None:
    written = export_parquet(synthetic_db, tmp_path / "parquet")
    con = duckdb.connect(str(synthetic_db), read_only=True)
    names = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views() "
        "WHERE NOT internal").fetchall()}
    assert {p.stem for p in written} == names - {INFO_TABLE}  # bookkeeping is not exported
    check = duckdb.connect()
    arms = tmp_path / "parquet" / "arms.parquet"
    assert check.execute(f"SELECT count(*) FROM '{arms}'").fetchone()[0] == 2


def test_the_shipped_package_builds(tmp_path: Path) -> None:
    db = build_database(ROOT / "datapackage.json", tmp_path / "shipped.duckdb")
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM studies").fetchone()[0] >= 1
    for path in sql_files():
        view, _ = declared_columns(path)
        con.execute(f"SELECT * FROM {view}").fetchall()


def test_the_files_checkpoint_waits_until_the_caller_is_idle(synthetic_package: Path,
                                                             tmp_path: Path) -> None:
    """``build`` writes the file on a thread of its own while it writes into the in-memory
    database; DuckDB refuses a checkpoint while another write transaction is active, so the
    checkpoint waits for ``idle``: called once, after every view is in the file, before it is
    checkpointed and renamed into place."""
    from mscreview.store import preload

    out = tmp_path / "review.duckdb"
    seen: list[list[str]] = []

    def idle() -> None:
        seen.append(sorted(p.name for p in tmp_path.glob(".review.duckdb.*")))
        assert not out.exists()

    with preload(synthetic_package) as loaded:
        build_database(synthetic_package, out, preloaded=loaded, idle=idle)
    assert len(seen) == 1 and seen[0]  # called once, while the file was still temporary
    with duckdb.connect(str(out), read_only=True) as con:
        views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() "
                                           "WHERE NOT internal").fetchall()}
    assert "arm_pairs" in views


def test_a_refused_checkpoint_is_tried_again_then_its_error_stands() -> None:
    from mscreview import store

    class Refusing:
        def __init__(self, refusals: int) -> None:
            self.refusals, self.calls = refusals, 0

        def execute(self, sql: str) -> None:
            self.calls += 1
            if self.calls <= self.refusals:
                raise duckdb.TransactionException(
                    "Cannot CHECKPOINT: there are other write transactions active")

    con = Refusing(3)
    store._checkpoint(con)  # type: ignore[arg-type]
    assert con.calls == 4
    with pytest.raises(duckdb.TransactionException, match="Cannot CHECKPOINT"):
        store._checkpoint(Refusing(10), attempts=5)  # type: ignore[arg-type]
