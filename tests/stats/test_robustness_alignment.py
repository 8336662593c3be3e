"""Influence, trim-and-fill, Egger and meta-regression against R metafor 3.8.

Reference values: tests/reference/robustness_reference.json (robustness_reference.R; versions
and the exact calls are recorded there).

Tolerances:
- closed-form quantities on DerSimonian-Laird or fixed-effect fits (influence diagnostics,
  trim-and-fill, Egger, DL meta-regression): 1e-9 relative;
- anything that depends on an iterated REML tau^2 (metafor stops when the change is below
  1e-12 in the script, we at 1e-12 too, from different starting values): 1e-7 relative.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mscreview.stats import (
    EffectSet,
    StatsError,
    egger_test,
    influence,
    meta_regression,
    meta_regression_predict,
    trim_and_fill,
)

REF = json.loads((Path(__file__).parents[1] / "reference" / "robustness_reference.json")
                 .read_text())
CASES = REF["cases"]
CLOSED, ITERATIVE = 1e-9, 1e-7


def effects(d: dict) -> EffectSet:  # type: ignore[type-arg]
    return EffectSet(measure="GIV", study=tuple(d["study"]), yi=np.asarray(d["yi"], float),
                     vi=np.asarray(d["vi"], float))


def close(a: object, b: object, rtol: float) -> None:
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol, atol=1e-13)


@pytest.mark.parametrize("name", sorted(n for n in CASES if n.startswith("influence_")))
def test_influence(name: str) -> None:
    case = CASES[name]
    exp = case["expected"]
    res = influence(effects(case["data"]), model=exp["model"], tau2_method=exp["tau2_method"])
    rtol = ITERATIVE if exp["tau2_method"] == "REML" and exp["model"] == "random" else CLOSED
    for field in ("rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "qe_del", "hat",
                  "weight", "dfbetas"):
        close(getattr(res, field), exp[field], rtol)
    assert list(res.influential) == exp["influential"]


def test_influence_needs_three_studies() -> None:
    d = CASES["influence_bcg_dl"]["data"]
    e = effects(d).subset(np.arange(2))
    with pytest.raises(StatsError):
        influence(e)


@pytest.mark.parametrize("name", sorted(n for n in CASES if n.startswith("trimfill_")))
def test_trim_and_fill(name: str) -> None:
    case = CASES[name]
    exp = case["expected"]
    res = trim_and_fill(effects(case["data"]), model=exp["model"], tau2_method=exp["tau2_method"],
                        side=exp.get("side_given"))
    rtol = ITERATIVE if exp["tau2_method"] == "REML" and exp["model"] == "random" else CLOSED
    assert res.k0 == exp["k0"] and res.side == exp["side"]
    close(res.se_k0, exp["se_k0"], CLOSED)
    close(res.result.theta, exp["estimate"], rtol)
    close(res.result.se, exp["se"], rtol)
    close(res.result.tau2, exp["tau2"], rtol)
    close(sorted(res.filled_yi), sorted(np.atleast_1d(exp["filled_yi"])), rtol)
    close(sorted(res.filled_vi), sorted(np.atleast_1d(exp["filled_vi"])), CLOSED)


def test_trim_and_fill_needs_ten() -> None:
    e = effects(CASES["trimfill_bcg_dl"]["data"]).subset(np.arange(9))
    with pytest.raises(StatsError):
        trim_and_fill(e)


def test_egger_hackshaw() -> None:
    case = CASES["egger_hackshaw"]
    res = egger_test(effects(case["data"]))
    close(res.t, case["expected"]["t"], CLOSED)
    close(res.p, case["expected"]["p"], CLOSED)
    assert res.df == case["expected"]["df"]


@pytest.mark.parametrize("name", sorted(n for n in CASES if n.startswith("metareg_")))
def test_meta_regression(name: str) -> None:
    case = CASES[name]
    d, exp = case["data"], case["expected"]
    mods = np.column_stack([np.asarray(v, float) for v in d["mods"].values()])
    fit = meta_regression(d["yi"], d["vi"], mods, names=list(d["mods"]), method=d["method"],
                          knha=d["knha"])
    rtol = ITERATIVE if d["method"] == "REML" else CLOSED
    close(fit.coef, exp["coef"], rtol)
    close(fit.se, exp["se"], rtol)
    close(fit.stat, exp["stat"], rtol)
    close(fit.p_values, exp["p"], rtol)
    close(fit.ci_low, exp["ci_low"], rtol)
    close(fit.ci_high, exp["ci_high"], rtol)
    close(fit.vcov, exp["vcov"], rtol)
    close(fit.tau2, exp["tau2"], rtol)
    close(fit.tau2_null, exp["tau2_null"], rtol)
    close(fit.r2, exp["r2"], rtol)
    close(fit.i2, exp["i2"], rtol)
    close(fit.qm, exp["qm"], rtol)
    close(fit.qm_p, exp["qm_p"], rtol)
    assert list(fit.qm_df) == list(np.atleast_1d(exp["qm_df"]))
    close(fit.qe, exp["qe"], CLOSED)
    close(fit.qe_p, exp["qe_p"], 1e-7)
    assert fit.df == exp["df"]
    assert fit.names[0] == "intercept" and fit.names[1:] == tuple(d["mods"])


def test_meta_regression_prediction_line() -> None:
    d = CASES["metareg_bcg_ablat_dl_knha"]["data"]
    fit = meta_regression(d["yi"], d["vi"], d["mods"]["ablat"], method="DL")
    mean, lo, hi = meta_regression_predict(fit, [0.0, 30.0])
    close(mean, [fit.coef[0], fit.coef[0] + 30 * fit.coef[1]], 1e-12)
    assert lo[0] == pytest.approx(fit.ci_low[0], rel=1e-12)
    assert np.all(lo < mean) and np.all(mean < hi)


@pytest.mark.parametrize("mods", [[1.0] * 13, [[1.0, 2.0]] * 13])
def test_meta_regression_refuses_constant_moderators(mods: list) -> None:  # type: ignore[type-arg]
    d = CASES["metareg_bcg_ablat_dl_knha"]["data"]
    with pytest.raises(StatsError, match="constant or collinear"):
        meta_regression(d["yi"], d["vi"], mods)


def test_meta_regression_refuses_too_few_studies() -> None:
    with pytest.raises(StatsError, match="cannot estimate"):
        meta_regression([0.1, 0.2], [0.1, 0.1], [1.0, 2.0])
