"""What's new follows the data, not the version number; one trial is labelled one trial everywhere.

Regression tests for issue 10's first two defects, on the synthetic package (tests/fixtures), never
on invented evidence.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mscreview.cli import cli
from mscreview.models import ANALYSIS_STATUSES, SINGLE_LABEL
from mscreview.pipeline.build import build, previous_results
from mscreview.pipeline.diff import Diff, compare_results, render_diff
from mscreview.pipeline.release import keep_version, release
from tests.conftest import FIXTURES, ROOT, make_package

TRIAL = FIXTURES / "trials" / "complete.yaml"


def _results(out: Path) -> dict:
    return json.loads((out / "results.json").read_text())


def _section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}"')
    return html[start:html.index("</section>", start)]


@pytest.fixture
def released(tmp_path: Path) -> Path:
    """The synthetic package (one trial) built and released as 0.1.0, with a CHANGELOG."""
    pkg = make_package(tmp_path)
    shutil.copy(ROOT / "CHANGELOG.md", tmp_path / "CHANGELOG.md")
    build(pkg, tmp_path / "reports", quiet=True)
    keep_version(tmp_path, "0.1.0")
    return pkg


def test_first_trial_appears_in_whats_new_without_a_release(released: Path) -> None:
    """Defect: after add-trial and build, What's new said 'first version' and trials_added []."""
    root = released.parent
    result = CliRunner().invoke(cli, ["add-trial", str(TRIAL), "--package", str(released)])
    assert result.exit_code == 0, result.output
    build(released, root / "reports", quiet=True)  # the version stays 0.1.0: nobody bumped it
    results = _results(root / "reports")
    changes = results["changes"]
    assert results["unreleased"] is True
    assert changes["first_version"] is False and changes["unreleased"] is True
    assert changes["heading"] == "Changes since 0.1.0 (unreleased)"
    assert changes["trials_added"] == ["Zeta 2030"]
    section = _section((root / "reports" / "index.html").read_text(), "changes")
    assert "Changes since 0.1.0 (unreleased)" in section and "Zeta 2030" in section
    assert "first version" not in section


def test_after_release_whats_new_compares_with_the_release_before(released: Path) -> None:
    root = released.parent
    assert CliRunner().invoke(cli, ["add-trial", str(TRIAL), "--package",
                                    str(released)]).exit_code == 0
    changelog = root / "CHANGELOG.md"
    changelog.write_text(changelog.read_text().replace(
        "## [Unreleased]", "## [Unreleased]\n\n### Added\n- Zeta 2030 (synthetic).", 1))
    assert release(root, "minor") == "0.2.0"
    for _ in range(2):  # the release's own build, then a rebuild of the released data
        results = _results(root / "reports")
        assert results["unreleased"] is False
        assert results["changes"]["heading"] == "Changes in 0.2.0 since 0.1.0"
        assert results["changes"]["trials_added"] == ["Zeta 2030"]
        build(released, root / "reports", quiet=True)
    kept = json.loads((root / "reports" / "versions" / "0.2.0" / "results.json").read_text())
    assert kept["changes"]["heading"] == "Changes in 0.2.0 since 0.1.0"


def test_unchanged_release_build_shows_no_unreleased_label(released: Path) -> None:
    root = released.parent
    build(released, root / "reports", quiet=True)
    results = _results(root / "reports")
    assert results["unreleased"] is False
    assert results["changes"]["first_version"] is True  # 0.1.0 is the only release


def test_previous_results_without_any_release(tmp_path: Path) -> None:
    assert previous_results(tmp_path, "0.1.0", "sha256:x") == (None, True)


