"""Pooled safety: every adverse-event type, and any serious adverse event, MSC against control.

Why it exists: adverse events were listed but never pooled. Here each event term becomes one
comparison per trial (MSC arms against control), pooled as risk ratio and risk difference by
Mantel-Haenszel, and by Peto's odds ratio when the event is rare. Conventions (RevMan 5 and the
Cochrane Handbook, said in the output):

- Mantel-Haenszel fixed effect for RR and RD: it behaves well with few events (Cochrane
  Handbook 10.4.4.2; RevMan 5's "M-H, Fixed").
- Zero cells: 0.5 added to every cell of a trial with a zero cell; trials without events in
  either arm are dropped for RR (not estimable) and kept for RD (RevMan 5). Both are footnoted.
- Rare events: when fewer than 1% of the participants of the pooled trials had the event, the
  Peto odds ratio is added and becomes the primary estimate (Cochrane Handbook 10.4.4.2: the
  Peto method works well for rare events when arms are balanced and effects are not large).
- Multi-arm trials: one comparison per trial. The experimental side is the ``msc`` arm (the
  whole experimental group) when reported, else the row the source counted over all MSC arms
  together (``experimental``), else the MSC arms added (events and totals, Cochrane Handbook
  6.5.2.10); the control arm is never counted twice.
- "Any serious adverse event" takes a trial's count of patients with any serious adverse event
  (event term ``serious``, ``any serious`` or ``serious adverse events``); counts of single
  serious event types are not added (a patient may have several), and such trials are listed.

Nothing is dropped silently: every extracted count either enters a comparison or is listed in
its event's ``excluded`` with the reason; counts that the sources do not give are in ``missing``
(the call for data).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from typing import Any

import duckdb

from mscreview import stats
from mscreview.pipeline.analyses import fill_pooled

__all__ = ["ANY_SERIOUS", "RARE_RATE", "SAFETY_MODEL", "safety"]

#: Event rate (events / participants, both arms, pooled trials) below which Peto's OR is used.
RARE_RATE = 0.01
#: Model of the safety pools (Cochrane Handbook 10.4.4.2: MH fixed effect for sparse events).
SAFETY_MODEL = "fixed"
#: Event terms that count patients with any serious adverse event.
ANY_SERIOUS_TERMS = frozenset({"serious", "any serious", "serious adverse events",
                               "serious adverse event", "any serious adverse event"})
#: Key of the "any serious adverse event" comparison.
ANY_SERIOUS = "any serious adverse event"
#: Footnote texts of the forest rows.
FLAG_COMBINED = "MSC arms combined (events and totals added)"
FLAG_SOURCE_COMBINED = "the source counted all MSC arms together"
FLAG_PARTIAL = "not every MSC arm reported this event"
FLAG_ZERO = "0.5 added to each cell (no events, or all, in an arm)"

_QUERY = """
    SELECT c.study_id, c.label, c.included, c.arm_id, c.role, c.event, c.events, c.n, c.serious,
           c.source_id, c.locator, coalesce(p.preference, 999) AS preference, s.year
    FROM adverse_event_counts c
    JOIN studies s ON s.study_id = c.study_id
    LEFT JOIN source_preference p ON p.source_id = c.source_id
    ORDER BY s.year, c.study_id, c.event, c.arm_id, preference, c.source_id"""
_MISSING = """
    SELECT m.study_id, m.label, m.arm_id, m.outcome AS event, m.status, m.source_id, m.locator
    FROM missing_values m
    WHERE m.kind = 'adverse_event' AND m.included
    ORDER BY m.label, m.outcome, m.arm_id, m.source_id"""
_PARTS = """
    SELECT study_id, count(*) AS parts FROM arms
    WHERE role = 'experimental' AND arm_id <> 'msc' GROUP BY study_id"""


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def _key(event: str) -> str:
    return ANY_SERIOUS if event.strip().lower() in ANY_SERIOUS_TERMS else event


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _pick(rows: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The preferred row of one arm (rows come sorted by source preference) and the others."""
    return rows[0], rows[1:]


