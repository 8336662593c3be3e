"""Run the analysis plan: rows from the views of the database, pooled by the statistics engine.

For each analysis the rows of its view are fetched with the plan's query; trials sharing patients
(same ``overlap_group``) and values that cannot enter the measure (an MD across different units)
are excluded with a reason; what is left goes through ``mscreview.stats``. The result is the
``analyses`` part of the report context (see ``reports/results.json``), with the call for data:
the values that are missing for the analysis's outcome and time window.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import duckdb

from mscreview import stats
from mscreview.plan import Analysis
from mscreview.vocabulary import ANALYSIS_STATUSES as STATUSES
from mscreview.vocabulary import SINGLE_LABEL

__all__ = ["OUTCOME_LABELS", "SINGLE_LABEL", "STATUSES", "fill_pooled", "run_analysis", "run_plan",
           "total_of"]

OUTCOME_LABELS = {
    "MELD": "MELD score", "ALB": "Albumin", "TBIL": "Total bilirubin", "ALT": "ALT", "AST": "AST",
    "INR": "INR", "PT": "Prothrombin time", "PTA": "Prothrombin activity",
    "CHILD_PUGH": "Child-Pugh score", "death": "Mortality", "hcc": "Hepatocellular carcinoma",
}
#: Subgroup codes of the views in words, for the forest plots.
GROUP_LABELS = {
    "peripheral_vein": "Peripheral vein", "hepatic_artery": "Hepatic artery",
    "portal_vein": "Portal vein", "intrasplenic": "Intrasplenic", "intraperitoneal": "Intraperitoneal",
    "low": "Low dose (up to 1×10⁶ cells/kg)", "high": "High dose (above 1×10⁶ cells/kg)",
    "alcohol": "Alcohol", "unknown": "Not reported",
}
#: Kind of an analysis -> kind of its rows in the missing_values view (the call for data).
MISSING_KIND = {"generic": "study_effect"}
#: Units that are not shown after the measure (scores, ratios).
UNITLESS = {"none", "points"}
#: Which direction favours MSC: lower is better for these outcomes.
LOWER_IS_BETTER = {"MELD", "TBIL", "ALT", "AST", "INR", "PT", "CHILD_PUGH", "death", "hcc",
                   "liver_failure", "complication"}


def _num(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


def total_of(res: stats.PoolResult, n_exp: int, n_ctl: int) -> dict[str, Any]:
    """The ``total`` record of a pooled result (NaN becomes None)."""
    return {
        "k": res.k, "n_exp": n_exp, "n_ctl": n_ctl,
        "estimate": _num(res.estimate), "ci_low": _num(res.ci_low), "ci_high": _num(res.ci_high),
        "z": _num(res.z), "p": _num(res.p), "tau2": _num(res.tau2), "q": _num(res.q),
        "q_df": res.q_df, "q_p": _num(res.q_p), "i2": _num(res.i2),
        "pi_low": _num(res.pi_low), "pi_high": _num(res.pi_high),
        "hksj": res.hksj, "test_df": _num(res.test_df),
        "notes": list(res.notes),
    }


def _fetch(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


class _ByOutcome:
    """Rows of one fetched view grouped by outcome and by (outcome, window), in their order:
    the rows an analysis matches (``Analysis.matches``) are one group, found by a look-up
    instead of a scan of every row per analysis (5,000 trials: 300,000 rows x 46 analyses)."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.outcome: dict[Any, list[dict[str, Any]]] = {}
        self.window: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
        for r in rows:
            o = r.get("outcome")
            self.outcome.setdefault(o, []).append(r)
            self.window.setdefault((o, r.get("window")), []).append(r)

    def matching(self, a: Analysis, main: str) -> list[dict[str, Any]]:
        """The rows ``a.matches``, in view order."""
        if a.time_window == "any":
            rows = self.outcome.get(a.outcome, [])
        else:
            want = main if a.time_window == "main" else a.time_window
            rows = self.window.get((a.outcome, want), [])
        return list(rows)


