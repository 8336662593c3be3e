"""The engine against R metafor (tests/reference/metafor_reference.json, written by the R script
beside it; R and metafor versions and the exact calls are recorded there).

Tolerance: 1e-9 relative for closed-form results (IV fixed, DL, MH, Peto, HKSJ, effect sizes).
Iterative estimators (REML, PM, Q-profile) are compared at 1e-7 relative: metafor stops when the
change in tau^2 is below its threshold (1e-10 absolute in the script) or at uniroot's tolerance
(1e-12), so its last digits depend on where its iteration stopped, not on the estimator.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from mscreview.stats import (
    analyse_subgroups,
    continuous_effects,
    cumulative,
    dichotomous_effects,
    egger_test,
    leave_one_out,
    pool,
    pool_mh,
    pool_peto,
    pool_yi_vi,
)
from mscreview.stats.results import EffectSet

REF = json.loads((Path(__file__).parents[1] / "reference" / "metafor_reference.json").read_text())
CASES = REF["cases"]
CLOSED = 1e-9
ITERATIVE = 1e-7


def close(actual: float, expected: float, rtol: float = CLOSED) -> None:
    assert actual == pytest.approx(expected, rel=rtol, abs=1e-14)


def normand(measure: str) -> EffectSet:
    d = CASES["normand_md_fe"]["data"]
    return continuous_effects(
        d["n1i"], d["m1i"], d["sd1i"], d["n2i"], d["m2i"], d["sd2i"], measure=measure,
        study=d["source"],
    )


def bcg(measure: str, **kw: object) -> EffectSet:
    d = CASES["bcg_rr_dl"]["data"]
    return dichotomous_effects(
        d["events1"], d["n1"], d["events2"], d["n2"], measure=measure, study=d["author"], **kw
    )


def check(res, exp, rtol=CLOSED, ratio=False):  # type: ignore[no-untyped-def]
    theta = np.log(res.estimate) if ratio else res.estimate
    close(theta, exp["estimate"], rtol)
    close(res.se, exp["se"], rtol)
    close(res.z, exp["z"], rtol)
    close(res.p, exp["p"], rtol)
    close(res.q, exp["q"], CLOSED)
    assert res.q_df == exp["q_df"]
    close(res.q_p, exp["q_p"], CLOSED)
    close(res.i2, exp["i2_revman"], CLOSED)
    lo, hi = (np.log(res.ci_low), np.log(res.ci_high)) if ratio else (res.ci_low, res.ci_high)
    close(lo, exp["ci_low"], rtol)
    close(hi, exp["ci_high"], rtol)
    if res.model == "random":
        close(res.tau2, exp["tau2"], rtol)
        plo, phi = (np.log(res.pi_low), np.log(res.pi_high)) if ratio else (res.pi_low, res.pi_high)
        close(plo, exp["pi_low"], rtol)
        close(phi, exp["pi_high"], rtol)


def test_reference_file_records_versions_and_calls() -> None:
    assert REF["metafor_version"] and REF["r_version"].startswith("R version")
    assert all(case["calls"] and case["data"] for case in CASES.values())


def test_md_effects_and_fixed() -> None:
    eff = normand("MD")
    exp = CASES["normand_md_fe"]["expected"]
    np.testing.assert_allclose(eff.yi, exp["yi"], rtol=CLOSED)
    np.testing.assert_allclose(eff.vi, exp["vi"], rtol=CLOSED)
    check(pool(eff, model="fixed"), exp)


def test_md_dl_with_weights() -> None:
    res = pool(normand("MD"), model="random", tau2_method="DL")
    exp = CASES["normand_md_dl"]["expected"]
    check(res, exp)
    np.testing.assert_allclose([s.weight for s in res.studies], exp["weights"], rtol=CLOSED)


def test_md_reml() -> None:
    res = pool(normand("MD"), model="random", tau2_method="REML")
    assert res.converged is True
    check(res, CASES["normand_md_reml"]["expected"], rtol=ITERATIVE)


def test_smd_exact_is_metafor_hedges_g() -> None:
    eff = normand("SMD_EXACT")
    exp = CASES["normand_smd_exact_dl"]["expected"]
    np.testing.assert_allclose(eff.yi, exp["yi"], rtol=CLOSED)
    np.testing.assert_allclose(eff.vi, exp["vi"], rtol=CLOSED)
    check(pool(eff), exp)


def test_smd_revman_differs_from_metafor_in_4th_decimal() -> None:
    exact = CASES["normand_smd_exact_dl"]["expected"]["yi"]
    revman = normand("SMD").yi
    diff = np.abs(revman - np.array(exact))
    assert diff.max() < 1e-2 and diff.max() > 1e-6


def test_leave_one_out() -> None:
    exp = CASES["normand_md_dl_leave1out"]["expected"]
    out = leave_one_out(normand("MD"), partial(pool, model="random"))
    np.testing.assert_allclose([r.estimate for _, r in out], exp["estimate"], rtol=CLOSED)
    np.testing.assert_allclose([r.se for _, r in out], exp["se"], rtol=CLOSED)
    np.testing.assert_allclose([r.tau2 for _, r in out], exp["tau2"], rtol=CLOSED, atol=1e-14)
    np.testing.assert_allclose([r.q for _, r in out], exp["q"], rtol=CLOSED)


@pytest.mark.parametrize("case,model,method,rtol", [
    ("bcg_rr_fe", "fixed", "DL", CLOSED),
    ("bcg_rr_dl", "random", "DL", CLOSED),
    ("bcg_rr_reml", "random", "REML", ITERATIVE),
    ("bcg_rr_pm", "random", "PM", ITERATIVE),
])
def test_bcg_rr_inverse_variance(case: str, model: str, method: str, rtol: float) -> None:
    eff = bcg("RR")
    if case == "bcg_rr_dl":
        np.testing.assert_allclose(eff.yi, CASES[case]["expected"]["yi"], rtol=CLOSED)
        np.testing.assert_allclose(eff.vi, CASES[case]["expected"]["vi"], rtol=CLOSED)
    res = pool(eff, model=model, tau2_method=method)
    check(res, CASES[case]["expected"], rtol=rtol, ratio=True)


def test_q_profile_ci() -> None:
    exp = CASES["bcg_rr_reml"]["expected"]
    res = pool(bcg("RR"), model="random", tau2_method="REML", tau2_ci=True)
    assert res.tau2_ci is not None and res.i2_ci is not None
    close(res.tau2_ci[0], exp["tau2_ci_low"], ITERATIVE)
    close(res.tau2_ci[1], exp["tau2_ci_high"], ITERATIVE)
    close(res.i2_ci[0], exp["i2_ci_low"], ITERATIVE)
    close(res.i2_ci[1], exp["i2_ci_high"], ITERATIVE)


@pytest.mark.parametrize("measure", ["RR", "OR"])
def test_mantel_haenszel(measure: str) -> None:
    exp = CASES[f"bcg_{measure.lower()}_mh"]["expected"]
    res = pool_mh(bcg(measure), model="fixed")
    close(np.log(res.estimate), exp["estimate"])
    close(res.se, exp["se"])
    close(res.z, exp["z"])
    close(res.p, exp["p"])
    close(res.q, exp["q"])
    close(res.q_p, exp["q_p"])
    close(res.i2, exp["i2"])


def test_peto() -> None:
    exp = CASES["bcg_or_peto"]["expected"]
    res = pool_peto(bcg("PETO"))
    close(np.log(res.estimate), exp["estimate"])
    close(res.se, exp["se"])
    close(res.z, exp["z"])
    close(res.q, exp["q"])
    close(res.q_p, exp["q_p"])
    close(res.i2, exp["i2"])


def test_subgroups_and_test_for_differences() -> None:
    case = CASES["bcg_rr_dl_subgroups_alloc"]
    eff = bcg("RR")
    assert eff.k == len(case["data"]["alloc"])  # no study excluded: labels align
    sa = analyse_subgroups(eff, case["data"]["alloc"], partial(pool, model="random"))
    assert list(sa.names) == case["expected"]["names"]
    for res, exp in zip(sa.subgroups, case["expected"]["subgroups"], strict=True):
        assert res.k == exp["k"]
        close(np.log(res.estimate), exp["estimate"])
        close(res.se, exp["se"])
        close(res.tau2, exp["tau2"])
        close(res.q, exp["q"])
    t = case["expected"]["test"]
    close(sa.test.q, t["q"])
    assert sa.test.df == t["df"]
    close(sa.test.p, t["p"])
    close(sa.test.i2, t["i2"])


def test_egger() -> None:
    exp = CASES["bcg_rr_egger"]["expected"]
    res = egger_test(bcg("RR"))
    close(res.t, exp["t"])
    close(res.p, exp["p"])
    assert res.df == exp["df"]
    close(res.intercept, exp["intercept_egger"])


def test_cumulative_by_year() -> None:
    exp = CASES["bcg_rr_dl_cumulative_year"]["expected"]
    out = cumulative(bcg("RR"), partial(pool, model="random"), CASES["bcg_rr_dl"]["data"]["year"])
    np.testing.assert_allclose([np.log(r.estimate) for _, r in out], exp["estimate"], rtol=CLOSED)
    # metafor reports se and tau2 of the first step (k = 1) as its own; we agree from k = 2 on.
    np.testing.assert_allclose([r.se for _, r in out], exp["se"], rtol=CLOSED)
    np.testing.assert_allclose([r.tau2 for _, r in out][1:], exp["tau2"][1:], rtol=CLOSED,
                               atol=1e-14)


@pytest.mark.parametrize("case,method,rtol", [
    ("raudenbush_dl_hksj", "DL", CLOSED),
    ("raudenbush_reml_hksj", "REML", ITERATIVE),
])
def test_hksj(case: str, method: str, rtol: float) -> None:
    d, exp = CASES[case]["data"], CASES[case]["expected"]
    res = pool_yi_vi(d["yi"], d["vi"], model="random", tau2_method=method, hksj=True)
    assert res.test_df == exp["test_df"]
    check(res, exp, rtol=rtol)


def test_prediction_interval() -> None:
    d, exp = CASES["raudenbush_dl"]["data"], CASES["raudenbush_dl"]["expected"]
    res = pool_yi_vi(d["yi"], d["vi"], model="random")
    check(res, exp)


@pytest.mark.parametrize("measure", ["RR", "OR", "RD"])
def test_zero_cell_rule(measure: str) -> None:
    case = CASES[f"zero_cells_{measure.lower()}"]
    d = case["data"]
    eff = dichotomous_effects(d["events1"], d["n1"], d["events2"], d["n2"], measure=measure,
                              study=d["study"])
    exp_yi = [y for y in case["expected"]["yi"] if y is not None]
    exp_vi = [v for v in case["expected"]["vi"] if v is not None]
    np.testing.assert_allclose(eff.yi, exp_yi, rtol=CLOSED)
    np.testing.assert_allclose(eff.vi, exp_vi, rtol=CLOSED)
    if measure == "RD":
        assert eff.k == 5 and not eff.excluded
    else:
        assert [e.study for e in eff.excluded] == ["C"]
