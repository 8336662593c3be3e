"""Summary of findings with GRADE certainty: an automated draft that assessors can override.

Why it exists: a reader weighing MSC therapy needs, per main outcome, how many trials and
patients, the relative and absolute effect, and how far to trust it. The five GRADE domains are
judged here by rules kept as data (``mscreview/grade_rules.csv``: every threshold and minimal
important difference with its source, or said to be a pre-declared assumption); assessors
override any domain, or the overall level, in ``data/certainty_overrides.csv`` with a reason.

- Risk of bias: weight share of trials at high or unclear risk in the key domains (ours before
  the seed's judgement; a domain nobody judged is "not assessed" and counts as unclear). Trust-
  worthiness flags of the audit (``context["audit"]["trials"]``) are named as concerns, never a
  reason to exclude.
- Inconsistency: I² with the p-value of Q, the prediction interval against the MID, and the
  direction of the trial estimates.
- Indirectness: population, cell product and co-intervention flags of the pooled trials.
- Imprecision: the 95% CI against the null and the MID, and the optimal information size
  (:func:`mscreview.stats.information_size_dichotomous` / ``_continuous``).
- Publication bias: Egger's test with at least 10 trials, otherwise "not assessable".

Absolute effects of dichotomous outcomes are per 1,000 from the median control-arm risk of the
pooled trials (GRADE Handbook 5.2); continuous outcomes give the MD with its unit or the SMD.
An analysis with one trial is labelled "1 trial — not pooled"; one without data says what is
missing.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from mscreview import stats
from mscreview.errors import InputError
from mscreview.vocabulary import SINGLE_LABEL

__all__ = ["DOMAINS", "LEVELS", "RULES_PATH", "Rules", "load_rules", "summary_of_findings"]

#: The shipped rules.
RULES_PATH = Path(__file__).resolve().parents[1] / "grade_rules.csv"
#: Main outcomes of the summary of findings, in order.
MAIN_OUTCOMES = ["MELD", "ALB", "TBIL", "ALT", "AST", "INR", "death", "hcc"]
DOMAINS = [("risk_of_bias", "Risk of bias"), ("inconsistency", "Inconsistency"),
           ("indirectness", "Indirectness"), ("imprecision", "Imprecision"),
           ("publication_bias", "Publication bias")]
#: Certainty levels by score (start 4 = high, minus the downgrades, at least 1).
LEVELS = {4: ("high", "High"), 3: ("moderate", "Moderate"), 2: ("low", "Low"),
          1: ("very_low", "Very low")}
DOWNGRADE = {"not_serious": 0, "serious": 1, "very_serious": 2, "not_assessable": 0,
             "not_applicable": 0}
RATIO = frozenset({"RR", "OR", "HR", "PETO"})
DRAFT_NOTE = ("Automated draft from the rules in mscreview/grade_rules.csv; assessors override a "
              "domain or the overall level in data/certainty_overrides.csv, with the reason.")

#: rule -> type; "*" rules are defaults, an outcome's row wins over them.
RULE_TYPES: dict[str, Callable[[str], Any]] = {
    "start_level": int, "rob_serious_share": float, "rob_very_serious_share": float,
    "i2_serious": float, "q_p_serious": float, "i2_very_serious": float,
    "indirect_serious_share": float, "ois_alpha": float, "ois_beta": float, "ois_rrr": float,
    "mid_RR": float, "mid_HR": float, "mid_SMD": float, "mid_MD": float, "mid_OR": float,
    "egger_min_k": int, "egger_p": float,
    "rob_key_domains": lambda v: tuple(x for x in v.split(";") if x),
    "rob_subjective_domains": lambda v: tuple(x for x in v.split(";") if x),
    "subjective_outcomes": lambda v: tuple(x for x in v.split(";") if x),
    "indirect_population": lambda v: tuple(x for x in v.split(";") if x),
    "indirect_cell_type": lambda v: tuple(x for x in v.split(";") if x),
    "indirect_cointervention": lambda v: tuple(x for x in v.split(";") if x),
}


@dataclass(frozen=True)
class Rules:
    """The rules of ``grade_rules.csv``: ``values[(outcome, rule)]`` and their sources."""

    values: dict[tuple[str, str], Any]
    sources: dict[tuple[str, str], str]
    path: str

    def get(self, rule: str, outcome: str = "*") -> Any:
        """The outcome's value of ``rule``, else the default ("*"); None when neither exists."""
        return self.values.get((outcome, rule), self.values.get(("*", rule)))

    def source(self, rule: str, outcome: str = "*") -> str:
        """Where the value of ``rule`` comes from."""
        return self.sources.get((outcome, rule), self.sources.get(("*", rule), ""))


