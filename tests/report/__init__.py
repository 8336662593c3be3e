"""Tests of the HTML report; ``synthetic_context`` builds a made-up context (not evidence).

Study names ("Alpha 2001", ...) and every number here are invented to exercise the layout:
pooled, single-study and no-data analyses, subgroups, a ratio measure on a log axis, risk of
bias, a PRISMA flow with two search rounds and a list of changes.
"""

from __future__ import annotations

from typing import Any

from mscreview.pipeline.overview import overviews

HOSTILE_TITLE = 'Synthetic review <script>alert("x")</script> & co'


def _row(sid: str, label: str, exp: dict[str, Any] | None, ctl: dict[str, Any] | None,
         weight: float, effect: float, low: float, high: float, group: str | None = None,
         flags: list[str] | None = None) -> dict[str, Any]:
    return {"study_id": sid, "label": label, "group": group, "exp": exp, "ctl": ctl,
            "weight": weight, "effect": effect, "ci_low": low, "ci_high": high,
            "flags": flags or []}


def _total(k: int, n_exp: int, n_ctl: int, est: float, low: float, high: float, *,
           pi: tuple[float, float] | None = None, q: float | None = 4.2,
           i2: float | None = 28.6) -> dict[str, Any]:
    return {"k": k, "n_exp": n_exp, "n_ctl": n_ctl, "estimate": est, "ci_low": low,
            "ci_high": high, "z": -2.61, "p": 0.009, "tau2": 0.31, "q": q,
            "q_df": k - 1, "q_p": 0.24, "i2": i2,
            "pi_low": pi[0] if pi else None, "pi_high": pi[1] if pi else None}


def _missing(sid: str, label: str, arm: str, outcome: str, tp: str) -> dict[str, Any]:
    return {"study_id": sid, "label": label, "arm_id": arm, "outcome": outcome,
            "timepoint": tp, "status": "not reported", "source_id": f"{sid}-paper",
            "locator": "Table 2"}


def synthetic_context() -> dict[str, Any]:
    """Return a complete, made-up report context, with the pipeline's overviews of it."""
    context = _synthetic_context()
    labels = {"MELD": "MELD score", "ALB": "Serum albumin", "DEATH": "Death",
              "HCC": "Hepatocellular carcinoma", "TBIL": "Total bilirubin"}
    for analysis in context["analyses"]:
        analysis["outcome_label"] = labels[analysis["outcome"]]
    context.update(overviews(context))
    return context


