"""``gradebook.csv``: one row per student, nbgrader ``export``'s columns first.

Existing gradebook imports keep working (the columns and their order are nbgrader's); the
grader's own columns follow: points per exercise, pending checks and integrity flags, then
provenance (added last, so tools reading the earlier columns keep working): a result not
verified as the course's own grading has empty grade columns unless the TA counts it. Every
text cell comes from untrusted results, so none can run as a spreadsheet formula.
"""

from __future__ import annotations

from collections.abc import Iterable

from autograder.course.collected import StudentRecord
from autograder.course.spreadsheet import csv_text, safe_cell
from autograder.spec.registry import ASSIGNMENT, EXERCISES

__all__ = ["GRADEBOOK_COLUMNS", "NBGRADER_COLUMNS", "gradebook_csv"]

NBGRADER_COLUMNS = (
    "assignment",
    "duedate",
    "timestamp",
    "student_id",
    "last_name",
    "first_name",
    "email",
    "raw_score",
    "late_submission_penalty",
    "score",
    "max_score",
)
"""``nbgrader export``'s CSV columns, in its order, so existing gradebook imports keep working."""

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
)


def _number(value: float) -> str:
    return f"{round(value, 4):g}"


def _row(student: StudentRecord, count_unverified: bool) -> list[str]:
    cells = {
        "assignment": ASSIGNMENT,
        "timestamp": safe_cell(student.graded_at),
        "student_id": safe_cell(student.student_id),
        "raw_score": _number(student.score),
        "score": _number(student.score),  # no late penalty is known to the grader
        "max_score": _number(student.max_score),
        "total": _number(sum(student.exercise_scores.values())),
        "percent": f"{student.percent:.1f}",
        "pending_checks": str(student.pending),
        "integrity_flags": str(student.flags),
        "results_file": safe_cell(str(student.results_path)),
        "provenance": "verified" if student.verified else "unverified",
        "provenance_note": safe_cell(student.provenance),
    }
    for exercise in EXERCISES:
        if exercise in student.exercise_scores:
            cells[exercise] = _number(student.exercise_scores[exercise])
    if not (student.verified or count_unverified):
        for column in UNVERIFIED_LEFT_OUT:
            cells[column] = ""
    return [cells.get(column, "") for column in GRADEBOOK_COLUMNS]


UNVERIFIED_LEFT_OUT = ("raw_score", "score", *EXERCISES, "total", "percent")
"""Every column holding points (an import may read any, the exercises' too): empty for an
unverified result unless the TA counts it."""


def gradebook_csv(students: Iterable[StudentRecord], *, count_unverified: bool = False) -> str:
    """The gradebook's text: the header, then one row per student in the order given. An
    unverified result's grade columns are empty unless ``count_unverified``."""
    rows = [_row(student, count_unverified) for student in students]
    return csv_text([list(GRADEBOOK_COLUMNS), *rows])
