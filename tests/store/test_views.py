"""The analysis views: unit harmonisation, SD derivation, multi-arm combination, windows."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pytest
from scipy.special import stdtrit

from tests.store.conftest import MULTI_ARMS, MULTI_MELD


def _rows(db: Path, sql: str, params: list | None = None) -> list[dict]:
    con = duckdb.connect(str(db), read_only=True)
    result = con.execute(sql, params or [])
    names = [d[0] for d in result.description]
    return [dict(zip(names, r, strict=True)) for r in result.fetchall()]


def _value(db: Path, arm: str, outcome: str) -> dict:
    rows = _rows(db, "SELECT * FROM arm_values WHERE study_id = 'multi2021' AND arm_id = ? "
                     "AND outcome = ? AND timepoint_weeks = 13", [arm, outcome])
    assert len(rows) == 1
    return rows[0]


def combine(arms: list[tuple[int, float, float]]) -> tuple[int, float, float]:
    """Cochrane Handbook 6.5.2.10, applied pairwise."""
    n1, m1, s1 = arms[0]
    for n2, m2, s2 in arms[1:]:
        n = n1 + n2
        m = (n1 * m1 + n2 * m2) / n
        s = math.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2
                       + n1 * n2 / (n1 + n2) * (m1 - m2) ** 2) / (n - 1))
        n1, m1, s1 = n, m, s
    return n1, m1, s1


def test_multi_arm_combination_equals_the_handbook_formula(multi_db: Path) -> None:
    (row,) = _rows(multi_db, "SELECT * FROM arm_pairs WHERE study_id = 'multi2021' "
                             "AND outcome = 'MELD' AND \"window\" = '3 months'")
    n_of = {a: n for a, _, n in MULTI_ARMS}
    n, m, s = combine([(n_of[a], *MULTI_MELD[a]) for a in ("msc_a", "msc_b", "msc_c")])
    assert row["combined_arms"] == "msc_a+msc_b+msc_c"
    assert row["n1"] == n == 40
    assert row["mean1"] == pytest.approx(m, rel=1e-12)
    assert row["sd1"] == pytest.approx(s, rel=1e-12)
    assert (row["n2"], row["mean2"], row["sd2"]) == (30, 16.0, 3.0)
    assert "experimental_arms_combined" in row["flags"].split(";")


def test_the_pooled_msc_arm_is_used_instead_of_its_parts(multi_arm_package: Path,
                                                         tmp_path: Path) -> None:
    from mscreview.store import build_database
    from tests.store.conftest import append_rows, continuous

    data = tmp_path / "data"
    append_rows(data / "arms.csv", [{
        "study_id": "multi2021", "arm_id": "msc", "role": "experimental", "description": "all",
        "n_randomised": 40, "status": "extracted", "source_id": "fixture-article",
        "locator": "T1", "quote": "q"}])
    append_rows(data / "continuous_outcomes.csv",
                [continuous("multi2021", "msc", "MELD", 13.0, n=40, central=13.0, dispersion=3.1)])
    db = build_database(multi_arm_package, tmp_path / "msc.duckdb")
    (row,) = _rows(db, "SELECT * FROM arm_pairs WHERE study_id = 'multi2021' "
                       "AND outcome = 'MELD' AND \"window\" = '3 months'")
    assert (row["combined_arms"], row["n1"], row["mean1"], row["sd1"]) == ("msc", 40, 13.0, 3.1)


def test_one_time_point_per_window_the_closest_to_its_centre(multi_db: Path) -> None:
    rows = _rows(multi_db, "SELECT * FROM arm_pairs WHERE study_id = 'multi2021' "
                           "AND outcome = 'MELD'")
    assert [(r["window"], r["timepoint_weeks"]) for r in rows] == [("3 months", 13.0)]
    assert rows[0]["timepoint_choice"].startswith("kept 13.0 wk")
    assert "12.0 wk" in rows[0]["timepoint_choice"]


def test_units_are_harmonised(multi_db: Path) -> None:
    alb = _value(multi_db, "control", "ALB")
    assert (alb["unit_reported"], alb["unit"]) == ("g/dL", "g/L")
    assert (alb["mean"], alb["sd"]) == (pytest.approx(29.0), pytest.approx(4.0))
    tbil = _value(multi_db, "control", "TBIL")
    assert tbil["unit"] == "umol/L"
    assert (tbil["mean"], tbil["sd"]) == (pytest.approx(2.4 * 17.1), pytest.approx(0.8 * 17.1))
    (pair,) = _rows(multi_db, "SELECT * FROM arm_pairs WHERE study_id = 'multi2021' "
                              "AND outcome = 'ALB'")
    assert pair["unit"] == "g/L" and pair["mean2"] == pytest.approx(29.0)


def test_xuln_values_are_kept_and_marked_smd_only(multi_db: Path) -> None:
    alt = _value(multi_db, "control", "ALT")
    assert (alt["unit"], alt["smd_only"], alt["usable"]) == ("xULN", True, True)
    (pair,) = _rows(multi_db, "SELECT * FROM arm_pairs WHERE study_id = 'multi2021' "
                              "AND outcome = 'ALT'")
    assert pair["smd_only"] and "smd_only" in pair["flags"].split(";")


def test_unit_implausible_rows_stay_visible_without_harmonised_values(multi_db: Path) -> None:
    pta = _value(multi_db, "control", "PTA")
    assert (pta["usable"], pta["mean"], pta["sd"], pta["central_reported"]) == (
        False, None, None, 70.0)
    assert pta["exclusion_reason"].startswith("unit_implausible")


def test_sd_is_derived_from_se_and_ci_with_a_flag(multi_db: Path) -> None:
    inr = _value(multi_db, "control", "INR")
    assert inr["sd_derivation"] == "from_se"
    assert inr["sd"] == pytest.approx(0.05 * math.sqrt(30), rel=1e-12)
    pt = _value(multi_db, "control", "PT")
    assert pt["sd_derivation"] == "from_ci95_t"
    assert pt["sd"] == pytest.approx(math.sqrt(30) * 2.0 / (2 * stdtrit(29, 0.975)), rel=1e-12)


def test_medians_are_converted_and_flagged(multi_db: Path) -> None:
    """Median + IQR (n = 30, Q = ceil(29/4) = 8): Luo 2018 mean, Wan 2014 SD (Table 2: 1.292),
    as stats.mean_sd_from_median computes them."""
    from mscreview.stats import mean_sd_from_median

    ggt = _value(multi_db, "control", "GGT")
    mean, sd = mean_sd_from_median(30, 60.0, q1=40.0, q3=90.0)
    assert (ggt["is_median"], ggt["central"]) == (True, 60.0)
    assert (ggt["dispersion_low"], ggt["dispersion_high"]) == (40.0, 90.0)
    assert ggt["mean"] == pytest.approx(mean.value, rel=1e-12)
    assert ggt["sd"] == pytest.approx(sd.value, rel=1e-12) == pytest.approx(50 / 1.292)
    assert (ggt["mean_derivation"], ggt["sd_derivation"]) == (
        "from_median_iqr_luo2018", "from_iqr_wan2014")
    assert ggt["usable"] and ggt["exclusion_reason"] is None


def test_dose_class_and_covariates_are_carried(multi_db: Path) -> None:
    rows = _rows(multi_db, "SELECT DISTINCT study_id, dose_class, route FROM arm_pairs")
    assert {(r["study_id"], r["dose_class"], r["route"]) for r in rows} == {
        ("multi2021", "high", "hepatic_artery"), ("testa2020", "unknown", "unknown")}


def test_seed_views_use_the_main_window(multi_db: Path) -> None:
    rows = _rows(multi_db, "SELECT DISTINCT \"window\" FROM seed_overall")
    assert rows == [{"window": "3 months"}]
    by_dose = _rows(multi_db, "SELECT study_id, subgroup FROM seed_by_dose WHERE outcome='MELD'")
    assert {(r["study_id"], r["subgroup"]) for r in by_dose} == {
        ("multi2021", "high"), ("testa2020", "unknown")}
    assert not _rows(multi_db, "SELECT * FROM seed_by_time WHERE \"window\" = 'baseline'")


def test_dichotomous_arms_are_added(multi_db: Path) -> None:
    (row,) = _rows(multi_db, "SELECT * FROM dichotomous_pairs WHERE study_id = 'multi2021'")
    assert (row["events1"], row["n1"], row["events2"], row["n2"]) == (4, 40, 6, 30)
    assert row["window"] == "12 months"
    longest = _rows(multi_db, "SELECT study_id FROM dichotomous_longest WHERE outcome='death'")
    assert sorted(r["study_id"] for r in longest) == ["multi2021", "testa2020"]


def test_missing_values_lists_what_is_not_extracted(multi_db: Path) -> None:
    rows = _rows(multi_db, "SELECT * FROM missing_values")
    assert [(r["kind"], r["arm_id"], r["outcome"], r["status"]) for r in rows] == [
        ("continuous", "msc_a", "CHE", "not_reachable")]
    assert rows[0]["label"] == "Multi 2021" and rows[0]["locator"] == "Table 2"
