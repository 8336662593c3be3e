"""Validation of a data package: structure by frictionless, meaning by pydantic.

``validate_package`` never writes a file and never raises for bad data: every problem, with its
file, physical line and field, goes into the returned :class:`Report`.
"""

from __future__ import annotations

from pathlib import Path

from mscreview.validate.problems import Problem, Report, format_github, format_json, format_text
from mscreview.validate.reading import read_package
from mscreview.validate.semantic import check_semantics
from mscreview.validate.structure import check_structure

__all__ = ["Problem", "Report", "validate_package", "format_text", "format_json", "format_github"]


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
    check_structure(pkg, report)
    check_semantics(pkg, report)
    return report
