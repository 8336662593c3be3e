"""The ``validate`` verb: validate a package and render the report."""

from __future__ import annotations

from pathlib import Path

from mscreview.validate import (
    Problem,
    Report,
    format_github,
    format_json,
    format_lines,
    format_text,
    validate_package,
)

__all__ = ["run_validate", "render_report", "render_problems"]

_FORMATS = {"text": format_text, "json": format_json, "github": format_github}


def run_validate(package: Path | str) -> Report:
    """Validate ``package``; see :func:`mscreview.validate.validate_package`.

    Holds the package's shared lock, so a commit in progress (add-trial, format) is never read
    half done, and finishes a commit that was interrupted (see :mod:`mscreview.atomic`).
    """
    from mscreview.atomic import reading

    path = Path(package)
    root = path if path.is_dir() else path.parent
    if not root.is_dir():
        return validate_package(package)  # validate_package says there is no package
    with reading(root, "validate"):
        return validate_package(package)


def render_report(report: Report, fmt: str) -> str:
    """Render ``report`` as text, json or github annotations."""
    return _FORMATS[fmt](report)


def render_problems(problems: list[Problem]) -> str:
    """A bare list of problems (e.g. those of a rejected trial file), one line each."""
    return format_lines(problems)
