"""Small, hand-checkable behaviours: edge cases of k, exclusions, arms, conversions, bias, batch."""

from __future__ import annotations

import ast
import math
from functools import partial
from pathlib import Path

import numpy as np
import pytest

import mscreview.stats as stats
from mscreview.stats import (
    ContinuousArm,
    DichotomousArm,
    StatsError,
    check_one_timepoint,
    choose_arm,
    combine_continuous_arms,
    combine_dichotomous_arms,
    continuous_effects,
    convert_unit,
    egger_test,
    funnel,
    mean_sd_from_median,
    pool,
    pool_batch,
    pool_ragged,
    pool_yi_vi,
    sd_from_ci,
    sd_from_se,
)
from mscreview.stats.pooling import generic_effects

STATS_DIR = Path(stats.__file__).parent


def test_all_is_the_public_api() -> None:
    public = {n for n in vars(stats) if not n.startswith("_")}
    modules = {p.stem for p in STATS_DIR.glob("*.py")}
    assert set(stats.__all__) == public - modules


def test_stats_imports_nothing_of_ours_and_no_scipy_stats() -> None:
    for path in STATS_DIR.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                assert not mod.startswith("mscreview") or mod.startswith("mscreview.stats"), path
                assert mod != "scipy.stats", path
            if isinstance(node, ast.Import):
                assert all(not a.name.startswith(("mscreview", "scipy.stats")) for a in node.names)


def test_k0_k1_k2() -> None:
    r0 = pool_yi_vi([], [])
    assert r0.k == 0 and math.isnan(r0.estimate)
    r1 = pool_yi_vi([0.5], [0.04], model="random", hksj=True)
    assert r1.k == 1 and r1.estimate == 0.5 and r1.se == pytest.approx(0.2)
    assert r1.ci_low == pytest.approx(0.5 - 1.959963984540054 * 0.2, rel=1e-12)
    assert r1.q_df == 0 and math.isnan(r1.i2) and math.isnan(r1.q_p) and math.isnan(r1.pi_low)
    assert r1.studies[0].weight == 100.0
    r2 = pool_yi_vi([0.1, 0.9], [0.04, 0.04])
    assert r2.k == 2 and math.isnan(r2.pi_low) and math.isfinite(r2.tau2)


def test_exclusions_are_reported_with_reasons() -> None:
    eff = continuous_effects(
        [10, 10, float("nan"), 10], [1, 1, 1, 1], [1, 0, 1, 1], [10, 10, 10, 10], [0, 0, 0, 0],
        [1, 1, 1, -1], study=["ok", "sd0", "noN", "neg"],
    )
    assert eff.study == ("ok",)
    assert [(e.study, e.reason) for e in eff.excluded] == [
        ("sd0", "sd <= 0 in arm 1"), ("noN", "missing n"), ("neg", "sd <= 0 in arm 2"),
    ]
    assert pool(eff).excluded == eff.excluded


def test_generic_inverse_variance_from_ci() -> None:
    eff = generic_effects([2.0, 0.5], [None, 0.1], ci_low=[1.0, None], ci_high=[4.0, None],
                          measure="RR", log_scale=True)
    assert eff.yi[0] == pytest.approx(math.log(2))
    assert math.sqrt(eff.vi[0]) == pytest.approx(math.log(4) / (2 * 1.959963984540054))
    res = pool(eff, model="fixed")
    assert res.ratio and res.estimate > 0
    bad = generic_effects([1.0, 2.0], [0.0, None], study=["a", "b"])
    assert [e.reason for e in bad.excluded] == ["SE <= 0", "missing SE"]


def test_reml_nonconvergence_is_flagged() -> None:
    r = pool_yi_vi([0, 1, 3, -2], [0.1, 0.2, 0.1, 0.3], model="random", tau2_method="REML",
                   max_iter=1)
    assert r.converged is False and any("did not converge" in n for n in r.notes)


def test_combine_arms_handbook_formula() -> None:
    # Handbook 6.5.2.10: n = 20, mean = (10*5 + 10*7)/20 = 6,
    # sd = sqrt((9*4 + 9*4 + 10*10/20*4)/19) = sqrt(92/19).
    got = combine_continuous_arms([ContinuousArm(10, 5, 2), ContinuousArm(10, 7, 2)])
    assert (got.n, got.mean) == (20, 6)
    assert got.sd == pytest.approx(math.sqrt(92 / 19), rel=1e-12)
    # Three arms combined pairwise equal the SD of the pooled sample.
    rng = np.random.default_rng(1)
    parts = [rng.normal(m, 1, n) for m, n in ((0, 5), (2, 7), (5, 4))]
    arms = [ContinuousArm(len(p), p.mean(), p.std(ddof=1)) for p in parts]
    whole = np.concatenate(parts)
    c3 = combine_continuous_arms(arms)
    assert c3.mean == pytest.approx(whole.mean()) and c3.sd == pytest.approx(whole.std(ddof=1))
    assert combine_dichotomous_arms([DichotomousArm(2, 10), DichotomousArm(3, 12)]) == \
        DichotomousArm(5, 22)
    assert choose_arm(arms, 1) == arms[1]
    with pytest.raises(StatsError):
        choose_arm(arms, 3)


def test_two_time_points_in_one_pool_are_refused() -> None:
    check_one_timepoint(["Suk 2016", "Jang 2014"], ["6 mo", "6 mo"])
    with pytest.raises(StatsError, match=r"Suk 2016 \(1 mo, 6 mo\)"):
        check_one_timepoint(["Suk 2016", "Jang 2014", "Suk 2016"], ["1 mo", "6 mo", "6 mo"])


