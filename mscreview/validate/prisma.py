"""PRISMA follows the data: the flow's counts must agree with the studies and candidates.

Three rules, each reported on the line that would have to change:

1. The studies the flow counts as included (``included_new`` summed over the rounds) are the
   package's studies that a round brought in: every included study, and every excluded one that a
   round had included (the seed review's, ``seed_ref`` set, or a candidate marked ``include``) and
   that mscreview later excluded on verification.
2. A search round's ``included_new`` equals the studies of its candidates marked ``include``
   (several reports of one study, such as an article and its registry records, count once).
3. An identified count names the kind of source (``source_kind``) the report's PRISMA boxes show:
   bibliographic databases, trial registries, reference lists, web pages.
"""

from __future__ import annotations

import duckdb

from mscreview.validate.cells import ident
from mscreview.validate.load import Loaded
from mscreview.validate.problems import Report
from mscreview.vocabulary import MISSING_CODES

__all__ = ["check_prisma"]


def _rows(con: duckdb.DuckDBPyConnection, item: Loaded, names: list[str] | None = None
          ) -> list[tuple[int, dict[str, str]]]:
    """The loaded rows as text (a missing value reads as ''), with their lines: every field, or
    the fields ``names``."""
    fields = [f["name"] for f in item.fields]
    names = fields if names is None else [n for n in names if n in fields]
    columns = ", ".join(f"coalesce(CAST({ident(n)} AS VARCHAR), '')" for n in names)
    found = con.execute(f"SELECT __line, {columns} FROM {item.rows} ORDER BY __line").fetchall()
    return [(row[0], dict(zip(names, row[1:]))) for row in found]


def _int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def check_prisma(con: duckdb.DuckDBPyConnection, loaded: dict[str, Loaded],
                 report: Report) -> None:
    """Add the PRISMA consistency problems of the package to ``report``."""
    usable = {name for name, item in loaded.items() if item.usable}
    if not {"screening", "studies"} <= usable:
        return
    screening = loaded["screening"]
    rows = _rows(con, screening)
    if not rows:
        return  # no search recorded: nothing to agree with
    has_kind = "source_kind" in screening.table.header
    for line, r in rows:
        if r["stage"] == "identified" and r["item"] != "total" and has_kind \
                and r.get("source_kind", "") in MISSING_CODES:
            report.add(screening.file, line, "source_kind", "prisma-source-kind",
                       f"'{r['item']}' needs its kind of source (bibliographic_database, "
                       "trial_registry, reference_list or web_page): the PRISMA box names the kind")
    included_new = {r["round"]: (line, _int(r["count"])) for line, r in rows
                    if r["stage"] == "included_new" and r["item"] == "total"}
    chosen: dict[str, set[str]] = {}
    chosen_ids: set[str] = set()
    if "candidates" in usable:
        for _, c in _rows(con, loaded["candidates"]):
            if c.get("decision") == "include":
                study = c.get("study_id") or f"candidate {c['candidate_id']}"
                chosen.setdefault(c["round"], set()).add(study)
                if c.get("study_id"):
                    chosen_ids.add(c["study_id"])
        for rnd, studies_of_round in sorted(chosen.items()):
            n = len(studies_of_round)
            line, count = included_new.get(rnd, (0, None))
            if count != n:
                shown = "no included_new row" if count is None else f"included_new is {count}"
                report.add(screening.file, line, "count", "prisma-round-included",
                           f"round {rnd}: {shown}, but candidates.csv marks records of {n} "
                           f"stud{'ies' if n != 1 else 'y'} of the round 'include'")
    studies = _rows(con, loaded["studies"], ["study_id", "included", "seed_ref"])
    included = [r["study_id"] for _, r in studies if r.get("included", "").lower() in ("true", "1")]
    dropped = [r["study_id"] for _, r in studies if r.get("included", "").lower() not in ("true", "1")
               and (r.get("seed_ref", "") not in MISSING_CODES or r["study_id"] in chosen_ids)]
    counted = {rnd: c for rnd, (_, c) in included_new.items() if c is not None}
    total = sum(counted.values())
    expected = len(included) + len(dropped)
    if total != expected:
        last = max(included_new.values(), default=(0, None))[0]
        parts = ", ".join(f"{rnd} {n}" for rnd, n in sorted(
            counted.items(), key=lambda kv: (kv[0] != "seed", kv[0])))
        report.add(screening.file, last, "count", "prisma-included",
                   f"the PRISMA flow counts {total} studies included ({parts}) but the package "
                   f"has {expected} ({len(included)} included"
                   + (f", {len(dropped)} excluded after a round included them" if dropped else "")
                   + "); a trial added without its screening record? add a 'screening:' section "
                   "to its trial file (see CONTRIBUTING.md) or correct included_new")
