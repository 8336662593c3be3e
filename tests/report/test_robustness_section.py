"""The robustness section: every panel of the 12-trial synthetic package, in real Chromium.

The section renders ``results.json``'s ``robustness`` record (tests/synthetic.py package, built
once per session); the shipped-like compact form is checked in tests/pipeline/test_robustness.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mscreview.report import render
from mscreview.report._robust import robustness_svg

PANELS = ["subsets-svg", "loo-svg", "cumulative-svg", "funnel-svg", "trajectory-svg", "tsa-svg"]



@pytest.fixture(scope="module")
def results(synthetic_trials_build: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((synthetic_trials_build / "results.json").read_text())


def test_section_lists_every_assessed_analysis(results: dict) -> None:  # type: ignore[type-arg]
    html = render(results)
    section = html[html.index('<section id="robustness"'):]
    section = section[:section.index("</section>")]
    assessed = [a for a in results["robustness"]["analyses"] if a["status"] == "assessed"]
    main = [a for a in assessed if a["main"]]
    assert section.count('<details class="robust"') == len(assessed) == len(main) + 2
    assert len(main) == 8  # and the two dose analyses with their dose meta-regression only
    assert section.count('class="robust-svg funnel-svg"') == 8
    assert section.count('class="robust-svg bubble-svg"') == 8 * 4 + 2
    assert section.count('class="robust-svg tsa-svg"') == 8
    assert "exploratory" in section and "TSA-adjusted 95% CI" in section
    assert "not assessable (k &lt; 10)" not in section


def test_small_study_panel_says_not_assessable_below_ten(results: dict) -> None:  # type: ignore[type-arg]
    ctx = json.loads(json.dumps(results))
    a = next(x for x in ctx["robustness"]["analyses"] if x["analysis_id"] == "meld-overall")
    a["small_study"] = {"status": "not_assessable", "reason": "not assessable (k = 9 < 10)"}
    html = render(ctx)
    start = html.index('id="robust-meld-overall"')
    block = html[start:html.index('<details class="robust"', start)]
    assert "not assessable (k = 9 &lt; 10)" in block and "funnel-svg" not in block


def test_figures_escape_labels(results: dict) -> None:  # type: ignore[type-arg]
    a = json.loads(json.dumps(next(x for x in results["robustness"]["analyses"]
                                   if x["analysis_id"] == "alb-overall")))
    a["leave_one_out"]["rows"][0]["label"] = "<script>x</script>"
    svg = robustness_svg("loo", a["leave_one_out"]["rows"], a)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    with pytest.raises(ValueError):
        robustness_svg("pie", [], a)



def test_long_leave_one_out_and_cumulative_are_thinned_on_the_page_and_say_so(
        results: dict) -> None:  # type: ignore[type-arg]
    """Thousands of trials: the page draws every j-th leave-one-out and cumulative row and the
    last, and shows the first rows of their tables, each saying where every row is; the plot
    files (no limit) draw every row."""
    ctx = json.loads(json.dumps(results))
    a = next(x for x in ctx["robustness"]["analyses"] if x["analysis_id"] == "alb-overall")
    one = a["leave_one_out"]["rows"][0]
    a["leave_one_out"]["rows"] = [dict(one, label=f"T{i}") for i in range(450)]
    a["influence"]["rows"] = [dict(a["influence"]["rows"][0], label=f"T{i}") for i in range(450)]
    svg = robustness_svg("loo", a["leave_one_out"]["rows"], a, max_rows=200)
    assert svg.count('class="interval-point"') == 150 + 1  # every 3rd of 450 and the last
    assert ("One row in 3 of 450 (and the last) drawn here: plots/leave-one-out-alb-overall.svg"
            " draws every row") in svg
    full = robustness_svg("loo", a["leave_one_out"]["rows"], a)
    assert full.count('class="interval-point"') == 450 and "rows-not-drawn" not in full
    html = render(ctx)
    start = html.index('id="robust-alb-overall"')
    block = html[start:html.index('<details class="robust"', start)]
    assert "250 more rows not shown here (the first 200 of 450)" in block
    assert "250 more trials not shown here (the first 200 of 450" in block
    assert block.count('class="interval-point"') < 200 * 2 + 50


@pytest.mark.browser
@pytest.mark.slow
def test_every_panel_renders_in_chromium(browser: object, synthetic_trials_build: Path,
                                         results: dict) -> None:  # type: ignore[type-arg]
    page = browser.new_page(viewport={"width": 1200, "height": 900})  # type: ignore[attr-defined]
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda req: requests.append(req.url))
    url = (synthetic_trials_build / "index.html").as_uri()
    page.goto(url, wait_until="load")
    closed = page.evaluate("document.querySelector('#robustness').getBoundingClientRect().height")
    page.evaluate("document.querySelectorAll('details.robust').forEach(d => d.open = true)")
    for a in results["robustness"]["analyses"]:
        block = page.locator(f"#robust-{a['analysis_id']}")
        if not a["main"]:
            assert block.locator("svg.bubble-svg").count() == len(a["meta_regression"]) == 1
            continue
        for cls in PANELS:
            svg = block.locator(f"svg.{cls}")
            assert svg.count() == 1, (a["analysis_id"], cls)
            box = svg.bounding_box()
            assert box and box["width"] > 200 and box["height"] > 60, (a["analysis_id"], cls)
        assert block.locator("svg.bubble-svg").count() == len(a["meta_regression"])
        assert block.locator("svg.funnel-svg circle.funnel-point").count() == a["k"]
        assert block.locator("svg.tsa-svg circle.z-point").count() == len(
            a["sequential"]["looks"])
    opened = page.evaluate("document.querySelector('#robustness').getBoundingClientRect().height")
    assert opened > 10 * closed  # collapsed by default: the closed section stays short
    assert closed < 1200
    assert errors == [] and all(r.startswith(("file:", "data:")) for r in requests)
    page.close()
