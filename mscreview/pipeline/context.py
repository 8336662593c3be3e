"""The report context: everything the report shows, gathered from the database and the pooled
analyses. The report renders this dict and computes nothing; it is also ``results.json``.
"""

from __future__ import annotations

import math
import re
from typing import Any

import duckdb

from mscreview.pipeline.analyses import OUTCOME_LABELS
from mscreview.pipeline.audit import audit_context
from mscreview.pipeline.certainty import summary_of_findings
from mscreview.pipeline.diff import compare_results
from mscreview.pipeline.overview import at_a_glance, overviews
from mscreview.pipeline.robustness import robustness_context
from mscreview.pipeline.safety import safety

__all__ = ["assemble", "call_for_data", "published_vs_repooled", "changes"]

ROB_DOMAINS = [
    ("random_sequence_generation", "Random sequence generation (selection bias)"),
    ("allocation_concealment", "Allocation concealment (selection bias)"),
    ("blinding_participants_personnel", "Blinding of participants and personnel (performance bias)"),
    ("blinding_outcome_assessment", "Blinding of outcome assessment (detection bias)"),
    ("incomplete_outcome_data", "Incomplete outcome data (attrition bias)"),
    ("selective_reporting", "Selective reporting (reporting bias)"),
    ("other_bias", "Other bias"),
]
#: The seed's subgroup words, as the views spell the subgroup.
SEED_SUBGROUP_WORDS = {"hepatic artery": "hepatic_artery", "intravenous": "peripheral_vein", "AC": "alcohol"}
MAIN_OUTCOMES = ["MELD", "ALB", "TBIL", "ALT", "AST", "INR", "death", "hcc"]


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
          ) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def _plain(v: Any) -> Any:
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


def _clean(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in r.items()} for r in rows]


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", s.lower())


def _match_subgroup(analysis: dict[str, Any], label: str) -> dict[str, Any] | None:
    want = _norm(SEED_SUBGROUP_WORDS.get(label, label).split("(")[0])
    for sub in analysis.get("subgroups", []):
        name = _norm(sub["name"])
        if name == want or (want and name.startswith(want)):
            return sub
    return None


def _repooled(total: dict[str, Any] | None) -> dict[str, Any] | None:
    if not total or total.get("estimate") is None:
        return None
    return {k: total.get(k) for k in ("estimate", "ci_low", "ci_high", "p", "i2", "k")}


def published_vs_repooled(published: list[dict[str, Any]], analyses: list[dict[str, Any]]
                          ) -> list[dict[str, Any]]:
    """Each published result beside what the package data give today, or what is missing."""
    by_result: dict[str, dict[str, Any]] = {}
    for a in analyses:
        for rid in a.get("published_result_ids", []):
            by_result[rid] = a
    out = []
    for p in published:
        a = by_result.get(p["result_id"])
        note, repooled, missing = "", None, []
        if p["analysis"] == "time" and not p.get("subgroup"):
            note = ("The seed's total across time subgroups pools the same patients several times "
                    "(unit-of-analysis error); mscreview does not compute it.")
        elif a is None:
            note = "No analysis of the plan corresponds to this result."
        else:
            missing = a["missing"]
            if p.get("subgroup"):
                sub = _match_subgroup(a, p["subgroup"])
                repooled = _repooled(sub["total"]) if sub else None
            else:
                repooled = _repooled(a["total"])
            if repooled is None:
                note = a["reason"] or "The package data cannot re-pool this result yet."
            elif p["analysis"] == "overall":
                note = ("Re-pooled at the main time window (3 months); the seed mixed each trial's "
                        "own time point.")
        out.append({
            "result_id": p["result_id"], "outcome": p["outcome"],
            "outcome_label": OUTCOME_LABELS.get(p["outcome"], p["outcome"]),
            "analysis": p["analysis"], "subgroup": p.get("subgroup"), "measure": p["measure"],
            "published": {k: p.get(k) for k in ("estimate", "ci_low", "ci_high", "p_reported",
                                                 "i2", "k", "het_p_reported", "figure")},
            "repooled": repooled, "analysis_id": a["id"] if a else None, "note": note,
            "missing": missing,
        })
    return out


