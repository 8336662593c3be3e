"""The ``audit`` verb: check the seed's published results and screen the trials' own numbers.

Two parts, both from the typed tables of the package:

- **Published results** (``published_results``): does each printed p-value follow from its
  estimate and CI, does the CI contain its estimate symmetrically, which numbers of studies do the
  printed I² and heterogeneity p admit (and is a printed k among them), are the totals of the
  subgroup analyses compatible with their subgroups and with the overall analysis, and is one
  outcome pooled on one scale (MD or SMD)?
- **Trials** (INSPECT-SR-inspired screening): baseline balance (Carlisle), GRIM/GRIMMER for
  integer-valued scores, baseline values copied across trials, percentages against their counts,
  arm sizes, and reported effects against their CIs.

The numbers come from :mod:`mscreview.stats.audit` and :mod:`mscreview.stats.integrity`; this module
reads the rows, writes one-line messages that name the numbers and where they are printed, and
returns ``{"results": [...], "trials": [...]}`` (the shape of ``mscreview audit --format json`` and
of ``results.json["audit"]``). Flags are data for the reader and "concerns" for the certainty
rating, never verdicts and never grounds to exclude a trial. Rounding never raises a flag.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb

from mscreview import stats
from mscreview.errors import InputError
from mscreview.stats.results import RATIO_MEASURES

__all__ = [
    "INTEGER_OUTCOMES",
    "audit_context",
    "audit_package",
    "audit_results",
    "format_audit",
    "screen_trials",
]

#: Outcomes whose per-patient values are whole numbers: GRIM and GRIMMER apply. MELD is an
#: integer when each patient's score is rounded, as UNOS and most trials report it.
INTEGER_OUTCOMES = {"CHILD_PUGH": "Child-Pugh score", "MELD": "MELD score"}

#: Baseline characteristics (``models.BASELINE_ONLY``) by their name in messages.
BASELINE_NAMES = {"AGE": "age"}

#: A trial's baseline is flagged when Stouffer's combined p is below this (imbalance) or above
#: one minus this (arms more alike than randomisation makes them), even with every rounded
#: number moved in the trial's favour (Carlisle 2017 describes the tails at 0.01 and 0.99).
CARLISLE_ALPHA = 0.01

PUBLISHED = "data/published_results.csv"
RESOURCE_PATHS = {
    "continuous_outcomes": "data/continuous_outcomes.csv",
    "dichotomous_outcomes": "data/dichotomous_outcomes.csv",
    "arms": "data/arms.csv",
    "study_effects": "data/study_effects.csv",
}


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def _fmt(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    return "0" + text[2:] if text.startswith("-0") and float(text) == 0 else text


def _p(value: float) -> str:
    if value < 0.0001:
        return "p < 0.0001"
    return f"p = {value:.4f}" if value < 0.001 else f"p = {value:.3f}"


def _range(lo: float, hi: float) -> str:
    def one(v: float) -> str:
        return "<0.0001" if v < 0.0001 else f"{v:.4f}" if v < 0.001 else f"{v:.3f}"
    return one(lo) if one(lo) == one(hi) else f"{one(lo)} to {one(hi)}"


def _flag(check: str, message: str, p: float | None = None, *, trial: bool = False
          ) -> dict[str, Any]:
    flag: dict[str, Any] = {"check": check, "message": message}
    if trial:
        flag["p"] = None if p is None or math.isnan(p) else p
    return flag


def _k_text(implied: stats.ImpliedK) -> str:
    bounds = implied.bounds
    if bounds is None:
        return "no number of studies"
    lo, hi = bounds
    if hi is None:
        return f"k >= {lo}"
    return f"k = {lo}" if lo == hi else f"k = {lo} to {hi}"


# --------------------------------------------------------------------------- published results


def _decimals(row: dict[str, Any], quote: str | None) -> tuple[int, int, int]:
    """Printed decimals of the estimate and the CI limits, read from the quote."""
    e, lo, hi = (stats.printed_decimals(row[f], quote) for f in ("estimate", "ci_low", "ci_high"))
    return e, lo, hi


class _Result:
    """One published result with the printed precision of its numbers."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row
        self.id: str = row["result_id"]
        quote = row.get("quote") or ""
        self.ratio = row["measure"] in RATIO_MEASURES
        self.decimals = _decimals(row, quote)
        self.numbers = (row["estimate"], row["ci_low"], row["ci_high"])
        self.where = row.get("locator") or row.get("figure") or ""
        self.implied: stats.ImpliedK | None = None
        if row.get("p_reported"):
            self._p_text("p_reported")
        if row.get("i2") is not None and row.get("het_p_reported"):
            i2_dec = stats.printed_decimals(row["i2"], quote)
            self.implied = stats.heterogeneity_k(row["i2"], self._p_text("het_p_reported"),
                                                 i2_decimals=i2_dec)

    def _p_text(self, field: str) -> str:
        text = str(self.row[field])
        try:
            stats.parse_p(text)
        except stats.StatsError as err:
            raise InputError(f"{PUBLISHED}: row result_id={self.id}, field {field}: {err}"
                             ) from None
        return text

    def effect(self) -> str:
        e, lo, hi = (_fmt(v, d) for v, d in zip(self.numbers, self.decimals))
        return f"{self.row['measure']} {e} [{lo}, {hi}]"

    def het(self) -> str:
        return (f"I² = {_fmt(self.row['i2'], 0)}% with heterogeneity "
                f"{_p_words(self.row['het_p_reported'])}")

    @property
    def k_set(self) -> tuple[int, int | None] | None:
        """Lowest and highest k (None: unbounded): printed k first, else the implied set."""
        if self.row.get("k") is not None:
            return int(self.row["k"]), int(self.row["k"])
        if self.implied is not None:
            return self.implied.bounds
        return None


