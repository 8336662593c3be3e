"""Vectorised leave-one-out and cumulative meta-analysis agree with the one-at-a-time engine.

The one-at-a-time functions (``leave_one_out``, ``cumulative`` with ``pool``) agree with metafor
``leave1out`` and ``cumul`` (tests/stats/test_metafor_alignment.py); the batch versions are held
to them here at 1e-9 relative (closed-form DL and fixed effect), and to metafor directly.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mscreview.stats import (
    EffectSet,
    cumulative,
    cumulative_batch,
    leave_one_out,
    leave_one_out_batch,
    pool,
    pool_batch,
)
from mscreview.stats.batch import _chi2_sf_int

RTOL = 1e-9
FIELDS = ("theta", "se", "ci_low", "ci_high", "z", "p", "q", "q_p", "i2", "tau2", "pi_low",
          "pi_high")


def _compare(batch_value: float, res: object, field: str) -> None:
    expected = getattr(res, field) if field != "theta" else res.theta  # type: ignore[attr-defined]
    if np.isnan(expected):
        assert np.isnan(batch_value), field
    elif field == "q_p" and res.q < 1e-9:  # type: ignore[attr-defined]
        # Q at rounding-noise level: P(chi2_1 > Q) ~ 1 - sqrt(Q), so noise shows in the 8th digit
        assert batch_value == pytest.approx(expected, abs=1e-6), field
    else:
        assert batch_value == pytest.approx(expected, rel=RTOL, abs=1e-12), field


analysis = st.lists(st.tuples(st.floats(-3, 3), st.floats(0.01, 2.0)), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(st.lists(analysis, min_size=1, max_size=4), st.sampled_from(["random", "fixed"]))
def test_batch_matches_engine(analyses: list[list[tuple[float, float]]], model: str) -> None:
    kmax = max(len(a) for a in analyses)
    y = np.zeros((len(analyses), kmax))
    v = np.ones((len(analyses), kmax))
    mask = np.zeros_like(y, dtype=bool)
    for i, a in enumerate(analyses):
        y[i, : len(a)] = [s[0] for s in a]
        v[i, : len(a)] = [s[1] for s in a]
        mask[i, : len(a)] = True
    fn = partial(pool, model=model, tau2_method="DL")
    loo = leave_one_out_batch(y, v, mask, model=model)
    cum = cumulative_batch(y, v, mask, model=model)
    for i, a in enumerate(analyses):
        eff = EffectSet("GIV", tuple(str(j) for j in range(len(a))), y[i, : len(a)],
                        v[i, : len(a)])
        for j, (_, res) in enumerate(leave_one_out(eff, fn)):
            assert loo.k[i, j] == res.k and loo.q_df[i, j] == res.q_df
            for f in FIELDS:
                _compare(getattr(loo, f)[i, j], res, f)
        for j, (_, res) in enumerate(cumulative(eff, fn)):
            assert cum.k[i, j] == res.k
            for f in FIELDS:
                _compare(getattr(cum, f)[i, j], res, f)
        for j in range(len(a), kmax):  # padding: nothing reported
            assert loo.k[i, j] == 0 and np.isnan(loo.theta[i, j]) and np.isnan(cum.theta[i, j])


def test_batch_matches_metafor() -> None:
    ref = json.loads((Path(__file__).parents[1] / "reference" / "metafor_reference.json")
                     .read_text())["cases"]
    y = np.asarray(ref["normand_md_fe"]["expected"]["yi"])[None, :]
    v = np.asarray(ref["normand_md_fe"]["expected"]["vi"])[None, :]
    exp = ref["normand_md_dl_leave1out"]["expected"]
    loo = leave_one_out_batch(y, v)
    np.testing.assert_allclose(loo.theta[0], exp["estimate"], rtol=RTOL)
    np.testing.assert_allclose(loo.se[0], exp["se"], rtol=RTOL)
    np.testing.assert_allclose(loo.tau2[0], exp["tau2"], rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(loo.q[0], exp["q"], rtol=RTOL)
    case = ref["bcg_rr_dl_cumulative_year"]
    order = np.argsort(case["data"]["year"], kind="stable")
    yb = np.asarray(ref["bcg_rr_dl"]["expected"]["yi"])[order][None, :]
    vb = np.asarray(ref["bcg_rr_dl"]["expected"]["vi"])[order][None, :]
    cum = cumulative_batch(yb, vb)
    np.testing.assert_allclose(cum.theta[0], case["expected"]["estimate"], rtol=RTOL)
    np.testing.assert_allclose(cum.se[0], case["expected"]["se"], rtol=RTOL)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 80), st.floats(0, 300)), min_size=1, max_size=30))
def test_chi2_series_matches_scipy(values: list[tuple[int, float]]) -> None:
    from scipy.special import chdtrc

    df = np.asarray([d for d, _ in values])
    x = np.asarray([q for _, q in values])
    ours, ref = _chi2_sf_int(df, x), chdtrc(df, x)
    np.testing.assert_allclose(ours, ref, rtol=1e-11, atol=1e-300)
    two_d = np.tile(df, (3, 1))
    np.testing.assert_allclose(_chi2_sf_int(two_d, np.tile(x, (3, 1))), np.tile(ref, (3, 1)),
                               rtol=1e-11, atol=1e-300)


@settings(max_examples=60, deadline=None)
@given(st.lists(analysis, min_size=1, max_size=5), st.sampled_from(["random", "fixed"]),
       st.booleans())
def test_batch_equals_separate_pools(analyses: list[list[tuple[float, float]]], model: str,
                                     dense: bool) -> None:
    """Column i of the batches is pool_batch of the analyses without study i (leave-one-out) or
    of studies 0..i (cumulative). Estimates agree to 1e-12 (relative above 1); Q and what comes
    from it (tau^2, I^2, its p) to 1e-9, because the batches take Q from sums centred on the
    whole analysis (one pass) and pool_batch from deviations around each subset's own mean.
    """
    kmax = max(len(a) for a in analyses)
    if dense:  # every analysis has k_max studies: the path without a mask
        analyses = [(a * kmax)[:kmax] for a in analyses]
    y = np.zeros((len(analyses), kmax))
    v = np.ones((len(analyses), kmax))
    mask = np.zeros_like(y, dtype=bool)
    for i, a in enumerate(analyses):
        y[i, : len(a)] = [s[0] for s in a]
        v[i, : len(a)] = [s[1] for s in a]
        mask[i, : len(a)] = True
    given_mask = None if dense else mask
    loo = leave_one_out_batch(y, v, given_mask, model=model)
    cum = cumulative_batch(y, v, given_mask, model=model)
    for j in range(kmax):
        keep = np.arange(kmax) != j
        expected = {"loo": pool_batch(y[:, keep], v[:, keep], mask[:, keep], model=model),
                    "cum": pool_batch(y[:, : j + 1], v[:, : j + 1], mask[:, : j + 1],
                                      model=model)}
        for name, got in (("loo", loo), ("cum", cum)):
            ref, rows = expected[name], mask[:, j]
            assert np.array_equal(got.k[rows, j], ref.k[rows]), name
            assert np.array_equal(got.q_df[rows, j], ref.q_df[rows]), name
            assert np.all(got.k[~rows, j] == 0) and np.all(np.isnan(got.theta[~rows, j]))
            for f in FIELDS:
                a, b = getattr(got, f)[rows, j], getattr(ref, f)[rows]
                tol = np.full(b.shape, 1e-9 if f in ("q", "q_p", "i2", "tau2") else 1e-12)
                if f == "q_p":  # Q at rounding-noise level: P(chi2_1 > Q) ~ 1 - sqrt(Q)
                    tol[ref.q[rows] < 1e-9] = 1e-6
                np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=f"{name} {f}")
                ok = ~np.isnan(b)
                assert np.all(np.abs(a[ok] - b[ok]) <= tol[ok] * np.maximum(1.0, np.abs(b[ok]))), (
                    name, f, a, b)


def test_batches_of_many_blocks_match_one_analysis_at_a_time() -> None:
    """More analyses than one block holds (the batches work block by block)."""
    rng = np.random.default_rng(7)
    y, v = rng.normal(0.3, 0.5, (3000, 7)), rng.uniform(0.02, 0.5, (3000, 7))
    mask = rng.uniform(size=y.shape) < 0.85
    for fn in (leave_one_out_batch, cumulative_batch):
        whole = fn(y, v, mask)
        for i in (0, 1499, 2141, 2999):
            one = fn(y[i : i + 1], v[i : i + 1], mask[i : i + 1])
            for f in ("k", "q_df"):
                np.testing.assert_array_equal(getattr(whole, f)[i], getattr(one, f)[0])
            for f in FIELDS:  # the same arithmetic; vectorised sums may round in another order
                np.testing.assert_allclose(getattr(whole, f)[i], getattr(one, f)[0], rtol=1e-13)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=8),
       st.lists(st.floats(0, 300), min_size=1, max_size=12))
def test_chi2_series_one_df_per_row(dfs: list[int], xs: list[float]) -> None:
    """The row path of the series (studies on axis 0: cumulative, leave-one-out)."""
    from scipy.special import chdtrc

    df = np.broadcast_to(np.asarray(dfs)[:, None], (len(dfs), len(xs)))
    x = np.tile(np.asarray(xs), (len(dfs), 1))
    np.testing.assert_allclose(_chi2_sf_int(df, x), chdtrc(df, x), rtol=1e-11, atol=1e-300)


def test_leave_one_out_in_slices_of_subsets_matches_engine(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """A large k is done a slice of left-out studies at a time (bounded memory): forced here
    with a work space of 3 subsets for 10 studies, the results do not change."""
    import mscreview.stats.batch as batch

    rng = np.random.default_rng(14)
    y, v = rng.normal(0, 1, 10), rng.uniform(0.05, 1.0, 10)
    whole = leave_one_out_batch(y[None, :], v[None, :])
    monkeypatch.setattr(batch, "_BUF_VALUES", 30)
    sliced = leave_one_out_batch(y[None, :], v[None, :])
    eff = EffectSet("GIV", tuple(str(j) for j in range(10)), y, v)
    for j, (_, res) in enumerate(leave_one_out(eff, partial(pool, tau2_method="DL"))):
        for f in FIELDS:
            assert getattr(sliced, f)[0, j] == getattr(whole, f)[0, j], f
            _compare(getattr(sliced, f)[0, j], res, f)


def test_many_studies_match_engine() -> None:
    """Past 100 df the chi-square p comes from scipy, not the series: 300 studies agree too."""
    rng = np.random.default_rng(5)
    y, v = rng.normal(0, 1, 300), rng.uniform(0.05, 1.0, 300)
    eff = EffectSet("GIV", tuple(str(j) for j in range(300)), y, v)
    loo = leave_one_out_batch(y[None, :], v[None, :])
    cum = cumulative_batch(y[None, :], v[None, :])
    for j in (0, 150, 299):
        for f in FIELDS:
            _compare(getattr(loo, f)[0, j], pool(eff.subset(np.arange(300) != j)), f)
            _compare(getattr(cum, f)[0, j], pool(eff.subset(np.arange(j + 1))), f)
