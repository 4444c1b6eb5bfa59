"""The class list a TA gives ``collect --roster FILE``: who must have a gradebook row.

The roster is a CSV with a ``student`` column (the folder name ``regrade`` writes, usually the
GitHub user name) and optional ``name``, ``first_name``, ``last_name``, ``email``, ``section``
and LMS ids: ``lms_id`` (the institution's student number: Canvas's *SIS User ID*, Moodle's
*ID number*), ``canvas_id`` (Canvas's own user *ID*) and ``sis_login_id`` (Canvas's *SIS Login
ID*). Every roster student gets exactly one gradebook row, 0 with the reason when there is no
usable result; collected students that are not on it are listed. A TA's file is text from a
spreadsheet: bad rows are listed and skipped, never fatal.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["OPTIONAL_COLUMNS", "Roster", "RosterEntry", "read_roster"]

OPTIONAL_COLUMNS = (
    "name",
    "first_name",
    "last_name",
    "email",
    "section",
    "lms_id",
    "canvas_id",
    "sis_login_id",
)


@dataclass(frozen=True)
class RosterEntry:
    """One student on the roster; every optional column is "" when absent."""

    student: str
    name: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    section: str = ""
    lms_id: str = ""
    canvas_id: str = ""
    sis_login_id: str = ""

    @property
    def display_name(self) -> str:
        """``name``, else ``first_name last_name``, else the student id."""
        joined = " ".join(part for part in (self.first_name, self.last_name) if part)
        return self.name or joined or self.student


@dataclass
class Roster:
    """The parsed roster: students by id (file order kept) and the rows skipped, and why."""

    path: Path
    entries: dict[str, RosterEntry] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _clean(value: str | None) -> str:
    """A cell as typed: surrounding spaces and a spreadsheet's leading ``'`` removed."""
    text = (value or "").strip()
    return text[1:] if text.startswith("'") else text


def read_roster(path: Path) -> Roster:
    """Parse ``path``. Record numbers in problems count data rows from 1 (not file lines,
    which a quoted multi-line cell would shift); a duplicate student keeps the first row."""
    roster = Roster(path=Path(path))
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        roster.problems.append(f"cannot read the roster: {error}")
        return roster
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [(name or "").strip().lower() for name in reader.fieldnames or []]
    if "student" not in header:
        roster.problems.append("no 'student' column in the header: no roster applied")
        return roster
    reader.fieldnames = header
    for number, row in enumerate(reader, start=1):
        student = _clean(row.get("student"))
        if not student:
            roster.problems.append(f"record {number}: no student id (row skipped)")
            continue
        if student in roster.entries:
            roster.problems.append(f"record {number}: {student} is listed twice (first row kept)")
            continue
        roster.entries[student] = RosterEntry(
            student, **{column: _clean(row.get(column)) for column in OPTIONAL_COLUMNS}
        )
    return roster