def _sign_fix(r: _Result) -> str | None:
    """Which single sign change makes every check pass, if exactly one does."""
    names = ("estimate", "lower limit", "upper limit")
    fixes = []
    for i in range(3):
        if r.numbers[i] == 0:
            continue
        values = list(r.numbers)
        values[i] = -values[i]
        e, lo, hi = values
        if lo > hi or (r.ratio and min(values) <= 0):
            continue
        ci = stats.check_ci(e, lo, hi, decimals=r.decimals, ratio=r.ratio)
        ok = ci.contains and ci.symmetric
        if ok and r.row.get("p_reported"):
            ok = stats.check_p_value(e, lo, hi, r.row["p_reported"], decimals=r.decimals,
                                     ratio=r.ratio).consistent
        if ok:
            fixes.append(f"{names[i]} is {_fmt(values[i], r.decimals[i])}, not "
                         f"{_fmt(r.numbers[i], r.decimals[i])}")
    if len(fixes) != 1:
        return None
    return f"every printed number agrees if the {fixes[0]} (a sign error)"


def _own_checks(r: _Result) -> list[dict[str, Any]]:
    flags = []
    e, lo, hi = r.numbers
    ci = stats.check_ci(e, lo, hi, decimals=r.decimals, ratio=r.ratio)
    fix = _sign_fix(r)
    tail = f"; {fix}" if fix else ""
    scale = " on the log scale" if r.ratio else ""
    if not ci.contains:
        flags.append(_flag("ci_contains_estimate",
                           f"The 95% CI of {r.effect()} does not contain the estimate{tail} "
                           f"({r.where})."))
    elif not ci.symmetric:
        flags.append(_flag("ci_symmetry",
                           f"The 95% CI of {r.effect()} is centred on {ci.midpoint:.3f}{scale}, "
                           f"{abs(ci.asymmetry):.3f} from the estimate (rounding allows "
                           f"{ci.tolerance:.3f}){tail} ({r.where})."))
    if r.row.get("p_reported"):
        text = r._p_text("p_reported")
        pc = stats.check_p_value(e, lo, hi, text, decimals=r.decimals,
                                 ratio=r.ratio)
        if not pc.consistent:
            null = "1" if r.ratio else "0"
            gross = ""
            if pc.decision_error:
                gross = (f"; the CI excludes {null} while p >= 0.05" if pc.printed_low >= 0.05
                         else f"; the CI includes {null} while p < 0.05")
            flags.append(_flag("p_value",
                               f"Printed {_p_words(text)}, but {r.effect()} gives z = {abs(pc.z):.2f}, "
                               f"{_p(pc.p)} ({_range(pc.p_low, pc.p_high)} allowing for rounding)"
                               f"{gross}{tail} ({r.where})."))
    if r.implied is not None:
        if not r.implied.ks:
            flags.append(_flag("heterogeneity",
                               f"{r.het()} fit no number of studies (df 1 to {stats.DF_MAX}): "
                               f"one of the two is misprinted ({r.where})."))
        elif r.row.get("k") is not None and not r.implied.admits(int(r.row["k"])):
            k = int(r.row["k"])
            flags.append(_flag("k",
                               f"The text gives k = {k} studies, but {r.het()} fits only "
                               f"{_k_text(r.implied)} (df = k - 1): a trial may be counted twice "
                               f"(e.g. a multi-arm trial with a shared control) or the analysis "
                               f"is not the one described ({r.where})."))
    return flags


def _same_numbers(a: _Result, b: _Result) -> bool:
    keys = ("measure", "estimate", "ci_low", "ci_high", "p_reported")
    return all(a.row.get(k) == b.row.get(k) for k in keys)


