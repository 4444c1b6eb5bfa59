"""CSV text for spreadsheets: the cells a TA opens in Excel or Sheets come from untrusted results.

A student id, a timestamp or an answer starting with ``=``, ``+``, ``-`` or ``@`` would run as
a formula when the gradebook is opened; :func:`safe_cell` quotes it with a leading ``'``
(what spreadsheets show as plain text), and ``manual_grades`` strips that quote again when a
TA's file comes back.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

__all__ = ["FORMULA_START", "csv_text", "safe_cell"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula."""


def safe_cell(value: str) -> str:
    """``value`` as a text cell a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in FORMULA_START else value


def csv_text(rows: Iterable[Sequence[str]]) -> str:
    """``rows`` as CSV with ``\\n`` line ends (write it with ``newline=""``: the same on any OS)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()
