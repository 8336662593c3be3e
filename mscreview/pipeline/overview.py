"""Counts and groupings the report leads its sections with.

The report computes nothing: when a section opens with "3 of 45 analyses pooled" or collapses the
analyses without data into one table, the numbers and the grouping come from here, through
``context.assemble``, and so also land in ``results.json``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["analysis_overview", "at_a_glance", "discrepancy_overview", "overviews",
           "published_overview", "status_counts"]

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


#: GRADE levels, most certain first (the labels of ``pipeline.certainty``).
CERTAINTY_ORDER = ["High", "Moderate", "Low", "Very low"]


def _n(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def _names(labels: list[str], limit: int = 4) -> str:
    if len(labels) <= limit:
        return ", ".join(labels)
    return ", ".join(labels[:limit]) + f" and {len(labels) - limit} more"


def at_a_glance(context: dict[str, Any]) -> list[dict[str, str]]:
    """The report's key messages, one plain sentence per topic, from the finished context.

    For a reader who stops after the first screen: what is included, what pools, how certain it
    is, what the audit of the published review found, safety, and what changed. Each message
    names the section that holds the detail (``section``: its anchor). Every number is a count
    of the context; nothing is pooled or judged here.
    """
    out: list[dict[str, str]] = []
    studies = context.get("studies") or []
    included = [s for s in studies if s.get("included")]
    rct = sum(1 for s in included if s.get("design") == "rct")
    unclear = sum(1 for s in included if s.get("design") == "unclear")
    other = len(included) - rct - unclear
    excluded = len(studies) - len(included)
    text = f"{_n(len(included), 'trial')} included, {rct} confirmed randomised"
    notes = ([f"{unclear} not confirmed by the reports read so far"] if unclear else []) + (
        [f"{other} not randomised"] if other else [])
    text += f" ({'; '.join(notes)})" if notes else ""
    text += f"; {excluded} excluded, each with its reason." if excluded else "."
    out.append({"topic": "Trials", "section": "studies", "text": text})

    counts = (context.get("analysis_overview") or {})
    planned, pooled = counts.get("planned", 0), counts.get("pooled", 0)
    single, no_data = counts.get("single_study", 0), counts.get("no_data", 0)
    calls = context.get("call_for_data") or []
    text = (f"{pooled} of {planned} planned analyses pool two or more trials; "
            f"{single} rest on one trial (not pooled); {no_data} await numbers")
    text += (f" from {_n(len({c.get('study_id') for c in calls}), 'trial')} "
             "(call for data)." if calls else ".")
    out.append({"topic": "Analyses", "section": "forest-plots", "text": text})

    rated = [s for s in context.get("summary") or [] if s.get("certainty")]
    if rated:
        by_level: dict[str, list[str]] = {}
        for s in rated:
            by_level.setdefault(str(s["certainty"].get("label")), []).append(
                str(s.get("outcome_label")))
        levels = "; ".join(f"{level}: {', '.join(by_level[level])}"
                           for level in CERTAINTY_ORDER + sorted(set(by_level) - set(CERTAINTY_ORDER))
                           if level in by_level)
        text = f"Certainty of the evidence (automated GRADE draft) — {levels}."
    else:
        text = "No main outcome has usable data yet: no effect estimate, no certainty rating."
    out.append({"topic": "Certainty", "section": "summary", "text": text})

    pub = context.get("published_overview") or {}
    results = (context.get("audit") or {}).get("results") or []
    flagged = [r for r in results if r.get("flags")]
    if pub.get("total"):
        text = (f"{pub.get('repooled', 0)} of the seed review's {pub['total']} pooled results "
                "can be re-pooled so far")
        if results:
            text += (f"; {len(flagged)} fail at least one check against their own "
                     "printed numbers")
        out.append({"topic": "Published results", "section": "audit" if results else
                    "published-vs-repooled", "text": text + "."})

    disc = context.get("discrepancy_overview") or {}
    if disc.get("total"):
        changes_numbers = next((d["count"] for d in disc.get("by_impact") or []
                                if d.get("impact") == "analysis"), 0)
        out.append({"topic": "Source verification", "section": "source-verification", "text": (
            f"{_n(disc['total'], 'disagreement')} with the primary sources logged "
            f"({disc.get('open', 0)} open); {changes_numbers} "
            f"change{'s' if changes_numbers == 1 else ''} numbers an analysis uses.")})

    labels = {s.get("study_id"): s.get("label") or s.get("study_id") for s in included}
    concerns = [t for t in (context.get("audit") or {}).get("trials") or []
                if t.get("flags") and t.get("study_id") in labels]
    if concerns:
        words = (context.get("audit_details") or {}).get("check_names") or {}
        names = _names([
            f"{labels[t['study_id']]} ("
            + ", ".join(sorted({str(words.get(f.get("check"), f.get("check"))) for f in t["flags"]}))
            + ")" for t in concerns])
        out.append({"topic": "Trustworthiness", "section": "trustworthiness", "text": (
            f"Concerns for {names}: they lower certainty, they exclude nothing.")})

    events = (context.get("safety") or {}).get("events") or []
    if events:
        with_data = [e for e in events if e.get("k")]
        multi = [e for e in with_data if (e.get("k") or 0) >= 2]
        text = (f"{_n(len(events), 'adverse-event type')} recorded; "
                f"{len(with_data)} counted in both arms of a trial; "
                f"{len(multi) or 'none'} pooled across trials.")
        out.append({"topic": "Safety", "section": "safety", "text": text})

    ch = context.get("changes") or {}
    if ch.get("previous_version"):
        added = ch.get("trials_added") or []
        moved = ch.get("estimates_moved") or []
        text = f"{ch.get('heading') or 'Changes'}: "
        text += (f"{_n(len(added), 'trial')} added ({_names([str(a) for a in added])})"
                 if added else "no trial added")
        # each entry is one (analysis, trial) pair that gained or changed values, not one value
        for key, what in (("values_added", "new values"), ("values_changed", "changed values")):
            if ch.get(key):
                text += f"; {what} in {_n(len(ch[key]), 'analysis', 'analyses')}"
        text += f"; {_n(len(moved), 'estimate')} moved"
        flipped = ch.get("conclusions_flipped") or 0
        text += f"; {_n(flipped, 'conclusion')} changed." if flipped else "; no conclusion changed."
        out.append({"topic": "What\u2019s new", "section": "changes", "text": text})
    return out
