"""Publishing a build (issue 14, item 7): what build owns, one atomic step, a lock, one-line errors.

Each test is named after the defect it guards against. Synthetic packages only (tests/fixtures).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mscreview import atomic
from mscreview.cli import cli
from mscreview.pipeline.build import ENTRIES, MANIFEST, build
from tests.conftest import tree_digest
from tests.pipeline.publishing import check_report_whole, mscreview_env, report_digest

BOOKKEEPING = {MANIFEST, atomic.LOCK_NAME}


def _build(pkg: Path, out: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["build", "--package", str(pkg), "--out", str(out), "--quiet",
                                      *extra])
    return result.exit_code, result.output


def _one_line_error(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    assert "Traceback" not in output
    return lines[0]


def test_build_writes_a_manifest_of_everything_it_wrote(synthetic_package: Path,
                                                        tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(synthetic_package, out, quiet=True)
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["entries"] == list(ENTRIES)
    assert "index.html" in manifest["files"] and "parquet/studies.parquet" in manifest["files"]
    check_report_whole(out)
    assert {p.name for p in out.iterdir()} == set(ENTRIES) | BOOKKEEPING


def test_build_out_dot_never_erases_evidence_notes(synthetic_package: Path) -> None:
    """``build --out .`` erased data/evidence-notes/: the package's data folder is not the build's."""
    root = synthetic_package.parent
    notes = root / "data" / "evidence-notes"
    notes.mkdir()
    (notes / "testa2020.md").write_text("# Testa 2020\nsearched everything\n")
    data_before = tree_digest(root / "data")
    code, output = _build(synthetic_package, root)
    assert code == 1 and "not empty" in _one_line_error(output)  # a package folder is not ours
    assert tree_digest(root / "data") == data_before
    code, output = _build(synthetic_package, root, "--force")
    assert code == 0, output
    assert tree_digest(root / "data") == data_before
    manifest = json.loads((root / MANIFEST).read_text())
    assert "data" not in manifest["entries"]  # the report links to the package's own data/
    code, output = _build(synthetic_package, root)  # the second build needs no --force
    assert code == 0, output
    assert tree_digest(root / "data") == data_before
    check_report_whole(root)


def test_build_refuses_a_foreign_non_empty_folder(synthetic_package: Path, tmp_path: Path) -> None:
    out = tmp_path / "mine"
    (out / "parquet").mkdir(parents=True)
    (out / "parquet" / "precious.parquet").write_bytes(b"PAR1")
    (out / "notes.txt").write_text("keep me")
    before = tree_digest(out)
    code, output = _build(synthetic_package, out)
    assert code == 1
    assert "no mscreview build wrote it" in _one_line_error(output)
    assert tree_digest(out) == before


def test_build_never_replaces_files_it_did_not_write(synthetic_package: Path,
                                                     tmp_path: Path) -> None:
    """``build --out DIR`` deleted whatever was in DIR/data, DIR/plots and DIR/parquet."""
    out = tmp_path / "mine"
    (out / "plots").mkdir(parents=True)
    (out / "plots" / "my-figure.svg").write_text("<svg/>")
    (out / "notes.txt").write_text("keep me")
    before = tree_digest(out)
    code, output = _build(synthetic_package, out, "--force")
    assert code == 1
    assert "plots: exists and was not written by mscreview build" in _one_line_error(output)
    assert tree_digest(out) == before
    (out / "plots" / "my-figure.svg").unlink()
    (out / "plots").rmdir()
    code, output = _build(synthetic_package, out, "--force")
    assert code == 0, output
    assert (out / "notes.txt").read_text() == "keep me"  # beside the report, untouched
    check_report_whole(out)
    code, output = _build(synthetic_package, out)  # now the manifest says which entries are ours
    assert code == 0, output
    assert (out / "notes.txt").read_text() == "keep me"


def test_the_packages_own_reports_folder_is_the_builds(synthetic_package: Path) -> None:
    reports = synthetic_package.parent / "reports"
    (reports / "versions" / "0.1.0").mkdir(parents=True)
    (reports / "versions" / "0.1.0" / "results.json").write_text('{"analyses": []}')
    (reports / "README.md").write_text("# reports\n")
    kept = tree_digest(reports)
    build(synthetic_package, reports, quiet=True)
    check_report_whole(reports)
    (reports / MANIFEST).unlink()
    for entry in ENTRIES:
        path = reports / entry
        if path.is_dir():
            import shutil

            shutil.rmtree(path)
        else:
            path.unlink()
    (reports / atomic.LOCK_NAME).unlink()
    assert tree_digest(reports) == kept


def test_a_tampered_manifest_never_makes_build_delete_other_files(synthetic_package: Path) -> None:
    """Only the report's own entry names are ever replaced, whatever a manifest lists."""
    root = synthetic_package.parent
    out = root / "reports"
    build(synthetic_package, out, quiet=True)
    (out / "mine.txt").write_text("x")
    (out / "evil").mkdir()
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["entries"] += ["mine.txt", "evil", "../data", "versions"]
    (out / MANIFEST).write_text(json.dumps(manifest))
    build(synthetic_package, out, quiet=True)
    assert (out / "mine.txt").exists() and (out / "evil").is_dir()
    check_report_whole(out)
    # with --out the package folder, data/ is the package's: listed or not, it stays
    data_before = tree_digest(root / "data")
    assert _build(synthetic_package, root, "--force")[0] == 0
    manifest = json.loads((root / MANIFEST).read_text())
    manifest["entries"].append("data")
    (root / MANIFEST).write_text(json.dumps(manifest))
    assert _build(synthetic_package, root)[0] == 0
    assert tree_digest(root / "data") == data_before