def _synthetic_context() -> dict[str, Any]:
    meld_rows = [
        _row("alpha2001", "Alpha 2001", {"mean": -2.1, "sd": 3.4, "n": 20},
             {"mean": -0.2, "sd": 3.1, "n": 20}, 31.5, -1.90, -3.92, 0.12,
             flags=["combined 2 MSC arms"]),
        _row("beta2003", "Beta 2003", {"mean": -1.5, "sd": 2.8, "n": 30},
             {"mean": 0.4, "sd": 2.9, "n": 28}, 40.2, -1.90, -3.37, -0.43),
        _row("gamma2005", "Gamma 2005", {"mean": 0.3, "sd": 6.0, "n": 12},
             {"mean": 0.1, "sd": 5.5, "n": 11}, 12.1, 0.20, -4.50, 4.90,
             flags=["SD imputed from SE"]),
        _row("delta2007", "Delta 2007", {"mean": -3.0, "sd": 4.0, "n": 15},
             {"mean": -0.5, "sd": 4.2, "n": 15}, 16.2, -2.50, -5.44, 0.44),
    ]
    alb_rows = [
        _row("alpha2001", "Alpha 2001", {"mean": 3.6, "sd": 0.4, "n": 20},
             {"mean": 3.3, "sd": 0.5, "n": 20}, 30.0, 0.30, 0.02, 0.58, group="Bone marrow"),
        _row("beta2003", "Beta 2003", {"mean": 3.5, "sd": 0.5, "n": 30},
             {"mean": 3.4, "sd": 0.5, "n": 28}, 25.0, 0.10, -0.16, 0.36, group="Bone marrow"),
        _row("epsilon2009", "Epsilon 2009", {"mean": 3.9, "sd": 0.3, "n": 25},
             {"mean": 3.4, "sd": 0.4, "n": 25}, 28.0, 0.50, 0.30, 0.70, group="Umbilical cord"),
        _row("zeta2011", "Zeta 2011", {"mean": 3.2, "sd": 0.6, "n": 10},
             {"mean": 3.1, "sd": 0.7, "n": 10}, 17.0, 0.10, -0.47, 0.67, group="Umbilical cord"),
    ]
    death_rows = [
        _row("alpha2001", "Alpha 2001", {"events": 2, "n": 20}, {"events": 5, "n": 20}, 22.0,
             0.40, 0.09, 1.83),
        _row("beta2003", "Beta 2003", {"events": 4, "n": 30}, {"events": 8, "n": 28}, 45.0,
             0.47, 0.16, 1.38),
        _row("eta2013", "Eta 2013", {"events": 1, "n": 40}, {"events": 3, "n": 40}, 33.0,
             0.33, 0.01, 9.5),
    ]
    analyses = [
        {"id": "meld-3m", "title": "MELD score at 3 months", "outcome": "MELD",
         "measure": "MD", "model": "random", "tau2_method": "DL", "unit": "points",
         "scale": "linear", "favours": ["Favours MSC", "Favours control"],
         "data_kind": "continuous", "status": "pooled", "reason": "", "rows": meld_rows,
         "total": _total(4, 77, 74, -1.71, -2.79, -0.62, pi=(-3.9, 0.5)),
         "subgroups": [], "subgroup_test": None,
         "excluded": [{"study_id": "theta2015", "label": "Theta 2015",
                       "reason": "median and range only"}],
         "missing": [_missing("theta2015", "Theta 2015", "MSC", "MELD", "3 months")]},
        {"id": "alb-6m", "title": "Serum albumin at 6 months, by cell source",
         "outcome": "ALB", "measure": "MD", "model": "random", "tau2_method": "DL",
         "unit": "g/dL", "scale": "linear", "favours": ["Favours control", "Favours MSC"],
         "data_kind": "continuous", "status": "pooled", "reason": "", "rows": alb_rows,
         "total": _total(4, 85, 83, 0.28, 0.10, 0.46, pi=(-0.2, 0.76)),
         "subgroups": [
             {"name": "Bone marrow", "total": _total(2, 50, 48, 0.19, -0.00, 0.38, q=1.1,
                                                     i2=9.1)},
             {"name": "Umbilical cord", "total": _total(2, 35, 35, 0.39, 0.02, 0.75, q=1.6,
                                                        i2=37.5)}],
         "subgroup_test": {"q": 0.81, "df": 1, "p": 0.37, "i2": 0.0},
         "excluded": [], "missing": []},
        {"id": "death-12m", "title": "Death at 12 months", "outcome": "DEATH", "measure": "RR",
         "model": "random", "tau2_method": "DL", "unit": None, "scale": "log",
         "favours": ["Favours MSC", "Favours control"], "data_kind": "dichotomous",
         "status": "pooled", "reason": "", "rows": death_rows,
         "total": {**_total(3, 90, 88, 0.43, 0.20, 0.92, pi=(0.02, 9.0), q=0.12, i2=0.0),
                   "z": -2.18, "p": 0.0000004},
         "subgroups": [], "subgroup_test": None, "excluded": [], "missing": []},
        {"id": "hcc-24m", "title": "Hepatocellular carcinoma at 24 months", "outcome": "HCC",
         "measure": "RR", "model": "random", "tau2_method": "DL", "unit": None, "scale": "log",
         "favours": ["Favours MSC", "Favours control"], "data_kind": "dichotomous",
         "status": "single_study", "reason": "Only one study reports HCC at 24 months.",
         "rows": [_row("beta2003", "Beta 2003", {"events": 1, "n": 30},
                       {"events": 2, "n": 28}, 100.0, 0.47, 0.04, 4.86)],
         "total": None, "subgroups": [], "subgroup_test": None, "excluded": [], "missing": []},
        {"id": "bili-12m", "title": "Total bilirubin at 12 months", "outcome": "TBIL",
         "measure": "MD", "model": "random", "tau2_method": "DL", "unit": "mg/dL",
         "scale": "linear", "favours": ["Favours MSC", "Favours control"],
         "data_kind": "continuous", "status": "no_data",
         "reason": "No study reports bilirubin at 12 months with a usable dispersion.",
         "rows": [], "total": None, "subgroups": [], "subgroup_test": None, "excluded": [],
         "missing": [_missing("alpha2001", "Alpha 2001", "control", "TBIL", "12 months")]},
    ]
    return {
        "title": HOSTILE_TITLE,
        "data_version": "0.2.0",
        "data_hash": "sha256:" + "0123456789abcdef" * 4,
        "built_at": "2026-11-24T00:00:00Z",
        "rebuild_command": "pip install . && mscreview build",
        "summary": [
            {"outcome": "MELD", "outcome_label": "MELD score", "analysis_id": "meld-3m",
             "measure": "MD", "estimate": -1.71, "ci_low": -2.79, "ci_high": -0.62, "k": 4,
             "patients": 151, "i2": 28.6, "p": 0.009,
             "published": {"result_id": "seedA-1", "measure": "MD", "estimate": -2.0,
                           "ci_low": -3.1, "ci_high": -0.9, "p_reported": "<0.001", "i2": 40},
             "reading": "Synthetic: MELD fell about 1.7 points more with MSC.",
             "status": "pooled", "status_label": "pooled", "unit": "points", "absolute": None,
             "missing_text": "",
             "certainty": {
                 "level": "low", "label": "Low", "score": 2, "draft": True, "overridden": False,
                 "override_note": None, "downgrades": ["risk of bias (serious)",
                                                       "imprecision (serious)"],
                 "footnotes": [
                     {"mark": "a", "domain": "risk_of_bias", "label": "Risk of bias",
                      "judgement": "serious", "text": "Synthetic: most weight at unclear risk."},
                     {"mark": "b", "domain": "imprecision", "label": "Imprecision",
                      "judgement": "serious", "text": "Synthetic: optimal size not met."}]}},
            {"outcome": "DEATH", "outcome_label": "Death", "analysis_id": "death-12m",
             "measure": "RR", "estimate": 0.43, "ci_low": 0.20, "ci_high": 0.92, "k": 3,
             "patients": 178, "i2": 0.0, "p": 0.0000004, "published": None,
             "reading": "Synthetic: fewer deaths with MSC.", "status": "no_data",
             "status_label": "no usable data", "unit": "", "absolute": None,
             "missing_text": "2 values missing (see the call for data)", "certainty": None},
        ],
        "analyses": analyses,
        "published_vs_repooled": [
            {"result_id": "seedA-1", "outcome": "MELD", "analysis": "3 months", "subgroup": None,
             "measure": "MD",
             "published": {"estimate": -2.0, "ci_low": -3.1, "ci_high": -0.9,
                           "p_reported": "<0.001", "i2": 40, "k": 5},
             "repooled": {"estimate": -1.71, "ci_low": -2.79, "ci_high": -0.62, "p": 0.009,
                          "i2": 28.6, "k": 4},
             "analysis_id": "meld-3m", "note": "one trial not usable", "missing": []},
            {"result_id": "seedB-4", "outcome": "TBIL", "analysis": "12 months",
             "subgroup": "bone marrow", "measure": "MD",
             "published": {"estimate": -0.8, "ci_low": -1.4, "ci_high": -0.2,
                           "p_reported": 0.01, "i2": 60, "k": 3},
             "repooled": None, "analysis_id": None,
             "note": "pools time points twice; not re-pooled",
             "missing": [_missing("alpha2001", "Alpha 2001", "control", "TBIL", "12 months"),
                         _missing("gamma2005", "Gamma 2005", "MSC", "TBIL", "12 months")]},
        ],
        "call_for_data": [
            {"study_id": sid, "label": label, "source_id": f"{sid}-paper", "locator": "Table 2",
             "status": "not reported", "results": ["seedB-4"],
             "needs": [{"outcome": "TBIL", "outcome_label": "Total bilirubin",
                        "timepoints": ["12 months"], "arms": [arm]}]}
            for sid, label, arm in (("alpha2001", "Alpha 2001", "control"),
                                    ("gamma2005", "Gamma 2005", "MSC"))],
        "discrepancies": [
            {"discrepancy_id": "D1", "study_id": "beta2003", "label": "Beta 2003",
             "field": "n_ctl", "seed_value": "30", "primary_value": "28",
             "impact": "weight", "resolution": "primary source used",
             "primary_source": "beta2003-paper", "primary_locator": "Figure 1",
             "notes": "seed counted randomised, not analysed"}],
        "studies": [
            {"study_id": sid, "label": label, "year": year, "country": "Nowhere",
             "design": "RCT", "population": "decompensated cirrhosis", "etiology": "HBV",
             "cell_type": "BM-MSC", "dose": "1e6/kg", "route": "hepatic artery",
             "infusions": 1, "follow_up_months": 12, "n_exp": 20, "n_ctl": 20,
             "included": sid != "theta2015",
             "exclusion_reason": "no usable outcome" if sid == "theta2015" else None,
             "verification": "primary checked", "overlap_group": None}
            for sid, label, year in [("alpha2001", "Alpha 2001", 2001),
                                     ("beta2003", "Beta 2003", 2003),
                                     ("theta2015", "Theta 2015", 2015)]],
        "adverse_events": [
            {"study_id": "alpha2001", "label": "Alpha 2001", "arm_id": "MSC", "event": "fever",
             "events": 3, "as_reported": "3 transient fevers", "status": "reported",
             "source": "alpha2001-paper"}],
        "dichotomous": [
            {"study_id": "alpha2001", "label": "Alpha 2001", "outcome": "death",
             "timepoint": "12 months", "exp": "2/20", "ctl": "5/20", "as_reported": "2 vs 5",
             "status": "reported"},
            {"study_id": "beta2003", "label": "Beta 2003", "outcome": "HCC",
             "timepoint": "24 months", "exp": "1/30", "ctl": "2/28", "as_reported": None,
             "status": "reported"}],
        "risk_of_bias": {
            "domains": [{"id": "d1", "label": "Random sequence generation"},
                        {"id": "d2", "label": "Allocation concealment"},
                        {"id": "d3", "label": "Blinding of participants and personnel"},
                        {"id": "d4", "label": "Incomplete outcome data"}],
            "studies": [
                {"study_id": "alpha2001", "label": "Alpha 2001",
                 "judgements": {"d1": "low", "d2": "unclear", "d3": "high", "d4": None}},
                {"study_id": "beta2003", "label": "Beta 2003",
                 "judgements": {"d1": "low", "d2": "low", "d3": "high", "d4": "low"}},
                {"study_id": "gamma2005", "label": "Gamma 2005",
                 "judgements": {"d1": "unclear", "d2": "unclear", "d3": "high", "d4": "low"}}],
            "assessor": "mscreview"},
        "prisma": {
            "rounds": [
                {"round": 1, "identified": {"PubMed": 120, "Embase": 95},
                 "duplicates_removed": 60, "screened": 155,
                 "excluded_screening": {"not MSC": 100, "not cirrhosis": 30},
                 "assessed": 25, "excluded_full_text": {"no control arm": 15, "review": 4},
                 "included_new": 6},
                {"round": 2, "identified": {"PubMed": 30, "Embase": 22, "CENTRAL": 8},
                 "duplicates_removed": 12, "screened": 48,
                 "excluded_screening": {"not relevant": 44}, "assessed": 4,
                 "excluded_full_text": {"no control arm": 2}, "included_new": 2}],
            "included_previous": 6, "included_total": 8},
        "changes": {"previous_version": "0.1.0", "trials_added": ["Zeta 2011", "Eta 2013"],
                    "values_changed": ["Beta 2003 control N 30 -> 28"],
                    "estimates_moved": [
                        {"analysis_id": "meld-3m", "title": "MELD score at 3 months",
                         "old": {"estimate": -1.2, "ci_low": -2.6, "ci_high": 0.2},
                         "new": {"estimate": -1.71, "ci_low": -2.79, "ci_high": -0.62},
                         "significance_flipped": True}],
                    "first_version": False},
        "downloads": [{"label": "Data (CSV)", "path": "data/studies.csv"},
                      {"label": "DuckDB database", "path": "mscreview.duckdb"},
                      {"label": "Forest plot MELD (SVG)", "path": "figures/forest-meld-3m.svg"}],
        "citation": "Synthetic contributors. Synthetic living review. Version 0.2.0.",
    }
