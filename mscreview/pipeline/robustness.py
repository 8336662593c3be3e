"""Robustness of the main analyses: sensitivity, small-study effects, meta-regression, trajectory
and sequential monitoring (issue 12). The ``robustness`` part of the report context.

For every main analysis (one per main outcome at the main time window or each trial's longest
follow-up, the same choice as the summary of findings) and every analysis of the plan that names
moderators, the study effects are rebuilt from the analysis record's rows (arm data, else the
effect and its 95% CI) and handed to :mod:`mscreview.stats`:

- leave-one-out and cumulative meta-analysis (by publication year, or by the data version that
  added each trial once at least three releases hold its trials), the analysis restricted to
  trials at low risk of bias for both sequence generation and allocation concealment, the
  analysis without trials whose verification is ``seed_only`` or whose design is ``unclear``,
  fixed against random effects, and influence diagnostics as metafor's ``influence()``;
- with k >= 10: funnel plot coordinates with significance contours, Egger's test and
  trim-and-fill (L0); otherwise "not assessable (k < 10)";
- meta-regression of each moderator alone (REML with Knapp-Hartung, as metafor);
- the pooled effect at every time window (one time point per trial and window);
- sequential monitoring: required information size from ``monitoring.csv`` (and the MIDs of
  ``grade_rules.csv``), diversity-adjusted, Lan-DeMets O'Brien-Fleming boundaries at the accrued
  information fractions, the cumulative Z curve and the TSA-adjusted CI.

Nothing here is evidence: every value is derived from the analyses, and every study left out of a
computation is listed with its reason. With k < 2 an analysis gets one line saying why nothing
can be assessed.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import duckdb

from mscreview import stats
from mscreview.errors import InputError
from mscreview.plan import MODERATORS
from mscreview.stats.bias import MIN_STUDIES as SMALL_STUDY_MIN_K
from mscreview.stats.results import display
from mscreview.stats.trimfill import CONTOUR_LEVELS
from mscreview.vocabulary import SEMVER

__all__ = ["MODERATORS", "MONITORING_PATH", "load_monitoring", "release_history", "robustness",
           "robustness_context"]

MONITORING_PATH = Path(__file__).resolve().parent.parent / "monitoring.csv"
MONITORING_PARAMETERS: dict[str, tuple[float, float]] = {  # name -> allowed (low, high)
    "alpha": (1e-6, 0.5), "beta": (1e-6, 0.5), "rrr": (-10.0, 1.0), "smd": (1e-6, 10.0),
    "md": (-1e9, 1e9), "sd": (1e-12, 1e9), "control_risk": (1e-9, 1.0),
}
MAIN_OUTCOMES = ["MELD", "ALB", "TBIL", "ALT", "AST", "INR", "death", "hcc"]
RATIO = frozenset({"RR", "OR", "HR", "PETO"})
#: Moderators of a main analysis whose plan row names none.
DEFAULT_MODS = ("log10_cells_per_kg", "follow_up_months", "route", "cell_type")
#: Studies per moderator column below which a meta-regression is labelled exploratory.
STUDIES_PER_COVARIATE = 10
#: Looks by data version once the analysed trials arrived in at least this many versions.
MIN_VERSION_LOOKS = 3


# ------------------------------------------------------------------------------ inputs


def load_monitoring(path: str | Path = MONITORING_PATH) -> dict[tuple[str, str], float]:
    """Read ``monitoring.csv`` (outcome, parameter, value, source); ``*`` rows are defaults.

    Raises
    ------
    InputError
        Naming the file, line and column of an unknown parameter, a value out of range, a
        missing source or a parameter given twice.
    """
    source = Path(path)
    out: dict[tuple[str, str], float] = {}
    try:
        handle = source.open(newline="", encoding="utf-8")
    except OSError as err:
        raise InputError(f"{source}: cannot read the monitoring settings ({err})") from None
    with handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != ["outcome", "parameter", "value", "source"]:
            raise InputError(f"{source}, line 1: header must be outcome,parameter,value,source")
        for row in reader:
            line = reader.line_num
            name = (row["parameter"] or "").strip()
            if name not in MONITORING_PARAMETERS:
                raise InputError(f"{source}, line {line}, column 'parameter': unknown parameter "
                                 f"{name!r} (known: {', '.join(MONITORING_PARAMETERS)})")
            try:
                value = float(row["value"])
            except (TypeError, ValueError):
                raise InputError(f"{source}, line {line}, column 'value': {row['value']!r} is "
                                 "not a number") from None
            lo, hi = MONITORING_PARAMETERS[name]
            if not (lo <= value <= hi) or not math.isfinite(value):
                raise InputError(f"{source}, line {line}, column 'value': {name} = {value:g} is "
                                 f"outside [{lo:g}, {hi:g}]")
            if not (row["source"] or "").strip():
                raise InputError(f"{source}, line {line}, column 'source': every setting needs "
                                 "its source, or 'Pre-declared'")
            key = ((row["outcome"] or "").strip() or "*", name)
            if key in out:
                raise InputError(f"{source}, line {line}, column 'parameter': {name!r} already "
                                 f"given for {key[0]!r}")
            out[key] = value
    return out


def release_history(root: Path, current: str) -> list[dict[str, Any]]:
    """The kept releases other than ``current``, oldest first: version and included trials."""
    from mscreview.pipeline.diff import _version_key

    folder = root / "reports" / "versions"
    out = []
    for p in folder.glob("*") if folder.is_dir() else ():
        if not (p.is_dir() and SEMVER.match(p.name) and p.name != current):
            continue
        try:
            results = json.loads((p / "results.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        ids = [s["study_id"] for s in results.get("studies", [])
               if isinstance(s, dict) and s.get("included", True) and s.get("study_id")]
        out.append({"version": p.name, "studies": ids})
    return sorted(out, key=lambda r: _version_key(r["version"]))


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def _study_facts(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """Per study: year, design, verification, dose, follow-up, route, cell type, selection RoB."""
    facts = {r["study_id"]: r for r in _rows(con, """
        SELECT study_id, label, year, design, verification, cells_per_kg, cells_per_infusion,
               follow_up_months, route, cell_type FROM studies""")}
    rob = _rows(con, """
        SELECT study_id, domain, assessor, judgement FROM risk_of_bias
        WHERE domain IN ('random_sequence_generation', 'allocation_concealment')
        ORDER BY study_id, domain, assessor""")
    for r in rob:  # ours ('mscreview') after the seed's: our judgement wins where we made one
        f = facts.get(r["study_id"])
        if f is not None and (r["judgement"] is not None or r["assessor"] == "mscreview"):
            f.setdefault("rob", {})[r["domain"]] = r["judgement"]
    return facts


# ------------------------------------------------------------------------------ helpers


def _num(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _summary(res: stats.PoolResult) -> dict[str, Any]:
    return {"k": res.k, "estimate": _num(res.estimate), "ci_low": _num(res.ci_low),
            "ci_high": _num(res.ci_high), "p": _num(res.p), "z": _num(res.z),
            "tau2": _num(res.tau2), "i2": _num(res.i2), "q": _num(res.q), "q_p": _num(res.q_p)}


def _display(value: float, measure: str) -> float:
    return math.exp(value) if measure in RATIO else value


def _effects(a: dict[str, Any]) -> tuple[stats.EffectSet | None, list[dict[str, Any]]]:
    """The analysis's study effects, rebuilt from its rows, and the rows used (same order)."""
    rows = [r for r in a.get("rows") or [] if r.get("effect") is not None]
    kind, measure = a.get("data_kind"), a["measure"]
    arms_ok = all(isinstance(r.get("exp"), dict) and isinstance(r.get("ctl"), dict)
                  for r in rows)
    ids = [r["study_id"] for r in rows]
    if not rows:
        return None, []
    if kind == "continuous" and arms_ok:
        e, c = [r["exp"] for r in rows], [r["ctl"] for r in rows]
        eff = stats.continuous_effects(
            [x["n"] for x in e], [x["mean"] for x in e], [x["sd"] for x in e],
            [x["n"] for x in c], [x["mean"] for x in c], [x["sd"] for x in c],
            measure=measure, study=ids)
    elif kind == "dichotomous" and arms_ok:
        e, c = [r["exp"] for r in rows], [r["ctl"] for r in rows]
        eff = stats.dichotomous_effects([x["events"] for x in e], [x["n"] for x in e],
                                        [x["events"] for x in c], [x["n"] for x in c],
                                        measure=measure, study=ids)
    else:
        eff = stats.generic_effects([r["effect"] for r in rows], ci_low=[r["ci_low"] for r in rows],
                                    ci_high=[r["ci_high"] for r in rows], study=ids,
                                    measure=measure, log_scale=measure in RATIO)
    keep = set(eff.study)
    return eff, [r for r in rows if r["study_id"] in keep]


