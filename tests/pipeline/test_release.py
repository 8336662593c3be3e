"""``mscreview release`` is one transaction (issue 14, item 7); its failures are one line.

The kill-at-any-point test is in test_kill.py. Synthetic packages only.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mscreview.cli import cli
from tests.conftest import make_package
from tests.pipeline.publishing import check_report_whole, report_digest

CHANGELOG = "# Changelog\n\n## [Unreleased]\n### Data\n- synthetic change\n\n## [0.1.0] - 2026-01-01\n"


@pytest.fixture
def releasable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    make_package(tmp_path)
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    return tmp_path


def _release(part: str = "minor") -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["release", part])
    return result.exit_code, result.output


def _one_line_error(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    return lines[0]


def test_release_without_changelog_is_one_line(releasable: Path) -> None:
    """A missing CHANGELOG gave a traceback in ``release``."""
    (releasable / "CHANGELOG.md").unlink()
    before = report_digest(releasable)
    code, output = _release()
    assert code == 1
    assert _one_line_error(output) == (
        "error: CHANGELOG.md: not found in .; a release moves its [Unreleased] entries under the "
        "new version")
    assert report_digest(releasable) == before


def test_release_with_only_headings_under_unreleased_is_refused(releasable: Path) -> None:
    """QA: 'release' went ahead when [Unreleased] held only its '### Data' heading."""
    (releasable / "CHANGELOG.md").write_text(CHANGELOG.replace("- synthetic change\n", ""))
    before = report_digest(releasable)
    code, output = _release()
    assert code == 1
    assert _one_line_error(output) == ("error: CHANGELOG.md: nothing under [Unreleased] to "
                                       "release (headings alone are not entries)")
    assert report_digest(releasable) == before


def test_release_with_a_bad_source_date_epoch_is_one_line(releasable: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "tomorrow")
    before = report_digest(releasable)
    code, output = _release()
    assert code == 1 and "SOURCE_DATE_EPOCH" in _one_line_error(output)
    assert report_digest(releasable) == before


def test_release_of_an_invalid_package_changes_nothing(releasable: Path) -> None:
    arms = releasable / "data" / "arms.csv"
    arms.write_text(arms.read_text().replace(",20,19,", ",20,21,"))
    before = report_digest(releasable)
    code, output = _release()
    assert code == 1 and "n-analysed-exceeds-randomised" in output
    assert report_digest(releasable) == before


def test_release_publishes_the_report_of_the_version_it_makes(releasable: Path) -> None:
    code, output = _release()
    assert code == 0, output
    manifest = check_report_whole(releasable / "reports")
    assert manifest is not None and manifest["data_version"] == "0.2.0"
    kept = releasable / "reports" / "versions" / "0.2.0" / "results.json"
    assert kept.read_bytes() == (releasable / "reports" / "results.json").read_bytes()
    assert json.loads((releasable / "datapackage.json").read_text())["version"] == "0.2.0"
    # an existing kept version is refused before anything is written
    desc = json.loads((releasable / "datapackage.json").read_text())
    desc["version"] = "0.1.0"
    (releasable / "datapackage.json").write_text(json.dumps(desc, indent=2) + "\n")
    (releasable / "CHANGELOG.md").write_text(CHANGELOG)
    before = report_digest(releasable)
    code, output = _release()
    assert code == 1 and "0.2.0 already exists" in _one_line_error(output)
    assert report_digest(releasable) == before
