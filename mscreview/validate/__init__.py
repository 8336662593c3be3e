"""Validation of a data package: structure by frictionless, meaning by pydantic.

``validate_package`` never writes a file and never raises for bad data: every problem, with its
file, physical line and field, goes into the returned :class:`Report`.
"""

from __future__ import annotations

from pathlib import Path

from mscreview.validate.keys import check_keys
from mscreview.validate.prisma import check_prisma
from mscreview.validate.problems import (
    Problem,
    Report,
    format_github,
    format_json,
    format_lines,
    format_text,
)
from mscreview.validate.reading import read_package
from mscreview.validate.semantic import check_semantics
from mscreview.validate.structure import start_structure

__all__ = [
    "Problem", "Report", "validate_package", "format_lines", "format_text", "format_json",
    "format_github",
]


#: Key problems are never hidden by a structural problem on the same line.
_ALWAYS = frozenset({"primary-key", "foreign-key", "foreign-key-skipped", "not-sorted"})


def validate_package(path: Path | str = "datapackage.json") -> Report:
    """Validate the package at ``path`` (a descriptor or its folder).

    Raises
    ------
    mscreview.errors.UsageError
        When there is no package at ``path``.
    """
    report = Report()
    pkg = read_package(path, report)
    if pkg is None:
        return report
    finish_structure = start_structure(pkg)
    usable = {name for name, t in pkg.tables.items() if t.usable}
    meaning = Report(checked=report.checked)
    check_keys(pkg, meaning, usable)
    check_semantics(pkg, meaning)
    check_prisma(pkg, meaning, usable)
    finish_structure(report)
    # one problem per cell: where frictionless found a structural problem on a line, the
    # meaning checks of that line (made on an unparsable value) add nothing
    structural = {(p.file, p.line) for p in report.problems}
    report.problems += [p for p in meaning.problems
                        if (p.file, p.line) not in structural or p.code in _ALWAYS]
    return report