def _pool_fn(a: dict[str, Any], model: str | None = None
             ) -> Callable[[stats.EffectSet], stats.PoolResult]:
    model = model or a.get("model") or "random"
    tau2 = a.get("tau2_method") or "DL"
    hksj = bool(a.get("hksj")) and model == "random"
    if a.get("data_kind") == "dichotomous" and a.get("method") == "M-H":
        return partial(stats.pool_mh, model=model, tau2_method=tau2, hksj=hksj)
    return partial(stats.pool, model=model, tau2_method=tau2, hksj=hksj)


def _participants(rows: Sequence[dict[str, Any]]) -> list[float]:
    out = []
    for r in rows:
        n = 0.0
        for arm in ("exp", "ctl"):
            x = r.get(arm)
            if isinstance(x, dict) and x.get("n") is not None:
                n += float(x["n"])
        out.append(n)
    return out


# ------------------------------------------------------------------------------ sections


def _batch_model(a: dict[str, Any]) -> str | None:
    """The model when the analysis pools by inverse variance with a closed-form tau^2 (fixed
    effect or DerSimonian-Laird, normal-theory CI): its leave-one-out and cumulative pools are
    then computed all at once (:func:`stats.leave_one_out_batch`), else one pool at a time."""
    model = a.get("model") or "random"
    if (a.get("data_kind") == "dichotomous" and a.get("method") == "M-H") \
            or (bool(a.get("hksj")) and model == "random"):
        return None
    if model == "fixed" or (a.get("tau2_method") or "DL") == "DL":
        return model
    return None