def load_rules(path: str | os.PathLike[str] = RULES_PATH) -> Rules:
    """Read and check ``grade_rules.csv`` (columns outcome, rule, value, source).

    Raises
    ------
    InputError
        Naming the file, line and column of an unknown rule, a bad value, a missing source or a
        rule given twice.
    """
    source = Path(path)
    values: dict[tuple[str, str], Any] = {}
    sources: dict[tuple[str, str], str] = {}
    try:
        handle = source.open(newline="", encoding="utf-8")
    except OSError as err:
        raise InputError(f"{source}: cannot read the GRADE rules ({err})") from None
    with handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != ["outcome", "rule", "value", "source"]:
            raise InputError(f"{source}, line 1: header must be outcome,rule,value,source")
        for row in reader:
            line = reader.line_num
            key = (row["outcome"].strip(), row["rule"].strip())
            if key[1] not in RULE_TYPES:
                raise InputError(f"{source}, line {line}, column 'rule': unknown rule {key[1]!r} "
                                 f"(known: {', '.join(sorted(RULE_TYPES))})")
            if not (row["source"] or "").strip():
                raise InputError(f"{source}, line {line}, column 'source': every rule needs its "
                                 "source, or 'Pre-declared assumption'")
            if key in values:
                raise InputError(f"{source}, line {line}, column 'rule': {key[1]!r} already "
                                 f"given for {key[0]!r}")
            try:
                values[key] = RULE_TYPES[key[1]](row["value"].strip())
            except ValueError:
                raise InputError(f"{source}, line {line}, column 'value': {row['value']!r} is "
                                 f"not a valid {key[1]}") from None
            sources[key] = row["source"].strip()
    return Rules(values, sources, str(source))


# ------------------------------------------------------------------------------ helpers


def _null(measure: str) -> float:
    return 1.0 if measure in RATIO else 0.0


def _scale(x: float, measure: str) -> float:
    return math.log(x) if measure in RATIO else x


def _pct(x: float) -> str:
    return f"{x:.0f}%"


def _yi_vi(row: dict[str, Any], measure: str) -> tuple[float, float] | None:
    """A study's effect and variance on the analysis scale, from its effect and 95% CI."""
    e, lo, hi = row.get("effect"), row.get("ci_low"), row.get("ci_high")
    if e is None or lo is None or hi is None or (measure in RATIO and min(e, lo, hi) <= 0):
        return None
    se = (_scale(hi, measure) - _scale(lo, measure)) / (2 * 1.959963984540054)
    return _scale(e, measure), se * se


def _mid(rules: Rules, outcome: str, measure: str
         ) -> tuple[tuple[float, float] | None, str]:
    """Thresholds of an important effect below and above no effect, on the analysis scale.

    Ratios: ``log(1 - v)`` and ``log(1 + v)`` for a relative change ``v`` (GRADE guidelines 6:
    RR 0.75 and 1.25); differences: ``-mid`` and ``+mid``. None when no MID is stated.
    """
    key = "mid_RR" if measure in ("RR", "OR", "PETO") else f"mid_{measure}"
    value = rules.get(key, outcome)
    if value is None:
        return None, "no minimal important difference stated"
    if measure in RATIO:
        return ((math.log(1 - value), math.log(1 + value)),
                f"a relative change of {value:.0%} ({measure} {1 - value:g} or {1 + value:g})")
    return (-float(value), float(value)), f"{value:g}"