def test_build_unwritable_output_is_one_line(synthetic_package: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code, output = _build(synthetic_package, blocker / "out")
    assert code == 1
    assert "Not a directory" in _one_line_error(output)
    if os.geteuid() != 0:  # root ignores permissions
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        code, output = _build(synthetic_package, locked / "out")
        assert code == 1 and "Permission denied" in _one_line_error(output)


FULL_DISK = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))  # writes past 200 kB fail
from mscreview.cli import main
sys.argv = ["mscreview", *sys.argv[1:]]
main()
"""


def test_build_full_disk_is_one_line(synthetic_package: Path, tmp_path: Path) -> None:
    """A full disk (here: the file size limit, EFBIG) gave a traceback."""
    out = tmp_path / "site"
    build(synthetic_package, out, quiet=True)
    before = report_digest(out)
    proc = subprocess.run([sys.executable, "-c", FULL_DISK, "build", "--package",
                           str(synthetic_package), "--out", str(out), "--quiet"],
                          capture_output=True, text=True, env=mscreview_env(tmp_path), timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert "File too large" in _one_line_error(proc.stderr)
    with atomic.reading(out, "check"):
        assert report_digest(out) == before
    assert not (out / atomic.TXN_DIR).exists()


@pytest.mark.parametrize("epoch", ["yesterday", "1.5", "99999999999999999999"])
def test_bad_source_date_epoch_is_one_line(synthetic_package: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch, epoch: str) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    code, output = _build(synthetic_package, tmp_path / "site")
    assert code == 1
    assert "SOURCE_DATE_EPOCH" in _one_line_error(output)
    assert not (tmp_path / "site").exists()


def test_corrupt_kept_results_gives_no_traceback(synthetic_package: Path) -> None:
    """A corrupt kept results.json gave a traceback (now: skipped by What's new, build goes on)."""
    root = synthetic_package.parent
    kept = root / "reports" / "versions" / "0.0.1"
    kept.mkdir(parents=True)
    (kept / "results.json").write_text('{"analyses": [')
    code, output = _build(synthetic_package, root / "reports")
    assert code == 0, output
    assert "Traceback" not in output
    check_report_whole(root / "reports")


def test_failed_build_leaks_no_temp_folders(synthetic_package: Path, tmp_path: Path) -> None:
    """Temporary folders leaked into /tmp, reports/ and data/ (here: a private TMPDIR)."""
    root = synthetic_package.parent
    out = root / "reports"
    build(synthetic_package, out, quiet=True)
    bad = root / "data" / "continuous_outcomes.csv"
    bad.write_text(bad.read_text().replace(",sd,3.1,", ",sd,0,", 1))
    data_before = sorted(p.name for p in (root / "data").iterdir())
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    proc = subprocess.run([sys.executable, "-m", "mscreview", "build", "--package",
                           str(synthetic_package), "--out", str(out), "--quiet"],
                          capture_output=True, text=True,
                          env={**mscreview_env(tmp_path), "TMPDIR": str(tmpdir)}, timeout=300)
    assert proc.returncode == 1
    assert list(tmpdir.iterdir()) == []
    assert sorted(p.name for p in (root / "data").iterdir()) == data_before
    assert {p.name for p in out.iterdir()} == set(ENTRIES) | BOOKKEEPING
    check_report_whole(out)


def test_concurrent_builds_are_serialised(synthetic_package: Path, tmp_path: Path) -> None:
    """Concurrent builds into one folder raised tracebacks."""
    out = tmp_path / "site"
    procs = [subprocess.Popen([sys.executable, "-m", "mscreview", "build", "--package",
                               str(synthetic_package), "--out", str(out), "--quiet"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=mscreview_env(tmp_path)) for _ in range(3)]
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        assert "Traceback" not in err
    check_report_whole(out)
    assert {p.name for p in out.iterdir()} == set(ENTRIES) | BOOKKEEPING


def test_a_second_build_waits_for_the_lock_then_fails_in_one_line(synthetic_package: Path,
                                                                   tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom mscreview.atomic import writing\n"
         "with writing(sys.argv[1], 'build'):\n    print('locked', flush=True)\n"
         "    time.sleep(60)\n", str(out)],
        stdout=subprocess.PIPE, text=True, env=mscreview_env(tmp_path))
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        import mscreview.atomic

        real = mscreview.atomic.writing

        def impatient(root: Path | str, command: str, *, timeout: float = 60.0):  # type: ignore[no-untyped-def]
            return real(root, command, timeout=0.2)

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("mscreview.pipeline.build.writing", impatient)
            code, output = _build(synthetic_package, out)
        assert code == 1
        assert "mscreview build (pid" in _one_line_error(output)
    finally:
        holder.kill()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()
    assert sorted(p.name for p in out.iterdir()) == [atomic.LOCK_NAME]


def test_interrupted_build_cleans_its_staging(synthetic_package: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "site"
    build(synthetic_package, out, quiet=True)
    before = tree_digest(out)

    def interrupted(*args: object, **kwargs: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr("mscreview.pipeline.build.render_report", interrupted)
    code, output = _build(synthetic_package, out)
    assert code == 130 and _one_line_error(output) == "error: interrupted"
    assert tree_digest(out) == before
    assert not (out / atomic.TXN_DIR).exists()

