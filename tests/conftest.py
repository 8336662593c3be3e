"""Shared fixtures: the repository root and a synthetic package copied to a temporary folder."""

from __future__ import annotations

import hashlib
import os
import shutil
import sysconfig
from pathlib import Path

import pytest
from hypothesis import settings

from tests.synthetic import synthetic_trials_build, synthetic_trials_package  # noqa: F401 (fixtures)

# Property tests draw the same examples on every run ("ci", the default), so a CI run that passed
# passes again and a failure is reproducible; HYPOTHESIS_PROFILE=explore draws new ones.
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def tool(name: str) -> str | None:
    """A command-line tool, looked up beside this Python first (a virtual environment's ``bin``
    is not on PATH when the tests run as ``.venv/bin/python -m pytest``, as the README says)."""
    path = os.pathsep.join([sysconfig.get_path("scripts"), os.environ.get("PATH", "")])
    return shutil.which(name, path=path)


def tree_digest(folder: Path) -> str:
    """sha256 of every path and file under ``folder``: equal digests mean nothing was written.

    The package lock file (``.mscreview.lock``, git-ignored) is left out: every writer creates
    it once, and it holds only the name of the last writer, no data.
    """
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.name == ".mscreview.lock":
            continue
        h.update(str(p.relative_to(folder)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def make_package(dest: Path, data: Path = FIXTURES / "valid" / "data") -> Path:
    """Copy the real descriptor and schemas plus the given data folder into ``dest``."""
    shutil.copy(ROOT / "datapackage.json", dest / "datapackage.json")
    shutil.copytree(ROOT / "schemas", dest / "schemas")
    shutil.copytree(data, dest / "data")
    return dest / "datapackage.json"


@pytest.fixture
def synthetic_package(tmp_path: Path) -> Path:
    """A small valid package of synthetic (not evidence) data, in a temporary folder."""
    return make_package(tmp_path)