def _domain(domain: str, judgement: str, text: str) -> dict[str, Any]:
    label = dict(DOMAINS)[domain]
    return {"domain": domain, "label": label, "judgement": judgement,
            "downgrade": DOWNGRADE[judgement], "footnote": text, "source": "automated"}


# ------------------------------------------------------------------------------ domains


def _risk_of_bias(a: dict[str, Any], rules: Rules, rob: list[dict[str, Any]],
                  studies: dict[str, dict[str, Any]], audit: dict[str, list[str]]
                  ) -> dict[str, Any]:
    outcome = a["outcome"]
    key = list(rules.get("rob_key_domains") or ())
    if outcome in (rules.get("subjective_outcomes") or ()):
        key += list(rules.get("rob_subjective_domains") or ())
    judged: dict[str, dict[str, str | None]] = {}
    for block in rob:  # seed first, then ours: our own judgement wins where we made one
        for s in block["studies"]:
            for d in key:
                j = s["judgements"].get(d)
                if j is not None or d not in judged.setdefault(s["study_id"], {}):
                    judged.setdefault(s["study_id"], {})[d] = j
    total = sum(r["weight"] or 0 for r in a["rows"]) or 1.0
    high = unclear = 0.0
    named_high, named_unclear, not_assessed = [], [], []
    for r in a["rows"]:
        js = judged.get(r["study_id"], {})
        values = [js.get(d) for d in key]
        w = 100 * (r["weight"] or 0) / total
        if any(v == "high" for v in values):
            high += w
            named_high.append(r["label"])
        elif any(v in ("unclear", None) for v in values):
            unclear += w
            named_unclear.append(r["label"])
            if any(v is None for v in values):
                not_assessed.append(r["label"])
    text = (f"Key domains: {', '.join(d.replace('_', ' ') for d in key)}. "
            f"{_pct(high)} of the weight from trials at high risk"
            + (f" ({', '.join(named_high)})" if named_high else "")
            + f", {_pct(unclear)} at unclear risk"
            + (f" ({', '.join(named_unclear)})" if named_unclear else "") + ".")
    if not_assessed:
        text += (f" Not assessed in a key domain (counted as unclear): "
                 f"{', '.join(not_assessed)}.")
    designs = [f"{r['label']} ({studies[r['study_id']]['design'].replace('_', '-')})"
               for r in a["rows"] if r["study_id"] in studies
               and studies[r["study_id"]].get("design") not in ("rct", None)]
    if designs:
        text += f" Randomisation not confirmed: {', '.join(designs)}."
    concerns = [f"{r['label']}: {'; '.join(m.rstrip('.') for m in audit[r['study_id']])}."
                for r in a["rows"] if audit.get(r["study_id"])]
    if concerns:
        text += (" Trustworthiness concerns from the audit (a concern, not a reason to exclude): "
                 + " ".join(concerns))
    if high > rules.get("rob_very_serious_share"):
        judgement = "very_serious"
    elif high + unclear > rules.get("rob_serious_share"):
        judgement = "serious"
    else:
        judgement = "not_serious"
    return _domain("risk_of_bias", judgement, text)


def _inconsistency(a: dict[str, Any], rules: Rules, mid: tuple[float, float] | None
                   ) -> dict[str, Any]:
    t = a["total"]
    if t["k"] < 2:
        return _domain("inconsistency", "not_applicable",
                       "One trial: inconsistency cannot be judged.")
    measure = a["measure"]
    null = _null(measure)
    i2, qp = t.get("i2") or 0.0, t.get("q_p")
    effects = [r["effect"] for r in a["rows"] if r.get("effect") is not None]
    both_sides = any(e < null for e in effects) and any(e > null for e in effects)
    het = qp is not None and i2 > rules.get("i2_serious", a["outcome"]) \
        and qp < rules.get("q_p_serious", a["outcome"])
    text = f"I² = {i2:.0f}%" + (f", p(Q) = {qp:.2g}" if qp is not None else "")
    pi_wide = False
    if t.get("pi_low") is not None and t.get("pi_high") is not None:
        lo, hi = _scale(t["pi_low"], measure), _scale(t["pi_high"], measure)
        text += f"; 95% prediction interval {t['pi_low']:.2f} to {t['pi_high']:.2f}"
        if mid is not None and (t.get("tau2") or 0) > 0:  # a PI wider than the CI only
            base = _scale(null, measure)
            pi_wide = lo <= base + mid[0] and hi >= base + mid[1]
            if pi_wide:
                text += " (includes important effects in both directions)"
    text += "; trial estimates on both sides of no effect." if both_sides else \
        "; all trial estimates on one side of no effect."
    if het and i2 > rules.get("i2_very_serious", a["outcome"]) and both_sides:
        judgement = "very_serious"
    elif het or pi_wide:
        judgement = "serious"
    else:
        judgement = "not_serious"
    return _domain("inconsistency", judgement, text)


