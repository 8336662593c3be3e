"""The validator reads only regular files inside the package, quotes nothing else, and gives the
same verdict in any process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mscreview.validate import validate_package
from tests.conftest import ROOT

SECRET = "TOP-SECRET-LINE do not echo"


def _codes(descriptor: Path) -> list[tuple[str, str]]:
    return [(Path(p.file).name, p.code) for p in validate_package(descriptor).problems]


@pytest.fixture
def secret(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("outside") / "secret.csv"
    path.write_text(f"{SECRET}\n{SECRET}\n")
    return path


def _assert_never_quoted(descriptor: Path) -> None:
    for p in validate_package(descriptor).problems:
        assert "SECRET" not in p.message and "SECRET" not in p.field


def test_a_symlink_out_of_the_package_is_refused(synthetic_package: Path, secret: Path) -> None:
    arms = synthetic_package.parent / "data" / "arms.csv"
    arms.unlink()
    arms.symlink_to(secret)
    assert ("arms.csv", "symbolic-link") in _codes(synthetic_package)
    _assert_never_quoted(synthetic_package)


def test_a_symlinked_folder_is_refused(synthetic_package: Path, secret: Path) -> None:
    data = synthetic_package.parent / "data"
    (secret.parent / "arms.csv").write_text(f"{SECRET}\n")
    moved = synthetic_package.parent / "real-data"
    data.rename(moved)
    data.symlink_to(moved)
    codes = _codes(synthetic_package)
    assert ("arms.csv", "symbolic-link") in codes


def test_a_path_out_of_the_package_is_refused(synthetic_package: Path, secret: Path) -> None:
    descriptor = json.loads(synthetic_package.read_text())
    descriptor["resources"][2]["path"] = os.path.relpath(secret, synthetic_package.parent)
    descriptor["resources"][3]["path"] = str(secret)
    synthetic_package.write_text(json.dumps(descriptor))
    codes = [code for _, code in _codes(synthetic_package)]
    assert codes.count("unsafe-path") == 2
    _assert_never_quoted(synthetic_package)


def test_a_device_is_refused(synthetic_package: Path) -> None:
    descriptor = json.loads(synthetic_package.read_text())
    descriptor["resources"][2]["path"] = "data/zero.csv"
    synthetic_package.write_text(json.dumps(descriptor))
    (synthetic_package.parent / "data" / "zero.csv").symlink_to("/dev/zero")
    assert ("zero.csv", "symbolic-link") in _codes(synthetic_package)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_waiting(synthetic_package: Path) -> None:
    arms = synthetic_package.parent / "data" / "arms.csv"
    arms.unlink()
    os.mkfifo(arms)
    code = ("from mscreview.validate import validate_package; "
            f"print([p.code for p in validate_package({str(synthetic_package)!r}).problems])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, cwd=ROOT, check=True)
    assert "not-a-regular-file" in out.stdout


def test_a_symlinked_descriptor_or_schema_is_refused(synthetic_package: Path,
                                                      secret: Path) -> None:
    schema = synthetic_package.parent / "schemas" / "arms.json"
    schema.unlink()
    schema.symlink_to(secret)
    assert ("arms.json", "symbolic-link") in _codes(synthetic_package)
    _assert_never_quoted(synthetic_package)


def test_a_message_quotes_only_the_offending_cell_and_shortly(synthetic_package: Path) -> None:
    arms = synthetic_package.parent / "data" / "arms.csv"
    text = arms.read_text().replace("standard care,20,20", f"standard care,{'9' * 500}x,20")
    arms.write_text(text.replace(",x,\n", f",{SECRET},\n"))
    problems = validate_package(synthetic_package).problems
    assert [(p.line, p.field, p.code) for p in problems] == [(2, "n_randomised", "type-error")]
    assert len(problems[0].message) < 150 and SECRET not in problems[0].message


def _verdicts(descriptors: list[Path], first: str) -> str:
    code = (f"{first}\nfrom mscreview.validate import validate_package\n"
            f"for d in {[str(d) for d in descriptors]!r}:\n"
            "    print(sorted((p.line, p.code) for p in validate_package(d).problems))\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=ROOT).stdout


def test_the_verdict_does_not_depend_on_the_process(tmp_path: Path) -> None:
    from tests.conftest import make_package

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    big, small = make_package(tmp_path / "a"), make_package(tmp_path / "b")
    arms = tmp_path / "a" / "data" / "arms.csv"
    arms.write_text(arms.read_text().replace(",x,\n", f",{'q' * 200_000},\n", 1))
    plain = _verdicts([big, small], "")
    assert plain == _verdicts([big, small], "import csv; csv.field_size_limit(2 ** 31 - 1)")
    assert plain == _verdicts([big, small], "import frictionless")
    assert plain.splitlines() == _verdicts([small, big], "").splitlines()[::-1]
