"""The DuckDB layer: one typed table per data-package resource, and the analysis views of ``sql/``.

Why it exists: the CSVs are the record, but analyses need joins (arms with outcomes, studies with
their covariates) and unit work that SQL states more plainly than Python. The database is a build
product: it is rebuilt from the package each time, never edited.

- The tables are the validator's own load (:func:`mscreview.validate.validate_package` with
  ``into``): each CSV is parsed once, checked, and its typed rows become the table. Column types,
  NOT NULL and PRIMARY KEY are derived from the Table Schemas (there is no second, hand-written
  copy of the schema here); an invalid package builds nothing.
- Every ``sql/*.sql`` file (one ``CREATE OR REPLACE VIEW`` each) is run in file-name order.
- The file is written beside ``out_path`` under a temporary name and renamed on success, so a
  failure never leaves a half-written database at ``out_path``.
- Files use DuckDB storage version ``v1.0.0`` (:data:`STORAGE_VERSION`): DuckDB 2.x writes its new
  storage format (version 69) by default, which no 1.x DuckDB can read; ``v1.0.0`` is read by
  every DuckDB since 1.0, including the 2.x CLI.

Nothing here imports SciPy or the validator until a database is built: ``sql`` and ``export``
start fast.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from mscreview import __version__
from mscreview.errors import InputError, ProblemsError
from mscreview.validate.cells import TYPE_MAP
from mscreview.validate.cells import ident as _ident
from mscreview.validate.cells import literal as _literal
from mscreview.validate.load import create_table_sql

__all__ = [
    "INFO_TABLE",
    "QUERY_MEMORY_LIMIT",
    "SQL_DIR",
    "STORAGE_VERSION",
    "TYPE_MAP",
    "Preloaded",
    "build_database",
    "connect_readonly",
    "copy_parquet",
    "create_table_sql",
    "declared_columns",
    "export_parquet",
    "materialise_views",
    "own_relations",
    "package_relations",
    "preload",
    "build_record",
    "run_query",
    "source_hash",
    "sql_files",
    "view_columns",
]

#: Folder of the view definitions, run in file-name order.
SQL_DIR = Path(__file__).resolve().parent / "sql"

#: Storage version of the written file: readable by DuckDB >= 1.0 (the 2.x default, v2.0.0 /
#: storage version 69, is not readable by any 1.x DuckDB). See duckdb.org, "Migrating to DuckDB
#: 2.0" and "Storage Versions and Format".
STORAGE_VERSION = "v1.0.0"

#: Helper table the views use for SDs derived from 95% CIs: ``t_{0.975, df}`` for df 1..100
#: (Cochrane Handbook 6.5.2.2 uses t for n <= 100, z above).
T_TABLE = "ref_t975"
T_MAX_DF = 100
#: ``T975[df - 1]`` = ``scipy.special.stdtrit(df, 0.975)``, the function
#: :func:`mscreview.stats.conversions.sd_from_ci` uses (tests/store/test_t_table.py checks every
#: value): a constant here, so building the database never imports SciPy (0.3-0.5 s).
T975: tuple[float, ...] = (
    12.706204736174694, 4.302652729749462, 3.1824463052837078, 2.7764451051977934,
    2.5705818356363146, 2.4469118511449786, 2.364624251592784, 2.306004135204166,
    2.262157162798205, 2.228138851986274, 2.200985160091639, 2.1788128296672284,
    2.1603686564627913, 2.144786687917804, 2.131449545559776, 2.1199052992212546,
    2.1098155778333156, 2.1009220402410382, 2.0930240544083087, 2.085963447265864,
    2.0796138447276795, 2.0738730679040254, 2.0686576104190486, 2.0638985616280245,
    2.0595385527532972, 2.0555294386428735, 2.0518305164802846, 2.0484071417952454,
    2.045229642132703, 2.0422724563012378, 2.039513446396408, 2.0369333434601016,
    2.0345152974493383, 2.0322445093177186, 2.030107928250343, 2.0280940009804502,
    2.0261924630291093, 2.0243941639119694, 2.022690920036761, 2.021075390306273,
    2.019540970441376, 2.0180817028184443, 2.016692199227824, 2.0153675744437636,
    2.014103388880846, 2.012895598919429, 2.0117405137297655, 2.010634757624232,
    2.0095752371292392, 2.008559112100761, 2.007583770315836, 2.006646805061688,
    2.0057459953178687, 2.0048792881880564, 2.0040447832891455, 2.003240718847872,
    2.002465459291007, 2.0017174841452356, 2.000995378088267, 2.0002978220142604,
    1.999623584994939, 1.9989715170333788, 1.998340542520741, 1.997729654317693,
    1.9971379083920038, 1.9965644189523117, 1.996008354025296, 1.9954689314298435,
    1.9949454151072374, 1.994437111771186, 1.9939433678456255, 1.9934635666618719,
    1.992997125889855, 1.992543495180932, 1.9921021540022417, 1.9916726096446642,
    1.9912543953883846, 1.9908470688116906, 1.9904502102301285, 1.990063421254446,
    1.9896863234569029, 1.989318557136572, 1.9889597801751624, 1.9886096669757083,
    1.9882679074772216, 1.98793420623902, 1.9876082815890708, 1.9872898648311692,
    1.986978699506281, 1.9866745407037683, 1.9863771544186177, 1.98608631695113,
    1.9858018143458227, 1.985523441866604, 1.9852510035054978, 1.984984311522457,
    1.9847231860139845, 1.9844674545084815, 1.9842169515864174, 1.9839715185235518,
)

#: Statement types :func:`run_query` accepts (DESCRIBE, SHOW, SUMMARIZE and VALUES parse as
#: SELECT). EXPLAIN is accepted only when what it explains is itself a SELECT.
_READ_ONLY_TYPES = frozenset({duckdb.StatementType.SELECT})

_ALIAS = "mscreview_build"

#: Bookkeeping table of every database built here: ``(key, value)`` rows, ``source_hash`` among
#: them (:func:`source_hash`), so a reader can tell whether the file is current. Not exported.
INFO_TABLE = "mscreview_build_info"

#: DuckDB memory limit of the query connections (``sql``, ``export``): a runaway query fails
#: with a one-line error instead of taking the machine's memory (DuckDB's default is 80 % of RAM).
QUERY_MEMORY_LIMIT = "2GB"

#: Table and view names that may become file names (``export``): lowercase SQL identifiers.
_SAFE_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


# --------------------------------------------------------------------------- the package


def _descriptor(package_path: str | os.PathLike[str]) -> tuple[dict[str, Any], Path]:
    """Read ``datapackage.json`` (a path to it, or to its folder); return it and its folder."""
    path = Path(package_path)
    if path.is_dir():
        path = path / "datapackage.json"
    try:
        descriptor = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: data package descriptor not found") from None
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: cannot read the descriptor ({err})") from None
    if not isinstance(descriptor, dict) or not isinstance(descriptor.get("resources"), list):
        raise InputError(f"{path}: not a data package (no 'resources' list)")
    return descriptor, path.parent


def _resources(
    descriptor: dict[str, Any], base: Path
) -> Iterator[tuple[str, list[Path], dict[str, Any]]]:
    """Yield (name, CSV paths, Table Schema) for every tabular resource."""
    for resource in descriptor["resources"]:
        name = resource.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise InputError(f"resource name {name!r} is not a valid table name")
        schema = resource.get("schema")
        if isinstance(schema, str):
            schema_path = base / schema
            try:
                schema = json.loads(schema_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as err:
                raise InputError(f"{schema_path}: cannot read the Table Schema ({err})") from None
        if not isinstance(schema, dict) or not isinstance(schema.get("fields"), list):
            raise InputError(f"resource {name!r}: no Table Schema with a 'fields' list")
        paths = resource.get("path")
        paths = [paths] if isinstance(paths, str) else paths
        if not paths or not all(isinstance(p, str) for p in paths):
            raise InputError(f"resource {name!r}: no local 'path'")
        yield name, [base / p for p in paths], schema


# --------------------------------------------------------------------------- views


def sql_files(sql_dir: Path = SQL_DIR) -> list[Path]:
    """The view definitions in the order they are run (file name)."""
    return sorted(sql_dir.glob("*.sql"))


_VIEW_RE = re.compile(r"CREATE\s+OR\s+REPLACE\s+VIEW\s+([a-z_][a-z0-9_]*)", re.IGNORECASE)
_VIEW_AS_RE = re.compile(r"^CREATE\s+OR\s+REPLACE\s+VIEW\s+([a-z_][a-z0-9_]*)\s+AS\b",
                         re.IGNORECASE | re.MULTILINE)


def declared_columns(path: Path) -> tuple[str, list[str]]:
    """The view name and the columns an ``sql/`` file's header comment declares.

    The header lists them under ``-- Columns:``, one per line as ``--   name  description``.
    """
    text = path.read_text(encoding="utf-8")
    match = _VIEW_RE.search(text)
    if match is None:
        raise InputError(f"{path}: no CREATE OR REPLACE VIEW statement")
    names: list[str] = []
    in_columns = False
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        body = line[2:]
        if body.strip().lower() == "columns:":
            in_columns = True
            continue
        if in_columns:
            found = re.match(r"\s{2,}([a-z_][a-z0-9_]*)\b", body)
            if found is None:
                break
            names.append(found.group(1))
    return match.group(1), names


# --------------------------------------------------------------------------- freshness


def source_hash(package_path: str | os.PathLike[str]) -> str:
    """sha256 over everything a database of the package is built from.

    The descriptor (without its ``version``: a release changes no table), every Table Schema, the
    bytes of every resource file, the view definitions of ``sql/``, the storage version and the
    mscreview version. Recorded in :data:`INFO_TABLE` by :func:`build_database`; a database
    whose recorded hash differs from the package's is stale.
    """
    descriptor, base = _descriptor(package_path)
    h = hashlib.sha256()
    stable = {k: v for k, v in descriptor.items() if k != "version"}
    h.update(json.dumps(stable, sort_keys=True, ensure_ascii=False).encode() + b"\0")
    for name, paths, schema in _resources(descriptor, base):
        h.update(name.encode() + b"\0" + json.dumps(schema, sort_keys=True).encode() + b"\0")
        for path in paths:
            try:
                h.update(path.read_bytes())
            except OSError as err:
                raise InputError(f"{path}: cannot read resource {name!r} ({err.strerror})") from None
            h.update(b"\0")
    for path in sql_files():
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    h.update(f"{STORAGE_VERSION}\0{__version__}".encode())
    return "sha256:" + h.hexdigest()


def own_relations(package_path: str | os.PathLike[str]) -> set[str]:
    """Names of the package's own tables and views: its resources and the ``sql/`` views.

    The reference tables built here (``ref_*``, e.g. :data:`T_TABLE`) are the package's too
    (:func:`package_relations` keeps them).
    """
    descriptor, base = _descriptor(package_path)
    names = {name for name, _, _ in _resources(descriptor, base)}
    names.update(declared_columns(path)[0] for path in sql_files())
    return names


def build_record(db_path: str | os.PathLike[str]) -> dict[str, str]:
    """What a database was built from (:data:`INFO_TABLE`); empty when it records nothing.

    Keys: ``source_hash`` (:func:`source_hash`), ``package`` (the descriptor's absolute path
    when built) and ``mscreview`` (the version that built it).
    """
    path = Path(db_path)
    if not path.is_file():
        return {}
    try:
        con = connect_readonly(path)
    except InputError:
        return {}
    try:
        rows = con.execute(f"SELECT key, value FROM {INFO_TABLE}").fetchall()
    except duckdb.Error:
        return {}
    finally:
        con.close()
    return {str(k): str(v) for k, v in rows}


# --------------------------------------------------------------------------- build


def _t_quantiles(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE TABLE {T_TABLE} (df BIGINT PRIMARY KEY, t975 DOUBLE NOT NULL)")
    _insert(con, T_TABLE, list(enumerate(T975, start=1)))


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple[Any, ...]]) -> None:
    """``rows`` into ``table`` as one statement with parameters (floats bound exactly):
    ``executemany`` runs one statement per row, 0.5 s for 100 rows in a database file."""
    width = len(rows[0])
    marks = ", ".join(["(" + ", ".join(["?"] * width) + ")"] * len(rows))
    con.execute(f"INSERT INTO {table} VALUES {marks}", [x for row in rows for x in row])


#: Helper table of Wan et al. (2014)'s divisors of the range (xi) and the IQR (eta) for each arm
#: size n that a median, IQR or range row needs (the views derive means and SDs with them).
WAN_TABLE = "ref_wan"


def _wan_divisors(con: duckdb.DuckDBPyConnection) -> None:
    """Fill ``ref_wan(n, xi, eta)`` from :func:`mscreview.stats.wan_xi` / ``wan_eta`` for the arm
    sizes of rows given as a median or with an IQR or range; SciPy is imported only then."""
    con.execute(f"CREATE TABLE {WAN_TABLE} (n BIGINT PRIMARY KEY, xi DOUBLE NOT NULL, "
                "eta DOUBLE NOT NULL)")
    sizes = [r[0] for r in con.execute("""
        SELECT DISTINCT CAST(coalesce(c.n, a.n_analysed, a.n_randomised) AS BIGINT)
        FROM continuous_outcomes AS c
        LEFT JOIN arms AS a ON a.study_id = c.study_id AND a.arm_id = c.arm_id
        WHERE c.status = 'extracted' AND (c.central_kind = 'median'
            OR c.dispersion_kind IN ('iqr', 'range'))
            AND coalesce(c.n, a.n_analysed, a.n_randomised) >= 2
        ORDER BY 1""").fetchall()]
    if not sizes:
        return
    from mscreview.stats.conversions import wan_eta, wan_xi

    _insert(con, WAN_TABLE, [(n, wan_xi(n), wan_eta(n)) for n in sizes])


class Preloaded:
    """A valid package's typed tables, loaded in memory by the validator: one read of its CSVs.

    :func:`build_database` turns it into the package's database file; until then nothing is
    written anywhere (a process killed meanwhile leaves no file behind). Close it when done.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, source: str, descriptor_file: Path):
        self.con = con
        self.source = source
        self.descriptor_file = descriptor_file

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Preloaded:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _source(package_path: str | os.PathLike[str]) -> tuple[str | None, Path]:
    """The package's source hash (None when unreadable: validation says why) and descriptor."""
    try:  # before the load: a file changed meanwhile reads as stale
        source: str | None = source_hash(package_path)
    except InputError:
        source = None
    path = Path(package_path)
    return source, (path / "datapackage.json" if path.is_dir() else path).resolve()


