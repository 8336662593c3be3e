"""The counts and groupings the report leads its sections with (``pipeline.overview``)."""

from __future__ import annotations

from mscreview.pipeline.overview import (
    analysis_overview,
    discrepancy_overview,
    published_overview,
    status_counts,
)


def _missing(sid: str, arm: str) -> dict:
    return {"study_id": sid, "label": sid.title(), "arm_id": arm}


ANALYSES = [
    {"id": "meld-overall", "title": "MELD score, main time point (3 months)", "outcome": "MELD",
     "outcome_label": "MELD score", "status": "pooled", "missing": [], "excluded": []},
    {"id": "meld-6m", "title": "MELD score at 6 months", "outcome": "MELD",
     "outcome_label": "MELD score", "status": "no_data",
     "missing": [_missing("b2001", "msc"), _missing("b2001", "control"), _missing("a2000", "msc")],
     "excluded": [{"study_id": "c2002", "label": "C 2002", "reason": "median and IQR only"}]},
    {"id": "alb-overall", "title": "Albumin, main time point (3 months)", "outcome": "ALB",
     "outcome_label": "Albumin", "status": "single_study", "missing": [], "excluded": []},
    {"id": "alb-1w", "title": "Albumin at 1 week", "outcome": "ALB", "outcome_label": "Albumin",
     "status": "no_data", "missing": [_missing("d2003", "msc")], "excluded": []},
    {"id": "meld-12m", "title": "MELD score at 12 months", "outcome": "MELD",
     "outcome_label": "MELD score", "status": "no_data", "missing": [_missing("a2000", "msc")],
     "excluded": []},
]


def test_analysis_overview_counts_every_status() -> None:
    ov = analysis_overview(ANALYSES, [{"study_id": "a2000"}])
    assert (ov["planned"], ov["pooled"], ov["single_study"], ov["no_data"]) == (5, 1, 1, 3)
    assert ov["planned"] == ov["pooled"] + ov["single_study"] + ov["no_data"]


def test_analyses_without_data_are_grouped_by_outcome_in_plan_order() -> None:
    groups = analysis_overview(ANALYSES, [{"study_id": "a2000"}])["without_data"]
    assert [g["outcome_label"] for g in groups] == ["MELD score", "Albumin"]
    meld = groups[0]
    assert [a["id"] for a in meld["analyses"]] == ["meld-6m", "meld-12m"]
    assert [a["analysis"] for a in meld["analyses"]] == ["At 6 months", "At 12 months"]
    first = meld["analyses"][0]
    assert (first["values_missing"], first["trials_missing"], first["in_call"]) == (3, 2, True)
    assert first["excluded"][0]["reason"] == "median and IQR only"  # nothing dropped silently
    assert meld["trials"] == [{"study_id": "a2000", "label": "A2000", "in_call": True},
                              {"study_id": "b2001", "label": "B2001", "in_call": False}]
    assert groups[1]["analyses"][0]["in_call"] is False


def test_short_title_keeps_a_title_that_does_not_start_with_the_outcome() -> None:
    odd = {**ANALYSES[3], "title": "Week-1 albumin"}
    (group,) = analysis_overview([odd], [])["without_data"]
    assert group["analyses"][0]["analysis"] == "Week-1 albumin"


def test_published_overview_adds_up() -> None:
    rows = [{"repooled": {"estimate": 1.0}, "analysis_id": "a"},
            {"repooled": None, "analysis_id": "b"},
            {"repooled": None, "analysis_id": None}]
    assert published_overview(rows) == {"total": 3, "repooled": 1, "awaiting_data": 1,
                                         "not_computed": 1}


def test_discrepancies_by_impact_most_consequential_first() -> None:
    rows = [{"impact": "descriptive", "resolution": "open", "study_id": None},
            {"impact": "analysis", "resolution": "primary_used", "study_id": "a2000"},
            {"impact": "analysis", "resolution": "open", "study_id": "b2001"},
            {"impact": None, "resolution": "open", "study_id": "b2001"}]
    ov = discrepancy_overview(rows)
    assert (ov["total"], ov["open"], ov["review_level"]) == (4, 3, 1)
    assert [(g["impact"], g["count"], g["open"]) for g in ov["by_impact"]] == [
        ("analysis", 2, 1), ("descriptive", 1, 1), ("not stated", 1, 1)]


def test_status_counts() -> None:
    rows = [{"study_id": "a", "status": "extracted"}, {"study_id": "a", "status": "not_reachable"},
            {"study_id": "b", "status": "not_reachable"}]
    assert status_counts(rows) == {"total": 3, "trials": 2, "by_status": [
        {"status": "not_reachable", "count": 2}, {"status": "extracted", "count": 1}]}


def test_figures_lead_with_the_main_analysis_and_fold_the_rest() -> None:
    drawn = [
        {"id": "alb-6m", "outcome": "ALB", "status": "pooled", "grouping": "none",
         "time_window": "6 months"},
        {"id": "alb-overall", "outcome": "ALB", "status": "pooled", "grouping": "none",
         "time_window": "main"},
        {"id": "alb-route", "outcome": "ALB", "status": "single_study", "grouping": "route",
         "time_window": "main"},
        {"id": "alb-1w", "outcome": "ALB", "status": "no_data", "grouping": "none",
         "time_window": "1 week", "missing": []},
        {"id": "meld-route", "outcome": "MELD", "status": "pooled", "grouping": "route",
         "time_window": "main"},
        {"id": "meld-2w", "outcome": "MELD", "status": "pooled", "grouping": "none",
         "time_window": "2 weeks"},
    ]
    figures = analysis_overview(drawn, [])["figures"]
    assert [(g["outcome"], g["main"], g["more"]) for g in figures] == [
        ("ALB", "alb-overall", ["alb-6m", "alb-route"]),
        ("MELD", "meld-route", ["meld-2w"])]  # no main analysis with data: the first leads