class _Views:
    """Each view fetched once per build; analyses take their rows (``Analysis.matches``) from
    the view's rows grouped by outcome and window (:class:`_ByOutcome`)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.main = con.execute("SELECT label FROM time_windows WHERE is_main").fetchone()[0]
        self._rows: dict[str, _ByOutcome] = {}
        self._values: _ByOutcome | None = None
        self._events: _ByOutcome | None = None
        self.missing = _fetch(con, """
            SELECT m.kind, m.study_id, m.label, m.arm_id, m.outcome,
                   m.timepoint_label AS timepoint, m.status, m.source_id, m.locator, m.included,
                   w.label AS "window"
            FROM missing_values m LEFT JOIN time_windows w
              ON m.timepoint_weeks >= w.lower_weeks AND m.timepoint_weeks < w.upper_weeks
            ORDER BY m.label, m.timepoint_weeks, m.arm_id, m.outcome, m.source_id""", [])

    def values_for(self, a: Analysis) -> list[dict[str, Any]]:
        """Every extracted arm-level continuous value of the analysis's outcome and window."""
        if self._values is None:
            self._values = _ByOutcome(_fetch(self.con, """
                SELECT v.study_id, s.label, s.included, v.arm_id, v.role, v.outcome,
                       v.timepoint_weeks, v.timepoint_label, v.value_type, v.unit, v.usable,
                       v.preferred, v.exclusion_reason, v.source_id, v.locator,
                       w.label AS "window"
                FROM arm_values v JOIN studies s ON s.study_id = v.study_id
                LEFT JOIN time_windows w
                  ON v.timepoint_weeks >= w.lower_weeks AND v.timepoint_weeks < w.upper_weeks
                ORDER BY s.year, v.study_id, v.timepoint_weeks, v.arm_id, v.source_id""", []))
        return self._values.matching(a, self.main)

    def events_for(self, a: Analysis) -> list[dict[str, Any]]:
        """Every extracted event count of the analysis's outcome and window (dichotomous)."""
        if self._events is None:
            self._events = _ByOutcome(_fetch(self.con, """
                SELECT d.study_id, s.label, s.included, d.arm_id, a.role, d.outcome,
                       d.timepoint_weeks, d.timepoint_label, d.events,
                       coalesce(d.n, a.n_analysed, a.n_randomised) AS n, d.source_id, d.locator,
                       w.label AS "window",
                       CASE WHEN d.events IS NOT NULL
                            AND coalesce(d.n, a.n_analysed, a.n_randomised) IS NOT NULL
                       THEN row_number() OVER (
                           PARTITION BY d.study_id, d.arm_id, d.outcome, d.timepoint_weeks,
                               d.events IS NOT NULL
                               AND coalesce(d.n, a.n_analysed, a.n_randomised) IS NOT NULL
                           ORDER BY coalesce(p.preference, 999), d.source_id) END AS source_rank
                FROM dichotomous_outcomes d JOIN studies s ON s.study_id = d.study_id
                LEFT JOIN arms a ON a.study_id = d.study_id AND a.arm_id = d.arm_id
                LEFT JOIN source_preference p ON p.source_id = d.source_id
                LEFT JOIN time_windows w
                  ON d.timepoint_weeks >= w.lower_weeks AND d.timepoint_weeks < w.upper_weeks
                WHERE d.status = 'extracted'
                ORDER BY s.year, d.study_id, d.timepoint_weeks, d.arm_id, d.source_id""", []))
        return self._events.matching(a, self.main)

    def rows(self, a: Analysis) -> list[dict[str, Any]]:
        if a.view not in self._rows:
            self._rows[a.view] = _ByOutcome(_fetch(self.con, f"SELECT * FROM {a.view}", []))
        return self._rows[a.view].matching(a, self.main)

    def missing_for(self, a: Analysis, kind: str) -> list[dict[str, Any]]:
        keep = ("study_id", "label", "arm_id", "outcome", "timepoint", "status", "source_id",
                "locator")
        return [{k: m[k] for k in keep} for m in self.missing
                if m["kind"] == MISSING_KIND.get(kind, kind) and m["included"]
                and a.matches(m, self.main)]