def _invalid(report: Any) -> ProblemsError:
    files = ", ".join(sorted({p.file for p in report.problems}))
    return ProblemsError(report.sorted(), f"the database was not built (problems in {files}; "
                         "run mscreview validate)")


def preload(package_path: str | os.PathLike[str], *, today: date | None = None) -> Preloaded:
    """Validate a data package and keep its typed tables in memory (see :class:`Preloaded`).

    Raises
    ------
    ProblemsError
        The package is invalid (every problem, with file, line and field).
    """
    from mscreview.validate import validate_package

    source, descriptor_file = _source(package_path)
    con = duckdb.connect()
    try:
        report = validate_package(package_path, into=con, today=today)
        if not report.valid:
            raise _invalid(report)
        return Preloaded(con, source or source_hash(package_path), descriptor_file)
    except BaseException:
        con.close()
        raise


def _checkpoint(con: duckdb.DuckDBPyConnection, attempts: int = 200) -> None:
    """``CHECKPOINT`` the file being built. DuckDB refuses it while a transaction it has not
    yet cleaned up holds the file's checkpoint lock ("Cannot CHECKPOINT: there are other write
    transactions active"); with nothing else writing, that clears within milliseconds, so the
    checkpoint is tried again for up to about two seconds before the error stands."""
    for attempt in range(attempts):
        try:
            con.execute(f"CHECKPOINT {_ALIAS}")
            return
        except duckdb.TransactionException as err:
            if "Cannot CHECKPOINT" not in str(err) or attempt == attempts - 1:
                raise
            time.sleep(0.01)


