"""Errors the command line turns into a one-line message and an exit code.

Every layer raises these (never prints); ``cli`` catches them, so no traceback reaches a user.
"""

from __future__ import annotations

import re

__all__ = ["MscreviewError", "InputError", "UsageError", "ProblemsError", "printable"]

#: Control characters (C0, DEL, C1) and the Unicode bidirectional and line-separator controls
#: ("Trojan Source", CVE-2021-42574): shown escaped, never sent to a terminal.
_UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def printable(text: str, keep: str = "") -> str:
    """``text`` with every control character escaped (``\\x1b``, ``\\u202e``, ``\\n``).

    ``keep`` lists characters to leave as they are (e.g. tabs and line breaks in CSV output).
    """
    def escape(m: re.Match[str]) -> str:
        ch = m.group()
        if ch in keep:
            return ch
        if ch in _NAMED:
            return _NAMED[ch]
        return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"

    return _UNPRINTABLE.sub(escape, text)


class MscreviewError(Exception):
    """Base class: a problem the user can fix; ``exit_code`` is what the CLI returns."""

    exit_code = 1


class InputError(MscreviewError):
    """Bad input data (a file, row or field is wrong)."""

    exit_code = 1


class UsageError(MscreviewError):
    """The command was called wrongly (missing path, bad option combination)."""

    exit_code = 2


class ProblemsError(InputError):
    """Input with a list of located problems (validation problems); nothing was written."""

    def __init__(self, problems: list, what: str = "nothing was written") -> None:  # type: ignore[type-arg]
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s); {what}")
