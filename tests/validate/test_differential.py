"""frictionless is the reference: on every defect fixture and on fuzzed packages, the structural
problems we report are exactly the ones frictionless reports.

Compared: the set of (file, physical line, field, kind) of the structural kinds (types, field
constraints, header labels, ragged and blank rows, primary and foreign keys). frictionless' raw
errors are normalised as our reports are: row numbers become physical lines; a ragged row is one
``ragged-row``; row errors under a wrong header are dropped (they mean nothing there).

Differences by design, left out of the comparison:
- a key with a missing or mistyped part: frictionless compares it with the gaps as None, we do
  not compare it at all (the part is reported as required or as a type error);
- keys and foreign keys of a file with ragged rows and foreign keys into one (we do not key
  rows we cannot read), and foreign keys into a file under a wrong header (we report them as
  not checked);
- malformed quoting and lone carriage returns (we report the line, frictionless' csv module
  guesses): the fuzzer writes well-formed CSV.
frictionless is told that the header is line 1 (it would otherwise guess the header row).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mscreview.validate import validate_package
from tests.conftest import FIXTURES, make_package

DEFECTS = FIXTURES / "defects"
STRUCTURAL = {"type-error", "constraint-error", "unique-error", "extra-label", "missing-label",
              "blank-label", "duplicate-label", "incorrect-label", "ragged-row", "blank-row",
              "primary-key", "foreign-key"}
_HEADER = {"extra-label", "missing-label", "blank-label", "duplicate-label", "incorrect-label"}
Found = set[tuple[str, int, str, str]]


def _record_lines(path: Path) -> list[int]:
    """First physical line of each record, header included (index = row number - 1)."""
    starts, start = [], 1
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        for _ in reader:
            starts.append(start)
            start = reader.line_num + 1
    return starts


def frictionless_problems(descriptor: Path) -> Found:
    """frictionless' errors, normalised to (file, line, field, kind)."""
    from frictionless import Package, system

    # the header is line 1 (CSV Dialect's default, and ours): pinned, since frictionless
    # otherwise guesses the header row from a sample, and a sample with ragged rows can make it
    # take a data row for the header (a fuzzed case did)
    pinned = json.loads(descriptor.read_text())
    for res in pinned["resources"]:
        res.setdefault("dialect", {"headerRows": [1]})
    with system.use_context(trusted=False):
        report = Package(pinned, basepath=str(descriptor.parent)).validate(limit_errors=100000)
    assert not report.errors, report.errors  # package-level errors are not compared
    resources = {r["name"]: r for r in json.loads(descriptor.read_text())["resources"]}
    unreadable = {t.name for t in report.tasks if any(e.type in _HEADER for e in t.errors)}
    out: Found = set()
    for task in report.tasks:
        resource = resources[task.name]
        path = descriptor.parent / resource["path"]
        file = f"data/{path.name}"
        errors = task.errors
        if any(e.type in _HEADER for e in errors):
            for e in errors:
                if e.type in _HEADER:
                    out.add((file, 1, e.field_name or e.label, e.type))
            continue
        lines = _record_lines(path)
        schema = json.loads((descriptor.parent / resource["schema"]).read_text())
        key = schema.get("primaryKey", [])
        ragged_file = any(e.type in ("extra-cell", "missing-cell") for e in errors)
        by_row: dict[int, list] = {}
        for e in errors:
            by_row.setdefault(e.row_number, []).append(e)
        for number, row_errors in by_row.items():
            line = lines[number - 1]
            if any(e.type in ("extra-cell", "missing-cell") for e in row_errors):
                out.add((file, line, "", "ragged-row"))
                continue
            bad_cells = {e.field_name for e in row_errors if e.type == "type-error"}
            cells = row_errors[0].cells
            for e in row_errors:
                if e.type == "primary-key":
                    if ragged_file or bad_cells & set(key) or _any_missing(cells, schema, key):
                        continue
                    out.add((file, line, ", ".join(key), e.type))
                elif e.type == "foreign-key":
                    fields = list(e.field_names)
                    if ragged_file or bad_cells & set(fields) or e.reference_name in unreadable \
                            or _any_missing(cells, schema, fields):
                        continue
                    out.add((file, line, ", ".join(e.field_names), e.type))
                elif e.type == "blank-row":
                    out.add((file, line, "", e.type))
                else:
                    out.add((file, line, e.field_name, e.type))
    return out


