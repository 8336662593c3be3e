"""Tidy tables: no Python ``None``/``nan`` on the page, no float noise, words not codes, notes in full."""

from __future__ import annotations

import copy
import html
import math
import re
from typing import Any

import pytest

from mscreview.pipeline.overview import overviews
from mscreview.report import render
from mscreview.report._format import fmt_p, fmt_plain, fmt_words
from tests.report import synthetic_context

PYTHON_WORDS = re.compile(r"\b(None|nan|NaN|inf|Infinity)\b")


def _visible_text(html: str) -> str:
    html = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def _blank(node: Any, number: float | None) -> Any:
    """Every string of ``node`` missing (None), every number ``number``: the sparsest context."""
    if isinstance(node, dict):
        return {k: _blank(v, number) for k, v in node.items()}
    if isinstance(node, list):
        return [_blank(v, number) for v in node]
    if isinstance(node, bool):
        return node
    if isinstance(node, str):
        return None
    if isinstance(node, (int, float)):
        return number
    return node


def _section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}"')
    return html[start:html.index("</section>", start)]


@pytest.mark.parametrize("number", [None, math.nan], ids=["None", "nan"])
def test_a_sparse_context_shows_dashes_not_python(number: float | None) -> None:
    html = render(_blank(synthetic_context(), number))
    assert PYTHON_WORDS.findall(_visible_text(html)) == []
    assert "\u2014" in html


def test_shipped_style_values_show_without_float_noise() -> None:
    context = synthetic_context()
    context["studies"][0]["follow_up_months"] = 2.8000000000000003
    context["studies"][1]["follow_up_months"] = 0.1 + 0.2
    section = _section(render(context), "studies")
    assert ">2.8<" in section and ">0.3<" in section
    assert "2.8000000000000003" not in section and "0.30000000000000004" not in section


def test_a_raw_float_in_any_partial_prints_without_noise() -> None:
    from mscreview.report._page import _environment

    template = _environment().from_string("{{ x }} {{ y }} {{ z }}")
    assert template.render(x=0.1 + 0.2, y=2.8000000000000003, z=None) == "0.3 2.8 \u2014"


def test_source_table_says_review_level_and_wraps_the_field_as_prose() -> None:
    context = synthetic_context()
    context["discrepancies"].append({
        "discrepancy_id": "seed-rob-count", "study_id": None, "label": None,
        "field": "Risk of bias: random sequence generation, number of low-risk studies",
        "seed_value": "five", "primary_value": "six", "impact": "descriptive",
        "resolution": "open", "primary_source": "lu2023", "primary_locator": "Results",
        "notes": "Internal inconsistency of the seed."})
    context.update(overviews(context))
    section = _section(render(context), "source-verification")
    row = section[section.index('<tr id="disc-seed-rob-count">'):]
    row = row[:row.index("</tr>")]
    assert ">review-level<" in row and "None" not in row
    assert ('<td class="prose-narrow">Risk of bias: random sequence generation, number of '
            'low-risk studies</td>') in row
    assert "<code>" not in section
    assert "primary source used" in section and "primary_used" not in section


def test_published_notes_are_shown_in_full() -> None:
    context = synthetic_context()
    long_note = ("No included trial has usable Total bilirubin data at the main time window "
                 "(3 months) (15 values missing: see the call for data). " * 3).strip()
    context["published_vs_repooled"][1]["note"] = long_note
    context["published_vs_repooled"][0]["note"] = long_note
    section = _section(render(context), "published-vs-repooled")
    assert section.count(f'<td class="prose">{long_note}') == 2  # re-pooled and waiting rows


def test_published_p_values_read_as_p() -> None:
    section = _section(render(synthetic_context()), "published-vs-repooled")
    assert "P = 0.01" in section and "P &lt; 0.001" in section
    assert fmt_p("0.24") == "P = 0.24" and fmt_p("<0.05") == "P < 0.05" and fmt_p("") == "\u2014"


def test_codes_read_as_words() -> None:
    assert fmt_words("not_reachable") == "source not reachable"
    assert fmt_words("hepatic_artery") == "hepatic artery"
    assert fmt_words("rct") == "RCT"
    assert fmt_words(None) == fmt_words(math.nan) == "\u2014"
    assert fmt_plain(2.8000000000000003) == "2.8" and fmt_plain(12.0) == "12"


def test_reference_listings_fold_away_with_a_plain_summary() -> None:
    context = copy.deepcopy(synthetic_context())
    section = _section(render(context), "studies")
    summary = re.search(r"<summary>Adverse events as each source reports them:(.*?)</summary>",
                        section, flags=re.S)
    assert summary and " ".join(summary.group(1).split()) == "1 record from 1 trial: 1 reported"



def test_safety_notes_are_separate_sentences() -> None:
    """Each note in the safety table is its own sentence ("arms. 2 counts", never "arms.2 counts")."""
    ctx = synthetic_context()
    unused = {"study_id": "s1", "label": "Trial 1", "arm_id": "msc", "reason": "control arm not counted"}
    ctx["safety"] = {"conventions": [], "events": [
        {"key": "fever", "label": "Fever", "serious": False, "k": 0, "n_exp": 0, "n_ctl": 0,
         "events_exp": 0, "events_ctl": 0, "rare": True, "primary": "RR",
         "analyses": [{"id": "safety-fever-rr", "measure": "RR", "status": "no_data", "total": None}],
         "difference_per_1000": None, "excluded": [unused, unused], "missing": [{}] * 4},
    ]}
    html = render(ctx)
    section = html[html.index('<section id="safety"'):]
    cell = re.findall(r'<td class="small">(.*?)</td>', section, flags=re.S)[0]
    assert cell == ("No trial counts it in both arms. Rare (&lt; 1%): Peto OR read first. "
                    "2 counts not used (see below). 4 missing (call for data).")
    ctx["safety"]["events"][0].update(k=1, zero_corrected=1, missing=[])
    html = render(ctx)
    section = html[html.index('<section id="safety"'):]
    cell = re.findall(r'<td class="small">(.*?)</td>', section, flags=re.S)[0]
    assert "0.5 added to every cell of 1 trial with no events (or all) in an arm." in cell


def test_adverse_events_from_a_secondary_source_say_so() -> None:
    """A count read in a review (the seed's Table 2), not in the trial's report, is marked."""
    ctx = synthetic_context()
    row = ctx["adverse_events"][0]
    ctx["adverse_events"] = [{**row, "source_kind": "primary"},
                             {**row, "event": "shivering", "source": "review-2020",
                              "source_kind": "secondary"}]
    section = " ".join(html.unescape(_visible_text(_section(render(ctx), "studies"))).split())
    assert section.count("secondary source") == 1
    assert "review-2020 (secondary source: a review, not the trial's own report)" in section