def _superseded(r: dict[str, Any], kept: dict[str, Any]) -> dict[str, Any]:
    return {"study_id": r["study_id"], "label": r["label"], "arm_id": r["arm_id"],
            "source_id": r["source_id"],
            "reason": f"arm {r['arm_id']} counted from {kept['source_id']} (preferred source); "
                      f"this count from {r['source_id']} ({r['events']}) not used"}


def _side(rows: list[dict[str, Any]], parts: int, experimental: bool
          ) -> tuple[dict[str, Any] | None, list[str], list[dict[str, Any]]]:
    """Events and n of one side of a trial, the row flags, and the rows not used (with reason)."""
    by_arm: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_arm[r["arm_id"]].append(r)
    unused: list[dict[str, Any]] = []
    flags: list[str] = []
    if experimental and ("msc" in by_arm or "experimental" in by_arm):
        whole = "msc" if "msc" in by_arm else "experimental"
        chosen, others = _pick(by_arm[whole])
        unused += [_superseded(r, chosen) for r in others]
        for arm, arm_rows in by_arm.items():
            if arm != whole:
                unused += [{"study_id": r["study_id"], "label": r["label"], "arm_id": arm,
                            "source_id": r["source_id"],
                            "reason": f"arm {arm} is part of the MSC group already counted as "
                                      f"'{whole}'; counting it again would double its patients"}
                           for r in arm_rows]
        if whole == "experimental":
            flags.append(FLAG_SOURCE_COMBINED)
        return {"events": chosen["events"], "n": chosen["n"],
                "sources": [chosen["source_id"]]}, flags, unused
    if not by_arm:
        return None, flags, unused
    events = n = 0
    sources = []
    n_known = True
    for arm_rows in by_arm.values():
        chosen, others = _pick(arm_rows)
        unused += [_superseded(r, chosen) for r in others]
        events += chosen["events"]
        if chosen["n"] is None:
            n_known = False
        else:
            n += chosen["n"]
        sources.append(chosen["source_id"])
    if experimental and len(by_arm) > 1:
        flags.append(FLAG_COMBINED)
    if experimental and len(by_arm) < parts:
        flags.append(FLAG_PARTIAL)
    return {"events": events, "n": n if n_known else None, "sources": sources}, flags, unused


def _record(key: str, measure: str, method: str) -> dict[str, Any]:
    title = {"RR": "risk ratio", "RD": "risk difference", "PETO": "Peto odds ratio"}[measure]
    how = "Peto, fixed" if method == "Peto" else "M-H, fixed"
    return {
        "id": f"safety-{_slug(key)}-{measure.lower()}",
        "title": f"{key[:1].upper()}{key[1:]}: {title} ({how})",
        "outcome": key, "outcome_label": key[:1].upper() + key[1:], "measure": measure,
        "model": SAFETY_MODEL, "tau2_method": None, "grouping": "none", "time_window": "any",
        "view": "adverse_event_counts", "unit": "",
        "scale": "linear" if measure == "RD" else "log",
        "favours": ["Favours MSC", "Favours control"], "data_kind": "dichotomous",
        "method": method, "status": "no_data", "k": 0, "reason": "", "rows": [], "total": None,
        "subgroups": [], "subgroup_test": None, "excluded": [], "missing": [],
        "published_result_ids": [],
    }


def _pool_fn(measure: str) -> Callable[[stats.EffectSet], stats.PoolResult]:
    if measure == "PETO":
        return stats.pool_peto
    return partial(stats.pool_mh, model=SAFETY_MODEL)