def _any_missing(cells: list[str], schema: dict, key: list[str]) -> bool:
    names = [f["name"] for f in schema["fields"]]
    missing = schema.get("missingValues", [""])
    return any(names.index(k) >= len(cells) or cells[names.index(k)] in missing for k in key)


def our_problems(descriptor: Path) -> Found:
    report = validate_package(descriptor)
    out: Found = set()
    for p in report.problems:
        if p.code in STRUCTURAL:
            name = Path(p.file).name
            out.add((f"data/{name}", p.line, p.field, p.code))
    return out


def _foreign_keys_into(descriptor: Path, files: set[str]) -> set[tuple[str, str]]:
    """(file, fields) of the foreign keys that point into one of ``files``."""
    resources = json.loads(descriptor.read_text())["resources"]
    file_of = {r["name"]: f"data/{Path(r['path']).name}" for r in resources}
    out = set()
    for r in resources:
        for fk in json.loads((descriptor.parent / r["schema"]).read_text()).get("foreignKeys", []):
            if file_of.get(fk["reference"]["resource"] or r["name"]) in files:
                out.add((file_of[r["name"]], ", ".join(fk["fields"])))
    return out


def _compare(descriptor: Path) -> None:
    ours, theirs = our_problems(descriptor), frictionless_problems(descriptor)
    ragged = {p[0] for p in ours | theirs if p[3] == "ragged-row"}
    into_ragged = _foreign_keys_into(descriptor, ragged)
    ours, theirs = ({p for p in found if not (p[0] in ragged and p[3] in ("primary-key",
                                                                          "foreign-key"))
                     and (p[0], p[2]) not in into_ragged}
                    for found in (ours, theirs))
    assert ours == theirs, {"only ours": ours - theirs, "only frictionless": theirs - ours}


@pytest.mark.slow
@pytest.mark.parametrize("fixture", sorted(p.name for p in DEFECTS.glob("*.csv")))
def test_every_defect_fixture_agrees_with_frictionless(tmp_path: Path, fixture: str) -> None:
    descriptor = make_package(tmp_path)
    resource = fixture.split("--")[0]
    shutil.copy(DEFECTS / fixture, tmp_path / "data" / f"{resource}.csv")
    if fixture.split("--")[1].removesuffix(".csv") in {
            "binary-content", "encoding-error", "empty-file", "line-ending"}:
        pytest.skip("a file-level problem: frictionless reports it in its own words")
    _compare(descriptor)


# --------------------------------------------------------------------------- fuzzed packages

_TEMPLATE = Path(tempfile.mkdtemp(prefix="mscreview-differential-"))
make_package(_TEMPLATE)

#: Per column of arms.csv: values valid and not (types, enums, patterns, bounds, keys).
ARMS = {
    "study_id": ["testa2020", "testa2020", "Testa2020", "zeta2030", "", "NR"],
    "arm_id": ["control", "msc", "msc2", "MSC", "", "a b"],
    "role": ["control", "experimental", "Control", ""],
    "description": ["standard care", "", "NA", "MSC\ninfusion"],
    "n_randomised": ["20", " 20 ", "0", "-1", "1.5", "x", "", "NR", "1_000", "+3",
                     "99999999999999999999"],
    "n_analysed": ["19", "0", "-2", "2e1", "", "NYE"],
    "status": ["extracted", "not_reported", "done", ""],
    "source_id": ["fixture-article", "nowhere", ""],
    "locator": ["Table 1", ""],
    "quote": ["x", "", "a, b", 'say "hi"'],
    "notes": ["", "note"],
}
CONTINUOUS = {
    "study_id": ["testa2020", "testa2020", "zeta2030"],
    "arm_id": ["control", "msc", "other"],
    "outcome": ["MELD", "ALB", "meld", ""],
    "timepoint_weeks": ["0", "13.0", "13", "-1", "inf", "nan", "1e3", " 4.3 ", ".5", "x", ""],
    "timepoint_label": ["3 months", ""],
    "value_type": ["final", "change", "FINAL"],
    "n": ["20", "0", "2.0", ""],
    "central_kind": ["mean", "median", "avg", ""],
    "central": ["15.0", "-3", "1e309", "NaN", "1,5", "", "Infinity"],
    "dispersion_kind": ["sd", "ci95", "variance", ""],
    "dispersion": ["3.1", "-0.5", "0", "", "x"],
    "dispersion_low": ["", "1"],
    "dispersion_high": ["", "2"],
    "unit": ["none", "g/L", "mg", ""],
    "range_checked": ["", "true", "false", "yes", "1", "TRUE"],
    "flags": ["", "unit_implausible"],
    "status": ["extracted", "not_reported"],
    "source_id": ["fixture-article", "ghost"],
    "locator": ["Table 2", ""],
    "quote": ["x", ""],
    "notes": [""],
}
TABLES = {"arms": ARMS, "continuous_outcomes": CONTINUOUS}


