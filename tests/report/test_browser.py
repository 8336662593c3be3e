"""The rendered report in headless Chromium: loads nothing, logs no errors, fits 360 px."""

from __future__ import annotations

from pathlib import Path

import pytest

from mscreview.report import render
from tests.report import synthetic_context
from tests.report.conftest import ARGS, CHROMIUM  # noqa: F401  (ARGS: used by other browser tests)
from tests.report.conftest import open_page as _open

SECTIONS = ["summary", "forest-plots", "published-vs-repooled", "audit", "source-verification",
            "studies", "risk-of-bias", "prisma", "changes", "downloads"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium"),
]

# Elements whose box sticks out of the viewport, other than those inside a horizontal
# scroll wrapper (tables and plots scroll inside their own box by design).
_OVERFLOW_JS = """
() => {
  const vw = document.documentElement.clientWidth;
  const bad = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.left >= -1 && r.right <= vw + 1) continue;
    if (el.closest('.table-wrap, .plot-scroll')) continue;
    bad.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className.baseVal ?? el.className}`
             + ` [${Math.round(r.left)}, ${Math.round(r.right)}]`);
  }
  return {bad, scrollWidth: document.documentElement.scrollWidth, vw};
}
"""


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "index.html"
    path.write_text(render(synthetic_context()), encoding="utf-8")
    return path


def test_sections_figures_console_and_network(browser: object, report_file: Path) -> None:
    url = report_file.as_uri()
    page, errors, requests = _open(browser, url, 1200)
    try:
        for section in SECTIONS:
            assert page.locator(f"section#{section}").count() == 1, section
        analyses = [a for a in synthetic_context()["analyses"] if a["status"] != "no_data"]
        assert page.locator("figure.forest").count() == len(analyses)
        for analysis in analyses:
            figure = page.locator(f"figure.forest[id='forest-{analysis['id']}']")
            assert figure.locator("figcaption").count() == 1
            assert figure.locator("svg[role='img'] title").count() == 1
        assert page.locator("script").count() == 0
        assert errors == []
        assert requests, "the page itself should have been requested"
        for request in requests:
            assert request == url or request.startswith("data:"), request
    finally:
        page.close()


def test_colour_blind_palette_switch_works_without_script(browser: object,
                                                          report_file: Path) -> None:
    page, errors, _ = _open(browser, report_file.as_uri(), 1200)
    try:
        default, blind = page.locator(".rob-default").first, page.locator(".rob-cb").first
        assert default.is_visible() and not blind.is_visible()
        page.locator(".palette-switch label").first.click()
        assert blind.is_visible() and not default.is_visible()
        assert errors == []
    finally:
        page.close()


def test_layout_fits_a_360px_screen(browser: object, report_file: Path) -> None:
    page, errors, _ = _open(browser, report_file.as_uri(), 360)
    try:
        result = page.evaluate(_OVERFLOW_JS)
        assert result["bad"] == []
        assert result["scrollWidth"] <= result["vw"]
        # plots keep a legible size and scroll inside their wrapper instead
        widths = page.eval_on_selector_all(
            "figure.forest .plot-scroll", "els => els.map(e => e.scrollWidth)")
        assert max(widths) > 360
        assert errors == []
    finally:
        page.close()


def test_print_stylesheet_applies(browser: object, report_file: Path) -> None:
    page, _, _ = _open(browser, report_file.as_uri(), 1200)
    try:
        page.emulate_media(media="print")
        assert not page.locator("nav.toc").is_visible()
        assert page.locator(".rob-default").first.is_visible()
    finally:
        page.close()
