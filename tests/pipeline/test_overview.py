"""The counts and groupings the report leads its sections with (``pipeline.overview``)."""

from __future__ import annotations

from mscreview.pipeline.overview import (
    analysis_overview,
    at_a_glance,
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


def _glance_context(**extra: object) -> dict:
    studies = [{"study_id": "a2000", "label": "A 2000", "included": True, "design": "rct"},
               {"study_id": "b2001", "label": "B 2001", "included": True, "design": "unclear"},
               {"study_id": "c2002", "label": "C 2002", "included": False, "design": "unclear"}]
    return {"studies": studies, "analysis_overview": analysis_overview(ANALYSES, []),
            "call_for_data": [{"study_id": "a2000"}, {"study_id": "a2000"}, {"study_id": "b2001"}],
            **extra}


def _glance(ctx: dict) -> dict[str, str]:
    return {m["topic"]: m["text"] for m in at_a_glance(ctx)}


def test_at_a_glance_counts_trials_and_analyses() -> None:
    msgs = _glance(_glance_context())
    assert msgs["Trials"] == ("2 trials included, 1 confirmed randomised (1 not confirmed by the "
                              "reports read so far); 1 excluded, each with its reason.")
    assert msgs["Analyses"] == ("1 of 5 planned analyses pool two or more trials; 1 rest on one "
                                "trial (not pooled); 3 await numbers from 2 trials (call for data).")
    assert msgs["Certainty"].startswith("No main outcome has usable data yet")
    assert "Trustworthiness" not in msgs and "What\u2019s new" not in msgs  # nothing to say


def test_at_a_glance_names_only_included_trials_with_concerns_in_words() -> None:
    flag = {"check": "copied_values", "message": "m", "p": None}
    audit = {"results": [{"result_id": "r1", "flags": [flag]}, {"result_id": "r2", "flags": []}],
             "trials": [{"study_id": "b2001", "flags": [flag]},
                        {"study_id": "c2002", "flags": [flag]},
                        {"study_id": "a2000", "flags": []}]}
    ctx = _glance_context(audit=audit, audit_details={"check_names": {"copied_values": "copied"}},
                          published_overview={"total": 2, "repooled": 0})
    msgs = _glance(ctx)
    assert msgs["Trustworthiness"] == ("Concerns for B 2001 (copied): they lower certainty, they "
                                       "exclude nothing.")  # C 2002 is excluded: not named
    assert msgs["Published results"] == ("0 of the seed review's 2 pooled results can be "
                                         "re-pooled so far; 1 fail at least one check against "
                                         "their own printed numbers.")


def test_at_a_glance_reports_certainty_and_changes() -> None:
    ctx = _glance_context(
        summary=[{"outcome_label": "MELD score", "certainty": {"label": "Low"}},
                 {"outcome_label": "Albumin", "certainty": None},
                 {"outcome_label": "ALT", "certainty": {"label": "Moderate"}},
                 {"outcome_label": "AST", "certainty": {"label": "Low"}}],
        changes={"previous_version": "0.1.0", "heading": "Changes since 0.1.0 (unreleased)",
                 "trials_added": ["Smith 2024"], "estimates_moved": [{}, {}],
                 "values_added": ["Smith 2024: MELD"], "values_changed": [],
                 "conclusions_flipped": 1})
    msgs = _glance(ctx)
    assert msgs["Certainty"] == ("Certainty of the evidence (automated GRADE draft) — "
                                 "Moderate: ALT; Low: MELD score, AST.")
    assert msgs["What\u2019s new"] == ("Changes since 0.1.0 (unreleased): 1 trial added "
                                       "(Smith 2024); new values in 1 analysis; 2 estimates moved; "
                                       "1 conclusion "
                                       "changed.")


def test_at_a_glance_says_which_included_trials_are_not_randomised() -> None:
    ctx = _glance_context()
    ctx["studies"] = [*ctx["studies"], {"study_id": "d2003", "label": "D 2003", "included": True,
                                        "design": "non_randomised"}]
    assert _glance(ctx)["Trials"] == (
        "3 trials included, 1 confirmed randomised (1 not confirmed by the reports read so far; "
        "1 not randomised); 1 excluded, each with its reason.")


def test_at_a_glance_counts_analyses_not_values_when_a_trial_is_filled_in() -> None:
    """Two values of one trial reach six analyses: "6 values added" overstated what arrived."""
    titles = ["main", "at 3 months", "by route", "by etiology", "by dose", "by cell type"]
    ctx = _glance_context(changes={
        "previous_version": "0.1.0", "heading": "Changes since 0.1.0 (unreleased)",
        "trials_added": [], "estimates_moved": [{}], "conclusions_flipped": 0,
        "values_added": [f"Suk 2016: MELD score {t}" for t in titles],
        "values_changed": ["Suk 2016: MELD score main"]})
    assert _glance(ctx)["What\u2019s new"] == (
        "Changes since 0.1.0 (unreleased): no trial added; new values in 6 analyses; changed "
        "values in 1 analysis; 1 estimate moved; no conclusion changed.")