def build_database(
    package_path: str | os.PathLike[str], out_path: str | os.PathLike[str], *,
    today: date | None = None, preloaded: Preloaded | None = None,
    copied: Callable[[], None] | None = None,
    idle: Callable[[], None] | None = None,
) -> Path:
    """Validate a data package and build its DuckDB database; return the path written.

    Parameters
    ----------
    package_path
        ``datapackage.json`` or the folder holding it.
    out_path
        Database file to (re)place. Written under a temporary name in the same folder and
        renamed on success; on failure nothing is left behind and ``out_path`` is untouched.
    today
        The date validation bounds publication years by (default: today).
    preloaded
        The package already validated and loaded by :func:`preload`: its tables are copied
        into the file (the CSVs are not read again). It stays open; the caller closes it.
        The file is written through a connection of its own (a cursor), so this may run in a
        thread of its own while the caller queries the in-memory database.
    copied
        Called once the preloaded tables (and the reference tables, created in memory too)
        are in the file: from then on the in-memory database may change.
    idle
        Called, and waited for, before the file is checkpointed: it returns once the caller
        writes nothing more into the in-memory database. DuckDB refuses a checkpoint while
        another write transaction is active ("Cannot CHECKPOINT: there are other write
        transactions active"), so a build that materialises views meanwhile must not overlap it.

    Raises
    ------
    ProblemsError
        The package is invalid (every problem, with file, line and field).
    InputError
        A view cannot be created.
    """
    from mscreview.validate import validate_package

    if preloaded is None:
        source, descriptor_file = _source(package_path)
    else:
        source, descriptor_file = preloaded.source, preloaded.descriptor_file
    out = Path(out_path).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # DuckDB creates the file itself
    con = duckdb.connect() if preloaded is None else preloaded.con.cursor()
    try:
        con.execute(
            f"ATTACH {_literal(str(tmp))} AS {_ALIAS} (STORAGE_VERSION {_literal(STORAGE_VERSION)})"
        )
        if preloaded is None:  # validated and loaded straight into the file
            con.execute(f"USE {_ALIAS}")
            report = validate_package(package_path, into=con, today=today)
            if not report.valid:
                raise _invalid(report)
            _t_quantiles(con)
            _wan_divisors(con)
        else:  # tables, types, NOT NULL and keys as the validator created them; the reference
            # tables in memory too, for :func:`materialise_views`
            if not _has_table(con, T_TABLE):
                _t_quantiles(con)
                _wan_divisors(con)
            con.execute(f"COPY FROM DATABASE memory TO {_ALIAS}")
            con.execute(f"USE {_ALIAS}")
            if copied is not None:
                copied()
        for path in sql_files():
            try:
                con.execute(path.read_text(encoding="utf-8"))
            except duckdb.Error as err:
                raise InputError(f"{path.name}: view cannot be created: {err}") from None
        con.execute(f"CREATE TABLE {INFO_TABLE} (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)")
        con.execute(f"INSERT INTO {INFO_TABLE} VALUES ('source_hash', ?), ('package', ?), "
                    "('mscreview', ?)", [source or source_hash(package_path),
                                         str(descriptor_file), __version__])
        if idle is not None:
            idle()
        _checkpoint(con)
        con.execute("USE memory")
        con.execute(f"DETACH {_ALIAS}")
        con.close()
        os.replace(tmp, out)
    except BaseException:
        if preloaded is not None:
            try:
                con.execute("USE memory")
                con.execute(f"DETACH DATABASE IF EXISTS {_ALIAS}")
            except duckdb.Error:
                pass
        con.close()
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    return out


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = "
                            "current_database() AND table_name = ?", [name]).fetchone()[0])


