"""The robustness part of the report context (pipeline/robustness.py) on synthetic packages.

The statistics themselves are checked against metafor and rpact in tests/stats; here: that each
panel is computed from the right trials, that every trial left out is listed with its reason,
that the shipped-like package stays compact, and that "What's new" uses the monitoring boundary.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from mscreview import stats
from mscreview.errors import InputError
from mscreview.pipeline.build import build
from mscreview.pipeline.diff import CI_CRITERION, compare_results
from mscreview.pipeline.robustness import load_monitoring
from tests.conftest import make_package
from tests.synthetic import write_synthetic_package, write_versions


def _results(out: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((out / "results.json").read_text())


@pytest.fixture(scope="module")
def results(synthetic_trials_build: Path) -> dict:  # type: ignore[type-arg]
    return _results(synthetic_trials_build)


def _robust(results: dict, aid: str) -> dict:  # type: ignore[type-arg]
    return next(a for a in results["robustness"]["analyses"] if a["analysis_id"] == aid)


def _analysis(results: dict, aid: str) -> dict:  # type: ignore[type-arg]
    return next(a for a in results["analyses"] if a["id"] == aid)


def test_every_main_outcome_has_every_panel(results: dict) -> None:  # type: ignore[type-arg]
    main = [a for a in results["robustness"]["analyses"] if a["main"]]
    assert {a["outcome"] for a in main} == {"MELD", "ALB", "TBIL", "ALT", "AST", "INR", "death",
                                             "hcc"}
    for a in main:
        assert a["status"] == "assessed", a["analysis_id"]
        assert len(a["leave_one_out"]["rows"]) == a["k"]
        assert len(a["cumulative"]["rows"]) == a["k"]
        assert [s["id"] for s in a["subsets"]] == ["main", "low_rob", "verified", "fixed",
                                                   "random"]
        assert a["influence"]["status"] == "assessed"
        assert a["small_study"]["status"] == "assessed"  # k >= 10 everywhere
        assert {m["moderator"] for m in a["meta_regression"]} == {
            "log10_cells_per_kg", "follow_up_months", "route", "cell_type"}
        assert a["trajectory"]["rows"] and a["sequential"]["status"] == "assessed"


def test_leave_one_out_and_subsets_pool_the_right_trials(results: dict) -> None:  # type: ignore[type-arg]
    a = _analysis(results, "meld-overall")
    r = _robust(results, "meld-overall")
    rows = a["rows"]
    eff = stats.continuous_effects(
        [x["exp"]["n"] for x in rows], [x["exp"]["mean"] for x in rows],
        [x["exp"]["sd"] for x in rows], [x["ctl"]["n"] for x in rows],
        [x["ctl"]["mean"] for x in rows], [x["ctl"]["sd"] for x in rows], measure="MD",
        study=[x["study_id"] for x in rows])
    for i, row in enumerate(r["leave_one_out"]["rows"]):
        keep = np.ones(eff.k, dtype=bool)
        keep[eff.study.index(row["study_id"])] = False
        assert row["estimate"] == pytest.approx(stats.pool(eff.subset(keep)).estimate, rel=1e-12)
        del i
    main = next(s for s in r["subsets"] if s["id"] == "main")
    assert main["estimate"] == pytest.approx(a["total"]["estimate"], rel=1e-12)
    low = next(s for s in r["subsets"] if s["id"] == "low_rob")
    # synthetic trials 01, 02, 04, 06 and 08 are at low risk for both selection-bias domains
    assert low["k"] == 5 and len(low["left_out"]) == a["total"]["k"] - 5
    assert all(x["reason"] for x in low["left_out"])
    assert any("not assessed" in x["reason"] for x in low["left_out"])  # the trial without RoB
    verified = next(s for s in r["subsets"] if s["id"] == "verified")
    reasons = {x["reason"] for x in verified["left_out"]}
    assert reasons == {"verified from the seed review only", "design unclear"}
    fixed = next(s for s in r["subsets"] if s["id"] == "fixed")
    assert fixed["tau2"] == 0


def test_cumulative_follows_publication_year(results: dict) -> None:  # type: ignore[type-arg]
    r = _robust(results, "alb-overall")
    years = [row["year"] for row in r["cumulative"]["rows"]]
    assert r["cumulative"]["by"] == "publication year" and years == sorted(years)
    assert [row["k"] for row in r["cumulative"]["rows"]] == list(range(1, r["k"] + 1))
    last = r["cumulative"]["rows"][-1]
    assert last["estimate"] == pytest.approx(_analysis(results, "alb-overall")["total"]["estimate"])


def test_meta_regression_labels_and_left_out(results: dict) -> None:  # type: ignore[type-arg]
    mr = {m["moderator"]: m for m in _robust(results, "meld-overall")["meta_regression"]}
    dose = mr["log10_cells_per_kg"]
    assert dose["k"] == 11 and [x["reason"] for x in dose["left_out"]] == [
        "log10 cells per kg (per infusion) not reported"]
    assert dose["exploratory"] is False and dose["qm_df"][0] == 1
    assert mr["cell_type"]["exploratory"] is True  # 3 dummy columns for 12 trials
    assert len(mr["route"]["coefficients"]) == 3
    assert len(dose["bubble"]["points"]) == 11 and len(dose["bubble"]["line"]) == 25


def test_small_study_and_influence_shapes(results: dict) -> None:  # type: ignore[type-arg]
    ss = _robust(results, "tbil-overall")["small_study"]
    assert [c["p"] for c in ss["contours"]] == [0.1, 0.05, 0.01]
    assert len(ss["points"]) == 12 and ss["egger"]["df"] == 10
    assert ss["trim_fill"]["k0"] == len(ss["trim_fill"]["filled"])
    inf = _robust(results, "inr-overall")["influence"]
    assert inf["flagged"] == [r["label"] for r in inf["rows"] if r["influential"]]


def test_trajectory_one_row_per_window(results: dict) -> None:  # type: ignore[type-arg]
    traj = _robust(results, "meld-overall")["trajectory"]["rows"]
    windows = [t["window"] for t in traj]
    assert len(windows) == len(set(windows)) and "baseline" not in windows
    main = next(t for t in traj if t["window"] == "3 months")
    assert main["estimate"] == pytest.approx(_analysis(results, "meld-overall")["total"]["estimate"])


def test_sequential_boundaries_and_flag(results: dict) -> None:  # type: ignore[type-arg]
    for aid in ("meld-overall", "death-longest"):
        seq = _robust(results, aid)["sequential"]
        looks = seq["looks"]
        t = [lk["n"] / seq["ris_adjusted"] for lk in looks]
        bounds = stats.obf_boundaries(t, alpha=seq["alpha"])
        for lk, b in zip(looks, bounds.bounds, strict=True):
            assert lk["bound"] == pytest.approx(b)
            assert lk["crossed"] == (abs(lk["z"]) >= b)
        assert seq["crossed"] == looks[-1]["crossed"]
        mon = _analysis(results, aid)["monitoring"]
        assert mon["crossed"] == seq["crossed"] and "boundary" in mon["criterion"]
    seq = _robust(results, "death-longest")["sequential"]
    assert not seq["reached"] and seq["by"] == "publication year"
    assert any("control risk" in x for x in seq["inputs"])


def test_shipped_like_package_is_one_line_per_analysis(tmp_path: Path) -> None:
    pkg = make_package(tmp_path)  # one synthetic trial
    build(pkg, tmp_path / "out", quiet=True)
    results = _results(tmp_path / "out")
    for a in results["robustness"]["analyses"]:
        assert a["status"] == "not_assessable" and a["reason"].startswith("not assessable: k = ")
        assert set(a) <= {"analysis_id", "title", "outcome", "outcome_label", "measure", "scale",
                          "main", "favours", "k", "status", "reason"}
    html = (tmp_path / "out" / "index.html").read_text()
    section = html[html.index('<section id="robustness"'):]
    section = section[:section.index("</section>")]
    assert section.count("<details") == 0 and "Nothing is assessable yet" in section


@pytest.mark.slow
def test_looks_by_data_version_once_releases_exist(tmp_path: Path) -> None:
    pkg = write_synthetic_package(tmp_path)
    descriptor = json.loads(pkg.read_text())
    descriptor["version"] = "9.0.0"  # later than the two kept releases
    pkg.write_text(json.dumps(descriptor))
    write_versions(tmp_path, [("0.1.0", 4), ("0.2.0", 8)])
    build(pkg, tmp_path / "out", quiet=True)
    results = _results(tmp_path / "out")
    r = _robust(results, "meld-overall")
    assert r["cumulative"]["by"] == "data version"
    assert [row["version"] for row in r["cumulative"]["rows"]][:4] == ["0.1.0"] * 4
    seq = r["sequential"]
    assert seq["by"] == "data version"
    assert [lk["label"] for lk in seq["looks"]] == ["0.1.0", "0.2.0", "9.0.0"]


def test_monitoring_settings_errors_name_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "monitoring.csv"
    bad.write_text("outcome,parameter,value,source\n*,alpha,0.05,x\n*,gamma,1,x\n")
    with pytest.raises(InputError, match=r"line 3, column 'parameter': unknown parameter"):
        load_monitoring(bad)
    bad.write_text("outcome,parameter,value,source\n*,beta,0.9,x\n")
    with pytest.raises(InputError, match=r"line 2, column 'value': beta = 0.9 is outside"):
        load_monitoring(bad)
    bad.write_text("outcome,parameter,value,source\n*,beta,0.1,\n")
    with pytest.raises(InputError, match=r"line 2, column 'source'"):
        load_monitoring(bad)
    assert load_monitoring()[("*", "alpha")] == 0.05


def _state(est: float, lo: float, hi: float, crossed: bool | None) -> dict:  # type: ignore[type-arg]
    a = {"id": "meld-overall", "title": "MELD", "measure": "MD",
         "total": {"estimate": est, "ci_low": lo, "ci_high": hi, "k": 5, "p": 0.01}}
    if crossed is not None:
        a["monitoring"] = {"crossed": crossed, "criterion": "sequential monitoring boundary"}
    return {"analyses": [a]}


def test_whats_new_uses_the_boundary_not_p() -> None:
    # the CI stops including 0 (p < 0.05) but the boundary is not crossed: no flag
    (m,) = compare_results(_state(-1, -2, 0.5, False), _state(-1.2, -2, -0.1, False))
    assert not m.significance_flipped and m.criterion == "sequential monitoring boundary"
    (m,) = compare_results(_state(-1, -2, 0.5, False), _state(-1.2, -2, -0.1, True))
    assert m.significance_flipped
    # a release without monitoring is not compared against a boundary
    (m,) = compare_results(_state(-1, -2, 0.5, None), _state(-1.2, -2, -0.1, True))
    assert not m.significance_flipped and "not compared" in m.criterion
    (m,) = compare_results(_state(-1, -2, 0.5, None), _state(-1.2, -2, -0.1, None))
    assert m.significance_flipped and m.criterion == CI_CRITERION
    assert math.isfinite(m.new["estimate"])
