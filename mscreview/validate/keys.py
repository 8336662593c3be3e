"""Primary keys, foreign keys and sort order, as set-based SQL over the loaded tables.

Keys compare typed values: number fields as numbers ("13" = "13.0"), the rest as text. A key with
a missing part is not compared (the part is reported as required). frictionless accepts nulls in
composite keys and re-reads each referenced table per foreign key; here one query surveys the
keys of every table in file order (out of order? a key repeating its neighbour's? text parts
whose distinct values collide when case and spaces are ignored?), and only what it finds is
looked for row by row, in one more query with the foreign keys. Two meaning rules live here
too, because they are about keys: a key that differs from an earlier one only in letter case or
surrounding spaces (the same record typed twice), and rows out of primary-key order (the
writers keep files sorted, so diffs stay small).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb

from mscreview.validate.cells import ident, literal
from mscreview.validate.load import Loaded
from mscreview.validate.problems import Report, shown

__all__ = ["check_keys"]


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _numeric(item: Loaded, name: str) -> bool:
    return item.fields[item.index(name)].get("type") in ("number", "integer")


def _key_value(item: Loaded, name: str, numeric: bool | None = None, alias: str = "") -> str:
    """A key part as compared: the typed number, or the text of a present cell (NULL if
    missing)."""
    numeric = _numeric(item, name) if numeric is None else numeric
    return f"CAST({alias}{ident(name)} AS DOUBLE)" if numeric else alias + ident(name)


def _texts(item: Loaded, names: list[str], alias: str = "") -> str:
    """The key values, for messages: a list of text."""
    return "[" + ", ".join(f"CAST({alias}{ident(n)} AS VARCHAR)" for n in names) + "]"


def _normal(item: Loaded, key: list[str]) -> list[str]:
    """The key with letter case and surrounding spaces ignored."""
    return [_key_value(item, k) if _numeric(item, k) else _normal_text(ident(k)) for k in key]


def _normal_text(value: str) -> str:
    return f"lower(trim({value}, chr(32) || chr(9) || chr(10) || chr(160)))"


def _key_survey(item: Loaded, key: list[str]) -> str:
    """One query over the rows in file order: (rows out of order, rows whose sort key repeats
    the previous row's, whether every text part of the key keeps its distinct values distinct
    when letter case and surrounding spaces are ignored, rows keyed, distinct keys).

    When no row is out of order, duplicate keys are neighbours: no repeat means no duplicate
    (the last two counts are made only for a key with an integer part, whose 64-bit values
    the key compares as doubles). A near-duplicate needs two distinct values of some text part
    with one normal form; each part's distinct values are compared, not every row's key.
    """
    sort_key = _sort_key(item, key, "")
    texts = [k for k in key if not _numeric(item, k)]
    lists = "".join(f", list(DISTINCT {ident(k)}) FILTER (WHERE {ident(k)} IS NOT NULL) AS __d{n}"
                    for n, k in enumerate(texts))
    distinct = " AND ".join(f"coalesce(len(__d{n}) = len(list_distinct(list_transform(__d{n}, "
                            f"lambda x: {_normal_text('x')}))), true)" for n in range(len(texts)))
    if any(item.fields[item.index(k)].get("type") == "integer" for k in key):
        values = [_key_value(item, k) for k in key]
        present = " AND ".join(f"{v} IS NOT NULL" for v in values)
        counts = (f", count(*) FILTER (WHERE {present}) AS __rows, count(DISTINCT "
                  f"({', '.join(values)})) FILTER (WHERE {present}) AS __keys")
    else:
        counts = ", 0 AS __rows, 0 AS __keys"
    pairs = (f"SELECT count(*) FILTER (WHERE __k < __p) AS __unsorted, count(*) FILTER "
             f"(WHERE __k = __p) AS __repeated FROM (SELECT __k, lag(__k) OVER (ORDER BY __rid) "
             f"AS __p FROM (SELECT rowid AS __rid, {sort_key} AS __k FROM {item.loaded}))")
    return (f"SELECT __unsorted, __repeated, {distinct or 'true'}, __rows, __keys FROM ({pairs}), "
            f"(SELECT 0 AS __none{lists}{counts} FROM {item.loaded})")


def _primary_key(item: Loaded, key: list[str]) -> str:
    """Duplicates of an earlier row's key, and keys differing from an earlier one only in
    letter case or surrounding spaces; returns (line, code, detail, other line, cells)."""
    values = [_key_value(item, k) for k in key]
    present = " AND ".join(f"{v} IS NOT NULL" for v in values)
    exact = f"[{', '.join(f'CAST({v} AS VARCHAR)' for v in values)}]"
    return (f"SELECT __line, CASE WHEN __line > same THEN 'primary-key' ELSE "
            "'near-duplicate-key' END, '', CASE WHEN __line > same THEN same ELSE near END, "
            f"cells FROM (SELECT __line, {_texts(item, key)} AS cells, {exact} AS exact, "
            f"min(__line) OVER (PARTITION BY {', '.join(values)}) AS same, "
            f"first_value(__line) OVER w AS near, first_value({exact}) OVER w AS near_exact "
            f"FROM {item.rows} WHERE {present} "
            f"WINDOW w AS (PARTITION BY {', '.join(_normal(item, key))} ORDER BY __line)) "
            "WHERE __line > same OR exact <> near_exact")


def _sort_key(item: Loaded, key: list[str], alias: str) -> str:
    """The primary key as the writers sort it: missing first, numbers as numbers (a cell that
    is not of its type is reported, and sorts as missing here)."""
    parts = []
    for n, name in enumerate(key):
        value = alias + ident(name)
        if _numeric(item, name):
            parts.append(f"r{n} := {value} IS NOT NULL, n{n} := coalesce({value}, 0)")
        else:
            parts.append(f"t{n} := coalesce({value}, '')")
    return f"struct_pack({', '.join(parts)})"


def _sort_order(item: Loaded, key: list[str]) -> str:
    """The first row out of primary-key order, found by pairing each row with the next one
    (``__rid`` is file order; no sort needed)."""
    return (f"SELECT * FROM (SELECT b.__line, 'not-sorted', CAST(b.__rid AS VARCHAR), "
            f"a.__line, {_texts(item, key, 'b.')} FROM {item.rows} AS a JOIN {item.rows} AS b "
            f"ON b.__rid = a.__rid + 1 WHERE {_sort_key(item, key, 'b.')} < "
            f"{_sort_key(item, key, 'a.')} ORDER BY b.__line LIMIT 1)")


def _belongs(con: duckdb.DuckDBPyConnection, item: Loaded, key: list[str], rid: int) -> str:
    """Where the first row out of order belongs: after the last row before it (those are in
    order) whose key is not larger than its own, or before the first data row."""
    row = con.execute(
        f"SELECT max(a.__line), (SELECT min(__line) FROM {item.rows}) FROM {item.rows} AS a, "
        f"(SELECT * FROM {item.rows} WHERE __rid = {rid}) AS b WHERE a.__rid < {rid} "
        f"AND {_sort_key(item, key, 'a.')} <= {_sort_key(item, key, 'b.')}").fetchone()
    after, first = row if row is not None else (None, None)
    return f"after line {after}" if after is not None else f"before line {first} (first data row)"


def _foreign_keys(usable: dict[str, Loaded], loaded: dict[str, Loaded],
                  report: Report) -> Iterator[str]:
    """One query per referenced key (``sources.source_id`` is referenced by most tables): the
    referencing rows of every table, then one anti-join. Returns (resource, line, code, the
    foreign key's number, NULL, cells)."""
    groups: dict[tuple[Any, ...], list[str]] = {}
    targets: dict[tuple[Any, ...], tuple[Loaded, list[str]]] = {}
    for item in usable.values():
        for number, fk in enumerate(item.table.schema.get("foreignKeys", [])):
            fields = _as_list(fk.get("fields"))
            ref = fk.get("reference", {})
            target_name = ref.get("resource") or item.name
            target = loaded.get(target_name)
            if target is None or not target.usable:
                report.add(item.file, 0, ", ".join(fields), "foreign-key-skipped",
                           f"foreign key to '{target_name}' not checked: that resource is "
                           "unreadable")
                continue
            if not item.count:
                continue
            ref_fields = _as_list(ref.get("fields"))
            numeric = [_numeric(item, mine) and _numeric(target, theirs)
                       for mine, theirs in zip(fields, ref_fields)]
            values = [_key_value(item, mine, n) for mine, n in zip(fields, numeric)]
            kinds = tuple(item.fields[item.index(mine)].get("type", "string") for mine in fields)
            signature = (target_name, tuple(ref_fields), tuple(numeric), kinds)
            targets[signature] = (target, [_key_value(target, theirs, n, "__t.")
                                           for theirs, n in zip(ref_fields, numeric)])
            present = " AND ".join(f"{v} IS NOT NULL" for v in values)
            keyed = ", ".join(f"{v} AS __k{j}" for j, v in enumerate(values))
            groups.setdefault(signature, []).append(
                f"SELECT {literal(item.name)} AS __name, __line, '{number}' AS __fk, "
                f"{_texts(item, fields)} AS __cells, {keyed} FROM {item.rows} WHERE {present}")
    for signature, branches in groups.items():
        target, theirs = targets[signature]
        match = " AND ".join(f"{t} = __s.__k{j}" for j, t in enumerate(theirs))
        yield (f"SELECT __name, __line, 'foreign-key', __fk, NULL, __cells FROM ("
               f"{' UNION ALL '.join(branches)}) AS __s WHERE NOT EXISTS (SELECT 1 FROM "
               f"{target.rows} AS __t WHERE {match})")


def _message(item: Loaded, loaded: dict[str, Loaded], code: str, detail: str,
             other: int | None, cells: list[str]) -> tuple[str, str]:
    """(field, message) of a key problem."""
    if code == "foreign-key":
        fk = item.table.schema["foreignKeys"][int(detail)]
        ref = fk.get("reference", {})
        target = loaded[ref.get("resource") or item.name]
        where = f"{target.file.rsplit('/', 1)[-1]} ({', '.join(_as_list(ref.get('fields')))})"
        return (", ".join(_as_list(fk.get("fields"))),
                f"{', '.join(shown(c) for c in cells)} not found in {where}")
    key = _as_list(item.table.schema.get("primaryKey"))
    values = ", ".join(shown(c) for c in cells)
    if code == "primary-key":
        return ", ".join(key), f"duplicate primary key ({values}): line {other} has the same values"
    if code == "near-duplicate-key":
        return ", ".join(key), (f"the primary key ({values}) differs from line {other} only in "
                                "letter case or spaces: the same record twice? Write the key "
                                "exactly as on that line")
    return key[0], (f"rows must be sorted by the primary key ({', '.join(key)}): this row "
                    f"({', '.join(cells)}) belongs {detail}; run `mscreview format` to sort "
                    "every file")


def check_keys(con: duckdb.DuckDBPyConnection, loaded: dict[str, Loaded], report: Report) -> None:
    """Primary keys, near-duplicate keys, sort order and foreign keys: one survey of every
    keyed table, then one statement for the foreign keys and whatever the survey found."""
    usable = {name: item for name, item in sorted(loaded.items()) if item.usable}
    keys = {name: _as_list(item.table.schema.get("primaryKey")) for name, item in usable.items()}
    keys = {name: key for name, key in keys.items() if key and usable[name].count > 1}
    queries: list[tuple[str, str]] = []
    if keys:
        survey = " UNION ALL ".join(f"(SELECT {literal(name)}, * FROM ({_key_survey(usable[name], key)}))"
                                    for name, key in keys.items())
        for name, unsorted, repeated, distinct, rows, keyed in con.execute(survey).fetchall():
            if unsorted or repeated or not distinct or rows != keyed:
                queries.append((name, _primary_key(usable[name], keys[name])))
            if unsorted:
                queries.append((name, _sort_order(usable[name], keys[name])))
    queries += [("", q) for q in _foreign_keys(usable, loaded, report)]  # naming the resource
    if not queries:
        return
    union = " UNION ALL ".join(f"(SELECT {literal(name)}, * FROM ({sql}))" if name else f"({sql})"
                               for name, sql in queries)
    for name, line, code, detail, other, cells in con.execute(union).fetchall():
        item = loaded[name]
        if code == "not-sorted":
            detail = _belongs(con, item, keys[name], int(detail))
        field, message = _message(item, loaded, code, detail, other, [c or "" for c in cells])
        report.add(item.file, line, field, code, message)
