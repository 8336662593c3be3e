"""mscreview build end to end on synthetic packages (tests/fixtures), never on invented evidence."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from mscreview.cli import cli
from mscreview.pipeline.build import build
from mscreview.pipeline.release import keep_version
from tests.conftest import FIXTURES, ROOT, make_package, tree_digest

TRIAL = FIXTURES / "trials" / "complete.yaml"


def _add_trial(pkg: Path) -> None:
    result = CliRunner().invoke(cli, ["add-trial", str(TRIAL), "--package", str(pkg)])
    assert result.exit_code == 0, result.output


def _set_version(pkg: Path, version: str) -> None:
    desc = json.loads(pkg.read_text())
    desc["version"] = version
    pkg.write_text(json.dumps(desc, indent=2) + "\n")


@pytest.fixture
def two_trials(tmp_path: Path) -> Path:
    """Synthetic package: the fixture trial plus the add-trial fixture (MELD at 3 months each)."""
    pkg = make_package(tmp_path)
    _add_trial(pkg)
    return pkg


def test_build_pools_and_renders(two_trials: Path) -> None:
    out = two_trials.parent / "reports"
    index = build(two_trials, out, quiet=True)
    results = json.loads((out / "results.json").read_text())
    meld = next(a for a in results["analyses"] if a["id"] == "meld-overall")
    assert meld["status"] == "pooled"
    assert {r["study_id"] for r in meld["rows"]} == {"testa2020", "zeta2030"}
    assert meld["total"]["k"] == 2
    html = index.read_text()
    assert 'id="forest-meld-overall"' in html
    assert "Zeta 2030" in html and "Testa 2020" in html
    assert results["data_hash"].startswith("sha256:")
    assert (out / "mscreview.duckdb").exists() and any((out / "parquet").glob("*.parquet"))
    svg = (out / "plots" / "forest-meld-overall.svg").read_text()
    assert svg.startswith("<svg") and "Zeta 2030" in svg
    assert (out / "plots" / "prisma.svg").exists() and (out / "plots" / "rob-summary-mscreview.svg").exists()


def test_albumin_units_are_harmonised_for_the_smd(two_trials: Path) -> None:
    # zeta2030 prints MSC albumin in g/dL and control in g/L; the view converts before pooling
    out = two_trials.parent / "reports"
    build(two_trials, out, quiet=True)
    alb = next(a for a in json.loads((out / "results.json").read_text())["analyses"]
               if a["id"] == "alb-overall")
    row = next(r for r in alb["rows"] if r["study_id"] == "zeta2030")
    assert row["exp"]["mean"] == pytest.approx(33.5)


def test_rebuild_is_byte_identical(two_trials: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    out = two_trials.parent / "reports"
    build(two_trials, out, quiet=True)
    first = [(out / n).read_bytes() for n in ("index.html", "results.json")]
    build(two_trials, out, quiet=True)
    assert [(out / n).read_bytes() for n in ("index.html", "results.json")] == first
    assert b"2023-11-14T22:13:20Z" in first[1]


def test_failed_build_leaves_previous_report_untouched(two_trials: Path) -> None:
    out = two_trials.parent / "reports"
    build(two_trials, out, quiet=True)
    before = tree_digest(out)
    bad = two_trials.parent / "data" / "continuous_outcomes.csv"
    bad.write_text(bad.read_text().replace(",sd,3.1,", ",sd,0,", 1))
    result = CliRunner().invoke(cli, ["build", "--package", str(two_trials), "--out", str(out),
                                      "--quiet"])
    assert result.exit_code == 1
    assert "sd-not-positive" in result.output
    assert tree_digest(out) == before
    assert not [p for p in out.iterdir() if p.name.startswith(".tmp")]


def test_new_trial_reaches_db_forest_results_and_changes(tmp_path: Path) -> None:
    """Issue 7's end-to-end check: add a trial, rebuild, find it everywhere."""
    pkg = make_package(tmp_path)
    out = tmp_path / "reports"
    build(pkg, out, quiet=True)
    keep_version(tmp_path, "0.1.0")
    _set_version(pkg, "0.2.0")
    _add_trial(pkg)
    build(pkg, out, quiet=True)
    con = duckdb.connect(str(out / "mscreview.duckdb"), read_only=True)
    assert con.execute("SELECT label FROM studies WHERE study_id = 'zeta2030'").fetchone() == (
        "Zeta 2030",)
    con.close()
    results = json.loads((out / "results.json").read_text())
    meld = next(a for a in results["analyses"] if a["id"] == "meld-overall")
    assert "zeta2030" in {r["study_id"] for r in meld["rows"]}
    changes = results["changes"]
    assert changes["previous_version"] == "0.1.0"
    assert changes["trials_added"] == ["Zeta 2030"]
    moved = {m["analysis_id"]: m for m in changes["estimates_moved"]}
    assert moved["meld-overall"]["old"]["k"] == 1 and moved["meld-overall"]["new"]["k"] == 2
    html = (out / "index.html").read_text()
    section = html[html.index('id="changes"'):]
    assert "Zeta 2030" in section[: section.index("</section>")]
    forest = html[html.index('id="forest-meld-overall"'):]
    assert "Zeta 2030" in forest[: forest.index("</figure>")]


