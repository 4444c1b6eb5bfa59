"""One-line usage errors, shared by the two command lines of reference/."""

from __future__ import annotations

import argparse
from typing import NoReturn


class UsageError(Exception):
    """Raised instead of argparse's multi-line usage message, so main prints one line."""


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors become one-line :class:`UsageError`s (exit 2 in main)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(" ".join(message.split()))
