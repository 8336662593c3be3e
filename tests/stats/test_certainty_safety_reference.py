"""Safety (rare events, zero cells) and hazard-ratio pooling against R metafor.

Reference: tests/reference/certainty_safety_reference.json, written by the R script beside it
(R and metafor versions and the exact calls are recorded there).

Tolerance: 1e-9 relative. Every case is closed form (Mantel-Haenszel, Peto, inverse variance
with DerSimonian-Laird), so the engine and metafor agree to rounding error.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from mscreview.stats import (
    combine_dichotomous_arms,
    dichotomous_effects,
    generic_effects,
    pool,
    pool_mh,
    pool_peto,
)
from mscreview.stats.arms import DichotomousArm

REF = json.loads((Path(__file__).parents[1] / "reference" /
                  "certainty_safety_reference.json").read_text())
CASES = REF["cases"]
RTOL = 1e-9


def close(actual: float, expected: float) -> None:
    assert actual == pytest.approx(expected, rel=RTOL, abs=1e-14)


def check(res, exp, ratio: bool) -> None:  # type: ignore[no-untyped-def]
    """Estimate, SE, CI and p. For the MH RD, metafor uses the Sato-Greenland-Robins (1989)
    variance and RevMan 5 the Greenland-Robins (1985) one: the SE is checked against the latter,
    written out in the R script, and the CI and p, which follow from it, are not compared."""
    close(res.theta, exp["estimate"])
    if "se_greenland_robins" in exp:
        close(res.se, exp["se_greenland_robins"])
        return
    close(res.se, exp["se"])
    lo, hi = (math.log(res.ci_low), math.log(res.ci_high)) if ratio else (res.ci_low, res.ci_high)
    close(lo, exp["ci_low"])
    close(hi, exp["ci_high"])
    close(res.p, exp["p"])


def ae(measure: str, **kw: object):  # type: ignore[no-untyped-def]
    d = CASES["ae_mh_rr_raw"]["data"]
    return dichotomous_effects(d["events1"], d["n1"], d["events2"], d["n2"], measure=measure,
                               study=d["study"], **kw)


@pytest.mark.parametrize("measure", ["RR", "RD", "OR"])
def test_mh_with_raw_counts_matches_metafor_defaults(measure: str) -> None:
    exp = CASES[f"ae_mh_{measure.lower()}_raw"]["expected"]
    res = pool_mh(ae(measure), correct_mh=False)
    check(res, exp, ratio=measure != "RD")
    if measure != "RD":  # metafor's RD study variances of zero-cell trials differ from RevMan's
        close(res.q, exp["q"])


def test_mh_rr_revman_convention_drops_double_zero_trials() -> None:
    exp = CASES["ae_mh_rr_revman"]["expected"]
    eff = ae("RR")
    res = pool_mh(eff)
    assert res.k == exp["k"] == 6
    assert {e.study for e in res.excluded} == {"A", "E"}
    assert all("no events in either arm" in e.reason for e in res.excluded)
    check(res, exp, ratio=True)
    close(res.q, exp["q"])


def test_mh_rd_revman_convention_keeps_double_zero_trials() -> None:
    exp = CASES["ae_mh_rd_revman"]["expected"]
    res = pool_mh(ae("RD"))
    assert res.k == exp["k"] == 8 and not res.excluded
    check(res, exp, ratio=False)
    close(res.q, exp["q"])


def test_peto_matches_rma_peto() -> None:
    exp = CASES["ae_peto"]["expected"]
    res = pool_peto(ae("PETO"))
    check(res, exp, ratio=True)


def test_multi_arm_trial_enters_once_with_its_arms_combined() -> None:
    exp = CASES["ae_multiarm_combined_mh_rr"]["expected"]
    both = combine_dichotomous_arms([DichotomousArm(2, 15), DichotomousArm(1, 16)])
    assert (both.events, both.n) == (3, 31)
    d = CASES["ae_multiarm_combined_mh_rr"]["data"]
    assert d["events1"][0] == both.events and d["n1"][0] == both.n
    eff = dichotomous_effects(d["events1"], d["n1"], d["events2"], d["n2"], measure="RR",
                              study=d["study"])
    check(pool_mh(eff, correct_mh=False), exp, ratio=True)


@pytest.mark.parametrize(("case", "model"), [("hr_giv_dl", "random"), ("hr_giv_fe", "fixed")])
def test_log_hazard_ratios_from_hr_and_ci(case: str, model: str) -> None:
    d, exp = CASES[case]["data"], CASES[case]["expected"]
    eff = generic_effects(d["hr"], ci_low=d["ci_low"], ci_high=d["ci_high"], study=d["study"],
                          measure="HR", log_scale=True)
    res = pool(eff, model=model, tau2_method="DL")
    check(res, exp, ratio=True)
    close(res.q, exp["q"])
    close(res.tau2, exp["tau2"])
    if model == "random":
        np.testing.assert_allclose(eff.yi, exp["yi"], rtol=RTOL)
        np.testing.assert_allclose(np.sqrt(eff.vi), exp["sei"], rtol=RTOL)
        close(math.log(res.pi_low), exp["pi_low"])
        close(math.log(res.pi_high), exp["pi_high"])
