"""One-line usage errors, shared by the command lines of reference/ and the grader's."""

from __future__ import annotations

import argparse
from typing import NoReturn


class UsageError(ValueError):
    """Bad command-line input: one line on stderr (``PROG: error: MESSAGE``), exit status 2.

    The one usage error of every command line here (``python -m reference``, ``python -m
    autograder <command>``, the Gradescope entry point): raised by :class:`OneLineParser`
    instead of argparse's multi-line usage message, and by a command's own checks.

    ``prog`` is the parser that refused (a subcommand's own, e.g. ``python -m autograder
    grade``), for the ``PROG: error: MESSAGE`` line.
    """

    def __init__(self, message: str, *, prog: str = "") -> None:
        super().__init__(message)
        self.prog = prog


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors become one-line :class:`UsageError`s (exit 2 in main)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(" ".join(message.split()), prog=self.prog)