def _p_words(text: Any) -> str:
    text = str(text).strip()
    return f"p {text[0]} {text[1:].strip()}" if text[:1] in "<>\u2264\u2265" else f"p = {text}"


def _k_range(bounds: tuple[int, int | None]) -> str:
    lo, hi = bounds
    return f"k = {lo}" if lo == hi else f"k >= {lo}" if hi is None else f"k = {lo} to {hi}"


def _subgroup_sum(analysis: str, subs: list[_Result], total: _Result | None,
                  reference: tuple[tuple[int, int | None] | None, str] | None,
                  flags: dict[str, list[dict[str, Any]]]) -> None:
    """The subgroups' least numbers of studies against the total's (or the overall's) k.

    Only the lower bounds are added (a subgroup with no heterogeneity statistics counts 1), so
    subgroups missing from the text can only make the flag less likely.
    """
    if reference is None or reference[0] is None:
        return
    (k_lo, k_hi), whose = reference[0], reference[1]
    if k_hi is None:
        return
    needs = []
    for s in subs:
        ks = s.k_set
        if ks is not None and ks[0] > 1:
            how = (f"k = {s.row['k']} printed" if s.row.get("k") is not None or s.implied is None
                   else f"{_k_text(s.implied)} from I² = {_fmt(s.row['i2'], 0)}%, "
                   f"{_p_words(s.row['het_p_reported'])}")
            needs.append((ks[0], f"{s.row['subgroup']}: {how}"))
    least = sum(n for n, _ in needs) + (len(subs) - len(needs))
    if not needs or least <= k_hi:
        return
    others = len(subs) - len(needs)
    detail = "; ".join(t for _, t in needs) + (f"; 1 each for the other {others}" if others else "")
    target = total if total is not None else subs[0]
    if total is not None:
        tail = "a trial is counted in two subgroups or the subgroups do not add up to the total"
    else:
        tail = ("a trial sits in two subgroups, or the subgroups pool trials the overall "
                "analysis does not")
    ids = [target.id] if total is not None else [s.id for s in subs]
    for rid in ids:
        flags[rid].append(_flag(
            "subgroups",
            f"The {analysis} subgroups need at least {least} studies ({detail}), but "
            f"{whose} has {_k_range((k_lo, k_hi))}: {tail} ({target.where})."))


def _group_checks(results: list[_Result]) -> dict[str, list[dict[str, Any]]]:
    """Totals against their subgroups, against the overall analysis, and measures per outcome."""
    flags: dict[str, list[dict[str, Any]]] = defaultdict(list)
    groups: dict[tuple[str, str], list[_Result]] = defaultdict(list)
    for r in results:
        groups[(r.row["outcome"], r.row["analysis"])].append(r)
    totals = {key: next((r for r in rs if not r.row.get("subgroup")), None)
              for key, rs in groups.items()}
    for (outcome, analysis), rs in sorted(groups.items()):
        total = totals[(outcome, analysis)]
        overall = totals.get((outcome, "overall"))
        subs = [r for r in rs if r.row.get("subgroup")]
        comparable = analysis != "time" and not analysis.startswith("sensitivity")
        reference: tuple[tuple[int, int | None] | None, str] | None = None
        if overall is not None and overall.row.get("k") is not None and comparable:
            reference = (overall.k_set, f"the overall {outcome} analysis ({overall.id})")
        if total is None:
            if subs:
                _subgroup_sum(analysis, subs, None, reference, flags)
            continue
        if overall is not None and total is not overall:
            if overall.row["measure"] != total.row["measure"]:
                flags[total.id].append(_flag(
                    "measure",
                    f"{outcome} is pooled as {overall.row['measure']} in the overall analysis "
                    f"({overall.id}) but as {total.row['measure']} here: the two totals are on "
                    f"different scales and cannot be compared ({total.where})."))
            elif comparable and not _same_numbers(overall, total):
                flags[total.id].append(_flag(
                    "totals",
                    f"The total of the {analysis} subgroups, {total.effect()}, "
                    f"{_p_words(total.row.get('p_reported'))}, differs from the overall {outcome} "
                    f"analysis ({overall.id}: {overall.effect()}, "
                    f"{_p_words(overall.row.get('p_reported'))}) on the same measure: the "
                    f"subgroups do not pool the same trials or data ({total.where})."))
        if not subs:
            continue
        own = total.k_set
        if own is not None and own[1] is not None:
            how = "printed" if total.row.get("k") is not None else "implied"
            reference = (own, f"the total ({how})")
        elif total.row.get("k") is None:
            twin = next((t for (o, a), t in totals.items() if o == outcome and a != analysis
                         and t is not None and t.row.get("k") is not None
                         and _same_numbers(t, total)), None)
            if twin is not None:
                reference = (twin.k_set, f"the total, identical to {twin.id},")
        _subgroup_sum(analysis, subs, total, reference, flags)
        lo_all = min(s.row["ci_low"] for s in subs)
        hi_all = max(s.row["ci_high"] for s in subs)
        e = total.row["estimate"]
        if not lo_all <= e <= hi_all:
            flags[total.id].append(_flag(
                "subgroups",
                f"The total {total.effect()} lies outside every subgroup's CI "
                f"(together [{lo_all}, {hi_all}]): no weighting of the subgroups gives it "
                f"({total.where})."))
        elif total.row.get("model") == "fixed":
            lo_e = min(s.row["estimate"] for s in subs)
            hi_e = max(s.row["estimate"] for s in subs)
            half = 0.5 * 10.0 ** -min(total.decimals[0], *(s.decimals[0] for s in subs))
            if not lo_e - 2 * half <= e <= hi_e + 2 * half:
                flags[total.id].append(_flag(
                    "subgroups",
                    f"The fixed-effect total {total.effect()} lies outside the range of its "
                    f"subgroup estimates ({lo_e} to {hi_e}), which a fixed-effect total cannot "
                    f"({total.where})."))
    return flags


