"""RevMan 5 compatibility.

1. A real RevMan 5.0.23 export: the "Examples from Fleiss 1993" review shipped with the R package
   meta (guido-s/meta, inst/extdata/Fleiss1993.rm5 and Fleiss93_CR.csv). Outcome 1 is an
   M-H fixed-effect odds ratio (full precision in the .rm5 XML); outcome 2 an IV fixed-effect MD
   (8 decimals in the CSV export). We match RevMan's figures to 1e-9 relative (MD: half a
   unit in the 8th printed decimal) except RevMan's chi-square p-value, which RevMan computes
   with a coarser algorithm (its P_CHI2 differs from the exact tail in the 7th digit), so it is
   checked at 1e-6.
2. RevMan's SMD and M-H variance formulas against values worked by hand in the comments.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mscreview.stats import continuous_effects, dichotomous_effects, pool, pool_mh
from mscreview.stats.effects import smd_revman

ASPIRIN = {  # study: events1, n1, events2, n2 (aspirin vs control, Fleiss 1993)
    "MRC-1": (49, 615, 67, 624),
    "CDP": (44, 758, 64, 771),
    "MRC-2": (102, 832, 126, 850),
    "GASP": (32, 317, 38, 309),
    "PARIS": (85, 810, 52, 406),
    "AMIS": (246, 2267, 219, 2257),
    "ISIS-2": (1570, 8587, 1720, 8600),
}
# From Fleiss1993.rm5 (DICH_OUTCOME CMP-001.01 and its DICH_DATA weights).
RM5_OR = {
    "EFFECT_SIZE": 0.8968655609130709, "CI_START": 0.8405144008917793,
    "CI_END": 0.9569947088336491, "CHI2": 9.946055983220074, "I2": 39.67458045558399,
    "P_CHI2": 0.1269422521561745, "P_Z": 0.0010103343130005407, "Z": 3.287633061337987,
}
RM5_WEIGHTS = [3.176490004091248, 3.1016891143394365, 5.675380442715663, 1.795484618258711,
               3.2176243566716805, 10.153491219997628, 72.87984024392564]
RM5_ISIS2 = {"EFFECT_SIZE": 0.8949693601254097, "SE": 0.03880976559851533}


def aspirin_mh():  # type: ignore[no-untyped-def]
    cols = list(zip(*ASPIRIN.values(), strict=True))
    eff = dichotomous_effects(*cols, measure="OR", study=list(ASPIRIN))
    return pool_mh(eff, model="fixed")


def test_revman_mh_odds_ratio_matches_export() -> None:
    res = aspirin_mh()
    assert res.estimate == pytest.approx(RM5_OR["EFFECT_SIZE"], rel=1e-9)
    assert res.ci_low == pytest.approx(RM5_OR["CI_START"], rel=1e-9)
    assert res.ci_high == pytest.approx(RM5_OR["CI_END"], rel=1e-9)
    assert res.q == pytest.approx(RM5_OR["CHI2"], rel=1e-9)
    assert res.i2 == pytest.approx(RM5_OR["I2"], rel=1e-9)
    assert abs(res.z) == pytest.approx(RM5_OR["Z"], rel=1e-9)
    assert res.p == pytest.approx(RM5_OR["P_Z"], rel=1e-9)
    assert res.q_p == pytest.approx(RM5_OR["P_CHI2"], rel=1e-6)
    np.testing.assert_allclose([s.weight for s in res.studies], RM5_WEIGHTS, rtol=1e-9)
    isis = res.studies[-1]
    assert isis.effect == pytest.approx(RM5_ISIS2["EFFECT_SIZE"], rel=1e-9)
    assert math.sqrt(isis.vi) == pytest.approx(RM5_ISIS2["SE"], rel=1e-9)


def test_revman_iv_fixed_md_matches_csv_export() -> None:
    # Fleiss93_CR.csv outcome 2 (Mental health treatment vs control), 8 significant digits.
    eff = continuous_effects(
        [13, 30, 35, 20, 8], [5, 4.9, 22.5, 12.5, 6.5], [4.7, 1.71, 3.44, 1.47, 0.76],
        [13, 50, 35, 20, 8], [6.5, 6.1, 24.9, 12.3, 7.38], [3.8, 2.3, 10.65, 1.66, 1.41],
        measure="MD", study=["Davis", "Florell", "Gruen", "Hart", "Wilson"],
    )
    res = pool(eff, model="fixed")
    printed = dict(estimate=-0.70938839, ci_low=-1.25848502, ci_high=-0.16029176, q=5.66012379,
                   i2=29.33016758, p=0.01133769)
    for key, value in printed.items():
        assert getattr(res, key) == pytest.approx(value, abs=5e-9 + 1e-15), key
    assert abs(res.z) == pytest.approx(2.53211477, abs=5e-9 + 1e-15)
    np.testing.assert_allclose(
        [s.weight for s in res.studies],
        [2.79315513, 38.61251498, 2.19316111, 31.92826572, 24.47290305], rtol=0, atol=5e-9 + 1e-15,
    )
    np.testing.assert_allclose(
        np.sqrt([s.vi for s in res.studies]),
        [1.67630546, 0.45085474, 1.89175731, 0.49580742, 0.56631484], rtol=0, atol=5e-9 + 1e-15,
    )


def test_smd_revman_hand_values() -> None:
    # n1 = n2 = 10, m1 - m2 = 2, sd = 2 in both arms: s_p = 2, d = 1, N = 20,
    # J = 1 - 3/(4*20 - 9) = 1 - 3/71 = 68/71, g = 68/71;
    # v = 20/100 + g^2/(2*(20 - 3.94)) = 0.2 + (68/71)^2/32.12.
    g, v = smd_revman([10], [12], [2], [10], [10], [2])
    assert g[0] == pytest.approx(68 / 71, rel=1e-12)
    assert v[0] == pytest.approx(0.2 + (68 / 71) ** 2 / 32.12, rel=1e-12)
    assert g[0] == pytest.approx(0.9577464788732394, rel=1e-12)


def test_mh_risk_ratio_and_risk_difference_hand_values() -> None:
    # Two tables: (a, n1, c, n2) = (2, 10, 4, 10) and (3, 20, 6, 20), N = 20 and 40.
    eff = dichotomous_effects([2, 3], [10, 20], [4, 6], [10, 20], measure="RR")
    res = pool_mh(eff, model="fixed")
    # R = a n2/N = 1 + 1.5 = 2.5; S = c n1/N = 2 + 3 = 5; RR = 0.5.
    # D = (n1 n2 (a+c) - a c N)/N^2: (600 - 160)/400 = 1.1 and (3600 - 720)/1600 = 1.8 -> 2.9;
    # var ln RR = 2.9/(2.5*5) = 0.232.
    assert res.estimate == pytest.approx(0.5, rel=1e-12)
    assert res.se == pytest.approx(math.sqrt(0.232), rel=1e-12)
    # MH weights c n1/N = 2 and 3 -> 40% and 60%.
    assert [s.weight for s in res.studies] == pytest.approx([40.0, 60.0], rel=1e-12)
    rd = pool_mh(dichotomous_effects([2, 3], [10, 20], [4, 6], [10, 20], measure="RD"))
    # RD_MH = sum((a n2 - c n1)/N)/sum(n1 n2/N) = (-1 + -1.5)/(5 + 10) = -1/6.
    # var = sum((a b n2^3 + c d n1^3)/(n1 n2 N^2))/(sum w)^2
    #     = ((2*8*1000 + 4*6*1000)/(100*400) + (3*17*8000 + 6*14*8000)/(400*1600))/15^2
    #     = (1.0 + 1.6875)/225.
    assert rd.estimate == pytest.approx(-1 / 6, rel=1e-12)
    assert rd.se == pytest.approx(math.sqrt(2.6875 / 225), rel=1e-12)


def test_mh_odds_ratio_hand_value() -> None:
    # (a, b, c, d) = (2, 8, 4, 6) and (3, 17, 6, 14): R = ad/N = 0.6 + 1.05 = 1.65,
    # S = bc/N = 1.6 + 2.55 = 4.15, OR_MH = 1.65/4.15.
    eff = dichotomous_effects([2, 3], [10, 20], [4, 6], [10, 20], measure="OR")
    res = pool_mh(eff)
    assert res.estimate == pytest.approx(1.65 / 4.15, rel=1e-12)
    # Robins-Breslow-Greenland: P = (a+d)/N, Q = (b+c)/N.
    p, q = np.array([8 / 20, 17 / 40]), np.array([12 / 20, 23 / 40])
    r, s = np.array([0.6, 1.05]), np.array([1.6, 2.55])
    var = (p @ r) / (2 * 1.65**2) + (p @ s + q @ r) / (2 * 1.65 * 4.15) + (q @ s) / (2 * 4.15**2)
    assert res.se == pytest.approx(math.sqrt(var), rel=1e-12)


def test_mh_random_uses_mh_centred_q_for_dl() -> None:
    cols = list(zip(*ASPIRIN.values(), strict=True))
    eff = dichotomous_effects(*cols, measure="OR", study=list(ASPIRIN))
    fixed = pool_mh(eff, model="fixed")
    rnd = pool_mh(eff, model="random")
    w = 1 / eff.vi
    tau2 = max(0.0, (fixed.q - 6) / (w.sum() - (w**2).sum() / w.sum()))
    assert rnd.q == fixed.q
    assert rnd.tau2 == pytest.approx(tau2, rel=1e-12)
    iv = pool(eff, model="random")
    assert abs(iv.q - fixed.q) > 1e-7  # the IV Q differs (slightly here): the choice matters


def test_zero_cell_correction_can_be_disabled() -> None:
    eff = dichotomous_effects([0, 3], [10, 10], [2, 4], [10, 10], measure="RR",
                              zero_cell_correction=False)
    assert not np.isfinite(eff.vi[0])
    res = pool(eff, model="fixed")
    assert res.k == 1 and res.excluded[0].reason.startswith("variance is zero or not finite")
    on = dichotomous_effects([0, 3], [10, 10], [2, 4], [10, 10], measure="RR")
    assert on.notes and "0.5 added" in on.notes[0]
