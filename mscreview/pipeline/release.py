"""The ``release`` verb: a citable version of the evidence.

Bumps ``datapackage.json``'s version (Data Package Version recipe), moves the CHANGELOG's
``[Unreleased]`` entries under the new version, builds the report, and keeps under
``reports/versions/X.Y.Z/`` that version's ``results.json`` and a frozen descriptor whose resources
carry their ``bytes`` and ``hash`` (sha256), so a copy of the data can be checked against it.
The working ``datapackage.json`` carries no hashes: contributors' edits must not break it.

A release is one :class:`mscreview.atomic.Transaction` of the package: the new descriptor, the
CHANGELOG, the kept version and the whole report (``reports/``, staged by
:func:`mscreview.pipeline.build.stage_report`) are committed together. Killed at any instant, the
package is either the old version with the old report or the new version with its report, and
the next release takes the next number from the descriptor: no version is skipped.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from mscreview.atomic import Transaction, writing
from mscreview.errors import InputError, UsageError
from mscreview.pipeline.build import (
    claim_folder,
    io_error,
    make_folders,
    remove_if_failed,
    source_date,
    stage_report,
)
from mscreview.pipeline.database import load_valid
from mscreview.vocabulary import SEMVER

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
    if not [line for line in body.splitlines() if line.strip() and not line.startswith("#")]:
        raise InputError("CHANGELOG.md: nothing under [Unreleased] to release (headings alone "
                         "are not entries)")
    return text.replace("## [Unreleased]", f"## [Unreleased]\n\n## [{version}] - {date}", 1)


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path.name}: not found in {path.parent}; {what}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot be read ({err})") from None


def _descriptor(path: Path) -> dict[str, Any]:
    try:
        descriptor = json.loads(_read(path, "not a data package"))
    except ValueError as err:
        raise InputError(f"{path}: not JSON ({err})") from None
    if not isinstance(descriptor, dict) or not isinstance(descriptor.get("resources"), list):
        raise InputError(f"{path}: not a data package (no 'resources' list)")
    return descriptor


def _frozen(root: Path, descriptor: dict[str, Any]) -> str:
    """The descriptor with every resource's ``bytes`` and ``hash``."""
    descriptor = json.loads(json.dumps(descriptor))
    for res in descriptor["resources"]:
        data = (root / res["path"]).read_bytes()
        res["bytes"] = len(data)
        res["hash"] = "sha256:" + hashlib.sha256(data).hexdigest()
    return json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n"


def _stage_version(txn: Transaction, root: Path, version: str, descriptor: dict[str, Any],
                   results: str) -> None:
    kept = root / "reports" / "versions" / version
    if kept.exists():
        raise InputError(f"version {version} already exists under reports/versions/")
    folder = txn.folder_for(f"reports/versions/{version}")
    (folder / "results.json").write_text(results, encoding="utf-8")
    (folder / "datapackage.json").write_text(_frozen(root, descriptor), encoding="utf-8")


def keep_version(root: Path, version: str) -> Path:
    """Keep ``reports/results.json`` and a hashed descriptor under ``reports/versions/VERSION/``."""
    root = Path(root)
    with writing(root, "release"), Transaction(root) as txn:
        descriptor = _descriptor(root / "datapackage.json")
        results = _read(root / "reports" / "results.json", "build the report first")
        _stage_version(txn, root, version, descriptor, results)
        txn.commit()
    return root / "reports" / "versions" / version


def release(root: Path | str, part: str, *, quiet: bool = True) -> str:
    """Make release ``part`` of the package under ``root``; returns the new version."""
    import duckdb

    root = Path(root)
    descriptor_path = root / "datapackage.json"
    reports = root / "reports"
    try:
        date = source_date().strftime("%Y-%m-%d")
        with writing(root, "release"):
            descriptor = _descriptor(descriptor_path)
            version = bump(descriptor.get("version", ""), part)
            changelog = _changelog(
                _read(root / "CHANGELOG.md", "a release moves its [Unreleased] entries under the "
                      "new version"), version, date)
            if (reports / "versions" / version).exists():
                raise InputError(f"version {version} already exists under reports/versions/")
            with load_valid(descriptor_path) as loaded:  # one read: validated and loaded
                if reports.is_dir():
                    claim_folder(reports, root, force=False)
                # the report folder's own lock too, as build takes it (after the package's)
                with remove_if_failed(make_folders(reports)), writing(reports, "release"), \
                        Transaction(root) as txn:
                    staged = stage_report(txn, "reports", descriptor_path, version=version,
                                          quiet=quiet, releasing=True, loaded=loaded)
                    descriptor["version"] = version
                    _stage_version(txn, root, version, descriptor, staged.results)
                    txn.write("datapackage.json",
                              json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n")
                    txn.write("CHANGELOG.md", changelog)
                    txn.commit()
    except OSError as err:
        raise io_error(err, root) from None
    except duckdb.Error as err:
        raise InputError(f"{root}: {str(err).strip().splitlines()[0]}; nothing was released"
                         ) from None
    return version
