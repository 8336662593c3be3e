"""Errors the command line turns into a one-line message and an exit code.

Every layer raises these (never prints); ``cli`` catches them, so no traceback reaches a user.
"""

from __future__ import annotations

__all__ = ["MscreviewError", "InputError", "UsageError", "ProblemsError"]


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