def _batch_summaries(batch: stats.BatchResult, measure: str) -> list[dict[str, Any]]:
    """:func:`_summary` of every column of a one-analysis batch (display scale)."""
    def shown(x: Any) -> list[float | None]:
        return [_num(display(v, measure)) for v in x[0].tolist()]

    cols = {"estimate": shown(batch.theta), "ci_low": shown(batch.ci_low),
            "ci_high": shown(batch.ci_high)}
    for name in ("p", "z", "tau2", "i2", "q", "q_p"):
        cols[name] = [_num(v) for v in getattr(batch, name)[0].tolist()]
    return [{"k": int(k), **{name: vals[j] for name, vals in cols.items()}}
            for j, k in enumerate(batch.k[0].tolist())]


def _leave_one_out(eff: stats.EffectSet, labels: dict[str, str],
                   fn: Callable[[stats.EffectSet], stats.PoolResult],
                   model: str | None = None) -> dict[str, Any]:
    if model is not None:
        done = _batch_summaries(stats.leave_one_out_batch(eff.yi[None, :], eff.vi[None, :],
                                                          model=model), eff.measure)
        return {"rows": [{"study_id": s, "label": labels[s], **d}
                         for s, d in zip(eff.study, done, strict=True)]}
    return {"rows": [{"study_id": s, "label": labels[s], **_summary(res)}
                     for s, res in stats.leave_one_out(eff, fn)]}


def _cumulative(eff: stats.EffectSet, rows: Sequence[dict[str, Any]], facts: dict[str, Any],
                labels: dict[str, str], fn: Callable[[stats.EffectSet], stats.PoolResult],
                arrival: dict[str, int] | None, versions: Sequence[str],
                model: str | None = None) -> dict[str, Any]:
    import numpy as np

    years = [facts.get(s, {}).get("year") or 0 for s in eff.study]
    if arrival is not None:
        order = [arrival[s] * 10000 + y for s, y in zip(eff.study, years, strict=True)]
        by = "data version"
    else:
        order, by = years, "publication year"
    year_of = dict(zip(eff.study, years, strict=True))
    if model is not None:  # as stats.cumulative: a stable sort of ``order``
        idx = np.argsort(np.asarray(order), kind="stable")
        batch = stats.cumulative_batch(eff.yi[idx][None, :], eff.vi[idx][None, :], model=model)
        steps = list(zip([eff.study[i] for i in idx.tolist()],
                         _batch_summaries(batch, eff.measure), strict=True))
    else:
        steps = [(s, _summary(res)) for s, res in stats.cumulative(eff, fn, order=order)]
    out = []
    for s, summary in steps:
        row = {"study_id": s, "label": labels[s], "year": year_of[s], **summary}
        if arrival is not None:
            row["version"] = versions[arrival[s]]
        out.append(row)
    return {"by": by, "rows": out}


def _subset(eff: stats.EffectSet, keep: list[bool], labels: dict[str, str],
            fn: Callable[[stats.EffectSet], stats.PoolResult], sid: str, label: str,
            why_out: dict[str, str]) -> dict[str, Any]:
    import numpy as np

    left = [{"label": labels[s], "reason": why_out[s]} for s, k in zip(eff.study, keep,
                                                                       strict=True) if not k]
    entry: dict[str, Any] = {"id": sid, "label": label, "left_out": left}
    n_keep = sum(keep)
    if n_keep == 0:
        entry.update(status="not_assessable", reason="no trial meets the criterion", k=0)
        return entry
    res = fn(eff.subset(np.asarray(keep)))
    entry.update(status="pooled" if res.k >= 2 else "single_study", **_summary(res))
    return entry


