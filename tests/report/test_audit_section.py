"""The audit section and the trustworthiness table of the report (synthetic context, not evidence)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mscreview.pipeline.audit import CHECK_NAMES
from mscreview.report import render
from tests.report import synthetic_context


def audit_context() -> dict[str, Any]:
    """A synthetic context with an audit: one flagged result, one clean, two trials."""
    ctx = synthetic_context()
    ctx["audit"] = {
        "results": [
            {"result_id": "meld-overall", "implied_k": [7, 7], "flags": [
                {"check": "k", "message": "The text gives k = 6 studies, but I² = 45% with "
                 "heterogeneity p = 0.09 fits only k = 7 (Results, MELD <b>score</b>)."}]},
            {"result_id": "alb-route-ha", "implied_k": [4, 80], "flags": []},
            {"result_id": "alb-route-iv", "implied_k": [4, None], "flags": []},
            {"result_id": "alb-dose", "implied_k": None, "flags": []},
        ],
        "trials": [
            {"study_id": "alpha2001", "flags": [
                {"check": "baseline_imbalance", "message": "Baseline arms differ: Stouffer p = "
                 "0.0003 over 4 variables (alpha-paper, Table 1).", "p": 0.0003}]},
            {"study_id": "beta2003", "flags": []},
        ],
    }
    ctx["audit_details"] = {
        "results": {"meld-overall": {"printed": "MD -1.12 [-1.84, -0.40]; p = 0.002; k = 6"}},
        "trials": [{"study_id": "alpha2001", "label": "Alpha 2001",
                    "checked": ["baseline balance (Carlisle): 4 variables"]},
                   {"study_id": "beta2003", "label": "Beta 2003",
                    "checked": ["percentages: 2 against their counts"]}],
        "not_screened": ["Gamma 2005"], "check_names": CHECK_NAMES,
    }
    return ctx


@pytest.fixture(scope="module")
def html() -> str:
    return render(audit_context())


def test_audit_section_lists_flagged_results_with_messages(html: str) -> None:
    assert '<section id="audit"' in html
    assert "1 of 4 results flagged." in html
    assert 'id="audit-meld-overall"' in html
    assert "<strong>number of studies:</strong> The text gives k = 6" in html
    assert "MD -1.12 [-1.84, -0.40]; p = 0.002; k = 6" in html
    assert "MELD &lt;b&gt;score&lt;/b&gt;" in html  # escaped


def test_all_results_with_their_implied_k(html: str) -> None:
    assert "All 4 results with the number of studies" in html
    assert "4&ndash;80" in html and ">4+<" in html


def test_trustworthiness_table_in_source_verification(html: str) -> None:
    section = html[html.index('<section id="source-verification"'):]
    section = section[:section.index("</section>")]
    assert '<h3 id="trustworthiness">Trustworthiness screening</h3>' in section
    assert "Alpha 2001" in section and "baseline imbalance:" in section
    assert "Stouffer p = 0.0003" in section
    assert "none found" in section  # Beta 2003
    assert "No data to screen yet: Gamma 2005." in section


def test_missing_audit_renders_empty_messages() -> None:
    page = render(synthetic_context())
    assert "No published results to audit." in page
    assert "No trial has the numbers these checks need yet." in page



@pytest.fixture(scope="module")
def page_file(tmp_path_factory: pytest.TempPathFactory, html: str) -> Path:
    path = tmp_path_factory.mktemp("audit") / "index.html"
    path.write_text(html, encoding="utf-8")
    return path



@pytest.mark.browser
@pytest.mark.parametrize("width", [360, 1280])
def test_audit_tables_fit_the_screen_in_chromium(browser: object, page_file: Path,
                                                 width: int) -> None:
    from tests.report.test_browser import _OVERFLOW_JS, _open

    page, errors, _ = _open(browser, page_file.as_uri(), width)
    try:
        assert page.locator("section#audit table.data").count() == 2
        assert page.locator("#trustworthiness").is_visible()
        result = page.evaluate(_OVERFLOW_JS)
        assert result["bad"] == [] and result["scrollWidth"] <= result["vw"]
        assert errors == []
    finally:
        page.close()
