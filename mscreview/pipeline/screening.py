"""PRISMA follows the data: a trial file's screening record moves ``candidates`` and ``screening``.

The ``screening:`` section of a trial file says how the trial was found::

    screening:
      round: update-2026-11          # the search round (update-YYYY-MM)
      found_in: trial_registry       # bibliographic_database | trial_registry | reference_list | web_page
      source_name: ClinicalTrials.gov
      candidate_id: smith2024        # the candidates row, when the round already lists the record
      reason: RCT of UC-MSC vs standard care in decompensated cirrhosis

When the round already lists the record (a ``pending`` candidate) it becomes ``include`` and the
round's ``included_new`` grows by one. Otherwise the record is new to the round: a candidates row
is written and the round's identified (under its source), screened, assessed and included counts
each grow by one, so the flow diagram and the package's studies keep agreeing (``validate``
checks that they do). The seed review's round holds published numbers and is never changed.
"""

from __future__ import annotations

import re
from typing import Any

from mscreview.pipeline.resources import Table
from mscreview.pipeline.trialfile import Row, TrialFile, suggest
from mscreview.vocabulary import SOURCE_KINDS

__all__ = ["FIELDS", "apply_screening"]

#: Fields of the trial file's ``screening`` section.
FIELDS = ("round", "found_in", "source_name", "candidate_id", "citation", "doi", "pmid", "url",
          "reason", "notes")
_ROUND = re.compile(r"^update-[0-9]{4}-[0-9]{2}$")


def _problem(trial: TrialFile, row: Row, name: str, code: str, message: str) -> None:
    trial.add(row.line_of(name), f"screening.{name}" if name else "screening", code, message)


def _count(table: Table, rnd: str, stage: str, item: str, *, create: dict[str, str] | None,
           origin: Row, by: str) -> None:
    """Add one to the count (round, stage, item); create the row (from ``create``) if absent.

    An existing row's notes say what was added (``by``: the trial), so a note written for the
    old count is not left describing a number that has changed.
    """
    cells = {"round": rnd, "stage": stage, "item": item}
    i = table.find(cells)
    if i is None:
        if create is None:
            return
        table.put({**cells, "count": "1", **create}, origin)
        return
    rec = dict(zip(table.header, table.records[i]))
    notes = (rec.get("notes") or "").strip()
    added = f"+1 by add-trial: {by}."
    table.put({**cells, "count": str(int(rec["count"] or 0) + 1),
               "notes": f"{notes} {added}" if notes else added}, origin, merge=True)


def apply_screening(trial: TrialFile, tables: dict[str, Table], study: dict[str, str],
                    sources: list[dict[str, str]]) -> bool:
    """Record how the trial was found; returns False (problems in ``trial``) when it cannot."""
    (row,) = trial.rows["screening"]
    cells = {k: v for k, v in row.cells.items() if v is not None}
    ok = True
    for name in row.cells:
        if name not in FIELDS:
            _problem(trial, row, name, "unknown-field", f"'{name}' is not a field of the screening "
                     f"record{suggest(name, FIELDS)} (fields: {', '.join(FIELDS)})")
            ok = False
    rnd = cells.get("round") or _latest_round(tables["screening"])
    if rnd == "seed":
        _problem(trial, row, "round", "seed-round", "the seed review's PRISMA counts are its "
                 "published numbers; name the update round that found the trial (update-YYYY-MM)")
        return False
    if not _ROUND.match(rnd):
        _problem(trial, row, "round", "constraint-error",
                 f"{rnd!r} is not a search round: write update-YYYY-MM (e.g. update-2026-11)"
                 if rnd else "name the search round that found the trial (update-YYYY-MM)")
        ok = False
    kind = cells.get("found_in", "")
    if kind not in SOURCE_KINDS:
        _problem(trial, row, "found_in", "constraint-error",
                 f"{kind!r} is not one of: {', '.join(SOURCE_KINDS)}{suggest(kind, SOURCE_KINDS)}")
        ok = False
    if not ok:
        return False
    study_id = study["study_id"]
    candidates, screening = tables["candidates"], tables["screening"]
    candidate_id = cells.get("candidate_id") or study_id
    i = candidates.find({"round": rnd, "candidate_id": candidate_id})
    if i is not None:
        old = dict(zip(candidates.header, candidates.records[i]))
        if old["decision"] == "include" and old["study_id"] == study_id:
            return True  # already recorded (an update of the same trial)
        if old["decision"] == "exclude" or (old["decision"] == "include" and old["study_id"]):
            what = (f"excluded ({old['reason']})" if old["decision"] == "exclude"
                    else f"included as study {old['study_id']}")
            _problem(trial, row, "candidate_id", "candidate-decided",
                     f"candidate '{candidate_id}' of round {rnd} was {what}; correct that "
                     "decision in candidates.csv first, or name another candidate_id")
            return False
        change = {"round": rnd, "candidate_id": candidate_id, "decision": "include",
                  "study_id": study_id}
        if cells.get("reason"):
            change["reason"] = cells["reason"]
        candidates.put(change, row, merge=True)
        _count(screening, rnd, "included_new", "total", create=_new_count(screening, rnd, study),
               origin=row, by=study_id)
        return True
    if not cells.get("source_name"):
        _problem(trial, row, "source_name", "required",
                 "name the database, registry, reference list or website where the trial was "
                 "found (e.g. PubMed, ClinicalTrials.gov)")
        return False
    if not cells.get("reason"):
        _problem(trial, row, "reason", "required",
                 "say why the trial meets the review's criteria (e.g. RCT of MSC vs standard care "
                 "in cirrhosis)")
        return False
    first = sources[0] if sources else {}
    candidates.put({
        "round": rnd, "candidate_id": candidate_id,
        "citation": cells.get("citation") or first.get("citation") or study.get("title") or "",
        "doi": cells.get("doi") or first.get("doi") or "",
        "pmid": cells.get("pmid") or first.get("pmid") or "",
        "url": cells.get("url") or first.get("url") or "",
        "decision": "include", "reason": cells["reason"], "study_id": study_id,
        "notes": cells.get("notes") or f"Found in {cells['source_name']}; added with its trial file.",
    }, row)
    create = _new_count(screening, rnd, study)
    _count(screening, rnd, "identified", cells["source_name"],
           create={**create, "source_kind": kind}, origin=row, by=study_id)
    _count(screening, rnd, "identified", "total", create=None, origin=row, by=study_id)
    for stage in ("screened", "assessed", "included_new"):
        _count(screening, rnd, stage, "total", create=create, origin=row, by=study_id)
    _count(screening, rnd, "included_total", "total", create=None, origin=row, by=study_id)
    return True


def _latest_round(screening: Table) -> str:
    """The latest update round of the package (the default round of a screening record)."""
    rounds = sorted({r["round"] for r in screening.rows() if r["round"] != "seed"})
    return rounds[-1] if rounds else ""


def _new_count(screening: Table, rnd: str, study: dict[str, str]) -> dict[str, Any]:
    """source_id and locator of a new count row: the round's own, else the trial's source."""
    for rec in screening.rows():
        if rec["round"] == rnd:
            return {"source_id": rec["source_id"], "locator": rec["locator"]}
    return {"source_id": study.get("source_id", ""),
            "locator": f"candidates.csv, round {rnd} (added with trial {study['study_id']})"}
