"""README.md's example queries print what README.md shows, on the shipped package.

The examples went stale silently when evidence arrived (a fourth analysis-changing discrepancy;
Amer 2011's missing values): a reader who copied a query saw other rows than the README promised.
When this fails after a data change, paste the new output into README.md.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mscreview.cli import cli
from tests.conftest import ROOT

EXAMPLE = re.compile(r"```sh\n(mscreview sql \"[^\n]*)\n```\n\n```text\n(.*?)```", re.S)


def _examples() -> list[tuple[str, str]]:
    return EXAMPLE.findall((ROOT / "README.md").read_text(encoding="utf-8"))


def test_the_readme_has_example_queries() -> None:
    assert len(_examples()) >= 3


def test_readme_queries_print_what_the_readme_shows(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(ROOT / "datapackage.json", tmp_path / "datapackage.json")
    for folder in ("schemas", "data"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    monkeypatch.chdir(tmp_path)
    for command, shown in _examples():
        args = shlex.split(command)[1:]  # as a shell splits it (t."column" included)
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.stderr
        assert result.stdout == shown, f"README.md's output of {command[:60]}... is stale"