def _indirectness(a: dict[str, Any], rules: Rules, studies: dict[str, dict[str, Any]],
                  co: dict[str, list[str]]) -> dict[str, Any]:
    total = sum(r["weight"] or 0 for r in a["rows"]) or 1.0
    share = 0.0
    named = []
    for r in a["rows"]:
        s = studies.get(r["study_id"], {})
        why = []
        if s.get("population") in (rules.get("indirect_population") or ()):
            why.append(f"population {s['population'].replace('_', ' ')} rather than cirrhosis")
        if s.get("cell_type") in (rules.get("indirect_cell_type") or ()):
            why.append(f"{s['cell_type']} cells, not MSC")
        why += [f"co-intervention {c}" for c in co.get(r["study_id"], [])]
        if why:
            share += 100 * (r["weight"] or 0) / total
            named.append(f"{r['label']} ({'; '.join(why)})")
    if not named:
        return _domain("indirectness", "not_serious",
                       "All pooled trials: cirrhosis, MSC, no co-intervention flagged.")
    text = f"{_pct(share)} of the weight from indirect trials: {', '.join(named)}."
    serious = share > rules.get("indirect_serious_share", a["outcome"])
    return _domain("indirectness", "serious" if serious else "not_serious", text)


def _imprecision(a: dict[str, Any], rules: Rules, mid: tuple[float, float] | None, mid_text: str,
                 acr: float | None) -> dict[str, Any]:
    t = a["total"]
    measure, outcome = a["measure"], a["outcome"]
    lo, hi = _scale(t["ci_low"], measure), _scale(t["ci_high"], measure)
    base = _scale(_null(measure), measure)
    crosses = lo <= base <= hi
    text = f"95% CI {t['ci_low']:.2f} to {t['ci_high']:.2f}"
    text += " includes no effect" if crosses else " excludes no effect"
    judgement = "not_serious"
    if mid is None:
        text += f" ({mid_text})"
        judgement = "serious" if crosses else "not_serious"
    else:
        benefit, harm = lo <= base + mid[0], hi >= base + mid[1]
        text += f"; minimal important difference {mid_text}"
        if crosses and benefit and harm:
            judgement = "very_serious"
            text += " (the CI includes important effects in both directions)"
        elif crosses and (benefit or harm):
            judgement = "serious"
            text += " (the CI includes no effect and an important effect)"
    n = (t.get("n_exp") or 0) + (t.get("n_ctl") or 0)
    ois = _ois(a, rules, acr)
    if ois is None:
        text += "; optimal information size not assessable."
    else:
        met = n >= ois
        text += (f"; {n} participants against an optimal information size of {ois:.0f}"
                 + (" (met)." if met else " (not met)."))
        if not met and judgement == "not_serious":
            judgement = "serious"
    del outcome
    return _domain("imprecision", judgement, text)


