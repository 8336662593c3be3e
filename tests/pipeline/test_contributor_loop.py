"""The contributor's loop after a first trial: fill a form, update, format, compare, PRISMA.

Regression tests for issue 10, on copies of the shipped package in temporary folders (the
synthetic values typed into those copies are test input, never evidence, and never committed).
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mscreview.cli import cli
from mscreview.validate import validate_package
from mscreview.validate.reading import display_path
from tests.conftest import FIXTURES, ROOT, tree_digest
from tests.pipeline.test_add_trial import screened_trial

CONTRIBUTING = ROOT / "CONTRIBUTING.md"
EXAMPLE = FIXTURES / "contributing" / "smith2024.yaml"


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A copy of the shipped package (real data)."""
    root = tmp_path / "pkg"
    root.mkdir()
    shutil.copy(ROOT / "datapackage.json", root / "datapackage.json")
    shutil.copytree(ROOT / "schemas", root / "schemas")
    shutil.copytree(ROOT / "data", root / "data")
    return root / "datapackage.json"


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(), newline="")))


# --------------------------------------------------------------------------- update and form


def _fill_first_continuous_row(form: Path) -> str:
    """Keep the form's first continuous row, fill it with synthetic test numbers, drop the rest."""
    lines = form.read_text().splitlines()
    start = lines.index("continuous_outcomes:")
    block, in_row = [], False
    for line in lines[start + 1:]:
        if line.startswith("  - "):
            if in_row:
                break
            in_row = True
        elif in_row and not line.startswith("    "):
            break
        block.append(line)
    values = {"n": "19", "central_kind": "mean", "central": "35.1", "dispersion_kind": "sd",
              "dispersion": "4.2", "unit": "g/L", "locator": "Table 2 (synthetic test value)",
              "quote": "35.1 ± 4.2 (synthetic test value)"}
    filled = []
    for line in block:
        m = re.match(r"^(\s+(?:- )?)(\w+): <.*>$", line)
        if m and m.group(2) in values:
            line = f"{m.group(1)}{m.group(2)}: {values[m.group(2)]}"
        elif m:
            continue  # a placeholder we do not fill: delete the line, as the form says
        filled.append(line)
    study = lines[:lines.index("study:") + 2]
    return "\n".join(study + ["continuous_outcomes:"] + filled) + "\n"


def test_filling_one_missing_value_of_an_existing_trial(package: Path, tmp_path: Path) -> None:
    """Issue 10: filling one value of an existing trial could only be done by hand."""
    form = tmp_path / "xu2014-form.yaml"
    code, out = _run("call-for-data", "xu2014", "--form", "--out", str(form), "--package",
                     str(package))
    assert code == 0, out
    assert f"add-trial --update --dry-run {form}" in out  # the hint shows the check step first
    text = form.read_text()
    assert "study_id: xu2014" in text and "(unit g/L or g/dL)" in text
    assert "read: xu2014-abstract" in text and "central: <number>" in text
    # an unfilled form is refused, placeholder by placeholder
    before = tree_digest(package.parent)
    code, out = _run("add-trial", "--update", str(form), "--package", str(package))
    assert code == 1 and "[placeholder]" in out
    filled = tmp_path / "filled.yaml"
    filled.write_text(_fill_first_continuous_row(form))
    code, out = _run("add-trial", "--update", "--dry-run", str(filled), "--package", str(package))
    assert code == 0, out
    assert "dry run: update xu2014 would change (nothing written)" in out
    assert ("~ xu2014 / control / ALB / 0 / final / xu2014-abstract: n: '' -> '19'; central_kind:"
            in out), out
    assert "central: '' -> '35.1'" in out and "status: 'not_reachable' -> 'extracted'" in out
    assert tree_digest(package.parent) == before
    code, out = _run("add-trial", "--update", str(filled), "--package", str(package))
    assert code == 0, out
    assert out.startswith("updated xu2014: rows per resource: continuous_outcomes 1")
    assert validate_package(package).valid
    row = next(r for r in _rows(package.parent / "data" / "continuous_outcomes.csv")
               if (r["study_id"], r["arm_id"], r["outcome"], r["timepoint_weeks"]) ==
               ("xu2014", "control", "ALB", "0"))
    assert (row["central"], row["status"], row["unit"]) == ("35.1", "extracted", "g/L")
    assert row["notes"].startswith("Abstract:")  # fields not given keep their values