def test_one_trial_is_labelled_one_trial_not_pooled_everywhere(released: Path) -> None:
    """Defect: the first trial with data showed as 'nothing was pooled' while diff said k = 1."""
    root = released.parent
    one = _results(root / "reports")
    meld = next(a for a in one["analyses"] if a["id"] == "meld-overall")
    assert (meld["status"], meld["k"], meld["total"]["k"]) == ("single_study", 1, 1)
    assert meld["reason"].startswith(SINGLE_LABEL)
    assert {a["status"] for a in one["analyses"]} <= set(ANALYSIS_STATUSES)
    assert all(a["k"] == 0 for a in one["analyses"] if a["status"] == "no_data")
    html = (root / "reports" / "index.html").read_text()
    start = html.index('id="forest-meld-overall"')
    figure = html[start:html.index("</figure>", start)]
    assert figure.count(SINGLE_LABEL) >= 2  # the badge and the plot
    assert "nothing was pooled" not in html and "Total (95% CI)" not in figure
    # the same words in diff and in What's new
    assert CliRunner().invoke(cli, ["add-trial", str(TRIAL), "--package",
                                    str(released)]).exit_code == 0
    build(released, root / "reports", quiet=True)
    two = _results(root / "reports")
    (moved,) = [m for m in compare_results(one, two) if m.analysis_id == "meld-overall"]
    text = render_diff(Diff("0.1.0", "working tree", moved=[moved]))
    assert f"({SINGLE_LABEL}) -> " in text and "(k = 2)" in text
    section = _section((root / "reports" / "index.html").read_text(), "changes")
    assert SINGLE_LABEL in section and "k = 2" in section


def test_trial_without_risk_of_bias_rows_is_not_assessed_not_low(tmp_path: Path) -> None:
    """Defect: a trial with no risk-of-bias rows counted as not at risk ('0 of 1 trials')."""
    pkg = make_package(tmp_path)  # testa2020 has no risk-of-bias rows at all
    assert CliRunner().invoke(cli, ["add-trial", str(TRIAL), "--package", str(pkg)]).exit_code == 0
    out = tmp_path / "reports"
    build(pkg, out, quiet=True)
    results = _results(out)
    (block,) = results["risk_of_bias"]
    studies = {s["study_id"]: s["judgements"] for s in block["studies"]}
    assert set(studies) == {"testa2020", "zeta2030"}
    assert set(studies["testa2020"].values()) == {None}
    assert studies["zeta2030"]["random_sequence_generation"] == "low"
    assert studies["zeta2030"]["allocation_concealment"] is None
    assert block["not_assessed"] == 7 + 6
    meld = next(s for s in results["summary"] if s["outcome"] == "MELD")
    rob_note = meld["certainty"]["footnotes"][0]
    assert rob_note["domain"] == "risk_of_bias"
    not_assessed = rob_note["text"].split("Not assessed in a key domain (counted as unclear): ")[1]
    assert "Testa 2020" in not_assessed and "Zeta 2030" in not_assessed  # none is 'low'
    assert rob_note["judgement"] == "serious"
    section = _section((out / "index.html").read_text(), "risk-of-bias")
    assert section.count('class="rob-dot rob-not_assessed"') == 2 * 13  # both palettes
    assert "rob-bar rob-not_assessed" in section and ">Not assessed<" in section
    assert 'class="j j-not_assessed">Not assessed<' in section


def test_unreadable_kept_results_are_named_not_skipped_silently(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Defect: a corrupt kept results.json was skipped without a word."""
    versions = tmp_path / "reports" / "versions"
    (versions / "0.1.0").mkdir(parents=True)
    (versions / "0.1.0" / "results.json").write_text('{"version": "0.1.0"}', encoding="utf-8")
    (versions / "0.2.0").mkdir()
    (versions / "0.2.0" / "results.json").write_text('{"version": ', encoding="utf-8")
    previous, unreleased = previous_results(tmp_path, "0.3.0", "sha256:x")
    assert (previous, unreleased) == ({"version": "0.1.0"}, True)
    assert capsys.readouterr().err == ("warning: reports/versions/0.2.0/results.json: unreadable "
                                       "(not valid JSON); What's new skips version 0.2.0\n")