def materialise_views(preloaded: Preloaded) -> None:
    """Each ``sql/`` view as a table of its rows, in the preloaded in-memory database.

    Run once :func:`build_database` has copied the tables into the file (its ``copied``
    callback), which writes the views themselves there. A view
    is computed once, from the tables of the views before it, instead of planning the whole stack
    of views under it at each read: the build's pooling and its Parquet downloads read these
    tables (the same rows and column types as the views of the file).

    Raises
    ------
    InputError
        A view cannot be created.
    """
    con = preloaded.con
    if not _has_table(con, T_TABLE):
        _t_quantiles(con)
        _wan_divisors(con)
    for path in sql_files():
        # the file's one statement, CREATE OR REPLACE VIEW name AS ..., as CREATE TABLE name AS
        sql, found = _VIEW_AS_RE.subn(r"CREATE TABLE \1 AS", path.read_text(encoding="utf-8"), 1)
        if not found:
            raise InputError(f"{path}: no CREATE OR REPLACE VIEW ... AS statement")
        try:
            con.execute(sql)
        except duckdb.Error as err:
            raise InputError(f"{path.name}: view cannot be created: {err}") from None


# --------------------------------------------------------------------------- reading


def connect_readonly(
    db_path: str | os.PathLike[str], *, write_dir: str | os.PathLike[str] | None = None
) -> duckdb.DuckDBPyConnection:
    """Open a built database read-only, with file system access and extension loading off.

    The database file itself stays readable; ``read_csv('/etc/...')``, ``COPY ... TO``,
    ``ATTACH`` and extension installs are refused by DuckDB, and the settings are locked, so a
    view of a crafted file cannot reach other files. ``write_dir`` is the one folder that
    ``COPY ... TO`` may then write into (DuckDB's ``allowed_directories``). Memory is capped at
    :data:`QUERY_MEMORY_LIMIT`.
    """
    path = Path(db_path)
    if not path.is_file():
        raise InputError(f"{path}: database not found (build it with 'mscreview db')")
    try:
        con = duckdb.connect(
            str(path),
            read_only=True,
            config={
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
                "memory_limit": QUERY_MEMORY_LIMIT,
            },
        )
    except duckdb.Error as err:
        raise InputError(f"{path}: cannot open the database ({_first_line(err)})") from None
    try:
        if write_dir is not None:  # must be set while external access is still on
            folder = os.path.join(os.path.realpath(write_dir), "")
            con.execute(f"SET allowed_directories = [{_literal(folder)}]")
        con.execute("SET enable_progress_bar = false")  # DuckDB draws it on stdout, even a pipe
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _check_read_only(sql: str) -> None:
    """Refuse anything but one read-only statement (by DuckDB's own parse of ``sql``)."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as err:
        raise InputError(f"cannot parse the query: {err}") from None
    if len(statements) != 1:
        raise InputError(
            f"give exactly one SQL statement (found {len(statements)}); "
            "only read-only queries (SELECT, DESCRIBE, SHOW, EXPLAIN SELECT) are run"
        )
    statement = statements[0]
    kind = statement.type
    if kind == duckdb.StatementType.EXPLAIN:
        inner = re.sub(r"^\s*explain\s+(analyze\s+)?", "", statement.query, flags=re.IGNORECASE)
        try:
            inner_statements = duckdb.extract_statements(inner)
        except duckdb.Error:
            inner_statements = []
        if len(inner_statements) == 1 and inner_statements[0].type in _READ_ONLY_TYPES:
            return
    elif kind in _READ_ONLY_TYPES:
        return
    raise InputError(
        f"refused: {kind.name} statement; the database is read-only here and only queries "
        "(SELECT, DESCRIBE, SHOW, EXPLAIN SELECT) are run"
    )


@contextmanager
def _interrupt_on_signal(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Stop ``con``'s query as soon as SIGINT or SIGTERM arrives.

    A Python signal handler runs only when the main thread returns to Python, which a long
    DuckDB statement may not do for minutes. The C-level handler writes the signal to a wakeup
    fd at once; a watcher thread reads it and calls ``interrupt()``. The handler itself (Ctrl-C's
    KeyboardInterrupt) then runs as usual. Main thread only (``signal.set_wakeup_fd``).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    try:
        previous = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    except ValueError:  # pragma: no cover - not the main thread of the main interpreter
        os.close(read_fd)
        os.close(write_fd)
        yield
        return

    def watch() -> None:
        while True:
            data = os.read(read_fd, 16)
            if not data:  # the writer closed: the query is over
                return
            if {signal.SIGINT, signal.SIGTERM} & set(data):
                try:
                    con.interrupt()
                except duckdb.Error:  # pragma: no cover - closed meanwhile
                    pass

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous)
        os.close(write_fd)
        watcher.join()
        os.close(read_fd)


def run_query(
    db_path: str | os.PathLike[str],
    sql: str,
    *,
    timeout: float | None = None,
    max_rows: int | None = None,
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one read-only query; return (column names, rows).

    Refuses (with :class:`~mscreview.errors.InputError`) anything that is not a query, checked
    twice: by the statement type DuckDB parses, and by a read-only connection.

    ``timeout`` (seconds) stops the query from a timer thread with ``interrupt()`` (DuckDB has
    no statement timeout of its own). ``max_rows`` fetches at most ``max_rows + 1`` rows (the
    result streams, so the rest is never computed): more than ``max_rows`` rows back means
    the result was cut. Running out of DuckDB's memory limit or Python's memory is an
    InputError too; Ctrl-C stays a KeyboardInterrupt.
    """
    _check_read_only(sql)
    con = connect_readonly(db_path)
    fired = threading.Event()

    def stop() -> None:
        fired.set()
        try:
            con.interrupt()
        except duckdb.Error:  # pragma: no cover - the query ended and the connection closed
            pass

    timer = threading.Timer(timeout, stop) if timeout else None
    try:
        if timer is not None:
            timer.daemon = True
            timer.start()
        with _interrupt_on_signal(con):
            result = con.execute(sql)
            columns = [d[0] for d in (result.description or [])]
            rows = result.fetchall() if max_rows is None else result.fetchmany(max_rows + 1)
        if fired.is_set():  # interrupted between the last fetch and the cancel
            raise duckdb.InterruptException("timeout")
        return columns, rows
    except duckdb.InterruptException:
        if fired.is_set():
            raise InputError(
                f"query stopped after {timeout:g} s (--timeout): filter or aggregate it, or "
                "allow more time") from None
        raise KeyboardInterrupt from None
    except RuntimeError as err:  # DuckDB's own check of Ctrl-C while it waits for a result
        if "interrupted" in str(err).lower():
            raise KeyboardInterrupt from None
        raise
    except duckdb.OutOfMemoryException:
        raise InputError(
            f"query needs more than the {QUERY_MEMORY_LIMIT} memory limit: filter or aggregate "
            "it, or add LIMIT") from None
    except MemoryError:
        raise InputError("query result does not fit in memory: add LIMIT or use --max-rows"
                         ) from None
    except duckdb.Error as err:
        raise InputError(f"query failed: {err}") from None
    finally:
        if timer is not None:
            timer.cancel()
            timer.join()
        con.close()


