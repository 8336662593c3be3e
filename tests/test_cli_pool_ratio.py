"""``mscreview pool --measure GIV`` with ratio inputs (``--log`` or an ``hr`` column), checked
against R metafor (tests/reference/certainty_safety_reference.json, case hr_giv_dl; tolerance
1e-9 relative: closed-form DerSimonian-Laird)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from mscreview.cli import cli

REF = json.loads((Path(__file__).parent / "reference" / "certainty_safety_reference.json")
                 .read_text())["cases"]["hr_giv_dl"]


def _csv(tmp_path: Path, header: str, rows: list[str]) -> Path:
    path = tmp_path / "in.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _hr_rows() -> list[str]:
    d = REF["data"]
    return [f"{s},{h},{lo},{hi}" for s, h, lo, hi in
            zip(d["study"], d["hr"], d["ci_low"], d["ci_high"], strict=True)]


def _run(path: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["pool", str(path), "--measure", "GIV", *args])


@pytest.mark.parametrize(("header", "args", "measure"), [
    ("study,hr,ci_low,ci_high", (), "HR"),
    ("study,estimate,ci_low,ci_high", ("--log",), "RATIO"),
])
def test_ratio_inputs_match_metafor(tmp_path: Path, header: str, args: tuple[str, ...],
                                    measure: str) -> None:
    res = _run(_csv(tmp_path, header, _hr_rows()), *args, "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    exp = REF["expected"]
    assert out["measure"] == measure
    assert math.log(out["estimate"]) == pytest.approx(exp["estimate"], rel=1e-9)
    assert out["se"] == pytest.approx(exp["se"], rel=1e-9)
    assert math.log(out["ci_low"]) == pytest.approx(exp["ci_low"], rel=1e-9)
    assert out["tau2"] == pytest.approx(exp["tau2"], rel=1e-9)
    assert [s["yi"] for s in out["studies"]] == pytest.approx(exp["yi"], rel=1e-9)


def test_log_with_se_takes_the_se_of_the_log_ratio(tmp_path: Path) -> None:
    d, exp = REF["data"], REF["expected"]
    rows = [f"{s},{h},{se!r}" for s, h, se in zip(d["study"], d["hr"], exp["sei"], strict=True)]
    out = json.loads(_run(_csv(tmp_path, "study,estimate,se", rows), "--log", "--format",
                          "json").output)
    assert math.log(out["estimate"]) == pytest.approx(exp["estimate"], rel=1e-9)


def test_table_names_the_hazard_ratio(tmp_path: Path) -> None:
    res = _run(_csv(tmp_path, "study,hr,ci_low,ci_high", _hr_rows()))
    assert res.exit_code == 0
    assert res.output.startswith("Hazard Ratio (IV, Random, 95% CI)")
    assert "Total (95% CI)" in res.output and "0.73 [0.57, 0.94]" in res.output


@pytest.mark.parametrize(("header", "row", "args", "code", "message"), [
    ("study,hr,se", "A,0.5,0.2", (), 1, "line 1, column 'se': a ratio column (hr) needs its 95% CI"),
    ("study,estimate", "A,0.5", (), 1, "line 1, column 'se': missing column"),
    ("study,hr,ci_low,ci_high", "A,-0.5,0.2,0.9", (), 1,
     "line 2, column 'hr': hr = -0.5 is not a ratio above 0"),
    ("study,n1,mean1,sd1,n2,mean2,sd2", "A,10,1,1,10,2,1", ("--measure", "MD", "--log"), 2,
     "--log applies to --measure GIV"),
])
def test_bad_ratio_input(tmp_path: Path, header: str, row: str, args: tuple[str, ...], code: int,
                         message: str) -> None:
    path = _csv(tmp_path, header, [row])
    if args and args[0] == "--measure":
        res = CliRunner().invoke(cli, ["pool", str(path), *args])
    else:
        res = _run(path, *args)
    assert res.exit_code == code
    assert message in res.output
