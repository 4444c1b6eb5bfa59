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

from autograder.results.sinks import FORMULA_START, csv_cell

__all__ = ["FORMULA_START", "csv_text", "safe_cell"]

safe_cell = csv_cell
"""``value`` as a text cell a spreadsheet will not run as a formula
(:func:`autograder.results.sinks.csv_cell`)."""


def csv_text(rows: Iterable[Sequence[str]]) -> str:
    """``rows`` as CSV with ``\\n`` line ends (write it with ``newline=""``: the same on any OS)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()