def test_update_of_an_unknown_study_and_add_of_a_known_one_point_to_each_other(
        package: Path, tmp_path: Path) -> None:
    code, out = _run("add-trial", str(screened_trial(tmp_path)), "--update", "--package",
                     str(package))
    assert code == 1 and "add it without --update" in out
    form = tmp_path / "form.yaml"
    form.write_text("study:\n  study_id: xu2014\n")
    code, out = _run("add-trial", str(form), "--package", str(package))
    assert code == 1 and "run mscreview add-trial --update" in out


def test_update_cannot_touch_another_study(package: Path, tmp_path: Path) -> None:
    form = tmp_path / "form.yaml"
    form.write_text("study:\n  study_id: xu2014\narms:\n  - {study_id: bai2014, arm_id: msc,"
                    " n_analysed: 5}\n")
    code, out = _run("add-trial", "--update", str(form), "--package", str(package))
    assert code == 1
    assert f"{display_path(form)}:4: arms[0].study_id: " in out and "[foreign-study]" in out


def test_call_for_data_lists_missing_values_with_their_source(package: Path) -> None:
    code, out = _run("call-for-data", "suk2016", "--package", str(package))
    assert code == 0
    assert "size of arm control [not_reachable]; source suk2016-abstract" in out
    code, out = _run("call-for-data", "suk2061", "--package", str(package))
    assert code == 2 and "did you mean suk2016?" in out


# --------------------------------------------------------------------------- format


def _move_row_to_end(path: Path, line: int) -> None:
    lines = path.read_text().split("\n")
    row = lines.pop(line - 1)
    lines.insert(len(lines) - 1, row)  # before the final empty string (the closing newline)
    path.write_text("\n".join(lines))


def test_sort_message_names_the_line_the_row_belongs_after(package: Path) -> None:
    """Issue 10: an appended row got 'belongs before line 746' (it belongs near line 420)."""
    data = package.parent / "data" / "continuous_outcomes.csv"
    last = len(data.read_text().splitlines())
    _move_row_to_end(data, 420)
    code, out = _run("validate", "--package", str(package))
    assert code == 1
    assert re.search(rf"continuous_outcomes\.csv:{last}: study_id: rows must be sorted .*belongs "
                     r"after line 419; run `mscreview format`", out), out
    _move_row_to_end(data, last - 1)  # one line up: the same place, not 'before line {last - 1}'
    code, out = _run("validate", "--package", str(package))
    assert "belongs after line 419;" in out


def test_format_sorts_and_mends_line_endings_without_touching_a_value(package: Path) -> None:
    """Issue 10: CRLF got no hint, and nothing offered to fix it or the sort order."""
    data = package.parent / "data"
    original = {p.name: p.read_bytes() for p in data.glob("*.csv")}
    _move_row_to_end(data / "continuous_outcomes.csv", 420)
    arms = data / "arms.csv"
    arms.write_bytes(b"\xef\xbb\xbf" + arms.read_bytes().replace(b"\n", b"\r\n") + b"\r\n\r\n")
    studies = data / "studies.csv"
    studies.write_bytes(studies.read_bytes().replace(b"\n", b"\r\n"))
    code, out = _run("validate", "--package", str(package))
    assert code == 1 and "byte-order mark" in out and "run `mscreview format`" in out
    assert "studies.csv:1: line endings must be LF (\\n), not CRLF or CR (an editor on Windows? " \
           "run `mscreview format`" in out, out
    code, out = _run("format", "--check", "--package", str(package))
    assert code == 1
    assert "continuous_outcomes.csv: would be 1 row(s) sorted" in out or \
        "continuous_outcomes.csv: would be" in out
    assert "arms.csv: would be byte-order mark removed; line endings made LF" in out
    assert "studies.csv: would be line endings made LF" in out
    code, out = _run("format", "--package", str(package))
    assert code == 0, out
    assert {p.name: p.read_bytes() for p in data.glob("*.csv")} == original
    assert _run("format", "--check", "--package", str(package)) == (
        0, "every file is already formatted\n")
    assert validate_package(package).valid


def test_format_keeps_each_record_as_written(synthetic_package: Path) -> None:
    studies = synthetic_package.parent / "data" / "studies.csv"
    header, row = studies.read_text().splitlines()
    quoted = row.replace("SYNTHETIC fixture trial", '"SYNTHETIC fixture trial"')
    studies.write_text(f"{header}\n{quoted}\n")
    assert _run("format", "--package", str(synthetic_package))[0] == 0
    assert studies.read_text() == f"{header}\n{quoted}\n"  # no re-quoting: the bytes stay


