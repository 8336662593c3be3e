"""The ``audit`` verb: published-result checks, trial screening, the CLI and the shipped package.

The synthetic rows here are test fixtures, not evidence; the last tests run on the shipped
package and pin the seed review's known inconsistencies.
"""

from __future__ import annotations

import csv
import json
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mscreview.cli import cli
from mscreview.errors import InputError
from mscreview.pipeline.audit import audit_results
from tests.conftest import FIXTURES, ROOT, make_package, tree_digest


def _row(result_id: str, estimate: float, lo: float, hi: float, p: str | None, *,
         outcome: str = "MELD", analysis: str = "overall", subgroup: str | None = None,
         measure: str = "MD", model: str = "random", i2: float | None = None,
         het_p: str | None = None, k: int | None = None, quote: str = "") -> dict[str, Any]:
    return {"result_id": result_id, "outcome": outcome, "analysis": analysis,
            "subgroup": subgroup, "measure": measure, "model": model, "estimate": estimate,
            "ci_low": lo, "ci_high": hi, "p_reported": p, "i2": i2, "het_p_reported": het_p,
            "k": k, "figure": "Fig. 1", "locator": f"Results, {result_id}", "quote": quote}


def _checks(results: list[dict[str, Any]], rid: str) -> list[str]:
    return [f["check"] for f in next(r for r in results if r["result_id"] == rid)["flags"]]


# --------------------------------------------------------------------------- published results


def test_consistent_results_raise_no_flag_and_report_implied_k() -> None:
    rows = [_row("meld-overall", -1.12, -1.84, -0.40, "0.002", i2=45, het_p="0.09", k=7)]
    out = audit_results(rows)
    assert out == [{"result_id": "meld-overall", "implied_k": [7, 7], "flags": []}]


def test_printed_k_outside_the_implied_set_is_flagged() -> None:
    out = audit_results([_row("meld-overall", -1.12, -1.84, -0.40, "0.002", i2=45, het_p="0.09",
                              k=6)])
    (flag,) = out[0]["flags"]
    assert flag["check"] == "k"
    assert "k = 6" in flag["message"] and "only k = 7" in flag["message"]
    assert "Results, meld-overall" in flag["message"]  # the locator


def test_sign_error_is_named() -> None:
    out = audit_results([_row("x", -0.27, -0.59, -0.05, "0.10", measure="SMD",
                              quote="(SMD: -0.27 ; 95% CI [-0.59, -0.05]; p=0.10)")])
    checks = _checks(out, "x")
    assert checks == ["ci_symmetry", "p_value"]
    message = out[0]["flags"][1]["message"]
    assert "p = 0.050" in message and "0.042 to 0.059" in message
    assert "the CI excludes 0 while p >= 0.05" in message
    assert "agrees if the upper limit is 0.05, not -0.05 (a sign error)" in message


def test_estimate_outside_its_ci() -> None:
    out = audit_results([_row("x", -0.02, -0.30, -0.26, "0.89", measure="SMD")])
    assert _checks(out, "x") == ["ci_contains_estimate", "p_value"]
    assert "upper limit is 0.26, not -0.26" in out[0]["flags"][0]["message"]


def test_printed_precision_comes_from_the_quote() -> None:
    """0.0 stored for a printed 0.00: the quote's two decimals make the interval [-0.005, 0.005]
    (the stored float alone would give [-0.05, 0.05], which is never narrower)."""
    row = _row("x", -0.22, -0.45, 0.0, "0.05", measure="SMD",
               quote="2 weeks (SMD = -0.22 ; 95% CI [-0.45, 0.00]; p = 0.05)")
    assert audit_results([row])[0]["flags"] == []


def test_heterogeneity_that_fits_no_k() -> None:
    out = audit_results([_row("x", 0.5, 0.1, 0.9, "0.01", i2=0, het_p="0.01")])
    assert out[0]["implied_k"] is None
    assert _checks(out, "x") == ["heterogeneity"]


def test_unbounded_implied_k_is_null_above() -> None:
    out = audit_results([_row("x", 0.5, 0.1, 0.9, "0.01", i2=90, het_p="<0.00001")])
    assert out[0]["implied_k"] == [4, None]


