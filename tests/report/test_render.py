"""The HTML report renders a synthetic context faithfully, safely and self-contained."""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

import mscreview.report as report
from mscreview.report import (
    forest_svg,
    prisma_svg,
    render,
    rob_summary_svg,
    rob_traffic_light_svg,
)
from mscreview.report._format import fmt_ci, fmt_effect, fmt_i2, fmt_p, fmt_weight
from mscreview.report._page import _environment
from tests.report import HOSTILE_TITLE, synthetic_context

SECTIONS = ["summary", "forest-plots", "published-vs-repooled", "source-verification",
            "studies", "risk-of-bias", "prisma", "changes", "downloads"]
SVG_NS = "{http://www.w3.org/2000/svg}"


class _Tags(HTMLParser):
    """Collect (tag, attrs) pairs of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def _section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}"')
    return html[start:html.index("</section>", start)]


def _svg_text(fragment: str) -> str:
    """Return the SVG text lines of ``fragment`` joined by spaces (boxes wrap their text)."""
    return " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", fragment))


def _figure(html: str, analysis_id: str) -> str:
    start = html.index(f'<figure class="forest" id="forest-{analysis_id}"')
    return html[start:html.index("</figure>", start)]


@pytest.fixture(scope="module")
def context() -> dict:
    return synthetic_context()


@pytest.fixture(scope="module")
def html(context: dict) -> str:
    return render(context)


# ----------------------------------------------------------------------------- API
def test_all_is_exactly_the_public_api() -> None:
    public = {name for name in dir(report) if not name.startswith("_")}
    modules = {"forest", "prisma", "rob"}
    assert set(report.__all__) == public - modules
    assert set(report.__all__) == {"render", "load_templates", "forest_svg", "plot_files", "prisma_svg",
                                   "rob_summary_svg", "rob_traffic_light_svg"}


def test_template_environment_autoescapes() -> None:
    env = _environment()
    assert env.autoescape("report.html.j2") is True
    assert env.autoescape("_missing.html.j2") is True


def test_render_is_deterministic(context: dict) -> None:
    assert render(context) == render(copy.deepcopy(context))


# ----------------------------------------------------------------------------- structure
def test_every_section_is_present_once(html: str) -> None:
    ids = [attrs.get("id") for _tag, attrs in _tags(html)]
    for section in SECTIONS:
        assert ids.count(section) == 1, section


def test_one_forest_figure_per_analysis_with_data(html: str, context: dict) -> None:
    drawn = [a for a in context["analyses"] if a["status"] != "no_data"]
    assert len(drawn) == 4 and html.count('<figure class="forest"') == len(drawn)
    for analysis in drawn:
        figure = _figure(html, analysis["id"])
        assert "<figcaption>" in figure
        assert analysis["title"] in figure


@pytest.mark.parametrize("analysis_id", ["meld-3m", "alb-6m", "death-12m", "hcc-24m"])
def test_square_count_equals_study_count(html: str, context: dict, analysis_id: str) -> None:
    analysis = next(a for a in context["analyses"] if a["id"] == analysis_id)
    figure = _figure(html, analysis_id)
    assert figure.count('class="study-square"') == len(analysis["rows"])


def test_square_area_is_proportional_to_weight(context: dict) -> None:
    analysis = context["analyses"][0]
    svg = ET.fromstring(forest_svg(analysis, inline=False))
    sides = {r.get("data-study"): float(r.get("width")) for r in svg.iter(f"{SVG_NS}rect")
             if r.get("class") == "study-square"}
    weights = {row["study_id"]: row["weight"] for row in analysis["rows"]}
    ratios = {sid: sides[sid] ** 2 / weights[sid] for sid in weights}
    assert max(ratios.values()) == pytest.approx(min(ratios.values()), rel=0.03)


def test_pooled_plot_shows_weights_effects_and_test_lines(html: str) -> None:
    figure = _figure(html, "meld-3m")
    for text in ["31.5%", "40.2%", "12.1%", "16.2%", "100.0%", "-1.90 [-3.92, 0.12]",
                 "-1.71 [-2.79, -0.62]", "Total (95% CI)", "Prediction interval",
                 "Heterogeneity: Tau² = 0.31; Chi² = 4.20, df = 3 (P = 0.24); I² = 29%",
                 "Test for overall effect: Z = 2.61 (P = 0.009)",
                 "Favours MSC", "Favours control", "Mean Difference", "IV, Random, 95% CI"]:
        assert text in figure, text
    assert figure.count('class="total-diamond"') == 1
    assert figure.count('class="pi-bar"') == 1
    assert "(a) combined 2 MSC arms" in figure


def test_continuous_rows_show_arm_mean_sd_n(context: dict) -> None:
    svg = forest_svg(context["analyses"][0])
    texts = re.findall(r">([^<>]*)</text>", svg)
    for value in ["-2.1", "3.4", "20", "-0.2", "3.1"]:
        assert value in texts


def test_a_forest_beyond_the_page_limit_draws_its_first_rows_and_says_so(context: dict) -> None:
    """The page draws at most PAGE_FOREST_ROWS study rows per forest plot (5,000 trials made
    a 100 MB page); the row in their place names the plot file that draws every trial, and the
    totals stay those of every trial. Without a limit (the plot file) every row is drawn."""
    analysis = copy.deepcopy(next(a for a in context["analyses"] if a["id"] == "alb-6m"))
    k = len(analysis["rows"])
    assert k >= 3
    page = forest_svg(analysis, max_rows=2)
    assert page.count('class="study-square"') == 2
    more = k - 2
    assert f"\u2026 {more} more trial{'s' if more != 1 else ''} not drawn here" in page
    assert "plots/forest-alb-6m.svg draws every trial" in page
    assert page.count("Subtotal (95% CI)") == 2 and "Total (95% CI)" in page
    full = forest_svg(analysis, inline=False)
    assert full.count('class="study-square"') == k and "not drawn" not in full
    assert forest_svg(analysis, max_rows=k) == forest_svg(analysis)
    assert report._page.PAGE_FOREST_ROWS >= 100


def test_subgroups_have_subtotals_and_difference_test(html: str) -> None:
    figure = _figure(html, "alb-6m")
    assert figure.count("Subtotal (95% CI)") == 2
    assert figure.count('class="subtotal-diamond"') == 2
    assert "Bone marrow" in figure and "Umbilical cord" in figure
    assert "Test for subgroup differences: Chi² = 0.81, df = 1 (P = 0.37), I² = 0.0%" in figure
    assert "55.0%" in figure  # subtotal weight


def test_ratio_measure_uses_log_axis_with_events(html: str, context: dict) -> None:
    figure = _figure(html, "death-12m")
    assert "log axis" in figure
    ticks = re.findall(r'font-size="10" text-anchor="middle">([^<]+)</text>', figure)
    assert "1" in ticks and "0.1" in ticks and "10" in ticks
    assert "Risk Ratio" in figure and "Events" in figure and "Total events" in figure
    assert "(P &lt; 0.00001)" in figure
    # Eta 2013's interval runs off the left of the axis: drawn with an arrow
    assert 'class="ci-arrow"' in figure


def test_single_study_is_drawn_but_not_pooled(html: str) -> None:
    figure = _figure(html, "hcc-24m")
    assert 'class="not-pooled"' in figure
    assert "1 trial \u2014 not pooled: Only one study reports HCC at 24 months." in figure
    assert "1 trial \u2014 not pooled" in figure[:figure.index("</figcaption>")]  # the badge
    assert "total-diamond" not in figure


def test_single_trial_label_is_the_models_label() -> None:
    from mscreview.models import SINGLE_LABEL
    from mscreview.report.forest import SINGLE_LABEL as drawn

    assert drawn == SINGLE_LABEL


def test_no_data_analyses_collapse_into_one_table(html: str) -> None:
    assert '<figure class="forest" id="forest-bili-12m"' not in html
    start = html.index('<table class="data compact no-data">')
    table = html[start:html.index("</table>", start)]
    assert "Total bilirubin" in table  # the outcome heads its group
    row = table[table.index('<tr id="forest-bili-12m">'):]
    row = row[:row.index("</tr>")]
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)
    assert cells[0] == "At 12 months" and cells[1:3] == ["1", "1"]
    assert 'href="#call-for-data"' in cells[3]  # Alpha 2001 is in the call for data
    assert '<a href="#call-alpha2001">Alpha 2001</a>' in table
    section = _section(html, "forest-plots")
    assert "Of the 5 planned analyses, <strong>3 are pooled</strong>" in section
    assert "<strong>1</strong> rests on one trial" in section
    assert "<strong>1 has no usable data yet</strong>" in section


def test_a_hand_made_context_without_overview_still_draws_every_analysis(context: dict) -> None:
    bare = {k: v for k, v in context.items() if not k.endswith("_overview")}
    html = render(bare)
    assert html.count('<figure class="forest"') == len(context["analyses"])
    assert "No data to pool" in _figure(html, "bili-12m")


# ----------------------------------------------------------------------------- other sections
def test_published_vs_repooled_lists_missing_numbers(html: str) -> None:
    section = _section(html, "published-vs-repooled")
    assert "not re-pooled" in section
    assert "pools time points twice; not re-pooled" in section
    assert 'href="#call-for-data"' in section and 'id="call-alpha2001"' in section
    for text in ["Gamma 2005", "Alpha 2001", "Total bilirubin", "12 months", "control", "MSC",
                 "gamma2005-paper, Table 2", "seedB-4"]:
        assert text in section, text
    assert "-1.71 [-2.79, -0.62]" in section and "P &lt; 0.001" in section


def test_studies_section_has_its_tables(html: str) -> None:
    section = _section(html, "studies")
    # included studies; excluded ones with the reason (folded); adverse events; deaths and HCC
    assert section.count("<table") == 4
    assert 'id="cap-chars">Characteristics of the 2 included studies (of 3 assessed).' in section
    assert "no usable outcome" in section and "3 transient fevers" in section
    assert "2/20" in section and "HCC" in section


def test_risk_of_bias_has_both_palettes_and_a_css_switch(html: str) -> None:
    section = _section(html, "risk-of-bias")
    for colour in ["#02C100", "#E2DF07", "#BF0000", "#4EA1F7", "#FED98E", "#D95F0E"]:
        assert colour in section
    assert 'type="checkbox" class="palette-toggle"' in section
    assert ".palette-toggle:checked ~ .rob-compare .rob-cb { display: block; }" in html
    assert section.count('class="rob-dot') == 2 * 3 * 4


def test_rob_summary_percentages(context: dict) -> None:
    svg = rob_summary_svg(context["risk_of_bias"])
    assert ">67%<" in svg and ">33%<" in svg and ">100%<" in svg


def test_unknown_palette_is_refused(context: dict) -> None:
    with pytest.raises(ValueError, match="palette"):
        rob_traffic_light_svg(context["risk_of_bias"], palette="rainbow")


def test_prisma_two_rounds_shows_previous_studies(html: str) -> None:
    section = _svg_text(_section(html, "prisma"))
    for text in ["Previous studies", "Studies included in previous version of review (n = 6)",
                 "New studies included in review (n = 2)",
                 "Total studies included in review (n = 8)", "CENTRAL (n = 8)",
                 "Duplicate records removed (n = 12)", "no control arm (n = 2)"]:
        assert text in section, text


def test_prisma_first_round_has_no_previous_column(context: dict) -> None:
    prisma = {"rounds": context["prisma"]["rounds"][:1], "included_previous": 0,
              "included_total": 6}
    svg = prisma_svg(prisma)
    assert "Previous studies" not in svg
    assert "Studies included in review (n = 6)" in svg


def test_changes_lists_moves_and_first_version(html: str, context: dict) -> None:
    section = _section(html, "changes")
    assert "0.1.0" in section and "Eta 2013" in section
    assert "statistical significance changed" in section
    first = copy.deepcopy(context)
    first["changes"] = {"previous_version": None, "trials_added": [], "values_changed": [],
                        "estimates_moved": [], "first_version": True}
    assert "first version" in _section(render(first), "changes")


def test_downloads_are_relative_links(html: str) -> None:
    section = _section(html, "downloads")
    assert 'href="data/studies.csv"' in section and 'href="mscreview.duckdb"' in section


# ----------------------------------------------------------------------------- safety
def test_text_is_escaped(html: str) -> None:
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html
    assert HOSTILE_TITLE not in html


def test_svg_text_is_escaped(context: dict) -> None:
    analysis = copy.deepcopy(context["analyses"][0])
    analysis["rows"][0]["label"] = "<b onmouseover=x>Evil</b>"
    analysis["title"] = "</title><script>alert(1)</script>"
    svg = forest_svg(analysis)
    assert "<b " not in svg and "<script" not in svg
    ET.fromstring(svg)  # still well-formed


def test_no_external_resources(html: str) -> None:
    loaders = {"link", "script", "img", "iframe", "source", "video", "audio", "embed",
               "object", "image", "use", "input"}
    for tag, attrs in _tags(html):
        if tag in loaders:
            for key in ("src", "href", "xlink:href", "data", "srcset"):
                value = (attrs.get(key) or "").strip().lower()
                assert not value.startswith(("http:", "https:", "//")), (tag, key, value)
    assert "@import" not in html and not re.search(r"url\(\s*['\"]?(https?:)?//", html)


def test_no_javascript(html: str) -> None:
    assert "<script" not in html.lower()
    assert not re.search(r"\son[a-z]+\s*=", html)
    assert "javascript:" not in html.lower()


# ----------------------------------------------------------------------------- accessibility
def test_every_svg_has_role_title_and_desc(html: str) -> None:
    svgs = re.findall(r"<svg\b[^>]*>.*?</svg>", html, flags=re.S)
    assert len(svgs) == 4 + 4 + 1  # forests with data, RoB (2 palettes x 2 plots), PRISMA
    for svg in svgs:
        assert 'role="img"' in svg.split(">", 1)[0]
        assert re.search(r"<title id=\"[^\"]+\">[^<]+</title><desc id=\"[^\"]+\">[^<]+</desc>",
                         svg)


def test_standalone_svgs_are_well_formed(context: dict) -> None:
    svgs = [forest_svg(a, inline=False) for a in context["analyses"]]
    svgs += [rob_traffic_light_svg(context["risk_of_bias"], p, inline=False)
             for p in ("cochrane", "colourblind")]
    svgs += [rob_summary_svg(context["risk_of_bias"], inline=False),
             prisma_svg(context["prisma"], inline=False)]
    for svg in svgs:
        root = ET.fromstring(svg)
        assert root.get("role") == "img"
        assert root.find(f"{SVG_NS}title").text
        assert root.find(f"{SVG_NS}desc").text
        assert root.get("width") and root.get("height")


def test_tables_have_captions_and_scoped_headers(html: str) -> None:
    assert html.count("<table") == html.count("<caption")
    for tag, attrs in _tags(html):
        if tag == "th":
            assert attrs.get("scope") in {"col", "row", "colgroup", "rowgroup"}


def test_page_is_responsive_and_printable(html: str) -> None:
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "@media print" in html
    assert len(re.findall(r'class="table-wrap[ "]', html)) == html.count("<table")


def test_empty_context_still_renders() -> None:
    html = render({})
    for section in SECTIONS:
        assert f'id="{section}"' in html
    assert "first version" in html


# ----------------------------------------------------------------------------- formatting
@pytest.mark.parametrize(("value", "expected"), [
    (0.0000004, "P < 0.00001"), (0.00004, "P = 0.00004"), (0.0004, "P = 0.0004"),
    (0.0094, "P = 0.009"), (0.14, "P = 0.14"), (0.999, "P = 1.00"), ("<0.001", "P < 0.001"),
    (None, "\u2014"),
])
def test_p_values_follow_revman(value: object, expected: str) -> None:
    assert fmt_p(value) == expected


def test_effects_weights_and_i2_follow_revman() -> None:
    assert fmt_effect(-1.234) == "-1.23"
    assert fmt_effect(-0.001) == "0.00"
    assert fmt_ci(0.2, 4.9) == "[0.20, 4.90]"
    assert fmt_weight(31.46) == "31.5%"
    assert fmt_i2(28.6) == "29%"


def test_fixed_effect_generic_analysis_without_arm_data(context: dict) -> None:
    analysis = copy.deepcopy(context["analyses"][0])
    analysis.update(model="fixed", data_kind="generic", measure="HR", scale="log")
    for row in analysis["rows"]:
        row.update(exp=None, ctl=None, effect=abs(row["effect"]) + 0.1,
                   ci_low=0.05, ci_high=abs(row["ci_high"]) + 1)
    analysis["rows"][1]["effect"] = None  # not estimable: no square
    svg = forest_svg(analysis)
    text = _svg_text(svg)
    assert "Heterogeneity: Chi² = 4.20, df = 3 (P = 0.24); I² = 29%" in text
    assert "Tau²" not in text and "Mean" not in text
    assert "Hazard Ratio" in text and "IV, Fixed, 95% CI" in text
    assert "Not estimable" in text
    assert svg.count('class="study-square"') == len(analysis["rows"]) - 1


def test_forest_footnotes_say_flags_in_words(context: dict) -> None:
    """A row flag of the views is a footnote a reader can read, not a code of the SQL."""
    a = copy.deepcopy(next(x for x in context["analyses"] if x.get("rows")))
    a["rows"][0]["flags"] = ["sd_from_iqr_wan2014", "experimental_arms_combined", "new_flag_x"]
    svg = forest_svg(a)
    assert "(a) SD estimated from the interquartile range (Wan 2014)" in svg
    assert "(b) MSC arms combined into one group" in svg
    assert "(c) new flag x" in svg
    assert "sd_from_iqr_wan2014" not in svg


def test_changes_name_each_estimates_measure(context: dict) -> None:
    """An MD and an SMD of the same trial differ; the table must say which is which."""
    moved = copy.deepcopy(context)
    new = {"estimate": -1.5, "ci_low": -3.49, "ci_high": 0.49}
    moved["changes"]["estimates_moved"] = [
        {"analysis_id": "meld-3m", "title": "MELD score, main", "measure": "MD", "old": None,
         "new": {**new, "k": 1}, "significance_flipped": False},
        {"analysis_id": "meld-time-3m", "title": "MELD score at 3 months", "measure": "SMD",
         "old": None, "new": {"estimate": -0.48, "ci_low": -1.14, "ci_high": 0.18, "k": 1},
         "significance_flipped": False}]
    text = re.sub(r"<[^>]+>", "", _section(render(moved), "changes"))
    assert "MD -1.50 [-3.49, 0.49]" in text
    assert "SMD -0.48 [-1.14, 0.18]" in text


def test_not_assessable_robustness_names_analyses_apart(context: dict) -> None:
    """A main analysis and a dose meta-regression of one outcome are not listed as twins."""
    ctx = copy.deepcopy(context)
    ctx["robustness"] = {"analyses": [
        {"analysis_id": "meld-3m", "title": "MELD score, main time point", "outcome_label":
         "MELD score", "main": True, "status": "not_assessable", "reason": "not assessable: k = 0"},
        {"analysis_id": "meld-dose", "title": "MELD score by cell dose", "outcome_label":
         "MELD score", "main": False, "status": "not_assessable",
         "reason": "not assessable: k = 0"}]}
    text = re.sub(r"<[^>]+>", "", _section(render(ctx), "robustness"))
    assert "MELD score (k = 0); MELD score by cell dose (k = 0)." in text


def test_summary_row_without_data_says_so_once(context: dict) -> None:
    """'No usable data: No included trial has usable ...' said it twice."""
    ctx = copy.deepcopy(context)
    base = {k: v for k, v in ctx["summary"][0].items() if k not in ("certainty", "estimate")}
    ctx["summary"] = [
        {**base, "status": "no_data", "certainty": None, "missing_text":
         "No included trial has usable MELD score data at the main time window (3 months)."},
        {**base, "outcome_label": "Albumin", "status": "no_data", "certainty": None,
         "missing_text": "2 values missing (see the call for data)."}]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", _section(render(ctx), "summary")))
    assert "No usable data: No included" not in text
    assert " No included trial has usable MELD score data" in text
    assert "No usable data: 2 values missing" in text


def test_prisma_boxes_the_reports_of_new_studies_and_ongoing_studies(context: dict) -> None:
    """Every assessed report has a box: excluded, a report of an included study, or ongoing."""
    prisma = copy.deepcopy(context["prisma"])
    prisma["rounds"][-1].update(reports_included=3, awaiting=2)
    text = " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", prisma_svg(prisma)))
    assert "Reports of new included studies (n = 3)" in text
    assert "Ongoing studies, awaiting results (n = 2)" in text
    del prisma["rounds"][-1]["reports_included"], prisma["rounds"][-1]["awaiting"]
    text = " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", prisma_svg(prisma)))
    assert "Reports of" not in text and "Ongoing" not in text  # no candidates: no boxes


def test_prisma_names_a_single_registry_once(context: dict) -> None:
    prisma = copy.deepcopy(context["prisma"])
    prisma["rounds"][-1]["identified"] = {"Trial registries": 12}
    prisma["rounds"][-1]["identified_detail"] = {"Trial registries": {"ClinicalTrials.gov": 12}}
    text = " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", prisma_svg(prisma)))
    assert "ClinicalTrials.gov (n = 12)" in text and "Trial registries" not in text


def test_moved_estimates_name_a_shared_criterion_once(context: dict) -> None:
    """QA: 'by 95% CI excluding no effect' repeated on every row of the moved-estimates table."""
    ctx = copy.deepcopy(context)
    first = ctx["changes"]["estimates_moved"][0]
    second = {**first, "analysis_id": "meld-6m", "title": "MELD score at 6 months"}
    ctx["changes"]["estimates_moved"] = [{**first, "criterion": "the same rule"},
                                         {**second, "criterion": "the same rule"}]
    section = _section(render(ctx), "changes")
    assert section.count("the same rule") == 1 and "Conclusion judged by the same rule." in section
    ctx["changes"]["estimates_moved"][1]["criterion"] = "another rule"
    section = _section(render(ctx), "changes")
    assert section.count("by the same rule") == 1 and section.count("by another rule") == 1