def _relations(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[str]]:
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT internal AND NOT temporary "
        "AND database_name = current_database() ORDER BY table_name"
    ).fetchall()]
    views = [r[0] for r in con.execute(
        "SELECT view_name FROM duckdb_views() WHERE NOT internal AND NOT temporary "
        "AND database_name = current_database() ORDER BY view_name"
    ).fetchall()]
    return tables, views


def view_columns(db_path: str | os.PathLike[str]) -> dict[str, list[tuple[str, str]]]:
    """Every view of the database with its (column, DuckDB type) pairs, in column order."""
    con = connect_readonly(db_path)
    try:
        _, views = _relations(con)
        out: dict[str, list[tuple[str, str]]] = {}
        for view in views:
            rows = con.execute(f"DESCRIBE SELECT * FROM {_ident(view)}").fetchall()
            out[view] = [(r[0], r[1]) for r in rows]
        return out
    finally:
        con.close()


def package_relations(
    con: duckdb.DuckDBPyConnection, allowed: set[str] | None = None
) -> list[str]:
    """The tables and views of a database that are the package's own, in export order.

    Tables first, then views; never :data:`INFO_TABLE`. ``allowed`` (:func:`own_relations`)
    narrows them further; the reference tables (``ref_*``) are always kept. Every name is a
    plain lowercase identifier, safe as a file name.
    """
    try:
        tables, views = _relations(con)
    except duckdb.Error as err:
        raise InputError(f"cannot list the tables of the database ({_first_line(err)})") from None
    return [name for name in tables + views
            if name != INFO_TABLE and _SAFE_NAME.fullmatch(name)
            and (allowed is None or name in allowed or name.startswith("ref_"))]