def audit_results(published: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Audit every published result: ``[{"result_id", "implied_k", "flags"}]`` by result id."""
    results = [_Result(row) for row in sorted(published, key=lambda r: r["result_id"])]
    group = _group_checks(results)
    out = []
    for r in results:
        bounds = r.implied.bounds if r.implied is not None else None
        out.append({"result_id": r.id, "implied_k": list(bounds) if bounds else None,
                    "flags": _own_checks(r) + group.get(r.id, [])})
    return out


# --------------------------------------------------------------------------- trials


def _where(row: dict[str, Any]) -> str:
    return f"{row['source_id']}, {row.get('locator') or 'no locator'}"


def _baseline(rows: list[dict[str, Any]], screened: dict[str, dict[str, Any]],
              flags: dict[str, list[dict[str, Any]]]) -> None:
    by_var: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_var[(r["study_id"], r["outcome"], r["source_id"])].append(r)
    per_study: dict[str, list[tuple[str, stats.BalanceTest, dict[str, Any]]]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    chosen: list[tuple[str, str, list[dict[str, Any]]]] = []
    for (study, outcome, _source), arms in sorted(by_var.items()):
        if len(arms) < 2 or (study, outcome) in seen or any(a["n"] is None or a["n"] < 2
                                                             for a in arms):
            continue
        seen.add((study, outcome))
        chosen.append((study, outcome, arms))

    def columns(arms: list[dict[str, Any]]) -> list[list[Any]]:
        return [[a["central"] for a in arms], [a["dispersion"] for a in arms],
                [a["n"] for a in arms],
                [stats.printed_decimals(a["central"], a["quote"]) for a in arms],
                [stats.printed_decimals(a["dispersion"], a["quote"]) for a in arms]]

    # two arms (nearly every trial): all at once, the same numbers as one at a time
    two = [i for i, (_, _, arms) in enumerate(chosen) if len(arms) == 2]
    tests: dict[int, stats.BalanceTest] = {}
    if two:
        cols = list(zip(*(columns(chosen[i][2]) for i in two), strict=True))
        tests = dict(zip(two, stats.baseline_balance_two_arms(*cols), strict=True))
    for i, (study, outcome, arms) in enumerate(chosen):
        test = tests.get(i)
        if test is None:
            m, s, n, dm, ds = columns(arms)
            test = stats.baseline_balance(m, s, n, mean_decimals=dm, sd_decimals=ds)
        per_study[study].append((outcome, test, arms[0]))
    for study, tests in per_study.items():
        printed = stats.stouffer([t.p for _, t, _ in tests])
        worst_low = stats.stouffer([t.p_high for _, t, _ in tests])  # most favourable to balance
        worst_high = stats.stouffer([t.p_low for _, t, _ in tests])
        listing = ", ".join(f"{o} p = {t.p:.3f}" for o, t, _ in tests)
        where = "; ".join(sorted({_where(r) for _, _, r in tests}))
        screened[study]["checked"].append(
            f"baseline balance (Carlisle): {printed.m} variable{'s' if printed.m != 1 else ''} "
            f"({listing}); Stouffer p = {printed.p:.3f}, {printed.below} below 0.01, "
            f"{printed.above} above 0.99")
        if worst_low.p < CARLISLE_ALPHA:
            flags[study].append(_flag(
                "baseline_imbalance",
                f"Baseline arms differ more than randomisation explains: Stouffer p = "
                f"{printed.p:.4f} over {printed.m} variables ({listing}; {printed.below} below "
                f"0.01) ({where}).", printed.p, trial=True))
        elif worst_high.p > 1 - CARLISLE_ALPHA:
            flags[study].append(_flag(
                "baseline_similarity",
                f"Baseline arms are more alike than randomisation makes them: Stouffer p = "
                f"{printed.p:.4f} over {printed.m} variables ({listing}; {printed.above} above "
                f"0.99) ({where}).", printed.p, trial=True))


def _granularity(rows: list[dict[str, Any]], screened: dict[str, dict[str, Any]],
                 flags: dict[str, list[dict[str, Any]]]) -> None:
    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        if r["outcome"] not in INTEGER_OUTCOMES or r["n"] is None or r["n"] < 1:
            continue
        study, quote = r["study_id"], r.get("quote")
        d_mean = stats.printed_decimals(r["central"], quote)
        counts[study] += 1
        what = (f"{INTEGER_OUTCOMES[r['outcome']]} {_fmt(r['central'], d_mean)}"
                f" (arm {r['arm_id']}, {r.get('timepoint_label') or r['timepoint_weeks']}, "
                f"n = {r['n']})")
        if not stats.grim(r["central"], int(r["n"]), d_mean):
            flags[study].append(_flag(
                "grim", f"The mean {what} is not a whole-number total divided by n (GRIM), if "
                f"each patient's score is a whole number ({_where(r)}).", trial=True))
            continue
        if r["dispersion_kind"] == "sd" and r["dispersion"] is not None and r["n"] >= 2:
            d_sd = stats.printed_decimals(r["dispersion"], quote)
            res = stats.grimmer(r["central"], r["dispersion"], int(r["n"]), d_mean, d_sd)
            if not res.consistent:
                flags[study].append(_flag(
                    "grimmer", f"The SD {_fmt(r['dispersion'], d_sd)} of {what} is impossible for "
                    f"whole-number scores (GRIMMER, {res.reason}) ({_where(r)}).", trial=True))
    for study, n in counts.items():
        screened[study]["checked"].append(f"GRIM/GRIMMER: {n} mean{'s' if n != 1 else ''} of "
                                          "whole-number scores")


COPIES_NAMED = 3
"""A baseline row identical to those of more trials than this gets one flag naming the first few
(each of the others names it in its own flags), so a common value does not flag every pair."""


def _common_value(name: str, mine: list[dict[str, Any]], n_others: int,
                  first: list[str]) -> dict[str, Any]:
    """One copied-values flag for a baseline row shared, value for value, with many trials."""
    values = sorted({(a["arm_id"], a["_text"], a["n"]) for a in mine})
    text = " and ".join(f"{t} (arm {arm}, n = {n})" for arm, t, n in values)
    return _flag(
        "copied_values",
        f"Baseline {name} {text} ({_where(mine[0])}) {'are' if len(values) > 1 else 'is'} "
        f"identical to the digit in {n_others:,} other trials ({', '.join(first)} and "
        f"{n_others - len(first):,} more, each flagged in turn): a value this common may be "
        "coincidence, copied baseline data or shared patients.", trial=True)


def _copies(rows: list[dict[str, Any]], labels: dict[str, str],
            screened: dict[str, dict[str, Any]],
            flags: dict[str, list[dict[str, Any]]]) -> None:
    """Baseline mean ± SD pairs printed identically, to the last digit, in two different trials.

    The values are compared per outcome code and unit (as numbers: a trailing zero the quote
    does not show cannot be told apart), across every trial of the package (included or not:
    a report kept only for this comparison is a study row with ``included = false``). One flag
    per pair of baseline rows (trial, source and variable) names every identical arm with its
    n; a whole row repeated from different numbers of patients is said so, since the same mean
    and SD from other patients is the signature of copied data. A row identical to those of more
    than :data:`COPIES_NAMED` other trials gets one flag counting them (no pair is formed: m
    trials sharing a common value cost O(m), not m² flags or pairs).
    """
    cells: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    per_row: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    cell_no: dict[tuple[Any, ...], int] = {}
    for r in rows:
        d_m = stats.printed_decimals(r["central"], r["quote"])
        d_s = stats.printed_decimals(r["dispersion"], r["quote"])
        unit = "" if r["unit"] in ("none", "points", None) else f" {r['unit']}"
        cell = (r["outcome"], r["unit"], r["central"], r["dispersion"])
        number = cell_no.setdefault(cell, len(cell_no))  # pairs keep the order of the rows
        r = {**r, "_text": f"{_fmt(r['central'], d_m)} ± {_fmt(r['dispersion'], d_s)}{unit}",
             "_cell": cell, "_order": (number, len(cells[cell]))}
        cells[cell].append(r)
        per_row[(r["study_id"], r["source_id"], r["outcome"])].append(r)
    for (study, _source, _outcome), rs in per_row.items():
        screened[study].setdefault("_copies", set()).add(rs[0]["outcome"])
    studies_in = {key: {r["study_id"] for r in same} for key, same in cells.items()}
    unions: dict[frozenset[tuple[Any, ...]], tuple[set[str], list[tuple[str, str]]]] = {}
    for (study, source, outcome), rs in sorted(per_row.items()):
        keys = frozenset(r["_cell"] for r in rs)
        if keys not in unions:  # rows of the same values share one union (no pair is formed)
            union = set().union(*(studies_in[k] for k in keys))
            unions[keys] = union, sorted((labels.get(s, s), s) for s in union)
        union, named = unions[keys]
        n_others = len(union) - 1
        if n_others < 1:
            continue
        name = BASELINE_NAMES.get(outcome, outcome)
        if n_others > COPIES_NAMED:  # a common value: one flag, not one per trial sharing it
            first = [label for label, s in named[:COPIES_NAMED + 1] if s != study]
            mine = [r for r in rs if len(studies_in[r["_cell"]]) > 1]
            flags[study].append(_common_value(name, mine, n_others, first[:COPIES_NAMED]))
            continue
        shared: dict[tuple[str, str], list[tuple[dict[str, Any], dict[str, Any]]]] = (
            defaultdict(list))
        for a in rs:
            for b in cells[a["_cell"]]:
                if b["study_id"] != study:
                    shared[(b["study_id"], b["source_id"])].append((a, b))
        for (other, o_source), pairs in sorted(shared.items()):
            pairs.sort(key=lambda ab: (ab[0]["_order"], ab[1]["_order"]))
            mine_row = per_row[(study, source, outcome)]
            other_row = per_row[(other, o_source, outcome)]
            whole = len(pairs) == len(mine_row) == len(other_row) >= 2
            mine_text = " and ".join(f"{a['_text']} (arm {a['arm_id']}, n = {a['n']})"
                                     for a, _ in pairs)
            theirs = "; ".join(f"arm {b['arm_id']}, n = {b['n']}" for _, b in pairs)
            tail = ""
            if whole:
                tail = ("; the whole row repeats" + (", from different numbers of patients"
                                                     if any(a["n"] != b["n"] for a, b in pairs)
                                                     else ""))
            flags[study].append(_flag(
                "copied_values",
                f"Baseline {name} {mine_text} ({_where(pairs[0][0])}) "
                f"{'are' if len(pairs) > 1 else 'is'} identical to the digit in "
                f"{labels.get(other, other)} ({theirs}; {_where(pairs[0][1])}){tail}: copied "
                "baseline data or shared patients.", trial=True))
    for found in screened.values():
        names = sorted(found.pop("_copies", ()))
        if names:
            found["checked"].append(f"copied baselines: {', '.join(names)} compared with every "
                                    "other trial's")


def _arithmetic(con: duckdb.DuckDBPyConnection, screened: dict[str, dict[str, Any]],
                flags: dict[str, list[dict[str, Any]]]) -> None:
    counted: dict[str, int] = defaultdict(int)
    for r in _rows(con, """
            SELECT d.*, coalesce(d.timepoint_label, CAST(d.timepoint_weeks AS VARCHAR)) AS tp
            FROM dichotomous_outcomes d
            WHERE d.events IS NOT NULL AND d.n IS NOT NULL AND d.percent IS NOT NULL
            ORDER BY d.study_id, d.arm_id, d.outcome, d.timepoint_weeks"""):
        counted[r["study_id"]] += 1
        d = stats.printed_decimals(r["percent"], r.get("quote"))
        if r["n"] < 1 or not stats.percent_consistent(int(r["events"]), int(r["n"]),
                                                      r["percent"], d):
            flags[r["study_id"]].append(_flag(
                "percent", f"{r['outcome']} {r['events']}/{r['n']} is printed as "
                f"{_fmt(r['percent'], d)}% (arm {r['arm_id']}, {r['tp']}); "
                f"{r['events']}/{r['n']} = {100 * r['events'] / max(r['n'], 1):.2f}% "
                f"({_where(r)}).", trial=True))
    for study, n in counted.items():
        screened[study]["checked"].append(f"percentages: {n} against their counts")
    arms = {(a["study_id"], a["arm_id"]): a for a in _rows(con, "SELECT * FROM arms")}
    sized: dict[str, int] = defaultdict(int)
    for a in arms.values():
        if a["n_randomised"] is not None and a["n_analysed"] is not None:
            sized[a["study_id"]] += 1
            if a["n_analysed"] > a["n_randomised"]:
                flags[a["study_id"]].append(_flag(
                    "arm_sizes", f"Arm {a['arm_id']}: {a['n_analysed']} analysed of "
                    f"{a['n_randomised']} randomised ({_where(a)}).", trial=True))
    for table in ("continuous_outcomes", "dichotomous_outcomes"):
        for r in _rows(con, f"""
                SELECT study_id, arm_id, outcome, timepoint_weeks, timepoint_label, n, source_id,
                       locator FROM {table} WHERE n IS NOT NULL ORDER BY ALL"""):
            arm = arms.get((r["study_id"], r["arm_id"]))
            if arm is None or arm["n_randomised"] is None:
                continue
            sized[r["study_id"]] += 1
            if r["n"] > arm["n_randomised"]:
                flags[r["study_id"]].append(_flag(
                    "arm_sizes", f"{r['outcome']} at {r['timepoint_label'] or r['timepoint_weeks']}"
                    f" in arm {r['arm_id']} has n = {r['n']}, more than the {arm['n_randomised']}"
                    f" randomised ({_where(r)}; {RESOURCE_PATHS['arms']}).", trial=True))
    parts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (study, arm_id), a in arms.items():
        if arm_id.startswith("msc_") and a["n_randomised"] is not None:
            parts[study].append(a)
    for study, subs in parts.items():
        whole = arms.get((study, "msc"))
        expected = {a["arm_id"] for a in arms.values() if a["study_id"] == study
                    and a["arm_id"].startswith("msc_")}
        if whole is None or whole["n_randomised"] is None or len(subs) != len(expected):
            continue
        sized[study] += 1
        total = sum(a["n_randomised"] for a in subs)
        if total != whole["n_randomised"]:
            flags[study].append(_flag(
                "arm_sizes", f"The experimental sub-arms ({', '.join(a['arm_id'] for a in subs)}) "
                f"add up to {total}, but the combined MSC arm has {whole['n_randomised']} "
                f"({_where(whole)}).", trial=True))
    for study, n in sized.items():
        screened[study]["checked"].append(f"arm sizes: {n} counts against the arms randomised")


def _reported_effects(con: duckdb.DuckDBPyConnection, screened: dict[str, dict[str, Any]],
                      flags: dict[str, list[dict[str, Any]]]) -> None:
    for r in _rows(con, """
            SELECT * FROM study_effects WHERE estimate IS NOT NULL AND ci_low IS NOT NULL
              AND ci_high IS NOT NULL AND p_reported IS NOT NULL
            ORDER BY study_id, outcome, timepoint_weeks"""):
        quote = r.get("quote")
        dec = _decimals(r, quote)
        try:
            pc = stats.check_p_value(r["estimate"], r["ci_low"], r["ci_high"], r["p_reported"],
                                     decimals=dec, ratio=r["measure"] in RATIO_MEASURES)
        except stats.StatsError as err:
            raise InputError(f"{RESOURCE_PATHS['study_effects']}: row {r['study_id']}/"
                             f"{r['outcome']}, field p_reported: {err}") from None
        screened[r["study_id"]]["checked"].append(
            f"reported {r['measure']} for {r['outcome']}: p against its CI")
        if not pc.consistent:
            flags[r["study_id"]].append(_flag(
                "reported_p", f"{r['measure']} {r['estimate']} [{r['ci_low']}, {r['ci_high']}] "
                f"gives {_p(pc.p)} ({_range(pc.p_low, pc.p_high)} allowing for rounding), but "
                f"p = {r['p_reported']} is printed ({_where(r)}).", trial=True))


def screen_trials(con: duckdb.DuckDBPyConnection) -> tuple[list[dict[str, Any]],
                                                           list[dict[str, Any]]]:
    """Trustworthiness screening of every trial with data for it.

    Returns
    -------
    (trials, screened)
        ``trials``: ``[{"study_id", "flags": [{"check", "message", "p"}]}]`` for every trial
        screened; ``screened``: per trial, its label and what was checked (for the report).
    """
    studies = _rows(con, "SELECT study_id, label, included FROM studies")
    labels = {r["study_id"]: r["label"] for r in studies}
    included = {r["study_id"]: r["included"] for r in studies}
    continuous = _rows(con, """
        SELECT c.*, coalesce(c.n, CASE WHEN c.timepoint_weeks = 0 THEN a.n_randomised END) AS n
        FROM continuous_outcomes c LEFT JOIN arms a USING (study_id, arm_id)
        WHERE c.status = 'extracted' AND c.central_kind = 'mean' AND c.central IS NOT NULL
        ORDER BY c.study_id, c.outcome, c.source_id, c.arm_id, c.timepoint_weeks""")
    baseline = [r for r in continuous if r["timepoint_weeks"] == 0 and r["value_type"] == "final"
                and r["dispersion_kind"] == "sd" and r["dispersion"] is not None]
    screened: dict[str, dict[str, Any]] = defaultdict(lambda: {"checked": []})
    flags: dict[str, list[dict[str, Any]]] = defaultdict(list)
    _baseline(baseline, screened, flags)
    _granularity(continuous, screened, flags)
    _copies(baseline, labels, screened, flags)
    _arithmetic(con, screened, flags)
    _reported_effects(con, screened, flags)
    ids = sorted(set(screened) | set(flags))
    trials = [{"study_id": s, "flags": flags.get(s, [])} for s in ids]
    details = [{"study_id": s, "label": labels.get(s, s), "included": included.get(s),
                "checked": screened[s]["checked"]}
               for s in ids]
    return trials, details


# --------------------------------------------------------------------------- entry points


#: The trustworthiness checks in words, as the report names them.
CHECK_NAMES = {
    "baseline_imbalance": "baseline imbalance", "baseline_similarity": "baseline too similar",
    "grim": "GRIM", "grimmer": "GRIMMER", "copied_values": "copied baseline",
    "percent": "percentage vs count", "arm_sizes": "arm sizes", "reported_p": "p-value vs CI",
}


def audit_context(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The report's part: ``{"audit": {...}, "audit_details": {...}}``.

    ``audit`` has exactly the shape of ``mscreview audit --format json``; ``audit_details`` holds
    what the report shows beside it (the printed numbers, what was checked per trial, and the
    trials with no data to screen).
    """
    published = _rows(con, "SELECT * FROM published_results ORDER BY result_id")
    trials, screened = screen_trials(con)
    labels = _rows(con, "SELECT study_id, label, included FROM studies ORDER BY year, label")
    done = {t["study_id"] for t in trials}
    printed = {}
    for p in published:
        r = _Result(p)
        parts = [r.effect()]
        if p.get("p_reported"):
            parts.append(_p_words(p["p_reported"]))
        if p.get("i2") is not None:
            parts.append(f"I² = {_fmt(p['i2'], 0)}%")
        if p.get("het_p_reported"):
            parts.append("het. " + _p_words(p["het_p_reported"]))
        if p.get("k") is not None:
            parts.append(f"k = {p['k']}")
        printed[p["result_id"]] = {"printed": "; ".join(parts), "outcome": p["outcome"],
                                   "analysis": p["analysis"], "subgroup": p.get("subgroup"),
                                   "where": r.where}
    return {
        "audit": {"results": audit_results(published), "trials": trials},
        "audit_details": {
            "results": printed, "trials": screened, "check_names": CHECK_NAMES,
            "not_screened": [s["label"] for s in labels if s["study_id"] not in done],
        },
    }


def audit_package(package: Path | str) -> dict[str, Any]:
    """Validate ``package`` and audit it: ``{"results": [...], "trials": [...]}``.

    One read of the package: the validator's typed tables, kept in memory, are the ones audited
    (:func:`~mscreview.pipeline.database.load_valid`). Nothing is written anywhere.
    """
    from mscreview.pipeline.database import load_valid

    with load_valid(package) as loaded:
        full = audit_context(loaded.con)
    return {**full["audit"], "_details": full["audit_details"]}


def format_audit(result: dict[str, Any], fmt: str) -> str:
    """Render an audit as JSON (exactly ``{"results", "trials"}``) or as text for people."""
    core = {"results": result["results"], "trials": result["trials"]}
    if fmt == "json":
        return json.dumps(core, indent=2, ensure_ascii=False)
    details = result.get("_details", {})
    lines = []
    flagged = [r for r in result["results"] if r["flags"]]
    lines.append(f"Published results: {len(result['results'])} audited, {len(flagged)} flagged")
    for r in result["results"]:
        k = r["implied_k"]
        k_text = "" if k is None else (f"  implied k {k[0]}" if k[0] == k[1] else
                                       f"  implied k {k[0]}+" if k[1] is None else
                                       f"  implied k {k[0]}-{k[1]}")
        if r["flags"] or k is not None:
            lines.append(f"  {r['result_id']}{k_text}")
        for f in r["flags"]:
            lines.append(f"    [{f['check']}] {f['message']}")
    screened = {t["study_id"]: t for t in details.get("trials", [])}
    lines.append("")
    lines.append(f"Trials: {len(result['trials'])} screened, "
                 f"{sum(1 for t in result['trials'] if t['flags'])} with concerns")
    for t in result["trials"]:
        excluded = screened.get(t["study_id"], {}).get("included") is False
        lines.append(f"  {t['study_id']}" + ("  (not in the review)" if excluded else ""))
        for c in screened.get(t["study_id"], {}).get("checked", []):
            lines.append(f"    checked: {c}")
        for f in t["flags"]:
            lines.append(f"    [{f['check']}] {f['message']}")
    if details.get("not_screened"):
        lines.append("  no data to screen: " + ", ".join(details["not_screened"]))
    return "\n".join(lines)
