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