def _influence(eff: stats.EffectSet, labels: dict[str, str], a: dict[str, Any]
               ) -> dict[str, Any]:
    if eff.k < 3:
        return {"status": "not_assessable", "reason": f"not assessable (k = {eff.k} < 3)",
                "rows": []}
    inf = stats.influence(eff, model=a.get("model") or "random",
                          tau2_method=a.get("tau2_method") or "DL")
    rows = []
    for i, s in enumerate(inf.study):
        rows.append({"study_id": s, "label": labels[s], "rstudent": _num(inf.rstudent[i]),
                     "dffits": _num(inf.dffits[i]), "cook_d": _num(inf.cook_d[i]),
                     "cov_r": _num(inf.cov_r[i]), "tau2_del": _num(inf.tau2_del[i]),
                     "qe_del": _num(inf.qe_del[i]), "hat": _num(inf.hat[i]),
                     "weight": _num(inf.weight[i]), "dfbetas": _num(inf.dfbetas[i]),
                     "influential": inf.influential[i]})
    note = ("Inverse-variance model with the analysis's tau² estimator (metafor influence()); "
            "flagged when |DFFITS| > 3√(1/(k−1)), P(χ²₁ ≤ Cook's D) > 0.5, hat > 3/k or "
            "|DFBETAS| > 1.")
    return {"status": "assessed", "rows": rows, "note": note,
            "flagged": [r["label"] for r in rows if r["influential"]]}


def _small_study(eff: stats.EffectSet, labels: dict[str, str], a: dict[str, Any]
                 ) -> dict[str, Any]:
    measure = a["measure"]
    if eff.k < SMALL_STUDY_MIN_K:
        return {"status": "not_assessable",
                "reason": f"not assessable (k = {eff.k} < {SMALL_STUDY_MIN_K})"}
    model = a.get("model") or "random"
    tau2 = a.get("tau2_method") or "DL"
    fit = stats.pool(eff, model=model, tau2_method=tau2)
    try:
        egger = stats.egger_test(eff)
    except stats.StatsError as err:  # identical standard errors: no funnel asymmetry to test
        return {"status": "not_assessable", "reason": f"not assessable ({err})"}
    tf = stats.trim_and_fill(eff, model=model, tau2_method=tau2)
    sei = [math.sqrt(v) for v in eff.vi]
    null = 0.0
    return {
        "status": "assessed", "measure": measure, "scale": "log" if measure in RATIO else "linear",
        "center": fit.theta, "null": null,
        "points": [{"study_id": s, "label": labels[s], "yi": float(y), "sei": se}
                   for s, y, se in zip(eff.study, eff.yi, sei, strict=True)],
        "se_max": max(sei),
        "contours": [{"level": lv, "p": round(1 - lv, 2), "z": z}
                     for lv, z in zip(CONTOUR_LEVELS, stats.contour_z(), strict=True)],
        "egger": {"intercept": egger.intercept, "se": egger.se, "t": egger.t, "df": egger.df,
                  "p": egger.p},
        "trim_fill": {"k0": tf.k0, "se_k0": tf.se_k0, "side": tf.side,
                      "filled": [{"yi": y, "sei": math.sqrt(v)}
                                 for y, v in zip(tf.filled_yi, tf.filled_vi, strict=True)],
                      **_summary(tf.result)},
        "note": ("Contours: two-sided p = 0.10, 0.05 and 0.01 around no effect (Peters 2008). "
                 "Egger's test: regression of y/SE on 1/SE. Trim-and-fill: L0 estimator, side "
                 "chosen as metafor does; the filled trials are imputed, not data."),
    }


def _moderator_values(name: str, facts: dict[str, Any]) -> Any:
    if name == "log10_cells_per_kg":
        v = facts.get("cells_per_kg")
        return math.log10(v) if v else None
    if name == "log10_cells_per_infusion":
        v = facts.get("cells_per_infusion")
        return math.log10(v) if v else None
    if name == "follow_up_months":
        return facts.get("follow_up_months")
    return facts.get(name)