def _drop_overlaps(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Keep one trial per overlap group (the largest), exclude the others with the reason."""
    best: dict[str, dict[str, Any]] = {}
    for r in rows:
        g = r.get("overlap_group")
        if g and (g not in best or (r["n1"] or 0) + (r["n2"] or 0)
                  > (best[g]["n1"] or 0) + (best[g]["n2"] or 0)):
            best[g] = r
    kept, excluded = [], []
    for r in rows:
        g = r.get("overlap_group")
        if g and best[g] is not r:
            excluded.append({"study_id": r["study_id"], "label": r["label"],
                             "reason": f"shares patients with {best[g]['label']} (overlap group "
                                       f"{g}); counted once"})
        else:
            kept.append(r)
    return kept, excluded


def _drop_other_units(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """An MD needs one unit: keep the most common one; xULN values never enter an MD."""
    usable = [r for r in rows if "smd_only" not in (r.get("flags") or "")]
    excluded = [{"study_id": r["study_id"], "label": r["label"],
                 "reason": f"values in {r['unit']} cannot enter a mean difference (SMD only)"}
                for r in rows if "smd_only" in (r.get("flags") or "")]  # not usable (O(k))
    if not usable:
        return usable, excluded
    unit = Counter(r["unit"] for r in usable).most_common(1)[0][0]
    kept = [r for r in usable if r["unit"] == unit]
    excluded += [{"study_id": r["study_id"], "label": r["label"],
                  "reason": f"unit {r['unit']} differs from {unit}; a mean difference needs one unit"}
                 for r in usable if r["unit"] != unit]
    return kept, excluded


def _pool_fn(a: Analysis, kind: str) -> Callable[[stats.EffectSet], stats.PoolResult]:
    hksj = a.hksj and a.model == "random"
    if kind == "dichotomous":
        return partial(stats.pool_mh, model=a.model, tau2_method=a.tau2, hksj=hksj)
    return partial(stats.pool, model=a.model, tau2_method=a.tau2, hksj=hksj)


def _arm(r: dict[str, Any], i: int, kind: str) -> dict[str, Any]:
    if kind == "generic":
        return {"n": r.get(f"n{i}")}
    if kind == "dichotomous":
        return {"events": r[f"events{i}"], "n": r[f"n{i}"]}
    return {"mean": r[f"mean{i}"], "sd": r[f"sd{i}"], "n": r[f"n{i}"]}


#: Reasons of arm_values that a number from the paper would fix: such values also go to the call
#: for data.
FIXABLE = ("no dispersion reported", "dispersion values missing", "median given with",
           "n missing", "no central value", "no event count given")


def _why_not_used(v: dict[str, Any], pair: dict[str, Any] | None) -> str | None:
    """Why an extracted value is not in its study's comparison; None when it is."""
    arms = set()
    if pair is not None:
        arms = {*(pair.get("combined_arms") or "").split("+"),
                *(pair.get("control_arms") or "").split("+")}
    if not v["included"]:
        return "trial excluded from the review (see Included studies)"
    if not v["preferred"]:
        return (f"value from {v['source_id']} not used: another source gives the same arm and "
                "time point (source preference)")
    if not v["usable"]:
        return str(v["exclusion_reason"])
    if pair is None:
        return ("no matching value in the other arm at this time point (same unit and value "
                "type): no comparison can be formed")
    if v["timepoint_weeks"] != pair["timepoint_weeks"]:
        return f"{v['timepoint_weeks']:g} wk not used: {pair['timepoint_choice']}"
    if v["value_type"] != pair["value_type"] or v["unit"] != pair["unit"]:
        return (f"{v['value_type']} value in {v['unit']} not used: the comparison uses "
                f"{pair['value_type']} values in {pair['unit']}")
    if v["arm_id"] not in arms:
        return (f"arm {v['arm_id']} not used: the comparison is {pair['combined_arms']} against "
                f"{pair['control_arms']} (an arm or its parts, never both)")
    return None


def _why_count_not_used(v: dict[str, Any], pair: dict[str, Any] | None, longest: bool = False
                        ) -> str | None:
    """Why an extracted event count is not in its study's comparison; None when it is."""
    if not v["included"]:
        return "trial excluded from the review (see Included studies)"
    if v["role"] is None:
        return f"arm {v['arm_id']} not in arms"
    if v["events"] is None:
        return "no event count given (percentages are not turned into counts)"
    if v["n"] is None:
        return "n missing (row and arm)"
    if v["source_rank"] != 1:
        return (f"count from {v['source_id']} not used: another source gives the same arm and "
                "time point (source preference)")
    if pair is None:
        return ("no matching count in the other arm at this time point: no comparison can be "
                "formed")
    if v["timepoint_weeks"] != pair["timepoint_weeks"]:
        if longest:
            return (f"{v['timepoint_weeks']:g} wk not used: this analysis takes each trial's "
                    f"longest follow-up ({pair['timepoint_weeks']:g} wk)")
        return f"{v['timepoint_weeks']:g} wk not used: {pair['timepoint_choice']}"
    arms = {*(pair.get("combined_arms") or "").split("+"),
            *(pair.get("control_arms") or "").split("+")}
    if v["arm_id"] not in arms:
        return (f"arm {v['arm_id']} not used: the comparison is {pair['combined_arms']} against "
                f"{pair['control_arms']} (an arm or its parts, never both)")
    return None


def account_values(out: dict[str, Any], pairs: list[dict[str, Any]],
                   values: list[dict[str, Any]],
                   why: Callable[[dict[str, Any], dict[str, Any] | None], str | None]
                   = _why_not_used) -> None:
    """List every extracted value of the analysis that is not pooled, with its reason.

    ``pairs`` are the view's rows (one per study and window, before any exclusion), ``values``
    the arm_values rows of the outcome and window. A value is pooled when its study's comparison
    uses it and the study is in ``out["rows"]``; a study left out as a whole is already in
    ``out["excluded"]``. Every other value gets an ``excluded`` entry of its study (``values``:
    arm, time point, source and reason); values a number from the paper would fix also go to
    ``out["missing"]`` (the call for data).
    """
    by_study = {p["study_id"]: p for p in pairs}
    pooled = {r["study_id"] for r in out["rows"]}
    listed = {e["study_id"] for e in out["excluded"]}
    extra: dict[str, dict[str, Any]] = {}
    for v in values:
        sid = v["study_id"]
        reason = why(v, by_study.get(sid))
        if reason is None and (sid in pooled or sid in listed):
            continue
        reason = reason or "study not pooled"
        entry = extra.setdefault(sid, {"study_id": sid, "label": v["label"], "reason": "",
                                       "values": []})
        entry["values"].append({"arm_id": v["arm_id"], "timepoint_weeks": v["timepoint_weeks"],
                                "source_id": v["source_id"], "reason": reason})
        if v["included"] and reason.startswith(FIXABLE):
            out["missing"].append({
                "study_id": sid, "label": v["label"], "arm_id": v["arm_id"],
                "outcome": v["outcome"], "timepoint": v["timepoint_label"],
                "status": f"incomplete: {reason}", "source_id": v["source_id"],
                "locator": v["locator"]})
    for entry in extra.values():
        reasons = list(dict.fromkeys(x["reason"] for x in entry["values"]))
        entry["reason"] = (f"{len(entry['values'])} value{'s' if len(entry['values']) != 1 else ''}"
                           " not used: " + "; ".join(reasons))
        out["excluded"].append(entry)


def run_analysis(views: _Views, a: Analysis, kind: str) -> dict[str, Any]:
    """One analysis of the plan as a report record; every value not pooled is listed."""
    out = _run_analysis(views, a, kind)
    if kind == "continuous":
        account_values(out, views.rows(a), views.values_for(a))
    elif kind == "dichotomous":
        account_values(out, views.rows(a), views.events_for(a),
                       partial(_why_count_not_used, longest=a.time_window == "any"))
    if out["status"] == "no_data":
        out["reason"] = _no_data_reason(out, a)
    return out


def _no_data_reason(out: dict[str, Any], a: Analysis) -> str:
    where = "the main time window (3 months)" if a.time_window == "main" else (
        "any time point" if a.time_window == "any" else f"the {a.time_window} window")
    n, x = len(out["missing"]), len(out["excluded"])
    listed = f"; {x} trial{'s' if x != 1 else ''} with values that cannot be used" if x else ""
    return (f"No included trial has usable {out['outcome_label']} data at {where} "
            f"({n} value{'s' if n != 1 else ''} missing: see the call for data{listed}).")


def _run_analysis(views: _Views, a: Analysis, kind: str) -> dict[str, Any]:
    rows = views.rows(a)
    rows, excluded = _drop_overlaps(rows)
    if a.measure == "MD":
        rows, more = _drop_other_units(rows)
        excluded += more
    favours = ["Favours MSC", "Favours control"]
    if a.outcome not in LOWER_IS_BETTER:
        favours.reverse()
    out: dict[str, Any] = {
        "id": a.id, "title": a.title, "outcome": a.outcome,
        "outcome_label": OUTCOME_LABELS.get(a.outcome, a.outcome),
        "measure": a.measure, "model": a.model, "tau2_method": a.tau2 if a.model == "random" else None,
        "hksj": a.hksj, "mods": list(a.mods),
        "grouping": a.grouping, "time_window": a.time_window, "view": a.view,
        "unit": (rows[0].get("unit") or "") if rows and kind == "continuous"
        and rows[0].get("unit") not in UNITLESS else "",
        "scale": "log" if a.measure in ("RR", "OR", "HR") else "linear",
        "favours": favours, "data_kind": kind, "method": "M-H" if kind == "dichotomous" else "IV",
        "status": "no_data", "k": 0, "reason": "",
        "rows": [], "total": None, "subgroups": [], "subgroup_test": None,
        "excluded": excluded, "missing": views.missing_for(a, kind),
        "published_result_ids": list(a.published_result_ids),
    }
    if rows:
        if kind == "generic":
            effects = stats.generic_effects(
                [r["estimate"] for r in rows], ci_low=[r["ci_low"] for r in rows],
                ci_high=[r["ci_high"] for r in rows], study=[r["study_id"] for r in rows],
                measure=a.measure, log_scale=True)
            out["source_note"] = (
                "Hazard ratios as the trials report them (study_effects: HR with its 95% CI, "
                "often from an adjusted Cox model), pooled by generic inverse variance of log HR; "
                "SE = (ln upper - ln lower)/(2 x 1.96). Sources: " + "; ".join(
                    f"{r['label']}: {r['source_id']}, {r['locator']}" for r in rows) + ".")
            for r in rows:  # arm sizes shown when known; never summed as None
                r["n1"], r["n2"] = r.get("n1") or 0, r.get("n2") or 0
        elif kind == "dichotomous":
            effects = stats.dichotomous_effects(
                [r["events1"] for r in rows], [r["n1"] for r in rows],
                [r["events2"] for r in rows], [r["n2"] for r in rows],
                measure=a.measure, study=[r["study_id"] for r in rows])
        else:
            effects = stats.continuous_effects(
                [r["n1"] for r in rows], [r["mean1"] for r in rows], [r["sd1"] for r in rows],
                [r["n2"] for r in rows], [r["mean2"] for r in rows], [r["sd2"] for r in rows],
                measure=a.measure, study=[r["study_id"] for r in rows])
        by_id = {r["study_id"]: r for r in rows}
        out["excluded"] += [{"study_id": e.study, "label": by_id[e.study]["label"],
                             "reason": e.reason} for e in effects.excluded]
    if not rows or effects.k == 0:
        return out
    pool_fn = _pool_fn(a, kind)
    col = a.group_column
    labels: list[str | None] = [None] * effects.k
    if col:
        labels = [GROUP_LABELS.get(str(by_id[s].get(col) or "unknown"), str(by_id[s].get(col)))
                  for s in effects.study]
    fill_pooled(out, effects, by_id, pool_fn, kind, labels if col else None)
    return out


def fill_pooled(out: dict[str, Any], effects: stats.EffectSet, by_id: dict[str, dict[str, Any]],
                pool_fn: Callable[[stats.EffectSet], stats.PoolResult], kind: str,
                labels: list[str | None] | None = None,
                row_flags: Callable[[dict[str, Any]], list[str]] | None = None) -> None:
    """Pool ``effects`` into the analysis record ``out``: rows, total, subgroups and status.

    ``by_id`` maps each study id to its input row (``events1``/``n1``... or ``mean1``/``sd1``...,
    ``label``, ``flags``); ``labels`` names each study's subgroup (None: one pool);
    ``row_flags`` gives a row's footnote flags (default: the row's ``flags`` column split on
    ``;``). Shared by the plan's analyses and the safety analyses.
    """
    if labels is not None:
        sub = stats.analyse_subgroups(effects, [str(x) for x in labels], pool_fn)
        overall = sub.overall
        for name, res in zip(sub.names, sub.subgroups):
            members = [by_id[s] for s, lab in zip(effects.study, labels) if lab == name]
            out["subgroups"].append({"name": name, "total": total_of(
                res, sum(r["n1"] for r in members), sum(r["n2"] for r in members))})
        if len(sub.names) > 1:
            t = sub.test
            out["subgroup_test"] = {"q": _num(t.q), "df": t.df, "p": _num(t.p), "i2": _num(t.i2)}
    else:
        labels = [None] * effects.k
        overall = pool_fn(effects)
    weight = {s.study: s for s in overall.studies}
    for sid, lab in zip(effects.study, labels):
        r, s = by_id[sid], weight[sid]
        flags = row_flags(r) if row_flags else [f for f in (r.get("flags") or "").split(";") if f]
        out["rows"].append({
            "study_id": sid, "label": r["label"], "group": lab,
            "exp": _arm(r, 1, kind), "ctl": _arm(r, 2, kind),
            "weight": _num(s.weight), "effect": _num(s.effect), "ci_low": _num(s.ci_low),
            "ci_high": _num(s.ci_high),
            "timepoint_weeks": r.get("timepoint_weeks"),
            "flags": flags,
        })
    out["total"] = total_of(overall, sum(by_id[s]["n1"] for s in effects.study),
                            sum(by_id[s]["n2"] for s in effects.study))
    out["k"] = overall.k
    if overall.k == 1:
        out["status"] = "single_study"
        out["reason"] = (f"{SINGLE_LABEL}: only {out['rows'][0]['label']} has usable data; its own "
                         "effect is shown.")
    else:
        out["status"] = "pooled"


def run_plan(con: duckdb.DuckDBPyConnection, plan: list[Analysis],
             kinds: dict[str, str]) -> list[dict[str, Any]]:
    """Every analysis of ``plan``; ``kinds`` maps a view to continuous or dichotomous."""
    views = _Views(con)
    return [run_analysis(views, a, kinds[a.view]) for a in plan]