# --------------------------------------------------------------------------- compare


def test_compare_lists_every_disagreement_by_resource_key_and_field(tmp_path: Path) -> None:
    a = FIXTURES / "trials" / "complete.yaml"
    text = a.read_text()
    b = tmp_path / "zeta2030-b.yaml"
    b.write_text(text.replace("central: 13.5, dispersion_kind: sd, dispersion: 2.8",
                              "central: 13.50, dispersion_kind: sd, dispersion: 2.9")
                 .replace("events: 2, n: 30", "events: 3, n: 30")
                 .replace("  - {study_id: zeta2030, arm_id: msc, event: fever", "  - {study_id: "
                          "zeta2030, arm_id: msc, event: nausea"))
    code, out = _run("compare", str(a), str(b), "--package", str(ROOT / "datapackage.json"))
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == f"4 disagreement(s) between {display_path(a)} (A) and {display_path(b)} (B):"
    assert any(line.startswith("- continuous_outcomes zeta2030 / msc / MELD / 13 / final / "
                               "zeta2030-article: dispersion: A '2.8' (") and "vs B '2.9'" in line
               for line in lines), out
    assert "central" not in out  # 13.5 and 13.50 are the same number
    assert "dichotomous_outcomes zeta2030 / msc / death / 52.1 / zeta2030-article: events: " \
           "A '2'" in out
    assert "adverse_events zeta2030 / msc / fever / zeta2030-article: only A has this row" in out
    assert "adverse_events zeta2030 / msc / nausea / zeta2030-article: only B has this row" in out
    assert _run("compare", str(a), str(a), "--package", str(ROOT / "datapackage.json"))[0] == 0


# --------------------------------------------------------------------------- PRISMA


def test_prisma_moves_when_a_trial_is_added(package: Path, tmp_path: Path) -> None:
    """Issue 10: PRISMA did not move when a trial was added."""
    screening = package.parent / "data" / "screening.csv"

    def counts() -> dict[tuple[str, str], str]:
        return {(r["stage"], r["item"]): r["count"] for r in _rows(screening)
                if r["round"] == "update-2026-11"}

    before = counts()
    code, out = _run("add-trial", str(screened_trial(tmp_path)), "--package", str(package))
    assert code == 0, out
    after = counts()
    for stage in ("screened", "assessed", "included_new"):
        assert int(after[(stage, "total")]) == int(before[(stage, "total")]) + 1, stage
    notes = {r["stage"]: r["notes"] for r in _rows(screening)
             if r["round"] == "update-2026-11" and r["item"] == "total"}
    for stage in ("screened", "assessed", "included_new"):  # the old note is not left stale
        assert notes[stage].endswith("+1 by add-trial: zeta2030."), notes[stage]
    assert after[("identified", "ClinicalTrials.gov")] == "1"
    row = next(r for r in _rows(screening) if r["item"] == "ClinicalTrials.gov")
    assert row["source_kind"] == "trial_registry"
    candidate = next(r for r in _rows(package.parent / "data" / "candidates.csv")
                     if r["candidate_id"] == "zeta2030")
    assert (candidate["decision"], candidate["study_id"]) == ("include", "zeta2030")
    assert validate_package(package).valid


def test_pending_candidate_becomes_included(package: Path, tmp_path: Path) -> None:
    path = screened_trial(tmp_path)
    path.write_text(path.read_text().replace(
        "  round: update-2026-11\n  found_in: trial_registry",
        "  round: update-2026-12\n  candidate_id: nct03945487\n  found_in: trial_registry"))
    screening = package.parent / "data" / "screening.csv"

    def count(stage: str) -> int:
        return int(next(r["count"] for r in _rows(screening)
                        if (r["round"], r["stage"]) == ("update-2026-12", stage)))

    assessed, included = count("assessed"), count("included_new")
    code, out = _run("add-trial", str(path), "--package", str(package))
    assert code == 0, out
    assert (count("assessed"), count("included_new")) == (assessed, included + 1)
    candidate = next(r for r in _rows(package.parent / "data" / "candidates.csv")
                     if (r["round"], r["candidate_id"]) == ("update-2026-12", "nct03945487"))
    assert (candidate["decision"], candidate["study_id"]) == ("include", "zeta2030")
    assert validate_package(package).valid