def _analysis(key: str, measure: str, pairs: list[dict[str, Any]]) -> dict[str, Any]:
    method = "Peto" if measure == "PETO" else "M-H"
    out = _record(key, measure, method)
    if not pairs:
        out["reason"] = "No trial counts this event in both its MSC and its control arm."
        return out
    effects = stats.dichotomous_effects(
        [p["events1"] for p in pairs], [p["n1"] for p in pairs],
        [p["events2"] for p in pairs], [p["n2"] for p in pairs],
        measure=measure, study=[p["study_id"] for p in pairs])
    by_id = {p["study_id"]: p for p in pairs}
    out["excluded"] = [{"study_id": e.study, "label": by_id[e.study]["label"],
                        "reason": e.reason} for e in effects.excluded]
    if effects.k == 0:
        out["reason"] = ("No trial can enter this measure: "
                         + "; ".join(f"{e['label']}: {e['reason']}" for e in out["excluded"]))
        return out
    corrected = {s for s, c in zip(effects.study, effects.corrected
                                   if effects.corrected is not None else [], strict=False) if c}

    def flags(p: dict[str, Any]) -> list[str]:
        return [*p["flags"], *([FLAG_ZERO] if p["study_id"] in corrected else [])]

    fill_pooled(out, effects, by_id, _pool_fn(measure), "dichotomous", row_flags=flags)
    if out["total"] is not None:
        out["total"]["events_exp"] = sum(by_id[s]["events1"] for s in effects.study)
        out["total"]["events_ctl"] = sum(by_id[s]["events2"] for s in effects.study)
    return out