def call_for_data(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The missing values behind unpooled published results, one entry per study and source.

    Each entry says which outcomes at which time points and arms are missing, where the source
    should have them, and which published results they would let us check.
    """
    studies: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        if r["repooled"] is not None:
            continue
        for m in r["missing"]:
            key = (m["study_id"], m["source_id"])
            entry = studies.setdefault(key, {
                "study_id": m["study_id"], "label": m["label"], "source_id": m["source_id"],
                "locator": m["locator"], "status": m["status"], "needs": {}, "results": []})
            need = entry["needs"].setdefault(m["outcome"], {"timepoints": [], "arms": []})
            for field, value in (("timepoints", m["timepoint"]), ("arms", m["arm_id"])):
                if value not in need[field]:
                    need[field].append(value)
            if r["result_id"] not in entry["results"]:
                entry["results"].append(r["result_id"])
    out = []
    for entry in sorted(studies.values(), key=lambda e: (e["label"] or "", e["source_id"])):
        entry["needs"] = [{"outcome": o, "outcome_label": OUTCOME_LABELS.get(o, o), **v}
                          for o, v in sorted(entry["needs"].items())]
        out.append(entry)
    return out


def changes(previous: dict[str, Any] | None, current: dict[str, Any]) -> dict[str, Any]:
    """What changed since the previous version's results (see ``build.previous_results``).

    ``current["unreleased"]`` says whether the working data are a release: an unreleased build
    compares with the latest release ("Changes since 0.1.0 (unreleased)"), a released one with
    the release before it.
    """
    unreleased = bool(current.get("unreleased"))
    out: dict[str, Any] = {
        "previous_version": None, "first_version": previous is None, "unreleased": unreleased,
        "heading": "", "trials_added": [], "trials_removed": [], "values_changed": [],
        "values_added": [], "estimates_moved": [], "conclusions_flipped": 0}
    if previous is None:
        return out
    since = previous.get("data_version")
    out["previous_version"] = since
    out["heading"] = (f"Changes since {since} (unreleased)" if unreleased
                      else f"Changes in {current.get('data_version')} since {since}")
    old_studies = {s["study_id"]: s["label"] for s in previous.get("studies", [])}
    new_studies = {s["study_id"]: s["label"] for s in current.get("studies", [])}
    added = set(new_studies) - set(old_studies)
    analysed = {s["study_id"] for s in current.get("studies", []) if s.get("included", True)}
    old_rows = {(a["id"], r["study_id"]): r for a in previous.get("analyses", [])
                for r in a.get("rows", [])}
    for a in current["analyses"]:
        for r in a.get("rows", []):
            before = old_rows.get((a["id"], r["study_id"]))
            if before is None:
                if r["study_id"] not in added:  # an existing trial's value filled in
                    out["values_added"].append(f"{r['label']}: {a['title']}")
            elif (before.get("exp"), before.get("ctl")) != (r["exp"], r["ctl"]):
                out["values_changed"].append(f"{r['label']}: {a['title']}")
    moved = compare_results(previous, current)
    out.update({
        "trials_added": [new_studies[s] + ("" if s in analysed else " (not in the review)")
                         for s in sorted(added)],
        "trials_removed": [old_studies[s] for s in sorted(set(old_studies) - set(new_studies))],
        "estimates_moved": [{"analysis_id": m.analysis_id, "title": m.title, "measure": m.measure,
                             "old": m.old, "new": m.new,
                             "significance_flipped": m.significance_flipped,
                             "criterion": m.criterion} for m in moved],
        "conclusions_flipped": sum(1 for m in moved if m.significance_flipped),
    })
    return out


def _rob(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """One block per assessor: the seed review's judgements, then ours (where we made any).

    Each block lists every included study and every study the assessor judged; a domain without a
    judgement (no row, or a row whose judgement is empty) is ``None``: "not assessed", never low.
    """
    rows = _rows(con, "SELECT r.*, s.label FROM risk_of_bias r JOIN studies s USING (study_id) "
                      "ORDER BY s.year, s.label")
    included = _rows(con, "SELECT study_id, label FROM studies WHERE included "
                          "ORDER BY year, label")
    order = {r["study_id"]: i for i, r in enumerate(_rows(
        con, "SELECT study_id FROM studies ORDER BY year, label"))}
    by_assessor: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        studies = by_assessor.setdefault(r["assessor"], {})
        entry = studies.setdefault(r["study_id"], {"study_id": r["study_id"], "label": r["label"],
                                                   "judgements": {}, "support": {}})
        entry["judgements"][r["domain"]] = r["judgement"]
        entry["support"][r["domain"]] = r["support"]
    domains = [{"id": d, "label": lab} for d, lab in ROB_DOMAINS]
    names = {"seed": "the seed review (Lu 2023), from its text",
             "mscreview": "mscreview, from the primary sources read so far (partial)"}
    out = []
    for a in ("seed", "mscreview"):
        if a not in by_assessor:
            continue
        studies = by_assessor[a]
        for s in included:
            studies.setdefault(s["study_id"], {"study_id": s["study_id"], "label": s["label"],
                                               "judgements": {}, "support": {}})
        for entry in studies.values():
            for d, _ in ROB_DOMAINS:
                entry["judgements"].setdefault(d, None)
        not_assessed = sum(1 for e in studies.values() for j in e["judgements"].values()
                           if j is None)
        out.append({"assessor": names.get(a, a), "assessor_id": a, "domains": domains,
                    "studies": sorted(studies.values(), key=lambda e: order[e["study_id"]]),
                    "not_assessed": not_assessed})
    return out


def _prisma(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The PRISMA flow per search round; identification named by kind of source.

    ``identified`` maps what a reader recognises to a count: the kinds of source
    (``SOURCE_KINDS``: bibliographic databases, trial registries, reference lists, web pages),
    never internal channel names; ``identified_detail`` names the databases and registries
    searched (real names a reader can look up), with their counts.
    """
    from mscreview.vocabulary import SOURCE_KINDS

    rows = _rows(con, "SELECT * FROM screening ORDER BY round, stage, item")
    rounds: dict[str, dict[str, Any]] = {}
    for r in rows:
        rd = rounds.setdefault(r["round"], {"round": r["round"], "identified": {},
                                            "identified_detail": {}, "excluded_screening": {},
                                            "excluded_full_text": {}})
        stage, item, n = r["stage"], r["item"], r["count"]
        if stage == "identified":
            if item == "total":
                rd["identified_total"] = n
                continue
            kind = r.get("source_kind")
            label = SOURCE_KINDS.get(kind or "", "Other sources")
            rd["identified"][label] = rd["identified"].get(label, 0) + n
            if kind in ("bibliographic_database", "trial_registry"):
                rd["identified_detail"].setdefault(label, {})[item] = n
        elif stage in ("excluded_screening", "excluded_full_text"):
            if item != "total":
                rd[stage][item] = n
        else:
            rd[stage] = n
    for r in _rows(con, """SELECT round, count(*) FILTER (WHERE decision = 'include') AS inc,
                                   count(*) FILTER (WHERE decision = 'pending') AS pending
                            FROM candidates GROUP BY round"""):
        if r["round"] in rounds:  # PRISMA 2020: reports of the new studies; ongoing studies
            rounds[r["round"]].update(reports_included=r["inc"], awaiting=r["pending"])
    order = list(SOURCE_KINDS.values()) + ["Other sources"]
    for rd in rounds.values():
        rd["identified"] = dict(sorted(rd["identified"].items(), key=lambda kv: order.index(kv[0])))
    ordered = sorted(rounds.values(), key=lambda r: (r["round"] != "seed", r["round"]))
    previous = 0
    for rd in ordered:
        rd["included_previous"] = previous
        previous += rd.get("included_new", 0)
    included = _rows(con, "SELECT count(*) AS n FROM studies WHERE included")[0]["n"]
    dropped = _rows(con, """
        SELECT label, exclusion_reason FROM studies
        WHERE NOT included AND (seed_ref IS NOT NULL OR study_id IN (
            SELECT study_id FROM candidates WHERE decision = 'include'))
        ORDER BY year, label""")
    return {"rounds": ordered, "included_previous": ordered[-1]["included_previous"]
            if ordered else 0, "included_total": previous, "included_analysed": included,
            "excluded_after_inclusion": _clean(dropped)}


def assemble(con: duckdb.DuckDBPyConnection, analyses: list[dict[str, Any]],
             meta: dict[str, Any], previous: dict[str, Any] | None,
             history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The whole report context; ``history``: the kept releases (``robustness.release_history``)."""
    published = _clean(_rows(con, "SELECT * FROM published_results ORDER BY result_id"))
    studies = _clean(_rows(con, """
        SELECT s.study_id, s.label, s.year, s.country, s.design, s.population, s.etiology,
               s.cell_type, s.dose_as_reported AS dose, s.cells_per_kg, s.route, s.infusions,
               s.follow_up_months, s.included, s.exclusion_reason, s.verification,
               s.overlap_group, s.registration,
               (SELECT sum(n_randomised) FROM arms a WHERE a.study_id = s.study_id
                  AND a.role = 'experimental' AND a.arm_id = 'msc') AS n_exp_msc,
               (SELECT sum(n_randomised) FROM arms a WHERE a.study_id = s.study_id
                  AND a.role = 'experimental' AND a.arm_id <> 'msc') AS n_exp_parts,
               (SELECT sum(n_randomised) FROM arms a WHERE a.study_id = s.study_id
                  AND a.role = 'control') AS n_ctl
        FROM studies s ORDER BY s.year, s.label"""))
    for s in studies:
        s["n_exp"] = s.pop("n_exp_msc") if s.get("n_exp_msc") is not None else s.get("n_exp_parts")
        s.pop("n_exp_parts", None)
    rob = _rob(con)
    context: dict[str, Any] = {
        **meta,
        "analyses": analyses,
        "published_vs_repooled": published_vs_repooled(published, analyses),
        "discrepancies": _clean(_rows(con, """
            SELECT d.*, s.label, d.primary_source_id AS primary_source
            FROM discrepancies d LEFT JOIN studies s USING (study_id)
            ORDER BY d.study_id NULLS FIRST, d.discrepancy_id""")),
        "studies": studies,
        "adverse_events": _clean(_rows(con, """
            SELECT e.study_id, s.label, e.arm_id, e.event, e.events, e.as_reported, e.status,
                   e.source_id AS source, src.kind AS source_kind
            FROM adverse_events e JOIN studies s USING (study_id)
            LEFT JOIN sources src ON src.source_id = e.source_id
            ORDER BY s.year, s.label, e.arm_id, e.event""")),
        "dichotomous": _clean(_rows(con, """
            SELECT d.study_id, s.label, d.outcome, d.timepoint_label AS timepoint,
                   max(CASE WHEN a.role = 'experimental' AND d.events IS NOT NULL
                       THEN d.events || '/' || coalesce(CAST(d.n AS VARCHAR), '?') END) AS exp,
                   max(CASE WHEN a.role = 'control' AND d.events IS NOT NULL
                       THEN d.events || '/' || coalesce(CAST(d.n AS VARCHAR), '?') END) AS ctl,
                   string_agg(DISTINCT d.quote, ' | ' ORDER BY d.quote) AS as_reported,
                   min(d.status) AS status
            FROM dichotomous_outcomes d JOIN studies s USING (study_id)
            JOIN arms a USING (study_id, arm_id)
            WHERE d.outcome IN ('death', 'hcc')
            GROUP BY d.study_id, s.label, s.year, d.outcome, d.timepoint_weeks, d.timepoint_label
            ORDER BY s.year, s.label, d.outcome, d.timepoint_weeks""")),
        "risk_of_bias": rob,
        "prisma": _prisma(con),
    }
    context["call_for_data"] = call_for_data(context["published_vs_repooled"])
    context.update(overviews(context))
    context["safety"] = safety(con)
    # before "What's new": it marks each main analysis with its sequential-monitoring status
    context["robustness"] = robustness_context(con, analyses, history or [], meta["data_version"])
    context["changes"] = changes(previous, context)
    context.update(audit_context(con))  # "audit" (the CLI's JSON) and "audit_details"
    context["summary"] = summary_of_findings(con, context)  # after the audit: its concerns
    context["at_a_glance"] = at_a_glance(context)  # last: it counts what the others found
    return context