def test_new_trial_without_screening_record_is_refused_with_the_fix(package: Path) -> None:
    code, out = _run("add-trial", str(FIXTURES / "trials" / "complete.yaml"), "--package",
                     str(package))
    assert code == 1
    assert "complete.yaml:3: screening: the package records its search (PRISMA)" in out
    assert "[missing-screening]" in out


def test_validate_reports_a_prisma_count_that_disagrees_with_the_studies(package: Path) -> None:
    screening = package.parent / "data" / "screening.csv"
    counts = {r["round"]: int(r["count"]) for r in _rows(screening)
              if (r["stage"], r["item"]) == ("included_new", "total")}
    studies = _rows(package.parent / "data" / "studies.csv")
    screening.write_text(screening.read_text().replace(
        "update-2026-11,included_new,total,1,", "update-2026-11,included_new,total,2,"))
    report = validate_package(package)
    line = next(i for i, text in enumerate(screening.read_text().splitlines(), start=1)
                if text.startswith("update-2026-11,included_new"))
    last = max(i for i, text in enumerate(screening.read_text().splitlines(), start=1)
               if ",included_new,total," in text)
    assert {(p.code, p.line) for p in report.problems} == {
        ("prisma-round-included", line), ("prisma-included", last)}
    message = next(p.message for p in report.problems if p.code == "prisma-included")
    total = sum(counts.values()) + 1
    included = sum(1 for r in studies if r["included"] == "true")
    assert message.startswith(f"the PRISMA flow counts {total} studies included (seed 11, "
                              f"update-2026-11 2, ") and \
        f"but the package has {total - 1} ({included} included, 3 excluded after a round " \
        "included them)" in message, message


def test_identification_boxes_name_source_kinds_not_channels(tmp_path: Path) -> None:
    """Issue 10: the identification box named internal search channels."""
    import duckdb

    from mscreview.pipeline.context import _prisma
    from mscreview.report import prisma_svg
    from mscreview.store import build_database

    db = build_database(ROOT / "datapackage.json", tmp_path / "m.duckdb")
    con = duckdb.connect(str(db), read_only=True)
    prisma = _prisma(con)
    con.close()
    svg = prisma_svg(prisma)
    text = " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", svg))
    assert "Records identified from: Bibliographic databases" not in text  # latest round
    assert "search tool" not in svg
    rounds = {r["round"]: r for r in prisma["rounds"]}
    assert rounds["update-2026-11"]["identified"] == {"Web pages": 119}
    assert set(prisma["rounds"][-1]["identified"]) <= {
        "Bibliographic databases", "Trial registries", "Reference lists", "Web pages"}
    seed = prisma["rounds"][0]
    assert seed["identified"] == {"Bibliographic databases": 2599}
    assert seed["identified_detail"]["Bibliographic databases"]["PubMed"] == 436
    studies = _rows(ROOT / "data" / "studies.csv")
    chosen = {r["study_id"] for r in _rows(ROOT / "data" / "candidates.csv")
              if r["decision"] == "include"}
    included = [r for r in studies if r["included"] == "true"]
    dropped = [r for r in studies if r["included"] != "true"
               and (r["seed_ref"] or r["study_id"] in chosen)]  # a round had included them
    assert prisma["included_total"] == len(included) + len(dropped)
    assert prisma["included_analysed"] == len(included)
    assert [d["label"] for d in prisma["excluded_after_inclusion"]] == [
        r["label"] for r in sorted(dropped, key=lambda r: (r["year"], r["label"]))]
    for name, rd in rounds.items():  # every assessed report has a box (PRISMA 2020)
        decisions = [r["decision"] for r in _rows(ROOT / "data" / "candidates.csv")
                     if r["round"] == name]
        if decisions:
            assert (rd["reports_included"], rd["awaiting"]) == (
                decisions.count("include"), decisions.count("pending"))


# --------------------------------------------------------------------------- CONTRIBUTING


def test_contributing_worked_example_is_the_test_fixture(package: Path) -> None:
    """CONTRIBUTING's worked example (made-up numbers) is this file, and add-trial takes it."""
    example = EXAMPLE.read_text()
    assert "EXAMPLE" in example.splitlines()[0]
    doc = CONTRIBUTING.read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", doc, re.S)
    assert any(block.strip() in example for block in blocks), "the worked example drifted"
    assert "made-up numbers" in doc
    code, out = _run("add-trial", str(EXAMPLE), "--package", str(package))
    assert code == 0, out


def test_every_command_has_help_with_an_example() -> None:
    for name, command in cli.commands.items():
        assert command.help and "Example:" in command.help, name