def safety(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The ``safety`` part of the report context.

    Returns
    -------
    dict
        ``{"conventions": [...], "events": [...]}``; each event has ``key``, ``label``,
        ``serious``, ``k`` (trials with both arms counted), ``events_exp``/``n_exp``/
        ``events_ctl``/``n_ctl``, ``event_rate``, ``rare``, ``primary`` (the measure to read
        first), ``difference_per_1000`` (the M-H risk difference x 1,000 with its CI),
        ``zero_corrected`` (trials with a zero cell, to which 0.5 is added),
        ``analyses`` (RR and RD records shaped like ``context["analyses"]``, plus PETO when
        rare), ``excluded`` (every extracted count not used, with the reason) and ``missing``
        (counts the sources do not give: the call for data).
    """
    rows = _rows(con, _QUERY)
    parts = {r["study_id"]: r["parts"] for r in _rows(con, _PARTS)}
    missing = _rows(con, _MISSING)
    by_event: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    serious_terms: dict[str, set[str]] = defaultdict(set)
    excluded_by_event: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        key = _key(r["event"])
        if not r["included"]:
            excluded_by_event[key].append({
                "study_id": r["study_id"], "label": r["label"], "arm_id": r["arm_id"],
                "source_id": r["source_id"],
                "reason": "trial excluded from the review (see Included studies)"})
            continue
        by_event[key][r["study_id"]].append(r)
        if r["serious"] and key != ANY_SERIOUS:
            serious_terms[r["study_id"]].add(r["event"])
    for sid, terms in serious_terms.items():  # serious event types without an any-SAE count
        if sid not in by_event[ANY_SERIOUS]:
            label = next(r["label"] for r in rows if r["study_id"] == sid)
            excluded_by_event[ANY_SERIOUS].append({
                "study_id": sid, "label": label, "arm_id": None, "source_id": None,
                "reason": f"counts serious event types ({', '.join(sorted(terms))}) but not the "
                          "patients with any serious adverse event; types cannot be added (a "
                          "patient may have several)"})
    missing_by_event: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in missing:
        missing_by_event[_key(m["event"])].append(m)
    events = []
    for key in sorted(set(by_event) | set(excluded_by_event) | set(missing_by_event),
                      key=lambda k: (k != ANY_SERIOUS, k)):
        events.append(_event(key, by_event.get(key, {}), parts, excluded_by_event[key],
                             missing_by_event[key]))
    return {
        "conventions": [
            "Mantel-Haenszel fixed effect for the risk ratio and the risk difference "
            "(Cochrane Handbook 10.4.4.2; RevMan 5 'M-H, Fixed').",
            "Zero cells: 0.5 added to every cell of a trial with a zero cell; trials without "
            "events in either arm are left out of the risk ratio (not estimable) and kept in the "
            "risk difference (RevMan 5).",
            f"Rare events (fewer than {RARE_RATE:.0%} of participants): Peto's odds ratio is "
            "added and read first (Cochrane Handbook 10.4.4.2).",
            "Multi-arm trials: the MSC arms form one group (events and totals added) against "
            "the control arm, which is counted once.",
        ],
        "events": events,
    }


def _event(key: str, studies: dict[str, list[dict[str, Any]]], parts: dict[str, int],
           excluded: list[dict[str, Any]], missing: list[dict[str, Any]]) -> dict[str, Any]:
    pairs = []
    excluded = list(excluded)
    serious_flags = set()
    for sid, rows in studies.items():
        label = rows[0]["label"]
        serious_flags |= {r["serious"] for r in rows}
        exp, f_exp, unused_e = _side([r for r in rows if r["role"] == "experimental"],
                                     parts.get(sid, 0), experimental=True)
        ctl, _, unused_c = _side([r for r in rows if r["role"] == "control"], 0,
                                 experimental=False)
        excluded += unused_e + unused_c
        reason = None
        if exp is None:
            reason = "no count in the MSC arm(s)"
        elif ctl is None:
            reason = "no count in the control arm (the source counts the MSC arm(s) only)"
        elif exp["n"] is None or ctl["n"] is None:
            reason = "arm size unknown"
        if reason is not None:
            excluded.append({"study_id": sid, "label": label, "arm_id": None,
                             "source_id": None, "reason": reason})
            continue
        assert exp is not None and ctl is not None
        pairs.append({"study_id": sid, "label": label, "events1": exp["events"],
                      "n1": exp["n"], "events2": ctl["events"], "n2": ctl["n"],
                      "flags": f_exp})
    total_events = sum(p["events1"] + p["events2"] for p in pairs)
    total_n = sum(p["n1"] + p["n2"] for p in pairs)
    rate = total_events / total_n if total_n else None
    rare = rate is not None and rate < RARE_RATE and total_events > 0
    measures = ["RR", "RD"] + (["PETO"] if rare else [])
    analyses = [_analysis(key, m, pairs) for m in measures]
    rd = next(a["total"] for a in analyses if a["measure"] == "RD")
    per_1000 = None
    if rd is not None and rd.get("estimate") is not None:
        per_1000 = {k: 1000 * rd[k] for k in ("estimate", "ci_low", "ci_high")}
    for a in analyses:
        a["missing"] = [{"study_id": m["study_id"], "label": m["label"], "arm_id": m["arm_id"],
                         "outcome": m["event"], "timepoint": None, "status": m["status"],
                         "source_id": m["source_id"], "locator": m["locator"]}
                        for m in missing]
    return {
        "key": key, "label": key[:1].upper() + key[1:],
        "serious": True if key == ANY_SERIOUS else (
            True if True in serious_flags else False if False in serious_flags else None),
        "k": len(pairs),
        "events_exp": sum(p["events1"] for p in pairs), "n_exp": sum(p["n1"] for p in pairs),
        "events_ctl": sum(p["events2"] for p in pairs), "n_ctl": sum(p["n2"] for p in pairs),
        "event_rate": rate, "rare": rare, "primary": "PETO" if rare else "RR",
        "difference_per_1000": per_1000,
        "zero_corrected": sum(1 for p in pairs if 0 in (p["events1"], p["events2"])
                              or p["events1"] == p["n1"] or p["events2"] == p["n2"]),
        "analyses": analyses, "excluded": excluded, "missing": analyses[0]["missing"],
    }