@st.composite
def fuzzed(draw: st.DrawFn) -> tuple[str, str]:
    """(resource, CSV text): rows drawn from the column pools, sometimes ragged or blank,
    sometimes under a changed header."""
    resource = draw(st.sampled_from(sorted(TABLES)))
    columns = TABLES[resource]
    header = list(columns)
    rows = []
    for _ in range(draw(st.integers(1, 6))):
        row = [draw(st.sampled_from(values)) for values in columns.values()]
        shape = draw(st.sampled_from(["ok"] * 8 + ["short", "long", "blank", "empty"]))
        if shape == "short":
            row = row[:-1]
        elif shape == "long":
            row = [*row, "extra"]
        elif shape == "empty":
            row = [""] * len(row)
        rows.append(None if shape == "blank" else row)
    if draw(st.integers(0, 9)) == 0:
        header = draw(st.sampled_from([header[:-1], [*header, "x"], [header[1], header[0],
                                                                    *header[2:]]]))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        if row is None:
            buf.write("\n")
        else:
            writer.writerow(row)
    return resource, buf.getvalue()


#: A fuzzed case in which frictionless took line 3 for the header, until the header row was pinned.
_HEADER_GUESSED = (
    "study_id,arm_id,outcome,timepoint_weeks,timepoint_label,value_type,n,central_kind,central,"
    "dispersion_kind,dispersion,dispersion_low,dispersion_high,unit,range_checked,flags,status,"
    "source_id,locator,quote,notes\n"
    "testa2020,control,MELD,0,3 months,final,20,mean,15.0,sd,3.1,,,none,,,extracted,"
    "fixture-article,Table 2,x,\n"
    "testa2020,control,MELD,0,3 months,final,20,mean,15.0,sd,3.1,,2,mg,false,unit_implausible,"
    "not_reported,fixture-article,Table 2,\n"
    "testa2020,other,MELD,13.0,3 months,final,0,mean,NaN,sd,0,,,g/L,,unit_implausible,extracted,"
    "fixture-article,Table 2,x,\n"
    'zeta2030,control,ALB,,3 months,change,0,mean,"1,5",sd,,,2,none,1,unit_implausible,'
    "not_reported,ghost,Table 2,,\n"
    "testa2020,control,MELD,.5,3 months,change,,avg,,sd,0,,2,mg,true,,not_reported,"
    "fixture-article,Table 2,x,\n\n")

#: A fuzzed case: a blank line before a ragged row. DuckDB places the rejected row on the blank
#: line it skipped, so every later row was lost to a "csv-error" at the blank line.
_BLANK_BEFORE_RAGGED = (
    "study_id,arm_id,outcome,timepoint_weeks,timepoint_label,value_type,n,central_kind,central,"
    "dispersion_kind,dispersion,dispersion_low,dispersion_high,unit,range_checked,flags,status,"
    "source_id,locator,quote,notes\n" + "," * 20 + "\n"
    "testa2020,control,MELD,0,3 months,final,20,mean,15.0,sd,3.1,,,none,,,extracted,"
    "fixture-article,Table 2,x,\n\n"
    "testa2020,control,MELD,0,3 months,final,20,mean,,ci95,0,1,2,,false,,extracted,"
    "fixture-article,,x\n"
    "zeta2030,control,,.5,3 months,final,0,avg,NaN,ci95,x,1,2,mg,TRUE,unit_implausible,extracted,"
    "fixture-article,Table 2,x,\n")


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=fuzzed())
@example(case=("continuous_outcomes", _HEADER_GUESSED))
@example(case=("continuous_outcomes", _BLANK_BEFORE_RAGGED))
def test_fuzzed_packages_agree_with_frictionless(case: tuple[str, str]) -> None:
    resource, text = case
    work = Path(tempfile.mkdtemp(prefix="mscreview-differential-case-"))
    try:
        shutil.copytree(_TEMPLATE, work, dirs_exist_ok=True)
        (work / "data" / f"{resource}.csv").write_text(text, encoding="utf-8", newline="")
        _compare(work / "datapackage.json")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_the_shipped_package_agrees_with_frictionless() -> None:
    from tests.conftest import ROOT

    _compare(ROOT / "datapackage.json")