def test_subgroups_needing_more_studies_than_the_total() -> None:
    """The seed's ALB route analysis: hepatic artery I² 5%, p 0.37 (k >= 4) and intravenous
    I² 90%, p < 0.00001 (k >= 4) cannot split a total of 7 studies."""
    rows = [
        _row("alb-overall", 0.5, 0.02, 0.97, "0.04", outcome="ALB", measure="SMD", i2=79,
             het_p="<0.0001", k=7),
        _row("alb-route", 0.5, 0.02, 0.97, "0.04", outcome="ALB", analysis="route",
             measure="SMD", i2=79, het_p="<0.0001"),
        _row("alb-route-ha", 0.51, 0.24, 0.79, "0.0003", outcome="ALB", analysis="route",
             subgroup="hepatic artery", measure="SMD", i2=5, het_p="0.37"),
        _row("alb-route-iv", 0.61, -0.51, 1.73, "0.28", outcome="ALB", analysis="route",
             subgroup="intravenous", measure="SMD", i2=90, het_p="<0.00001"),
    ]
    out = audit_results(rows)
    assert _checks(out, "alb-route") == ["subgroups"]
    message = out[1]["flags"][0]["message"]
    assert "at least 8 studies" in message and "identical to alb-overall" in message
    assert _checks(out, "alb-overall") == []
    # with k = 8 in the overall analysis nothing is flagged
    rows[0]["k"] = 8
    assert _checks(audit_results(rows), "alb-route") == []


def test_subgroups_without_a_total_are_held_to_the_overall_k() -> None:
    rows = [
        _row("alb-overall", 0.5, 0.02, 0.97, "0.04", outcome="ALB", measure="SMD", k=7),
        _row("alb-etiology-ac", 0.34, -0.12, 0.80, "0.15", outcome="ALB", analysis="etiology",
             subgroup="AC", measure="SMD", i2=0, het_p="0.44"),
        _row("alb-etiology-hbv", 0.55, -0.08, 1.18, "0.09", outcome="ALB", analysis="etiology",
             subgroup="HBV-HCV", measure="SMD", i2=84, het_p="<0.00001"),
    ]
    out = audit_results(rows)
    assert _checks(out, "alb-etiology-ac") == ["subgroups"]
    assert _checks(out, "alb-etiology-hbv") == ["subgroups"]


def test_time_subgroups_are_not_held_to_the_overall_k() -> None:
    rows = [
        _row("m-overall", -1.0, -2.0, 0.0, "0.05", k=3),
        _row("m-time-1", -0.5, -0.9, -0.1, "0.01", analysis="time", subgroup="1 month",
             measure="MD", i2=50, het_p="0.06"),
        _row("m-time-2", -0.5, -0.9, -0.1, "0.01", analysis="time", subgroup="2 months",
             measure="MD", i2=50, het_p="0.06"),
    ]
    assert all(not r["flags"] for r in audit_results(rows))


def test_total_differing_from_the_overall_and_mixed_measures() -> None:
    rows = [
        _row("alb-overall", 0.50, 0.02, 0.97, "0.04", outcome="ALB", measure="SMD"),
        _row("alb-dose", 0.52, -0.34, 1.38, "0.24", outcome="ALB", analysis="dose",
             measure="SMD"),
        _row("meld-overall", -1.12, -1.84, -0.40, "0.002"),
        _row("meld-route", -0.31, -0.58, -0.03, "0.03", analysis="route", measure="SMD"),
    ]
    out = audit_results(rows)
    assert _checks(out, "alb-dose") == ["totals"]
    assert _checks(out, "meld-route") == ["measure"]
    assert "as MD in the overall analysis" in out[3]["flags"][0]["message"]


def test_total_outside_every_subgroup_ci() -> None:
    rows = [
        _row("t", 2.0, 1.5, 2.5, "<0.00001", analysis="route"),
        _row("t-a", 0.1, -0.2, 0.4, "0.51", analysis="route", subgroup="a"),
        _row("t-b", 0.3, 0.0, 0.6, "0.05", analysis="route", subgroup="b"),
    ]
    assert _checks(audit_results(rows), "t") == ["subgroups"]


