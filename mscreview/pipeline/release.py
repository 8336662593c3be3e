"""The ``release`` verb: a citable version of the evidence.

Bumps ``datapackage.json``'s version (Data Package Version recipe), moves the CHANGELOG's
``[Unreleased]`` entries under the new version, builds the report, and keeps under
``reports/versions/X.Y.Z/`` that version's ``results.json`` and a frozen descriptor whose resources
carry their ``bytes`` and ``hash`` (sha256), so a copy of the data can be checked against it.
The working ``datapackage.json`` carries no hashes: contributors' edits must not break it.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

from mscreview.errors import InputError, UsageError
from mscreview.models import SEMVER
from mscreview.pipeline.build import build, source_date
from mscreview.tables import write_csv_atomic

__all__ = ["bump", "keep_version", "release"]


def bump(version: str, part: str) -> str:
    """The next version: ``part`` is major, minor or patch."""
    m = SEMVER.match(version)
    if not m:
        raise InputError(f"datapackage.json version {version!r} is not semantic (X.Y.Z)")
    major, minor, patch = (int(x) for x in m.groups()[:3])
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    if part == "patch":
        return f"{major}.{minor}.{patch + 1}"
    raise UsageError(f"unknown release part {part!r}: major, minor or patch")


def _changelog(text: str, version: str, date: str) -> str:
    if "## [Unreleased]" not in text:
        raise InputError("CHANGELOG.md has no '## [Unreleased]' section")
    body = re.split(r"\n## \[", text.split("## [Unreleased]", 1)[1], maxsplit=1)[0]
    if not body.strip():
        raise InputError("CHANGELOG.md: nothing under [Unreleased] to release")
    return text.replace("## [Unreleased]", f"## [Unreleased]\n\n## [{version}] - {date}", 1)


def keep_version(root: Path, version: str) -> Path:
    """Keep ``reports/results.json`` and a hashed descriptor under ``reports/versions/VERSION/``."""
    descriptor = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    for res in descriptor["resources"]:
        data = (root / res["path"]).read_bytes()
        res["bytes"] = len(data)
        res["hash"] = "sha256:" + hashlib.sha256(data).hexdigest()
    kept = root / "reports" / "versions" / version
    tmp = kept.with_name(f".{version}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    shutil.copy(root / "reports" / "results.json", tmp / "results.json")
    (tmp / "datapackage.json").write_text(json.dumps(descriptor, indent=2, ensure_ascii=False)
                                          + "\n", encoding="utf-8")
    tmp.rename(kept)
    return kept


def release(root: Path | str, part: str, *, quiet: bool = True) -> str:
    """Make release ``part`` of the package under ``root``; returns the new version."""

    root = Path(root)
    descriptor_path = root / "datapackage.json"
    old_text = descriptor_path.read_text(encoding="utf-8")
    descriptor = json.loads(old_text)
    version = bump(descriptor.get("version", ""), part)
    changelog_path = root / "CHANGELOG.md"
    changelog = _changelog(changelog_path.read_text(encoding="utf-8"), version,
                           source_date().strftime("%Y-%m-%d"))
    if (root / "reports" / "versions" / version).exists():
        raise InputError(f"version {version} already exists under reports/versions/")
    descriptor["version"] = version
    write_csv_atomic(descriptor_path, json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n")
    try:
        build(descriptor_path, root / "reports", quiet=quiet, releasing=True)
    except BaseException:
        write_csv_atomic(descriptor_path, old_text)  # a failed release changes nothing
        raise
    keep_version(root, version)
    write_csv_atomic(changelog_path, changelog)
    return version
