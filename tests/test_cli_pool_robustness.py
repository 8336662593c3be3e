"""``mscreview pool --sensitivity --funnel --mods --tau2-ci`` against metafor (BCG trials).

Reference values: tests/reference/metafor_reference.json (cumulative, Q-profile) and
robustness_reference.json (influence, trim-and-fill, meta-regression). The CSV gives each trial's
log risk ratio and its SE (GIV), so the CLI pools exactly metafor's yi/vi. Tolerances as the
engine tests: 1e-9 relative closed-form, 1e-7 (REML), 1e-6 (Q-profile bisection).
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from mscreview.cli import cli

REF = Path(__file__).parent / "reference"
ROBUST = json.loads((REF / "robustness_reference.json").read_text())["cases"]
METAFOR = json.loads((REF / "metafor_reference.json").read_text())["cases"]


@pytest.fixture
def bcg_csv(tmp_path: Path) -> Path:
    d = ROBUST["influence_bcg_dl"]["data"]
    path = tmp_path / "bcg.csv"
    with path.open("w", newline="") as handle:
        w = csv.writer(handle, lineterminator="\n")
        w.writerow(["study", "estimate", "se", "year", "ablat", "alloc"])
        for row in zip(d["study"], d["yi"], d["vi"], d["year"], d["ablat"], d["alloc"],
                       strict=True):
            w.writerow([row[0], repr(row[1]), repr(math.sqrt(row[2])), row[3], row[4], row[5]])
    return path


def _run(*args: str) -> dict:  # type: ignore[type-arg]
    res = CliRunner().invoke(cli, ["pool", *args, "--format", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_sensitivity_matches_metafor(bcg_csv: Path) -> None:
    out = _run(str(bcg_csv), "--measure", "GIV", "--sensitivity")
    cum = METAFOR["bcg_rr_dl_cumulative_year"]["expected"]
    assert out["cumulative"]["by"] == "year"
    assert [s["estimate"] for s in out["cumulative"]["steps"]] == pytest.approx(
        cum["estimate"], rel=1e-9)
    inf = ROBUST["influence_bcg_dl"]["expected"]
    assert [r["cook_d"] for r in out["influence"]] == pytest.approx(inf["cook_d"], rel=1e-9)
    assert [r["influential"] for r in out["influence"]] == inf["influential"]
    assert len(out["leave_one_out"]) == 13


def test_funnel_and_meta_regression_match_metafor(bcg_csv: Path) -> None:
    out = _run(str(bcg_csv), "--measure", "GIV", "--funnel", "--mods", "ablat,alloc")
    eg = METAFOR["bcg_rr_egger"]["expected"]
    assert out["funnel"]["egger"]["t"] == pytest.approx(eg["t"], rel=1e-9)
    tf = ROBUST["trimfill_bcg_dl"]["expected"]
    assert out["funnel"]["trim_and_fill"]["k0"] == tf["k0"]
    assert out["funnel"]["trim_and_fill"]["side"] == tf["side"]
    ablat, alloc = out["meta_regression"]
    exp = ROBUST["metareg_bcg_ablat_reml_knha"]["expected"]
    assert [c["estimate"] for c in ablat["coefficients"]] == pytest.approx(exp["coef"], rel=1e-7)
    assert ablat["qm_p"] == pytest.approx(exp["qm_p"], rel=1e-7) and ablat["df"] == 11
    exp = ROBUST["metareg_bcg_alloc_reml_knha"]["expected"]
    assert alloc["kind"] == "factor" and alloc["reference"] == "alternate"
    assert [c["estimate"] for c in alloc["coefficients"]] == pytest.approx(exp["coef"], rel=1e-7)
    assert alloc["exploratory"] is True  # 13 trials for two dummy columns


def test_tau2_ci_hksj_and_test_df_in_json(bcg_csv: Path) -> None:
    out = _run(str(bcg_csv), "--measure", "GIV", "--tau2", "REML", "--tau2-ci", "--hksj")
    exp = METAFOR["bcg_rr_reml"]["expected"]
    assert out["tau2_ci"] == pytest.approx([exp["tau2_ci_low"], exp["tau2_ci_high"]], rel=1e-6)
    assert out["i2_ci"] == pytest.approx([exp["i2_ci_low"], exp["i2_ci_high"]], rel=1e-6)
    assert out["hksj"] is True and out["test_df"] == 12
    plain = _run(str(bcg_csv), "--measure", "GIV")
    assert plain["hksj"] is False and plain["test_df"] is None and plain["tau2_ci"] is None


def test_small_k_and_table_output(bcg_csv: Path, tmp_path: Path) -> None:
    small = tmp_path / "small.csv"
    small.write_text("\n".join(bcg_csv.read_text().splitlines()[:6]) + "\n")
    out = _run(str(small), "--measure", "GIV", "--funnel")
    assert out["funnel"] == "not assessable (k < 10; k = 5)"
    res = CliRunner().invoke(cli, ["pool", str(bcg_csv), "--measure", "GIV", "--sensitivity",
                                   "--funnel", "--mods", "ablat", "--tau2-ci"])
    assert res.exit_code == 0
    for text in ("Leave-one-out", "Cumulative meta-analysis (by year)", "Egger's test",
                 "Trim-and-fill (L0)", "Meta-regression on ablat", "Q-profile"):
        assert text in res.output


def test_unknown_moderator_column_names_file_line_and_column(bcg_csv: Path) -> None:
    res = CliRunner().invoke(cli, ["pool", str(bcg_csv), "--measure", "GIV", "--mods", "dose"])
    assert res.exit_code == 1
    assert f"{bcg_csv}, line 1, column 'dose': missing column" in res.output