def test_unreadable_p_value_is_bad_input_naming_file_row_and_field() -> None:
    with pytest.raises(InputError, match=r"published_results\.csv: row result_id=x, field "
                                         r"p_reported"):
        audit_results([_row("x", 0.5, 0.1, 0.9, "NS")])


# --------------------------------------------------------------------------- trials and CLI


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    with path.open("a", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header, lineterminator="\n")
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in header})


def _cont(study: str, arm: str, outcome: str, mean: str, sd: str, n: int, tp: float = 0,
          unit: str = "none") -> dict[str, Any]:
    return {"study_id": study, "arm_id": arm, "outcome": outcome, "timepoint_weeks": tp,
            "timepoint_label": f"{tp} weeks", "value_type": "final", "n": n,
            "central_kind": "mean", "central": mean, "dispersion_kind": "sd", "dispersion": sd,
            "unit": unit, "status": "extracted",
            "source_id": "fixture-article" if study == "testa2020" else f"fixture-{study}",
            "locator": "Table 1", "quote": f"{mean} ± {sd}"}


def _study(data: Path, study: str, n_control: int, n_msc: int, **fields: str) -> None:
    """A synthetic two-arm study with its own source (``fixture-<study>``), not evidence."""
    source = f"fixture-{study}"
    _write(data / "sources.csv", [{"source_id": source, "study_id": study, "kind": "primary",
                                   "source_type": "article", "access": "full_text",
                                   "citation": "SYNTHETIC test fixture, not evidence."}])
    _write(data / "studies.csv", [{"study_id": study, "label": f"{study[:-4].title()} {study[-4:]}",
                                   "year": study[-4:], "title": "SYNTHETIC fixture trial",
                                   "journal": "None", "verification": "full_text",
                                   "source_id": source, "locator": "Table 1", **fields}])
    _write(data / "arms.csv", [
        {"study_id": study, "arm_id": arm, "role": role, "description": arm, "n_randomised": n,
         "status": "extracted", "source_id": source, "locator": "Table 1", "quote": "x"}
        for arm, role, n in (("control", "control", n_control), ("msc", "experimental", n_msc))])


@pytest.fixture
def screened_package(tmp_path: Path) -> Path:
    """The valid fixture plus a second synthetic trial and rows built to trip each check."""
    descriptor = make_package(tmp_path)
    data = tmp_path / "data"
    _study(data, "testb2021", 19, 19, design="rct", population="cirrhosis", included="true")
    rows = [
        # testa2020: strong albumin imbalance at baseline (t ~ 6.3, p ~ 2e-7)
        _cont("testa2020", "control", "ALB", "30.1", "3.0", 20, unit="g/L"),
        _cont("testa2020", "msc", "ALB", "36.2", "3.1", 20, unit="g/L"),
        # testb2021: MELD 15.0 ± 3.1 copied from testa2020's control arm; GRIM-impossible mean
        _cont("testb2021", "control", "MELD", "15.0", "3.1", 19),
        _cont("testb2021", "msc", "MELD", "13.03", "3.10", 19),
    ]
    _write(data / "continuous_outcomes.csv", rows)
    _write(data / "dichotomous_outcomes.csv", [{
        "study_id": "testb2021", "arm_id": "msc", "outcome": "ascites", "timepoint_weeks": 0,
        "timepoint_label": "baseline", "events": 3, "n": 19, "percent": "20",
        "status": "extracted", "source_id": "fixture-testb2021", "locator": "Table 1",
        "quote": "3 (20%)"}])
    _write(data / "published_results.csv", [
        {"result_id": "meld-overall", "outcome": "MELD", "analysis": "overall", "measure": "MD",
         "model": "random", "estimate": -1.12, "ci_low": -1.84, "ci_high": -0.4,
         "p_reported": "0.002", "i2": 45, "het_p_reported": "0.09", "k": 6,
         "source_id": "fixture-article", "locator": "Results, MELD",
         "quote": "WMD = -1.12; 95% CI = [-1.84, -0.40]; p = 0.002; I2 = 45%; p = 0.09"}])
    _sort_csvs(data)
    return descriptor