def _meta_regression(eff: stats.EffectSet, labels: dict[str, str], facts: dict[str, Any],
                     name: str, measure: str) -> dict[str, Any]:
    import numpy as np

    label, kind = MODERATORS[name]
    values = [_moderator_values(name, facts.get(s, {})) for s in eff.study]
    keep = [v is not None for v in values]
    left = [{"label": labels[s], "reason": f"{label} not reported"}
            for s, k in zip(eff.study, keep, strict=True) if not k]
    entry: dict[str, Any] = {"moderator": name, "label": label, "kind": kind, "left_out": left,
                             "method": "REML, Knapp-Hartung"}
    sub = eff.subset(np.asarray(keep, dtype=bool))
    vals = [v for v in values if v is not None]
    if kind == "factor":
        levels = sorted({str(v) for v in vals})
        cols = [[1.0 if str(v) == lev else 0.0 for v in vals] for lev in levels[1:]]
        names = [f"{lev} (vs {levels[0]})" for lev in levels[1:]] if levels else []
        x = np.asarray(cols, dtype=float).T if cols else np.zeros((len(vals), 0))
    else:
        levels = []
        names = [label]
        x = np.asarray(vals, dtype=float)[:, None]
    entry.update(k=sub.k, levels=levels)
    m = x.shape[1]
    if m == 0:
        entry.update(status="not_assessable", reason=f"not assessable: one {label.lower()} only")
        return entry
    try:
        fit = stats.meta_regression(sub.yi, sub.vi, x, names=names, method="REML", knha=True)
    except stats.StatsError as err:
        entry.update(status="not_assessable", reason=f"not assessable: {err}")
        return entry
    per = sub.k / m
    entry.update(
        status="assessed", exploratory=per < STUDIES_PER_COVARIATE,
        studies_per_covariate=per,
        coefficients=[{"name": n, "estimate": c, "se": s, "t": t, "p": p, "ci_low": lo,
                       "ci_high": hi}
                      for n, c, s, t, p, lo, hi in zip(fit.names, fit.coef, fit.se, fit.stat,
                                                       fit.p_values, fit.ci_low, fit.ci_high,
                                                       strict=True)],
        tau2=fit.tau2, tau2_null=fit.tau2_null, r2=_num(fit.r2), i2=fit.i2, qm=fit.qm,
        qm_df=list(fit.qm_df), qm_p=fit.qm_p, qe=fit.qe, qe_df=fit.qe_df, qe_p=fit.qe_p,
        df=fit.df,
    )
    w = 1.0 / (sub.vi + fit.tau2)
    wpct = 100.0 * w / w.sum()
    pts = []
    for i, s in enumerate(sub.study):
        xv: Any = vals[i] if kind == "factor" else float(x[i, 0])
        pts.append({"study_id": s, "label": labels[s], "x": xv, "y": float(sub.yi[i]),
                    "weight": float(wpct[i])})
    line: list[dict[str, Any]] = []
    if kind == "continuous":
        lo_x, hi_x = float(x.min()), float(x.max())
        grid = [lo_x + (hi_x - lo_x) * j / 24 for j in range(25)]
        mean, lo, hi = stats.meta_regression_predict(fit, grid)
        line = [{"x": g, "fit": float(f), "ci_low": float(a), "ci_high": float(b)}
                for g, f, a, b in zip(grid, mean, lo, hi, strict=True)]
    else:
        mean, lo, hi = stats.meta_regression_predict(fit, np.eye(len(levels))[:, 1:])
        line = [{"x": lev, "fit": float(f), "ci_low": float(a), "ci_high": float(b)}
                for lev, f, a, b in zip(levels, mean, lo, hi, strict=True)]
    entry.update(bubble={"points": pts, "line": line,
                         "scale": "log" if measure in RATIO else "linear"})
    return entry


def _trajectory(con: duckdb.DuckDBPyConnection, a: dict[str, Any]) -> dict[str, Any]:
    """The analysis's measure and model at every time window; one time point per trial."""
    from mscreview.pipeline.analyses import _drop_other_units, _drop_overlaps

    kind = a.get("data_kind")
    if kind not in ("continuous", "dichotomous"):
        return {"status": "not_assessable", "reason": "no arm-level data", "rows": []}
    view = "arm_pairs" if kind == "continuous" else "dichotomous_pairs"
    cur = con.execute(f"""
        SELECT p.*, s.included FROM {view} p JOIN studies s USING (study_id)
        WHERE p.window <> 'baseline' AND p.outcome = ?
        ORDER BY p.window_order, p.year, p.study_id""", [a["outcome"]])
    cols = [d[0] for d in cur.description]
    data = [dict(zip(cols, r)) for r in cur.fetchall()]
    windows: dict[str, list[dict[str, Any]]] = {}
    weeks: dict[str, float] = {}
    for r in data:
        windows.setdefault(r["window"], []).append(r)
        weeks.setdefault(r["window"], float(r["timepoint_weeks"]))
    fn = _pool_fn(a)
    out = []
    for window, rows in windows.items():
        rows, excluded = _drop_overlaps(rows)
        if a["measure"] == "MD":
            rows, more = _drop_other_units(rows)
            excluded += more
        if kind == "continuous":
            eff = stats.continuous_effects(
                [r["n1"] for r in rows], [r["mean1"] for r in rows], [r["sd1"] for r in rows],
                [r["n2"] for r in rows], [r["mean2"] for r in rows], [r["sd2"] for r in rows],
                measure=a["measure"], study=[r["study_id"] for r in rows])
        else:
            eff = stats.dichotomous_effects(
                [r["events1"] for r in rows], [r["n1"] for r in rows],
                [r["events2"] for r in rows], [r["n2"] for r in rows],
                measure=a["measure"], study=[r["study_id"] for r in rows])
        res = fn(eff) if eff.k else None
        out.append({"window": window, "weeks": weeks[window],
                    "excluded": len(excluded) + len(eff.excluded),
                    **(_summary(res) if res else {"k": 0})})
    return {"status": "assessed" if out else "not_assessable",
            "reason": "" if out else "no trial has data at any time window", "rows": out,
            "note": "One time point per trial and window (the one closest to the window centre); "
                    "the windows are separate pools, never a total across them."}


