"""CSV conventions: formula neutralising for the downloads (OWASP CSV injection advice)."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mscreview.tables import csv_text, neutralise_formula, neutralise_formulas

SCHEMA = {"fields": [{"name": "id", "type": "string"}, {"name": "x", "type": "number"},
                     {"name": "notes", "type": "string"}]}


@pytest.mark.parametrize("cell", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=1", "\r=1",
                                  "=HYPERLINK(\"http://x\")", "-", "- twelve patients"])
def test_formula_cells_get_a_leading_apostrophe(cell: str) -> None:
    assert neutralise_formula(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["", "abc", "1=1", "-1.5", "+2", "-3e5", "'=1", " =1", "a@b"])
def test_other_cells_are_kept(cell: str) -> None:
    assert neutralise_formula(cell) == cell


def test_only_text_fields_change_and_the_header_stays() -> None:
    text = csv_text(["id", "x", "notes"], [["a", "-1.5", "=cmd|' /C calc'!A0"], ["b", "2", "ok"]])
    out = list(csv.reader(io.StringIO(neutralise_formulas(text, SCHEMA), newline="")))
    assert out == [["id", "x", "notes"], ["a", "-1.5", "'=cmd|' /C calc'!A0"], ["b", "2", "ok"]]


def test_a_file_without_formulas_is_returned_unchanged() -> None:
    text = csv_text(["id", "x", "notes"], [["a", "-1.5", "fine"]])
    assert neutralise_formulas(text, SCHEMA) is text


_TEXT = st.text().map(lambda s: s.replace("\r", ""))  # the package allows no CR at all


@given(st.lists(st.tuples(_TEXT, _TEXT), max_size=5))
def test_no_text_cell_of_the_output_starts_a_formula(rows: list[tuple[str, str]]) -> None:
    text = csv_text(["id", "x", "notes"], [[a, "1", b] for a, b in rows])
    out = list(csv.reader(io.StringIO(neutralise_formulas(text, SCHEMA), newline="")))
    for row in out[1:]:
        for cell in (row[0], row[2]):
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or \
                cell.lstrip("+-").replace(".", "", 1).isdigit()