def copy_parquet(
    con: duckdb.DuckDBPyConnection, names: list[str], folder: Path
) -> list[Path]:
    """Write each relation of ``names`` as ``folder/<name>.parquet``; return the paths.

    ``con`` comes from :func:`connect_readonly` with ``write_dir=folder`` (or is the build's own
    in-memory database, :func:`materialise_views`). A name that is not a
    plain identifier is refused.
    """
    written: list[Path] = []
    for name in names:
        if not _SAFE_NAME.fullmatch(name):
            raise InputError(f"{name!r}: not a plain table name; refused as a file name")
        target = folder / f"{name}.parquet"
        try:
            con.execute(
                f"COPY (SELECT * FROM {_ident(name)}) TO {_literal(str(target))} (FORMAT parquet)"
            )
        except duckdb.Error as err:
            raise InputError(f"{name}: cannot be exported ({_first_line(err)})") from None
        written.append(target)
    return written


def export_parquet(
    db_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    allowed: set[str] | None = None,
) -> list[Path]:
    """Write the package's tables and views (:func:`package_relations`) as Parquet files.

    Files are ``out_dir/<name>.parquet``. The connection may write only inside ``out_dir`` and
    read nothing but the database (:func:`connect_readonly`), so a view over ``read_csv`` of
    another file fails instead of exporting it.
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    con = connect_readonly(db_path, write_dir=folder)
    try:
        return copy_parquet(con, package_relations(con, allowed), folder)
    finally:
        con.close()
