"""One problem type for every check, and the three ways of printing a list of them.

A problem names the file (as the user would open it), the physical line (header = 1; 0 for a
problem with the whole file), the field and a message a contributor understands.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

__all__ = ["Problem", "Report", "format_lines", "format_text", "format_json", "format_github",
           "shown"]

#: A message quotes at most this many characters of a cell (the offending one, never others).
SHOWN_CHARS = 60


def shown(value: str) -> str:
    """A cell as a message quotes it: ``repr`` (control characters escaped), shortened."""
    if len(value) > SHOWN_CHARS:
        return repr(value[:SHOWN_CHARS]) + f"... ({len(value)} characters)"
    return repr(value)


@dataclass(frozen=True, order=True)
class Problem:
    """A single validation problem."""

    file: str
    line: int
    field: str
    code: str
    message: str


@dataclass
class Report:
    """All problems found in one package; valid when there are none."""

    problems: list[Problem] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)  # resource -> data rows read

    @property
    def valid(self) -> bool:
        return not self.problems

    def add(self, file: str, line: int, field_: str, code: str, message: str) -> None:
        self.problems.append(Problem(file, line, field_, code, message))

    def sorted(self) -> list[Problem]:
        return sorted(set(self.problems))


def format_lines(problems: list[Problem]) -> str:
    """``file:line: field: message [code]``, one line per problem, sorted."""
    out = []
    for p in sorted(set(problems)):
        where = f"{p.file}:{p.line}" if p.line else p.file
        fld = f" {p.field}:" if p.field else ""
        out.append(f"{where}:{fld} {p.message} [{p.code}]")
    return "\n".join(out)


def format_text(report: Report) -> str:
    """The problem lines (:func:`format_lines`) and a closing summary line."""
    out = [format_lines(report.problems)] if report.problems else []
    rows = sum(report.checked.values())
    if report.valid:
        out.append(f"valid: {len(report.checked)} resources, {rows} rows")
    else:
        out.append(f"invalid: {len(report.problems)} problem(s) in {len(report.checked)} resources")
    return "\n".join(out)


def format_json(report: Report) -> str:
    """A JSON list of ``{file, line, field, code, message}``."""
    return json.dumps([asdict(p) for p in report.sorted()], indent=2, ensure_ascii=False)


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_prop(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def format_github(report: Report) -> str:
    """GitHub Actions workflow commands: ``::error file=...,line=...,title=...::message``."""
    out = []
    for p in report.sorted():
        props = [f"file={_escape_prop(p.file)}"]
        if p.line:
            props.append(f"line={p.line}")
        title = f"{p.code}: {p.field}" if p.field else p.code
        props.append(f"title={_escape_prop(title)}")
        out.append(f"::error {','.join(props)}::{_escape_data(p.message)}")
    if report.valid:
        out.append("mscreview: package valid")
    return "\n".join(out)