def _ois(a: dict[str, Any], rules: Rules, acr: float | None) -> float | None:
    """The optimal information size (participants), or None when it cannot be computed."""
    o = a["outcome"]
    alpha, beta = rules.get("ois_alpha", o), rules.get("ois_beta", o)
    try:
        if a["measure"] in ("RR", "OR", "RD", "PETO"):
            if acr is None or not 0 < acr < 1:
                return None
            return stats.information_size_dichotomous(
                acr, rules.get("ois_rrr", o), alpha=alpha, beta=beta).ris
        if a["measure"] == "SMD":
            return stats.information_size_continuous(
                rules.get("mid_SMD", o), 1.0, alpha=alpha, beta=beta).ris
        if a["measure"] == "MD" and rules.get("mid_MD", o) is not None:
            sds = sorted(r["ctl"]["sd"] for r in a["rows"] if r["ctl"].get("sd"))
            if not sds:
                return None
            sd = sds[len(sds) // 2] if len(sds) % 2 else (sds[len(sds) // 2 - 1]
                                                          + sds[len(sds) // 2]) / 2
            return stats.information_size_continuous(
                rules.get("mid_MD", o), sd * sd, alpha=alpha, beta=beta).ris
    except stats.StatsError:
        return None
    return None


def _publication_bias(a: dict[str, Any], rules: Rules) -> dict[str, Any]:
    k = a["total"]["k"]
    kmin = rules.get("egger_min_k", a["outcome"])
    if k < kmin:
        return _domain("publication_bias", "not_assessable",
                       f"{k} trial{'s' if k != 1 else ''}: Egger's test needs at least {kmin}; "
                       "not assessable (not downgraded).")
    pairs = [p for p in (_yi_vi(r, a["measure"]) for r in a["rows"]) if p is not None]
    eff = stats.generic_effects([p[0] for p in pairs], [math.sqrt(p[1]) for p in pairs])
    try:
        test = stats.egger_test(eff)
    except stats.StatsError as err:
        return _domain("publication_bias", "not_assessable", f"Egger's test not possible: {err}.")
    serious = test.p < rules.get("egger_p", a["outcome"])
    return _domain("publication_bias", "serious" if serious else "not_serious",
                   f"Egger's test: intercept {test.intercept:.2f}, p = {test.p:.2g} ({k} trials).")


# ------------------------------------------------------------------------------ assembly


def _acr(a: dict[str, Any]) -> float | None:
    if a.get("data_kind") != "dichotomous" or not a["rows"]:
        return None
    try:
        return stats.median_control_risk([r["ctl"]["events"] for r in a["rows"]],
                                          [r["ctl"]["n"] for r in a["rows"]])
    except stats.StatsError:
        return None


def _absolute(a: dict[str, Any], acr: float | None) -> dict[str, Any] | None:
    t = a.get("total") or {}
    if acr is None or t.get("estimate") is None or a["measure"] not in ("RR", "OR", "RD", "PETO"):
        return None
    eff = stats.absolute_effect(acr, t["estimate"], t["ci_low"], t["ci_high"], a["measure"])
    return {"control_per_1000": eff.control, "intervention_per_1000": eff.intervention,
            "difference": eff.difference, "difference_low": eff.difference_low,
            "difference_high": eff.difference_high, "capped": eff.capped,
            "basis": f"median control-arm risk of the {len(a['rows'])} trial"
                     f"{'s' if len(a['rows']) != 1 else ''} ({eff.control:.0f} per 1,000)"}


def _reading(a: dict[str, Any]) -> str:
    t = a.get("total")
    label = a["outcome_label"]
    if a["status"] == "no_data" or not t:
        return (f"No trial in the package has usable {label} data yet; the seed review's "
                "estimate cannot be checked until the missing values are supplied.")
    null = _null(a["measure"])
    lo, hi = t["ci_low"], t["ci_high"]
    trials = SINGLE_LABEL if t["k"] == 1 else f"{t['k']} trials"
    if lo is None or hi is None:
        return f"{label}: {trials}, no confidence interval."
    if lo <= null <= hi:
        return (f"Based on {trials}, the data are compatible with no difference in {label} "
                "between MSC and control.")
    better = (a["favours"][0] == "Favours MSC") == (hi < null)
    return (f"Based on {trials}, {label} was better with {'MSC' if better else 'control'} "
            "(the 95% CI excludes no effect).")


def _cointerventions(con: duckdb.DuckDBPyConnection, rules: Rules,
                     discrepancies: list[dict[str, Any]]) -> dict[str, list[str]]:
    words = [w for w in (rules.get("indirect_cointervention") or ()) if w]
    found: dict[str, list[str]] = {}
    texts = [(r[0], r[1] or "") for r in con.execute(
        "SELECT study_id, description FROM arms WHERE role = 'experimental'").fetchall()]
    texts += [(d.get("study_id"), f"{d.get('field') or ''} {d.get('primary_value') or ''}")
              for d in discrepancies if d.get("study_id")]
    for sid, text in texts:
        for w in words:
            if w.lower() in text.lower() and w not in found.setdefault(sid, []):
                found[sid].append(w)
    return {sid: ws[:1] for sid, ws in found.items() if ws}


def _overrides(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], dict[str, Any]]:
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables")
              .fetchall()}
    if "certainty_overrides" not in tables:
        return {}
    cur = con.execute("SELECT * FROM certainty_overrides ORDER BY outcome, domain")
    cols = [d[0] for d in cur.description]
    rows = [dict(zip(cols, x)) for x in cur.fetchall()]
    levels = {v[0] for v in LEVELS.values()}
    for r in rows:  # a judgement that does not fit its domain is an error, never ignored
        where = (f"data/certainty_overrides.csv, row outcome={r['outcome']!r} "
                 f"domain={r['domain']!r}")
        if r["outcome"] not in MAIN_OUTCOMES:
            raise InputError(f"{where}, field 'outcome': not an outcome of the summary of "
                             f"findings ({', '.join(MAIN_OUTCOMES)})")
        fits = levels if r["domain"] == "overall" else set(DOWNGRADE) - {
            "not_assessable", "not_applicable"}
        if r["judgement"] not in fits:
            raise InputError(f"{where}, field 'judgement': {r['judgement']!r} does not fit "
                             f"{r['domain']} (use {', '.join(sorted(fits))})")
    return {(r["outcome"], r["domain"]): r for r in rows}


