"""``gradebook.csv``: one row per student, nbgrader ``export``'s columns first.

Existing gradebook imports keep working (the columns and their order are nbgrader's); the
grader's own columns follow: points per exercise, pending checks and integrity flags. Every
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
    "integrity_flags",  # tamper entries + code findings: look before releasing grades
    "results_file",
)


def _number(value: float) -> str:
    return f"{round(value, 4):g}"


def _row(student: StudentRecord) -> list[str]:
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
    }
    for exercise in EXERCISES:
        if exercise in student.exercise_scores:
            cells[exercise] = _number(student.exercise_scores[exercise])
    return [cells.get(column, "") for column in GRADEBOOK_COLUMNS]


def gradebook_csv(students: Iterable[StudentRecord]) -> str:
    """The gradebook's text: the header, then one row per student in the order given."""
    return csv_text([list(GRADEBOOK_COLUMNS), *(_row(student) for student in students)])
