"""``gradebook.csv``: one row per student, nbgrader ``export``'s columns first.

Existing gradebook imports keep working (the columns and their order are nbgrader's); the
grader's own columns follow: points per exercise, pending checks and integrity flags, then
provenance (added last, so tools reading the earlier columns keep working): a result not
verified as the course's own grading has empty grade columns unless the TA counts it; then
the roster's section and, for a student without a usable result, the reason for the 0. Every
text cell comes from untrusted results, so none can run as a spreadsheet formula.
"""

from __future__ import annotations

from collections.abc import Iterable

from autograder.course.collect.collected import MissingStudent, StudentRecord
from autograder.course.collect.deadlines import Deadlines
from autograder.course.collect.roster import Roster, RosterEntry
from autograder.course.collect.spreadsheet import csv_text, safe_cell
from autograder.spec.registry import ASSIGNMENT, EXERCISES, EXTRA_CREDIT, exercise_points

__all__ = [
    "GRADEBOOK_COLUMNS",
    "NBGRADER_COLUMNS",
    "course_max_score",
    "gradebook_csv",
    "gradebook_rows",
]

NBGRADER_COLUMNS = (
    "assignment",
    "duedate",
    "timestamp",
    "student",
    "last_name",
    "first_name",
    "email",
    "raw_score",
    "late_submission_penalty",
    "score",
    "max_score",
)
"""``nbgrader export``'s CSV columns, in its order, so existing gradebook imports keep working;
the key column is SPEC's ``student`` (nbgrader calls it ``student_id``)."""

GRADEBOOK_COLUMNS = (
    *NBGRADER_COLUMNS,
    *EXERCISES,  # points per exercise, empty when the run did not grade it (--only)
    "total",  # points over all exercises, extra credit included (= raw_score)
    "percent",  # score / max_score * 100
    "pending_checks",  # checks waiting for a GPU or a TA: the score is provisional while > 0
    "integrity_flags",  # tamper entries + code findings + refused statuses: look first
    "results_file",
    "provenance",  # verified: signed by the course's own grading with the course key
    "provenance_note",  # why a result is unverified (then left out of the grade columns)
    "section",  # from --roster
    "reason",  # why a roster student has 0 ("no submission", ...), or "not on the roster"
)


def _number(value: float) -> str:
    return f"{round(value, 4):g}"


def _roster_cells(entry: RosterEntry | None) -> dict[str, str]:
    """The name, email and section columns from the TA's roster (empty without one)."""
    if entry is None:
        return {}
    first, last = entry.first_name, entry.last_name
    if not (first or last) and entry.name:  # "Ada Lovelace": nbgrader splits first / last
        first, _, last = entry.name.rpartition(" ") if " " in entry.name else ("", "", entry.name)
    cells = {"first_name": first, "last_name": last, "email": entry.email, "section": entry.section}
    return {column: safe_cell(value) for column, value in cells.items()}


def _percent(student: StudentRecord) -> float:
    return 100 * student.score_of_record / student.max_score if student.max_score else 0.0


def course_max_score() -> float:
    """The assignment's max_score from the registry (extra credit excluded): a missing
    student's row is 0 out of this."""
    return sum(exercise_points(e) for e in EXERCISES if e not in EXTRA_CREDIT)


def _missing_row(
    missing: MissingStudent, entry: RosterEntry | None, deadlines: Deadlines | None
) -> dict[str, str]:
    cells = {
        "assignment": ASSIGNMENT,
        "duedate": deadlines.due(missing.student_id).isoformat() if deadlines else "",
        "student": safe_cell(missing.student_id),
        **_roster_cells(entry),
        "raw_score": "0",
        "score": "0",
        "max_score": _number(course_max_score()),
        "total": "0",
        "percent": "0.0",
        "reason": safe_cell(missing.reason),
    }
    return {column: cells.get(column, "") for column in GRADEBOOK_COLUMNS}


def _row(student: StudentRecord, count_unverified: bool, roster: Roster | None = None) -> list[str]:
    entry = roster.entries.get(student.student_id) if roster is not None else None
    cells = {
        "assignment": ASSIGNMENT,
        "duedate": student.duedate,
        "timestamp": student.fetched_at or safe_cell(student.graded_at),  # fetch time, if any
        "student": safe_cell(student.student_id),
        **_roster_cells(entry),
        "raw_score": _number(student.score),
        "late_submission_penalty": _number(student.penalty) if student.duedate else "",
        "score": _number(student.score_of_record),  # the late penalty taken off
        "max_score": _number(student.max_score),
        "total": _number(sum(student.exercise_scores.values())),
        "percent": f"{_percent(student):.1f}",
        "pending_checks": str(student.pending),
        "integrity_flags": str(student.flags),
        "results_file": safe_cell(str(student.results_path)),
        "provenance": "verified" if student.verified else "unverified",
        "provenance_note": safe_cell(student.provenance),
        "reason": "not on the roster" if roster is not None and entry is None else "",
    }
    for exercise in EXERCISES:
        if exercise in student.exercise_scores:
            cells[exercise] = _number(student.exercise_scores[exercise])
    if not (student.verified or count_unverified):
        for column in UNVERIFIED_LEFT_OUT:
            cells[column] = ""
    return {column: cells.get(column, "") for column in GRADEBOOK_COLUMNS}


UNVERIFIED_LEFT_OUT = ("raw_score", "score", *EXERCISES, "total", "percent")
"""Every column holding points (an import may read any, the exercises' too): empty for an
unverified result unless the TA counts it."""


def gradebook_rows(
    students: Iterable[StudentRecord],
    *,
    count_unverified: bool = False,
    roster: Roster | None = None,
    missing: Iterable[MissingStudent] = (),
    deadlines: Deadlines | None = None,
) -> list[dict[str, str]]:
    """One row (column -> cell) per student: collected ones and the roster's ``missing`` ones
    (0 and the reason), sorted by student id. An unverified result's grade columns are empty
    unless ``count_unverified``. Every cell is already safe for a spreadsheet."""
    keyed = [(s.student_id, _row(s, count_unverified, roster)) for s in students]
    entries = roster.entries if roster is not None else {}
    keyed += [
        (m.student_id, _missing_row(m, entries.get(m.student_id), deadlines)) for m in missing
    ]
    return [row for _, row in sorted(keyed, key=lambda pair: pair[0])]


def gradebook_csv(rows: Iterable[dict[str, str]]) -> str:
    """The gradebook's text: the header, then ``rows`` (:func:`gradebook_rows`)."""
    return csv_text(
        [list(GRADEBOOK_COLUMNS), *([row[c] for c in GRADEBOOK_COLUMNS] for row in rows)]
    )