def _audit(context: dict[str, Any]) -> dict[str, list[str]]:
    """Trustworthiness flags per trial from ``context["audit"]["trials"]`` (list or mapping)."""
    trials = (context.get("audit") or {}).get("trials") or []
    items = trials.items() if isinstance(trials, dict) else (
        (t.get("study_id"), t) for t in trials if isinstance(t, dict))
    out: dict[str, list[str]] = {}
    for sid, t in items:
        flags = t.get("flags") if isinstance(t, dict) else t
        if isinstance(flags, str):
            flags = [flags]
        words = [f if isinstance(f, str) else str(f.get("message") or f.get("check") or f)
                 for f in flags or []]
        if sid and words:
            out[str(sid)] = words
    return out


def _certainty(a: dict[str, Any], rules: Rules, context: dict[str, Any],
               studies: dict[str, dict[str, Any]], co: dict[str, list[str]],
               audit: dict[str, list[str]], overrides: dict[tuple[str, str], dict[str, Any]],
               acr: float | None) -> dict[str, Any]:
    mid, mid_text = _mid(rules, a["outcome"], a["measure"])
    domains = [
        _risk_of_bias(a, rules, context.get("risk_of_bias") or [], studies, audit),
        _inconsistency(a, rules, mid),
        _indirectness(a, rules, studies, co),
        _imprecision(a, rules, mid, mid_text, acr),
        _publication_bias(a, rules),
    ]
    for d in domains:
        o = overrides.get((a["outcome"], d["domain"]))
        if o is not None:
            d.update(judgement=o["judgement"], downgrade=DOWNGRADE[o["judgement"]],
                     source="override",
                     footnote=f"{d['footnote']} Assessor ({o['assessor']}) judged "
                              f"{o['judgement'].replace('_', ' ')}: {o['reason']}")
    start = rules.get("start_level")
    score = max(1, start - sum(d["downgrade"] for d in domains))
    level, label = LEVELS[score]
    overall = overrides.get((a["outcome"], "overall"))
    note = None
    if overall is not None and overall["judgement"] in {v[0] for v in LEVELS.values()}:
        level = overall["judgement"]
        label = next(v[1] for v in LEVELS.values() if v[0] == level)
        note = f"Overall set by {overall['assessor']}: {overall['reason']}"
    letters = "abcdefghij"
    footnotes = [{"mark": letters[i], "domain": d["domain"], "label": d["label"],
                  "judgement": d["judgement"], "text": d["footnote"]}
                 for i, d in enumerate(domains)]
    return {"level": level, "label": label, "score": score, "draft": overall is None and not any(
                d["source"] == "override" for d in domains),
            "overridden": overall is not None or any(d["source"] == "override" for d in domains),
            "override_note": note, "domains": domains, "footnotes": footnotes,
            "downgrades": [f"{d['label'].lower()} ({d['judgement'].replace('_', ' ')})"
                           for d in domains if d["downgrade"]]}


