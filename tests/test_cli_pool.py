"""``mscreview pool`` through click's CliRunner: JSON keys, the RevMan-like table, bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from mscreview.cli import cli

CONTINUOUS = """study,n1,mean1,sd1,n2,mean2,sd2,route
Davis,13,5.0,4.7,13,6.5,3.8,artery
Florell,30,4.9,1.71,50,6.1,2.3,artery
Gruen,35,22.5,3.44,35,24.9,10.65,vein
Hart,20,12.5,1.47,20,12.3,1.66,vein
Wilson,8,6.5,0.76,8,7.38,1.41,vein
"""
ASPIRIN = """study,events1,n1,events2,n2
MRC-1,49,615,67,624
CDP,44,758,64,771
MRC-2,102,832,126,850
GASP,32,317,38,309
PARIS,85,810,52,406
AMIS,246,2267,219,2257
ISIS-2,1570,8587,1720,8600
"""
KEYS = {"k", "measure", "model", "tau2_method", "estimate", "se", "ci_low", "ci_high", "z", "p",
        "q", "q_df", "q_p", "i2", "tau2", "pi_low", "pi_high", "studies"}


def run(tmp_path: Path, text: str, *args: str, name: str = "in.csv"):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(text)
    return CliRunner().invoke(cli, ["pool", str(path), *args])


def test_json_keys_and_values(tmp_path: Path) -> None:
    res = run(tmp_path, CONTINUOUS, "--measure", "MD", "--model", "fixed", "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert KEYS <= set(out)
    assert set(out["studies"][0]) == {"study", "yi", "vi", "weight"}
    assert out["estimate"] == pytest.approx(-0.70938839, abs=5e-9)  # RevMan 5 export, Fleiss93
    assert out["tau2_method"] is None and out["pi_low"] is None
    assert sum(s["weight"] for s in out["studies"]) == pytest.approx(100)


def test_json_subgroups(tmp_path: Path) -> None:
    res = run(tmp_path, CONTINUOUS, "--measure", "SMD", "--by", "route", "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert [g["name"] for g in out["subgroups"]] == ["artery", "vein"]
    assert KEYS | {"name"} <= set(out["subgroups"][0])
    assert set(out["subgroup_test"]) == {"q", "df", "p", "i2"}
    assert out["subgroup_test"]["df"] == 1


def test_table_layout_mh(tmp_path: Path) -> None:
    res = run(tmp_path, ASPIRIN, "--measure", "OR", "--model", "fixed")
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert "M-H, Fixed, 95% CI" in lines[2] and "Weight" in lines[2]
    first = ["MRC-1", "49", "615", "67", "624", "3.2%", "0.72", "[0.49,", "1.06]"]
    assert lines[3].split() == first
    assert any(ln.startswith("Total (95% CI)") and ln.endswith("0.90 [0.84, 0.96]") for ln in lines)
    assert "Heterogeneity: Chi² = 9.95, df = 6 (P = 0.13); I² = 40%" in lines
    assert "Test for overall effect: Z = 3.29 (P = 0.001)" in lines


def test_table_random_shows_tau2(tmp_path: Path) -> None:
    res = run(tmp_path, CONTINUOUS, "--measure", "MD")
    assert res.exit_code == 0
    het = [ln for ln in res.output.splitlines() if ln.startswith("Heterogeneity")]
    assert het == ["Heterogeneity: Tau² = 0.19; Chi² = 5.66, df = 4 (P = 0.23); I² = 29%"]


def test_excluded_study_is_shown_not_silent(tmp_path: Path) -> None:
    text = CONTINUOUS + "Zero,8,6.5,0,8,7.38,1.41,vein\n"
    out = json.loads(run(tmp_path, text, "--measure", "MD", "--format", "json").output)
    assert out["k"] == 5
    assert out["excluded"] == [{"study": "Zero", "reason": "sd <= 0 in arm 1"}]
    table = run(tmp_path, text, "--measure", "MD").output
    assert "Zero" in table and "sd <= 0 in arm 1" in table


def test_giv_and_peto(tmp_path: Path) -> None:
    res = run(tmp_path, "study,estimate,se\na,0.2,0.1\nb,0.4,0.2\n", "--measure", "GIV",
              "--format", "json")
    assert json.loads(res.output)["k"] == 2
    assert run(tmp_path, ASPIRIN, "--measure", "PETO", "--model", "fixed").exit_code == 0
    peto_random = run(tmp_path, ASPIRIN, "--measure", "PETO")
    assert peto_random.exit_code == 2 and "fixed-effect" in peto_random.output


BAD = [
    ("missing-column", "study,n1,mean1,sd1,n2,mean2\nA,1,2,3,4,5\n", "MD", "line 1, column 'sd2'"),
    ("non-numeric", "study,events1,n1,events2,n2\nA,1,10,2,10\nB,x,10,2,10\n", "RR",
     "line 3, column 'events1'"),
    ("n-below-1", "study,n1,mean1,sd1,n2,mean2,sd2\nA,0,1,1,10,1,1\n", "MD", "line 2, column 'n1'"),
    ("negative-sd", "study,n1,mean1,sd1,n2,mean2,sd2\nA,5,1,1,10,1,-1\n", "MD",
     "line 2, column 'sd2'"),
    ("events-exceed-n", "study,events1,n1,events2,n2\nA,1,10,12,10\n", "OR",
     "line 2, column 'events2'"),
    ("empty", "", "MD", "empty file"),
    ("duplicate-study", "study,estimate,se\nA,1,1\nA,2,1\n", "GIV", "line 3, column 'study'"),
]


@pytest.mark.parametrize("name,text,measure,where", BAD, ids=[b[0] for b in BAD])
def test_bad_input_exits_1_naming_file_row_column(
    tmp_path: Path, name: str, text: str, measure: str, where: str
) -> None:
    res = run(tmp_path, text, "--measure", measure, name=f"{name}.csv")
    assert res.exit_code == 1
    assert res.exception is None or isinstance(res.exception, SystemExit)
    message = res.output.strip()
    assert message.startswith("error: ") and "\n" not in message and "Traceback" not in message
    assert f"{name}.csv" in message and where in message


def test_missing_file(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["pool", str(tmp_path / "nope.csv"), "--measure", "MD"])
    assert res.exit_code == 1 and "nope.csv: file not found" in res.output


def test_missing_by_column(tmp_path: Path) -> None:
    res = run(tmp_path, CONTINUOUS, "--measure", "MD", "--by", "dose")
    assert res.exit_code == 1 and "line 1, column 'dose'" in res.output


def test_table_prints_overall_weights_in_subgroups_as_revman(tmp_path: Path) -> None:
    path = tmp_path / "sub.csv"
    path.write_text("study,n1,mean1,sd1,n2,mean2,sd2,route\n"
                    "A 2001,20,12.1,2.3,20,14.0,2.9,iv\n"
                    "B 2003,30,13.0,3.1,28,13.9,3.3,ha\n"
                    "C 2007,15,11.5,2.0,16,14.2,2.6,ha\n")
    out = CliRunner().invoke(cli, ["pool", str(path), "--measure", "MD", "--by", "route"]).output
    def weight(line: str) -> float:
        return float(re.findall(r"(\d+\.\d)%", line)[-1])

    weights = [weight(line) for line in out.splitlines()
               if line.startswith(("A 2001", "B 2003", "C 2007"))]
    subtotals = [weight(line) for line in out.splitlines() if line.startswith("Subtotal")]
    assert sum(weights) == pytest.approx(100, abs=0.15)
    assert subtotals[0] == pytest.approx(weights[0], abs=0.05)
    assert subtotals[1] == pytest.approx(weights[1] + weights[2], abs=0.15)