def test_shipped_package_builds(tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(ROOT / "datapackage.json", out, quiet=True)
    results = json.loads((out / "results.json").read_text())
    assert len(results["published_vs_repooled"]) == len(
        (ROOT / "data" / "published_results.csv").read_text().splitlines()) - 1
    ids = {a["id"] for a in results["analyses"]}
    assert {"meld-overall", "alb-overall", "death-longest"} <= ids
    # every analysis either pooled or says why not
    assert all(a["status"] != "no_data" or a["reason"] for a in results["analyses"])


def test_diff_reports_a_changed_value_by_its_key(tmp_path: Path) -> None:
    root = tmp_path
    make_package(root)
    shutil.copy(ROOT / "CHANGELOG.md", root / "CHANGELOG.md")
    import subprocess

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.email=t@t", "-c", "user.name=t", "add", "-A")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "base")
    git("tag", "v0.1.0")
    csv_path = root / "data" / "arms.csv"
    csv_path.write_text(csv_path.read_text().replace("msc,experimental,MSC,20,19",
                                                     "msc,experimental,MSC,20,18"))
    from mscreview.pipeline.diff import diff_states, render_diff

    d = diff_states(root, "0.1.0")
    changed = d.rows["arms"]["changed"]
    assert changed == [(("testa2020", "msc"), {"n_analysed": ("19", "18")})]
    assert "changed testa2020 / msc: n_analysed: '19' -> '18'" in render_diff(d)


def test_diff_finds_an_untagged_release_by_its_kept_results(tmp_path: Path) -> None:
    import subprocess

    root = tmp_path
    make_package(root)
    version_dir = root / "reports" / "versions" / "0.1.0"
    version_dir.mkdir(parents=True)
    (version_dir / "results.json").write_text('{"analyses": []}')

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(root), "-c", "user.email=t@t", "-c", "user.name=t", *args],
                       check=True, capture_output=True)

    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "release 0.1.0")
    studies = root / "data" / "studies.csv"
    studies.write_text(studies.read_text().replace("SYNTHETIC fixture trial", "SYNTHETIC trial"))
    from mscreview.pipeline.diff import diff_states

    d = diff_states(root)  # default: the last release (0.1.0) against the working tree
    assert d.old == "0.1.0"
    assert [k for k, _ in d.rows["studies"]["changed"]] == [("testa2020",)]
    # the tag's name, as CONTRIBUTING spells it (vX.Y.Z), names the same release
    tagged = diff_states(root, "v0.1.0")
    assert tagged.old == "0.1.0" and tagged.rows == d.rows


def test_csv_downloads_neutralise_formulas(tmp_path: Path) -> None:
    pkg = make_package(tmp_path)
    studies = tmp_path / "data" / "studies.csv"
    studies.write_text(studies.read_text().replace(",Table 1,\n", ',Table 1,"=HYPERLINK(""x"")"\n'))
    build(pkg, tmp_path / "out", quiet=True)
    download = (tmp_path / "out" / "data" / "studies.csv").read_text()
    assert ",Table 1,\"'=HYPERLINK(\"\"x\"\")\"\n" in download
    assert studies.read_text() != download  # the package itself keeps the value as written


def test_extreme_values_are_refused_not_crashed(two_trials: Path) -> None:
    # a mean of 1e300 (range checked) crashed the build with a KeyError; now validation stops it
    data = two_trials.parent / "data" / "continuous_outcomes.csv"
    lines = data.read_text().splitlines(keepends=True)
    lines[1] = lines[1].replace(",mean,15.0,sd,3.1,,,none,,,", ",mean,1e300,sd,3.1,,,none,true,,")
    data.write_text("".join(lines))
    result = CliRunner().invoke(cli, ["build", "--package", str(two_trials), "--out",
                                      str(two_trials.parent / "out"), "--quiet"])
    assert result.exit_code == 1
    assert "extreme-number" in result.output and "Traceback" not in result.output
    assert not (two_trials.parent / "out").exists()