def _monitoring_inputs(a: dict[str, Any], eff: stats.EffectSet, settings: dict[tuple[str, str],
                       float], d2: float) -> tuple[stats.InformationSize | None, list[str]]:
    """The diversity-adjusted required information size and where each input came from."""
    from mscreview.pipeline.certainty import load_rules

    o = a["outcome"]

    def get(name: str) -> float | None:
        return settings.get((o, name), settings.get(("*", name)))

    alpha, beta = get("alpha") or 0.05, get("beta") or 0.10
    why = [f"α = {alpha:g} (two-sided), β = {beta:g}", f"diversity D² = {100 * d2:.0f}%"]
    try:
        if a["measure"] in ("RR", "OR", "RD", "PETO"):
            rows = a.get("rows") or []
            pc = get("control_risk")
            if pc is None:
                pc = stats.median_control_risk([r["ctl"]["events"] for r in rows],
                                               [r["ctl"]["n"] for r in rows])
                why.append(f"control risk {100 * pc:.1f}% (median of the trials' control arms)")
            else:
                why.append(f"control risk {100 * pc:.1f}% (monitoring.csv)")
            rrr = get("rrr") or 0.25
            why.append(f"relative risk reduction {100 * rrr:.0f}% (monitoring.csv)")
            return stats.information_size_dichotomous(pc, rrr, alpha=alpha, beta=beta,
                                                      d2=d2), why
        if a["measure"] in ("SMD", "SMD_EXACT"):
            smd = get("smd") or 0.5
            why.append(f"anticipated SMD {smd:g}, variance 1 (monitoring.csv)")
            return stats.information_size_continuous(smd, 1.0, alpha=alpha, beta=beta,
                                                     d2=d2), why
        if a["measure"] == "MD":
            md = get("md")
            if md is None:
                md = load_rules().get("mid_MD", o)
                where = "the MID of grade_rules.csv"
            else:
                where = "monitoring.csv"
            if md is None:
                return None, [*why, "no anticipated difference (monitoring.csv md or the MID)"]
            sd = get("sd")
            if sd is None:
                sds = sorted(float(r["ctl"]["sd"]) for r in a.get("rows") or []
                             if isinstance(r.get("ctl"), dict) and r["ctl"].get("sd"))
                if not sds:
                    return None, [*why, "no control-arm SD to anticipate the variance"]
                mid = len(sds) // 2
                sd = sds[mid] if len(sds) % 2 else (sds[mid - 1] + sds[mid]) / 2
                why.append(f"anticipated difference {md:g} ({where}), SD {sd:.3g} (median "
                           "control-arm SD)")
            else:
                why.append(f"anticipated difference {md:g} ({where}), SD {sd:g} (monitoring.csv)")
            return stats.information_size_continuous(abs(md), sd * sd, alpha=alpha, beta=beta,
                                                     d2=d2), why
    except stats.StatsError as err:
        return None, [*why, str(err)]
    return None, [*why, f"no information size for {a['measure']}"]