def summary_of_findings(con: duckdb.DuckDBPyConnection, context: dict[str, Any],
                        rules: Rules | None = None) -> list[dict[str, Any]]:
    """One summary-of-findings row per main outcome (``context["summary"]``).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        The build's database (arms' descriptions, ``certainty_overrides``).
    context : dict
        The report context so far: ``analyses``, ``published_vs_repooled``, ``risk_of_bias``,
        ``studies``, ``discrepancies`` and, when present, ``audit``.
    rules : Rules, optional
        Default: :func:`load_rules` of the shipped ``grade_rules.csv``.

    Returns
    -------
    list of dict
        Per outcome: ``outcome``, ``outcome_label``, ``analysis_id``, ``measure``, ``unit``,
        ``status`` and ``status_label``, ``k``, ``patients``, ``estimate``/``ci_low``/
        ``ci_high``, ``i2``, ``p``, ``absolute`` (per 1,000, dichotomous), ``published`` (the
        seed's estimate), ``reading``, ``missing_text`` and ``certainty`` (``level``, ``label``,
        ``draft``, ``domains`` with judgement and footnote, ``footnotes``, ``downgrades``) or
        None when nothing can be assessed.
    """
    rules = rules or load_rules()
    analyses = context.get("analyses") or []
    published = {p["result_id"]: p for p in context.get("published_vs_repooled") or []}
    studies = {s["study_id"]: s for s in context.get("studies") or []}
    co = _cointerventions(con, rules, context.get("discrepancies") or [])
    audit = _audit(context)
    overrides = _overrides(con)
    main: dict[str, dict[str, Any]] = {}
    for a in analyses:
        if a["grouping"] == "none" and a["outcome"] in MAIN_OUTCOMES and a["outcome"] not in main \
                and a["time_window"] in ("main", "any") and a.get("data_kind") != "generic":
            main[a["outcome"]] = a
    out = []
    for outcome in MAIN_OUTCOMES:
        a = main.get(outcome)
        if a is None:
            continue
        t = a.get("total") or {}
        pub = next((published[r] for r in a.get("published_result_ids", []) if r in published),
                   None)
        status = a["status"]
        acr = _acr(a)
        entry: dict[str, Any] = {
            "outcome": outcome, "outcome_label": a["outcome_label"], "analysis_id": a["id"],
            "measure": a["measure"], "unit": a.get("unit") or "", "status": status,
            "status_label": {"pooled": "pooled", "single_study": SINGLE_LABEL,
                             "no_data": "no usable data"}.get(status, status),
            "estimate": t.get("estimate"), "ci_low": t.get("ci_low"), "ci_high": t.get("ci_high"),
            "k": t.get("k", 0), "patients": (t.get("n_exp") or 0) + (t.get("n_ctl") or 0),
            "i2": t.get("i2"), "p": t.get("p"),
            "absolute": _absolute(a, acr),
            "published": ({k: pub["published"].get(k) for k in
                           ("estimate", "ci_low", "ci_high", "p_reported", "i2")}
                          | {"result_id": pub["result_id"], "measure": pub["measure"]})
            if pub else None,
            "reading": _reading(a), "missing_text": "", "certainty": None,
        }
        if status == "no_data" or not t or t.get("estimate") is None:
            n = len(a.get("missing") or [])
            entry["missing_text"] = a.get("reason") or (
                f"{n} value{'s' if n != 1 else ''} missing (see the call for data).")
        else:
            entry["certainty"] = _certainty(a, rules, context, studies, co, audit, overrides, acr)
        out.append(entry)
    return out