def _sort_key(row: dict[str, str], *, key: list[str], numeric: set[str]) -> tuple[Any, ...]:
    return tuple(float(row[k]) if k in numeric and row[k] else row[k] for k in key)


def _sort_csvs(data: Path) -> None:
    """Keep every CSV sorted by its primary key (a validation rule)."""
    schemas = data.parent / "schemas"
    for path in data.glob("*.csv"):
        schema = json.loads((schemas / f"{path.stem}.json").read_text(encoding="utf-8"))
        key = schema.get("primaryKey", [])
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header, rows = reader.fieldnames, list(reader)
        numeric = {f["name"] for f in schema["fields"] if f.get("type") in ("number", "integer")}
        rows.sort(key=partial(_sort_key, key=key, numeric=numeric))
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, header or [], lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)


def _audit(package: Path, fmt: str = "json") -> Any:
    result = CliRunner().invoke(cli, ["audit", "--package", str(package), "--format", fmt])
    assert result.exit_code == 0, result.output
    return json.loads(result.output) if fmt == "json" else result.output


def test_trials_screening_flags_each_check(screened_package: Path) -> None:
    before = tree_digest(screened_package.parent)
    out = _audit(screened_package)
    assert tree_digest(screened_package.parent) == before  # nothing written
    assert list(out) == ["results", "trials"]
    trials = {t["study_id"]: t for t in out["trials"]}
    assert set(trials) == {"testa2020", "testb2021"}
    a = {f["check"]: f for f in trials["testa2020"]["flags"]}
    b = {f["check"]: f for f in trials["testb2021"]["flags"]}
    assert set(a) == {"baseline_imbalance", "copied_values"}
    assert a["baseline_imbalance"]["p"] < 0.01
    assert "fixture-article, Table 1" in a["baseline_imbalance"]["message"]
    assert set(b) == {"grim", "copied_values", "percent"}
    assert "13.03" in b["grim"]["message"] and "n = 19" in b["grim"]["message"]
    assert "15.0 ± 3.1" in b["copied_values"]["message"]
    assert "Testa 2020" in b["copied_values"]["message"]
    assert "3/19" in b["percent"]["message"] and "15.79%" in b["percent"]["message"]
    assert all(set(f) == {"check", "message", "p"} for t in out["trials"] for f in t["flags"])
    assert b["grim"]["p"] is None
    (result,) = out["results"]
    assert set(result) == {"result_id", "implied_k", "flags"}
    assert result["implied_k"] == [7, 7] and result["flags"][0]["check"] == "k"
    assert all(set(f) == {"check", "message"} for f in result["flags"])


def test_text_format_lists_checks_and_flags(screened_package: Path) -> None:
    text = _audit(screened_package, "text")
    assert "Published results: 1 audited, 1 flagged" in text
    assert "meld-overall  implied k 7" in text and "[k] The text gives k = 6" in text
    assert "Trials: 2 screened, 2 with concerns" in text
    assert "checked: baseline balance (Carlisle): 2 variables" in text
    assert "[grim]" in text


@pytest.fixture
def copied_package(tmp_path: Path) -> Path:
    """Two synthetic reports whose age rows match to the digit from different numbers of patients
    (the shape of Salama 2014 / Salama 2010), the second one excluded from the review."""
    descriptor = make_package(tmp_path)
    data = tmp_path / "data"
    _study(data, "testc2010", 50, 90, design="unclear", population="unclear",
           included="false", exclusion_reason="not MSC")
    _write(data / "continuous_outcomes.csv", [
        _cont("testa2020", "control", "AGE", "50.9", "7.23", 20, unit="years"),
        _cont("testa2020", "msc", "AGE", "50.27", "6.05", 19, unit="years"),
        _cont("testc2010", "control", "AGE", "50.9", "7.23", 50, unit="years"),
        _cont("testc2010", "msc", "AGE", "50.27", "6.05", 90, unit="years"),
        _cont("testc2010", "control", "ALB", "30.1", "3.1", 50, unit="g/L"),  # no twin
    ])
    _sort_csvs(data)
    return descriptor


