"""GRADE summary of findings: the rules file, each domain on worked examples, overrides, and a
12-trial synthetic package where every main outcome gets a certainty level with its footnotes.

Worked examples follow GRADE guidelines 6 (imprecision: Guyatt 2011, J Clin Epidemiol 64:1283)
and 7 (inconsistency), and the GRADE Handbook 5.2 for absolute effects; the numbers are in the
comments.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from mscreview import stats
from mscreview.errors import InputError
from mscreview.pipeline import certainty as cert
from mscreview.pipeline.certainty import MAIN_OUTCOMES, RULES_PATH, load_rules

RULES = load_rules()


def _row(sid: str, effect: float, lo: float, hi: float, weight: float, **arms: Any
         ) -> dict[str, Any]:
    return {"study_id": sid, "label": sid.title(), "effect": effect, "ci_low": lo,
            "ci_high": hi, "weight": weight, "exp": arms.get("exp", {}),
            "ctl": arms.get("ctl", {})}


def _analysis(measure: str, est: float, lo: float, hi: float, rows: list[dict[str, Any]],
              outcome: str = "death", **total: Any) -> dict[str, Any]:
    t = {"k": len(rows), "estimate": est, "ci_low": lo, "ci_high": hi, "n_exp": 500,
         "n_ctl": 500, "i2": 0.0, "q_p": 0.9, "tau2": 0.0, "pi_low": None, "pi_high": None}
    t.update(total)
    return {"id": "x", "outcome": outcome, "outcome_label": outcome, "measure": measure,
            "rows": rows, "total": t, "status": "pooled", "favours": ["Favours MSC", "x"],
            "data_kind": "dichotomous" if measure in ("RR", "OR") else "continuous"}


def _mid(measure: str, outcome: str = "death") -> tuple[float, float] | None:
    return cert._mid(RULES, outcome, measure)[0]


# ------------------------------------------------------------------------------ the rules


def test_every_rule_has_a_source_and_every_continuous_outcome_a_mid() -> None:
    assert all(RULES.sources[k] for k in RULES.values)
    for outcome in ("MELD", "ALB", "TBIL", "ALT", "AST", "INR"):
        assert RULES.get("mid_MD", outcome) is not None
        src = RULES.source("mid_MD", outcome)
        assert "assumption" in src.lower() or "(" in src  # cited, or said to be an assumption
    assert RULES.get("mid_RR") == 0.25 and RULES.get("egger_min_k") == 10


@pytest.mark.parametrize(("line", "column", "message"), [
    ("*,no_such_rule,1,x", "rule", "unknown rule"),
    ("MELD,i2_serious,fifty,x", "value", "not a valid i2_serious"),
    ("MELD,i2_serious,50,", "source", "needs its source"),
    ("*,start_level,4,again", "rule", "already given"),
])
def test_bad_rules_name_file_line_and_column(tmp_path: Path, line: str, column: str,
                                             message: str) -> None:
    text = RULES_PATH.read_text(encoding="utf-8").rstrip("\n") + "\n" + line + "\n"
    bad = tmp_path / "rules.csv"
    bad.write_text(text, encoding="utf-8")
    n = text.count("\n")
    with pytest.raises(InputError, match=rf"rules.csv, line {n}, column '{column}': .*{message}"):
        load_rules(bad)


# ------------------------------------------------------------------------------ imprecision


def test_imprecision_ci_includes_no_effect_and_appreciable_benefit_is_serious() -> None:
    # RR 0.80 (0.60 to 1.10): includes 1 and RR 0.75 (25% reduction) -> serious
    a = _analysis("RR", 0.8, 0.6, 1.1, [_row("a", 0.8, 0.6, 1.1, 100)])
    d = cert._imprecision(a, RULES, _mid("RR"), "", acr=None)
    assert d["judgement"] == "serious" and "not assessable" in d["footnote"]


def test_imprecision_ci_includes_benefit_and_harm_is_very_serious() -> None:
    # RR 0.90 (0.60 to 1.40): includes both 0.75 and 1.25 -> very serious
    a = _analysis("RR", 0.9, 0.6, 1.4, [_row("a", 0.9, 0.6, 1.4, 100)])
    assert cert._imprecision(a, RULES, _mid("RR"), "", acr=None)["judgement"] == "very_serious"


def test_imprecision_narrow_ci_but_optimal_information_size_not_met_is_serious() -> None:
    # RR 0.50 (0.40 to 0.62), 1,000 participants, control risk 20%: OIS for RRR 25%, alpha 0.05,
    # beta 0.20 = 4 (1.95996 + 0.84162)^2 0.175 x 0.825 / 0.05^2 = 1,813 -> not met -> serious
    a = _analysis("RR", 0.5, 0.4, 0.62, [_row("a", 0.5, 0.4, 0.62, 100)])
    ois = stats.information_size_dichotomous(0.2, 0.25, alpha=0.05, beta=0.2).ris
    assert ois == pytest.approx(4 * (1.959964 + 0.841621) ** 2 * 0.175 * 0.825 / 0.0025,
                                rel=1e-5)
    d = cert._imprecision(a, RULES, _mid("RR"), "", acr=0.2)
    assert d["judgement"] == "serious" and f"{ois:.0f} (not met)" in d["footnote"]
    a["total"].update(n_exp=1000, n_ctl=1000)
    assert cert._imprecision(a, RULES, _mid("RR"), "", acr=0.2)["judgement"] == "not_serious"


def test_imprecision_of_a_mean_difference_uses_the_mid_and_the_control_sd() -> None:
    # MELD MD -1.0 (-2.5 to 0.5), MID 2 points: includes 0 and -2 -> serious;
    # OIS = 4 (1.95996 + 0.84162)^2 x 4^2 / 2^2 = 125.6 with the control SD 4
    rows = [_row("a", -1, -2.5, 0.5, 100, ctl={"sd": 4.0, "n": 20, "mean": 15})]
    a = _analysis("MD", -1.0, -2.5, 0.5, rows, outcome="MELD", n_exp=30, n_ctl=30)
    d = cert._imprecision(a, RULES, _mid("MD", "MELD"), "2", acr=None)
    assert d["judgement"] == "serious" and "optimal information size of 126 (not met)" in \
        d["footnote"]


# ------------------------------------------------------------------------------ inconsistency


def test_inconsistency() -> None:
    rows = [_row("a", 0.5, 0.3, 0.8, 50), _row("b", 1.4, 1.0, 2.0, 50)]
    a = _analysis("RR", 0.8, 0.4, 1.6, rows, i2=60.0, q_p=0.01)
    assert cert._inconsistency(a, RULES, _mid("RR"))["judgement"] == "serious"
    a["total"].update(i2=80.0)  # considerable, with estimates on both sides of 1
    assert cert._inconsistency(a, RULES, _mid("RR"))["judgement"] == "very_serious"
    a["total"].update(i2=60.0, q_p=0.2)  # I2 alone, Q not significant, PI not given
    assert cert._inconsistency(a, RULES, _mid("RR"))["judgement"] == "not_serious"
    a["total"].update(tau2=0.1, pi_low=0.3, pi_high=2.2)  # PI spans 0.75 and 1.25
    d = cert._inconsistency(a, RULES, _mid("RR"))
    assert d["judgement"] == "serious" and "both directions" in d["footnote"]
    single = _analysis("RR", 0.5, 0.3, 0.8, rows[:1])
    assert cert._inconsistency(single, RULES, _mid("RR"))["judgement"] == "not_applicable"


# ------------------------------------------------------------------------------ risk of bias


def _rob(judgements: dict[str, dict[str, str | None]], assessor: str = "mscreview"
         ) -> list[dict[str, Any]]:
    return [{"assessor_id": assessor, "studies": [
        {"study_id": sid, "judgements": j} for sid, j in judgements.items()]}]


LOW = {"random_sequence_generation": "low", "allocation_concealment": "low",
       "incomplete_outcome_data": "low"}


def test_risk_of_bias_weights_and_not_assessed_counts_as_unclear() -> None:
    rows = [_row("a", 0.5, 0.3, 0.8, 60), _row("b", 0.6, 0.3, 1.1, 40)]
    a = _analysis("RR", 0.55, 0.4, 0.8, rows)
    rob = _rob({"a": {**LOW, "allocation_concealment": None}, "b": LOW})
    d = cert._risk_of_bias(a, RULES, rob, {}, {})
    assert d["judgement"] == "serious"  # 60% of the weight not assessed in a key domain
    assert "Not assessed in a key domain (counted as unclear): A" in d["footnote"]
    rob = _rob({"a": LOW, "b": {**LOW, "random_sequence_generation": "high"}})
    assert cert._risk_of_bias(a, RULES, rob, {}, {})["judgement"] == "not_serious"  # 40%
    rob = _rob({"a": {**LOW, "random_sequence_generation": "high"}, "b": LOW})
    assert cert._risk_of_bias(a, RULES, rob, {}, {})["judgement"] == "very_serious"  # 60% high


def test_ours_win_over_the_seeds_and_audit_flags_are_concerns() -> None:
    rows = [_row("a", 0.5, 0.3, 0.8, 100)]
    a = _analysis("RR", 0.5, 0.3, 0.8, rows)
    rob = _rob({"a": {**LOW, "random_sequence_generation": "high"}}, "seed") + _rob({"a": LOW})
    d = cert._risk_of_bias(a, RULES, rob, {}, {"a": ["GRIM: impossible mean"]})
    assert d["judgement"] == "not_serious"
    assert "concern, not a reason to exclude" in d["footnote"] and "GRIM" in d["footnote"]
    assert cert._audit({"audit": {"trials": [{"study_id": "a", "flags": ["GRIM"]}]}}) == \
        {"a": ["GRIM"]}


# ------------------------------------------------------------------------------ indirectness


def test_indirectness_from_population_cells_and_cointervention() -> None:
    rows = [_row("a", 0.5, 0.3, 0.8, 70), _row("b", 0.6, 0.3, 1.1, 30)]
    a = _analysis("RR", 0.55, 0.4, 0.8, rows)
    studies = {"a": {"population": "liver_failure", "cell_type": "BM-MSC"},
               "b": {"population": "cirrhosis", "cell_type": "BM-MSC"}}
    d = cert._indirectness(a, RULES, studies, {})
    assert d["judgement"] == "serious" and "liver failure rather than cirrhosis" in d["footnote"]
    studies["a"]["population"] = "cirrhosis"
    d = cert._indirectness(a, RULES, studies, {"b": ["G-CSF"]})
    assert d["judgement"] == "not_serious" and "co-intervention G-CSF" in d["footnote"]


def test_publication_bias_not_assessable_below_ten_trials() -> None:
    rows = [_row(f"s{i}", 0.5, 0.3, 0.8, 10) for i in range(9)]
    d = cert._publication_bias(_analysis("RR", 0.5, 0.4, 0.6, rows), RULES)
    assert d["judgement"] == "not_assessable" and d["downgrade"] == 0


# ------------------------------------------------------------------------------ the package


def _results(build: Path) -> dict[str, Any]:
    return json.loads((build / "results.json").read_text(encoding="utf-8"))


def test_synthetic_package_every_main_outcome_has_certainty_and_footnotes(
        synthetic_trials_build: Path) -> None:
    summary = _results(synthetic_trials_build)["summary"]
    assert [s["outcome"] for s in summary] == MAIN_OUTCOMES
    for s in summary:
        c = s["certainty"]
        assert s["status"] == "pooled" and s["k"] >= 10
        assert c["label"] in ("High", "Moderate", "Low", "Very low") and c["draft"]
        assert [f["domain"] for f in c["footnotes"]] == [d for d, _ in cert.DOMAINS]
        assert all(f["text"] for f in c["footnotes"])
        assert c["score"] == max(1, 4 - sum(d["downgrade"] for d in c["domains"]))
        if s["measure"] == "RR":
            ab = s["absolute"]
            assert ab["intervention_per_1000"] == pytest.approx(
                ab["control_per_1000"] * s["estimate"])
    html = (synthetic_trials_build / "index.html").read_text(encoding="utf-8")
    section = html.split('id="summary"')[1].split("</section>")[0]
    assert "automated draft" in section and section.count('class="grade grade-') == 8


def test_absolute_effect_uses_the_median_control_risk() -> None:
    rows = [_row(s, 0.5, 0.3, 0.8, 33, ctl={"events": e, "n": 100})
            for s, e in (("a", 10), ("b", 20), ("c", 40))]
    a = _analysis("RR", 0.5, 0.25, 1.0, rows)
    acr = cert._acr(a)
    assert acr == 0.2
    ab = cert._absolute(a, acr)
    assert ab is not None
    assert (ab["control_per_1000"], ab["intervention_per_1000"]) == pytest.approx((200, 100))
    assert (ab["difference_low"], ab["difference_high"]) == pytest.approx((-150, 0))
    assert math.isclose(ab["difference"], -100)


def test_overrides_replace_the_draft_with_the_reason(synthetic_trials_package: Path) -> None:
    import duckdb

    from mscreview.pipeline.build import build

    data = synthetic_trials_package.parent / "data" / "certainty_overrides.csv"
    data.write_text("outcome,domain,judgement,reason,assessor,date\n"
                    "MELD,overall,high,Synthetic: reviewed by hand,AB,2026-01-02\n"
                    "MELD,risk_of_bias,not_serious,Synthetic: sensitivity analysis agrees,AB,\n",
                    encoding="utf-8")
    out = synthetic_trials_package.parent / "reports"
    build(synthetic_trials_package, out, quiet=True)
    meld = next(s for s in _results(out)["summary"] if s["outcome"] == "MELD")
    c = meld["certainty"]
    assert c["level"] == "high" and c["overridden"] and not c["draft"]
    assert "reviewed by hand" in c["override_note"]
    rob = c["domains"][0]
    assert rob["source"] == "override" and "sensitivity analysis agrees" in rob["footnote"]
    con = duckdb.connect(str(out / "mscreview.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM certainty_overrides").fetchone() == (2,)
    finally:
        con.close()


def test_shipped_package_says_what_is_missing(tmp_path: Path) -> None:
    import shutil

    from mscreview.pipeline.build import build

    root = Path(__file__).resolve().parents[2]
    shutil.copy(root / "datapackage.json", tmp_path / "datapackage.json")
    shutil.copytree(root / "schemas", tmp_path / "schemas")
    shutil.copytree(root / "data", tmp_path / "data")
    build(tmp_path / "datapackage.json", tmp_path / "reports", quiet=True)
    summary = _results(tmp_path / "reports")["summary"]
    assert summary
    for s in summary:
        if s["status"] == "no_data":
            assert s["certainty"] is None and "missing" in s["missing_text"]
        if s["status"] == "single_study":
            assert s["status_label"] == "1 trial \u2014 not pooled"


@pytest.mark.parametrize(("row", "field"), [
    ("MELD,imprecision,high,x,AB,", "judgement"),
    ("MELD,overall,serious,x,AB,", "judgement"),
    ("GGT,overall,low,x,AB,", "outcome"),
])
def test_an_override_that_does_not_fit_is_an_error(tmp_path: Path, row: str, field: str) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE certainty_overrides (outcome VARCHAR, domain VARCHAR, "
                "judgement VARCHAR, reason VARCHAR, assessor VARCHAR, date DATE)")
    values = row.split(",")
    con.execute("INSERT INTO certainty_overrides VALUES (?, ?, ?, ?, ?, NULL)", values[:5])
    with pytest.raises(InputError, match=rf"certainty_overrides.csv, row .*field '{field}'"):
        cert._overrides(con)