def _sequential(a: dict[str, Any], eff: stats.EffectSet, rows: list[dict[str, Any]],
                facts: dict[str, Any], labels: dict[str, str],
                settings: dict[tuple[str, str], float], arrival: dict[str, int] | None,
                versions: Sequence[str], current_version: str) -> dict[str, Any]:
    import numpy as np

    measure = a["measure"]
    fe = stats.pool(eff, model="fixed")
    re = stats.pool(eff, model="random", tau2_method=a.get("tau2_method") or "DL")
    d2 = stats.diversity(fe.se, re.se)
    d2 = 0.0 if not math.isfinite(d2) else min(d2, 0.99)
    ris, inputs = _monitoring_inputs(a, eff, settings, d2)
    base: dict[str, Any] = {"inputs": inputs, "alpha": None, "d2": d2}
    if ris is None:
        base.update(status="not_assessable", reason="not assessable: " + inputs[-1])
        return base
    n_by = dict(zip(eff.study, _participants(rows), strict=True))
    years = [facts.get(s, {}).get("year") or 0 for s in eff.study]
    if arrival is not None:
        keys = [arrival[s] for s in eff.study]
        look_label = [versions[i] for i in sorted(set(keys))]
        by = "data version"
    else:
        keys = list(years)
        look_label = [str(y) for y in sorted(set(keys))]
        by = "publication year"
    fn = _pool_fn(a, "random")
    looks = []
    for key, lab in zip(sorted(set(keys)), look_label, strict=True):
        idx = np.asarray([k <= key for k in keys])
        res = fn(eff.subset(idx))
        n = sum(n_by[s] for s, i in zip(eff.study, idx, strict=True) if i)
        looks.append({"label": lab, "k": res.k, "n": n, "z": _num(res.z),
                      "estimate": _num(res.estimate)})
    t = [lk["n"] / ris.adjusted for lk in looks]
    bounds = stats.obf_boundaries([max(x, 1e-9) for x in t], alpha=ris.alpha, sided=2)
    for lk, frac, b in zip(looks, t, bounds.bounds, strict=True):
        lk["fraction"] = frac
        lk["bound"] = b if math.isfinite(b) else None
        lk["crossed"] = bool(lk["z"] is not None and math.isfinite(b) and abs(lk["z"]) >= b)
    last = looks[-1]
    bound = bounds.bounds[-1]
    theta, se = re.theta, re.se
    adj = None
    if math.isfinite(bound):
        adj = {"ci_low": _display(theta - bound * se, measure),
               "ci_high": _display(theta + bound * se, measure), "critical": bound}
    base.update(
        status="assessed", by=by, alpha=ris.alpha, beta=ris.beta, ris=ris.ris,
        ris_adjusted=ris.adjusted, accrued=last["n"], fraction=t[-1], looks=looks,
        crossed=last["crossed"], ever_crossed=any(lk["crossed"] for lk in looks),
        conventional=bool(last["z"] is not None and abs(last["z"]) >= 1.959963984540054),
        estimate=_num(re.estimate), tsa_ci=adj,
        reached=t[-1] >= 1.0, version=current_version,
        note=("Lan-DeMets O'Brien-Fleming boundaries, two-sided α spent as 2 − 2Φ(z/√t) at the "
              "accrued information fraction t = participants / diversity-adjusted required "
              "information size (capped at 1). Z is the random-effects (DerSimonian-Laird) test "
              "statistic at each look. A sensitivity panel: Cochrane discourages sequential "
              "methods for the main conclusions of updated reviews."),
    )
    return base


# ------------------------------------------------------------------------------ assembly


def _main_ids(analyses: Sequence[dict[str, Any]]) -> list[str]:
    main: dict[str, str] = {}
    for a in analyses:
        if a["grouping"] == "none" and a["outcome"] in MAIN_OUTCOMES \
                and a["outcome"] not in main and a["time_window"] in ("main", "any") \
                and a.get("data_kind") != "generic":
            main[a["outcome"]] = a["id"]
    return [main[o] for o in MAIN_OUTCOMES if o in main]


def _arrival(study_ids: Sequence[str], history: Sequence[dict[str, Any]],
             current: str) -> tuple[dict[str, int] | None, list[str]]:
    versions = [h["version"] for h in history] + [current or "current"]
    arrival = {}
    for s in study_ids:
        arrival[s] = next((i for i, h in enumerate(history) if s in h["studies"]),
                          len(history))
    if len(set(arrival.values())) < MIN_VERSION_LOOKS:
        return None, versions
    return arrival, versions