def test_copied_age_row_is_flagged_across_trials_and_reports(copied_package: Path) -> None:
    out = _audit(copied_package)
    trials = {t["study_id"]: t["flags"] for t in out["trials"]}
    (mine,) = trials["testa2020"]
    (theirs,) = trials["testc2010"]  # an excluded report is compared too
    assert mine["check"] == theirs["check"] == "copied_values" and mine["p"] is None
    assert mine["message"] == (
        "Baseline age 50.9 ± 7.23 years (arm control, n = 20) and 50.27 ± 6.05 years (arm msc, "
        "n = 19) (fixture-article, Table 1) are identical to the digit in Testc 2010 (arm "
        "control, n = 50; arm msc, n = 90; fixture-testc2010, Table 1); the whole row repeats, "
        "from different numbers of patients: copied baseline data or shared patients.")
    assert "Testa 2020 (arm control, n = 20; arm msc, n = 19; fixture-article" in theirs["message"]
    text = _audit(copied_package, "text")
    assert "testc2010  (not in the review)" in text
    assert "checked: copied baselines: AGE, MELD compared with every other trial's" in text
    assert "checked: copied baselines: AGE, ALB compared with every other trial's" in text


def test_one_identical_arm_is_flagged_without_calling_it_the_whole_row(
        copied_package: Path) -> None:
    path = copied_package.parent / "data" / "continuous_outcomes.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header, rows = reader.fieldnames or [], list(reader)
    for r in rows:
        if (r["study_id"], r["arm_id"], r["outcome"]) == ("testc2010", "msc", "AGE"):
            r.update(central="49.8", quote="49.8 ± 6.05")
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    flags = {t["study_id"]: t["flags"] for t in _audit(copied_package)["trials"]}
    (flag,) = flags["testa2020"]
    assert flag["message"].startswith("Baseline age 50.9 ± 7.23 years (arm control, n = 20) "
                                      "(fixture-article, Table 1) is identical to the digit in "
                                      "Testc 2010 (arm control, n = 50; ")
    assert "whole row" not in flag["message"]


def test_invalid_package_exits_1_and_writes_nothing(tmp_path: Path) -> None:
    descriptor = make_package(tmp_path)
    (tmp_path / "data" / "arms.csv").write_bytes(
        (FIXTURES / "defects" / "arms--n-analysed-exceeds-randomised.csv").read_bytes())
    before = tree_digest(tmp_path)
    result = CliRunner().invoke(cli, ["audit", "--package", str(descriptor)])
    assert result.exit_code == 1
    assert "arms" in result.output and "Traceback" not in result.output
    assert tree_digest(tmp_path) == before


def test_a_value_shared_by_many_trials_is_one_flag_per_trial(tmp_path: Path) -> None:
    """Six trials with the same age row: five flags each would be 30 (k squared); each trial
    gets one flag that counts the others and names the first few."""
    descriptor = make_package(tmp_path)
    data = tmp_path / "data"
    studies = [f"test{c}2020" for c in "bcdef"]
    for study in studies:
        _study(data, study, 20, 20, design="rct", population="cirrhosis", included="true")
    _write(data / "continuous_outcomes.csv", [
        _cont(study, arm, "AGE", "50", "10", 20, unit="years")
        for study in ["testa2020", *studies] for arm in ("control", "msc")])
    _sort_csvs(data)
    flags = {t["study_id"]: [f for f in t["flags"] if f["check"] == "copied_values"]
             for t in _audit(descriptor)["trials"]}
    assert sorted(flags) == sorted(["testa2020", *studies])
    (flag,) = flags["testa2020"]
    assert flag["message"] == (
        "Baseline age 50 ± 10 years (arm control, n = 20) and 50 ± 10 years (arm msc, n = 20) "
        "(fixture-article, Table 1) are identical to the digit in 5 other trials (Testb 2020, "
        "Testc 2020, Testd 2020 and 2 more, each flagged in turn): a value this common may be "
        "coincidence, copied baseline data or shared patients.")
    assert all(len(f) == 1 for f in flags.values())