def test_unit_conversions() -> None:
    assert convert_unit(3.5, "albumin", "g/dL", "g/L").value == pytest.approx(35.0)
    got = convert_unit(2.0, "bilirubin", "mg/dL", "umol/L")
    assert got.value == pytest.approx(34.2) and "mg/dL->umol/L" in got.flag
    assert convert_unit(34.2, "bilirubin", "umol/L", "mg/dL").value == pytest.approx(2.0)
    with pytest.raises(StatsError, match="SMD, never an MD"):
        convert_unit(1.5, "ALT", "xULN", "U/L")


def test_sd_derivations() -> None:
    assert sd_from_se(2.0, 25) == stats.Derived(10.0, "sd from se")
    # n = 25: t_{0.975,24} = 2.063898561628021; n = 400: z.
    small = sd_from_ci(8.0, 12.0, 25)
    assert small.value == pytest.approx(5 * 4 / (2 * 2.063898561628021), rel=1e-12)
    assert small.flag == "sd from 95% CI (t)"
    big = sd_from_ci(8.0, 12.0, 400)
    assert big.value == pytest.approx(20 * 4 / (2 * 1.959963984540054), rel=1e-12)
    assert big.flag == "sd from 95% CI (z)"


def test_median_conversions_wan_luo() -> None:
    # S3 with n = 50: Wan 2014 Table 2 at Q = ceil(49/4) = 13 gives eta = 1.313.
    mean, sd = mean_sd_from_median(50, 10.0, q1=8.0, q3=14.0)
    assert sd.value == pytest.approx(6.0 / 1.313, rel=1e-12)
    # n = 250 (> 201): eq. 16, eta = 2 Phi^-1((0.75 n - 0.125)/(n + 0.25)); R: qnorm(187.375/250.25)
    _, sd_big = mean_sd_from_median(250, 10.0, q1=8.0, q3=14.0)
    assert sd_big.value == pytest.approx(6.0 / (2 * 0.670565287036264), rel=1e-9)
    assert mean.value == pytest.approx((0.7 + 0.39 / 50) * 11 + (0.3 - 0.39 / 50) * 10)
    assert mean.flag == "mean from median+IQR (Luo 2018)" and sd.flag.endswith("(Wan 2014)")
    # S1 symmetric data: mean equals the median whatever n.
    m1, s1 = mean_sd_from_median(30, 5.0, minimum=1.0, maximum=9.0)
    assert m1.value == pytest.approx(5.0) and s1.value > 0
    m2, _ = mean_sd_from_median(30, 5.0, q1=4.0, q3=6.0, minimum=1.0, maximum=9.0)
    assert m2.value == pytest.approx(5.0)
    with pytest.raises(StatsError):
        mean_sd_from_median(30, 5.0)


def test_egger_and_funnel_need_ten_studies() -> None:
    eff = generic_effects(np.linspace(0, 1, 9), np.full(9, 0.2))
    with pytest.raises(StatsError, match="at least 10"):
        egger_test(eff)
    eff10 = generic_effects(np.linspace(0, 1, 10), np.linspace(0.1, 0.5, 10))
    f = funnel(eff10, center=0.5)
    assert f.lower_at_max == pytest.approx(0.5 - 1.959963984540054 * 0.5)


@pytest.mark.parametrize("model,hksj", [("fixed", False), ("random", False), ("random", True)])
def test_batch_matches_single_pools(model: str, hksj: bool) -> None:
    rng = np.random.default_rng(7)
    ks = [0, 1, 2, 3, 5, 10]
    y = [rng.normal(0, 1, k) for k in ks]
    v = [rng.uniform(0.05, 0.5, k) for k in ks]
    offsets = np.concatenate([[0], np.cumsum(ks)])
    b = pool_ragged(np.concatenate(y), np.concatenate(v), offsets, model=model, hksj=hksj)
    for j, k in enumerate(ks):
        r = pool_yi_vi(y[j], v[j], model=model, hksj=hksj)
        assert b.k[j] == k
        for name in ("theta", "se", "ci_low", "ci_high", "z", "p", "q", "q_p", "i2", "tau2",
                     "pi_low", "pi_high"):
            np.testing.assert_allclose(getattr(b, name)[j], getattr(r, name), rtol=1e-10,
                                       atol=1e-14, equal_nan=True, err_msg=f"{name} k={k}")


def test_batch_dense_equals_masked() -> None:
    rng = np.random.default_rng(3)
    y, v = rng.normal(size=(50, 10)), rng.uniform(0.1, 1, (50, 10))
    dense = pool_batch(y, v)
    masked = pool_batch(y, v, np.ones_like(y, dtype=bool))
    np.testing.assert_allclose(dense.theta, masked.theta, rtol=1e-13)
    np.testing.assert_allclose(dense.tau2, masked.tau2, rtol=1e-13)


def test_partial_pool_function_in_sensitivity() -> None:
    eff = generic_effects([0.1, 0.3, 0.2], [0.1, 0.1, 0.1])
    out = stats.leave_one_out(eff, partial(pool, model="fixed"))
    assert [s for s, _ in out] == list(eff.study)
    assert out[0][1].estimate == pytest.approx(0.25)


def test_egger_refuses_trials_of_equal_precision_or_an_exact_fit() -> None:
    """A 5,000-trial benchmark of identical trials crashed the build (singular matrix)."""
    with pytest.raises(StatsError, match="same"):
        egger_test(generic_effects(np.linspace(-1, 1, 12), np.full(12, 0.04)))
    with pytest.raises(StatsError, match="exactly"):  # equal effects, sizes differ
        egger_test(generic_effects(np.full(12, 0.3), np.linspace(0.01, 0.2, 12)))