def analyse(con: duckdb.DuckDBPyConnection, a: dict[str, Any], facts: dict[str, Any],
            settings: dict[tuple[str, str], float], history: Sequence[dict[str, Any]],
            current: str, main: bool) -> dict[str, Any]:
    """The robustness record of one analysis."""
    out: dict[str, Any] = {
        "analysis_id": a["id"], "title": a["title"], "outcome": a["outcome"],
        "outcome_label": a.get("outcome_label", a["outcome"]), "measure": a["measure"],
        "scale": a.get("scale", "linear"), "main": main, "favours": a.get("favours"),
    }
    eff, rows = _effects(a)
    k = eff.k if eff is not None else 0
    out["k"] = k
    if eff is None or k < 2:
        out.update(status="not_assessable", reason=f"not assessable: k = {k}")
        return out
    labels = {r["study_id"]: r.get("label") or r["study_id"] for r in rows}
    fn = _pool_fn(a)
    arrival, versions = _arrival(list(eff.study), history, current)
    out["status"] = "assessed"
    mods = a.get("mods") or (DEFAULT_MODS if main else ())
    if not main:  # a plan row naming moderators: its meta-regressions only
        out["meta_regression"] = [_meta_regression(eff, labels, facts, m, a["measure"])
                                  for m in mods if m in MODERATORS]
        return out
    fast = _batch_model(a)
    out["leave_one_out"] = _leave_one_out(eff, labels, fn, fast)
    out["cumulative"] = _cumulative(eff, rows, facts, labels, fn, arrival, versions, fast)
    rob = [facts.get(s, {}).get("rob", {}) for s in eff.study]
    low = [r.get("random_sequence_generation") == "low" and r.get("allocation_concealment")
           == "low" for r in rob]
    why_rob = {}
    for s, r in zip(eff.study, rob, strict=True):
        parts = [f"{d.replace('_', ' ')} {r.get(d) or 'not assessed'}" for d in
                 ("random_sequence_generation", "allocation_concealment") if r.get(d) != "low"]
        why_rob[s] = "; ".join(parts)
    verified = [facts.get(s, {}).get("verification") != "seed_only"
                and facts.get(s, {}).get("design") != "unclear" for s in eff.study]
    why_ver = {}
    for s in eff.study:
        f = facts.get(s, {})
        why_ver[s] = "; ".join(x for x in (
            "verified from the seed review only" if f.get("verification") == "seed_only" else "",
            "design unclear" if f.get("design") == "unclear" else "") if x)
    every = [True] * k
    out["subsets"] = [
        _subset(eff, every, labels, fn, "main", "Main analysis (as planned)", {}),
        _subset(eff, low, labels, fn, "low_rob",
                "Low risk of bias only (sequence generation and allocation concealment)",
                why_rob),
        _subset(eff, verified, labels, fn, "verified",
                "Without trials verified from the seed only or of unclear design", why_ver),
        _subset(eff, every, labels, _pool_fn(a, "fixed"), "fixed", "Fixed effect", {}),
        _subset(eff, every, labels, _pool_fn(a, "random"), "random",
                f"Random effects ({a.get('tau2_method') or 'DL'})", {}),
    ]
    out["influence"] = _influence(eff, labels, a)
    out["small_study"] = _small_study(eff, labels, a)
    out["meta_regression"] = [_meta_regression(eff, labels, facts, m, a["measure"])
                              for m in mods if m in MODERATORS]
    out["trajectory"] = _trajectory(con, a)
    out["sequential"] = _sequential(a, eff, rows, facts, labels, settings, arrival, versions,
                                    current)
    return out


def robustness(con: duckdb.DuckDBPyConnection, analyses: Sequence[dict[str, Any]],
               history: Sequence[dict[str, Any]] = (), current_version: str = "",
               settings: dict[tuple[str, str], float] | None = None) -> dict[str, Any]:
    """The ``robustness`` part of the report context (see the module docstring).

    Every main analysis gets a record (one line "not assessable: k = 0" when nothing pooled);
    other analyses only when their plan row names moderators. The main analyses also carry a
    ``monitoring`` summary (crossed, criterion) read by the "What's new" comparison.
    """
    settings = settings if settings is not None else load_monitoring()
    facts = _study_facts(con)
    main = set(_main_ids(analyses))
    out = []
    for a in analyses:
        if a["id"] in main or a.get("mods"):
            out.append(analyse(con, a, facts, settings, history, current_version,
                               a["id"] in main))
    return {"analyses": out,
            "versions": [h["version"] for h in history],
            "contours": list(CONTOUR_LEVELS)}


def monitoring_flags(robust: dict[str, Any], analyses: list[dict[str, Any]]) -> None:
    """Copy each main analysis's boundary status into its record as ``monitoring``.

    ``crossed`` is None when the boundary could not be computed; the criterion names the rule
    that "What's new" uses to say that a conclusion changed.
    """
    by_id = {r["analysis_id"]: r for r in robust.get("analyses", [])}
    for a in analyses:
        r = by_id.get(a["id"])
        seq = (r or {}).get("sequential")
        if not seq or seq.get("status") != "assessed":
            continue
        a["monitoring"] = {"crossed": seq["crossed"], "z": seq["looks"][-1]["z"],
                           "bound": seq["looks"][-1]["bound"], "fraction": seq["fraction"],
                           "criterion": "sequential monitoring boundary (O'Brien-Fleming, "
                                        f"α = {seq['alpha']:g})"}


def robustness_context(con: duckdb.DuckDBPyConnection, analyses: list[dict[str, Any]],
                       history: Sequence[dict[str, Any]], current_version: str) -> dict[str, Any]:
    """:func:`robustness`, plus each main analysis's ``monitoring`` status (for "What's new")."""
    robust = robustness(con, analyses, history, current_version)
    monitoring_flags(robust, analyses)
    return robust