def test_audit_reads_the_package_once_and_writes_no_temporary_file(
        screened_package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mscreview.validate as validate

    calls: list[str] = []
    real = validate.validate_package

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(str(args[0]))
        return real(*args, **kwargs)

    monkeypatch.setattr(validate, "validate_package", counted)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR
    _audit(screened_package)
    assert len(calls) == 1  # one validation, whose typed tables are the ones audited
    assert list(scratch.iterdir()) == []  # no database built in a temporary folder


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert CliRunner().invoke(cli, ["audit", "--format", "xml"]).exit_code == 2
    assert CliRunner().invoke(cli, ["audit", "--bogus"]).exit_code == 2


def test_results_json_audit_is_the_cli_json(synthetic_trials_build: Path) -> None:
    """The report context carries the audit in exactly the CLI's JSON shape."""
    results = json.loads((synthetic_trials_build / "results.json").read_text(encoding="utf-8"))
    cli_json = _audit(synthetic_trials_build.parent / "datapackage.json")
    assert results["audit"] == cli_json
    assert set(results["audit_details"]) == {"results", "trials", "not_screened", "check_names"}


# --------------------------------------------------------------------------- the shipped package


@pytest.fixture(scope="module")
def shipped() -> dict[str, Any]:
    return _audit(ROOT / "datapackage.json")  # type: ignore[no-any-return]


def test_shipped_package_known_seed_errors(shipped: dict[str, Any]) -> None:
    results = shipped["results"]
    text = (ROOT / "data" / "published_results.csv").read_text(encoding="utf-8")
    assert len(results) == len(list(csv.DictReader(text.splitlines())))
    assert "p_value" in _checks(results, "meld-time-2week")
    assert "ci_contains_estimate" in _checks(results, "tbil-time-1week")
    assert _checks(results, "meld-overall") == ["k"]
    meld = next(r for r in results if r["result_id"] == "meld-overall")
    assert meld["implied_k"] == [7, 7]


def test_shipped_package_flags_are_pinned(shipped: dict[str, Any]) -> None:
    """Every flag on the seed's published results (update deliberately when the data change)."""
    flagged = {r["result_id"]: sorted(f["check"] for f in r["flags"])
               for r in shipped["results"] if r["flags"]}
    assert flagged == {
        "alb-dose": ["totals"],
        "alb-etiology-ac": ["subgroups"],
        "alb-etiology-hbv-hcv": ["subgroups"],
        "alb-route": ["subgroups"],
        "alt-time": ["measure"],
        "ast-time": ["measure"],
        "meld-overall": ["k"],
        "meld-route": ["measure"],
        "meld-time": ["measure"],
        "meld-time-2week": ["ci_symmetry", "p_value"],
        "tbil-overall": ["k"],
        "tbil-time": ["measure"],
        "tbil-time-1week": ["ci_contains_estimate", "p_value"],
    }


def test_shipped_package_flags_the_salama_age_row(shipped: dict[str, Any]) -> None:
    """Salama 2014 (Table 1) and Salama 2010 (WJG 2010;16:5297, Table 1) print the same age row."""
    flags = {t["study_id"]: t["flags"] for t in shipped["trials"]}
    for study, other, n, where in (
            ("salama2014", "Salama 2010", "n = 50; arm msc, n = 90", "salama2010-tables, Table 1"),
            ("salama2010", "Salama 2014", "n = 20; arm msc, n = 20", "salama2014-table1, Table 1")):
        copied = [f["message"] for f in flags[study] if f["check"] == "copied_values"]
        assert len(copied) == 1, copied
        assert "50.9 ± 7.23 years" in copied[0] and "50.27 ± 6.05 years" in copied[0]
        assert f"in {other} (arm control, {n}; {where}" in copied[0]
        assert "the whole row repeats, from different numbers of patients" in copied[0]


def test_every_new_finding_is_a_discrepancy_row() -> None:
    """The audit's findings on the seed are recorded in data/discrepancies.csv."""
    text = (ROOT / "data" / "discrepancies.csv").read_text(encoding="utf-8")
    ids = {r["discrepancy_id"] for r in csv.DictReader(text.splitlines())}
    assert {"seed-meld-2weeks-ci", "seed-tbil-1week-ci", "seed-meld-overall-k",
            "seed-tbil-overall-k", "seed-alb-route-subgroup-k", "seed-alb-etiology-subgroup-k",
            "seed-alb-dose-total", "seed-md-smd-mixed", "salama2014-age-copied"} <= ids
