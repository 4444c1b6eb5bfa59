"""One-line usage errors, shared by the command lines of reference/ and the grader's."""

from __future__ import annotations

import argparse
from typing import NoReturn


class UsageError(Exception):
    """Raised instead of argparse's multi-line usage message, so main prints one line.

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
