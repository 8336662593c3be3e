"""Counts and groupings the report leads its sections with.

The report computes nothing: when a section opens with "3 of 45 analyses pooled" or collapses the
analyses without data into one table, the numbers and the grouping come from here, through
``context.assemble``, and so also land in ``results.json``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["analysis_overview", "discrepancy_overview", "overviews", "published_overview",
           "status_counts"]

#: Impact levels of ``discrepancies.impact`` in the order a reader needs them, with their meaning.
IMPACTS = [
    ("analysis", "Changes numbers that are pooled"),
    ("classification", "Changes a subgroup, the design or who is included"),
    ("descriptive", "Descriptive: no effect on any pooled number"),
]


def _short_title(analysis: dict[str, Any]) -> str:
    """The analysis title without its outcome (it heads the group): "Albumin at 2 weeks" -> "at 2 weeks"."""
    title = str(analysis.get("title") or analysis.get("id") or "")
    label = str(analysis.get("outcome_label") or "")
    if label and title.startswith(label) and len(title) > len(label):
        rest = title[len(label):].lstrip(" ,;:")
        return rest[:1].upper() + rest[1:] if rest else title
    return title


def analysis_overview(analyses: list[dict[str, Any]], call_for_data: list[dict[str, Any]]
                      ) -> dict[str, Any]:
    """How many planned analyses are pooled, rest on one trial, or have no usable data.

    The analyses without data are grouped by outcome (in plan order) for the report's compact
    table: per analysis the values missing and from how many trials; per outcome the trials that
    hold the missing values, with whether the call for data lists them (``in_call``).
    """
    counts = {"planned": len(analyses), "pooled": 0, "single_study": 0, "no_data": 0}
    called = {c.get("study_id") for c in call_for_data}
    groups: dict[str, dict[str, Any]] = {}
    for a in analyses:
        status = a.get("status")
        counts[status] = counts.get(status, 0) + 1
        if status != "no_data":
            continue
        group = groups.setdefault(a["outcome"], {
            "outcome": a["outcome"], "outcome_label": a.get("outcome_label") or a["outcome"],
            "analyses": [], "trials": []})
        seen = {t["study_id"] for t in group["trials"]}
        trials: dict[str, str] = {}
        for m in a.get("missing") or []:
            trials.setdefault(m["study_id"], m.get("label") or m["study_id"])
        for sid, label in trials.items():
            if sid not in seen:
                group["trials"].append({"study_id": sid, "label": label, "in_call": sid in called})
                seen.add(sid)
        group["analyses"].append({
            "id": a["id"], "title": a.get("title") or a["id"], "analysis": _short_title(a),
            "values_missing": len(a.get("missing") or []), "trials_missing": len(trials),
            "in_call": any(sid in called for sid in trials),
            "excluded": list(a.get("excluded") or []),
        })
    for group in groups.values():
        group["trials"].sort(key=lambda t: t["label"])
    return {**counts, "without_data": list(groups.values()), "figures": _figures(analyses)}


def _is_main(analysis: dict[str, Any]) -> bool:
    """The main analysis of an outcome: no grouping, at the main window (or any time point)."""
    return analysis.get("grouping") == "none" and analysis.get("time_window") in ("main", "any")


def _figures(analyses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The analyses with something to draw, by outcome in plan order: its main analysis first
    (shown), then the others (time points, subgroups, sensitivity: folded under it)."""
    groups: dict[str, dict[str, Any]] = {}
    for a in analyses:
        if a.get("status") == "no_data":
            continue
        group = groups.setdefault(a["outcome"], {
            "outcome": a["outcome"], "outcome_label": a.get("outcome_label") or a["outcome"],
            "main": None, "more": []})
        if group["main"] is None and _is_main(a):
            group["main"] = a["id"]
        else:
            group["more"].append(a["id"])
    for group in groups.values():
        if group["main"] is None:  # no main analysis has data: the first one drawn leads
            group["main"] = group["more"].pop(0)
    return list(groups.values())


def published_overview(rows: list[dict[str, Any]]) -> dict[str, int]:
    """How many published results are re-pooled, wait for data, or are not computed by design."""
    repooled = sum(1 for r in rows if r.get("repooled") is not None)
    not_computed = sum(1 for r in rows if r.get("repooled") is None and not r.get("analysis_id"))
    return {"total": len(rows), "repooled": repooled, "not_computed": not_computed,
            "awaiting_data": len(rows) - repooled - not_computed}


def discrepancy_overview(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The discrepancies counted by impact (most consequential first) and by resolution."""
    def impact(r: dict[str, Any]) -> str:
        return str(r.get("impact") or "not stated")

    known = [key for key, _ in IMPACTS]
    impacts = IMPACTS + [(key, key) for key in sorted({impact(r) for r in rows} - set(known))]
    by_impact = []
    for key, meaning in impacts:
        members = [r for r in rows if impact(r) == key]
        if members:
            by_impact.append({"impact": key, "meaning": meaning, "count": len(members),
                              "open": sum(1 for r in members if r.get("resolution") == "open")})
    return {"total": len(rows), "open": sum(1 for r in rows if r.get("resolution") == "open"),
            "review_level": sum(1 for r in rows if not r.get("study_id")),
            "by_impact": by_impact}


def status_counts(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Records of a listing counted by ``status`` (most frequent first), and how many trials."""
    counts: dict[str, int] = {}
    for r in rows:
        key = str(r.get("status") or "not stated")
        counts[key] = counts.get(key, 0) + 1
    return {"total": len(rows), "trials": len({r.get("study_id") for r in rows}),
            "by_status": [{"status": k, "count": n}
                          for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]}


def overviews(context: dict[str, Any]) -> dict[str, Any]:
    """The overviews of a report context: analyses, published results, discrepancies, listings."""
    return {
        "analysis_overview": analysis_overview(context["analyses"], context["call_for_data"]),
        "published_overview": published_overview(context["published_vs_repooled"]),
        "discrepancy_overview": discrepancy_overview(context["discrepancies"]),
        "adverse_events_overview": status_counts(context["adverse_events"]),
        "dichotomous_overview": status_counts(context["dichotomous"]),
    }
