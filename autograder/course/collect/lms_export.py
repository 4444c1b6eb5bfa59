"""Grade-import files beside the gradebook: ``canvas-grades.csv``, ``moodle-grades.csv``.

Where a course's grades live. Both are made from the gradebook's rows (the score of record:
TA scores merged, late policy applied, an unverified result left empty unless the TA counts
it) and the roster's LMS ids:

* **Canvas** (*Grades*, *Import*): ``Student,ID,SIS User ID,SIS Login ID,Section``, then one
  column per grade. Canvas matches a row by ``ID`` (its own user id), ``SIS User ID`` or
  ``SIS Login ID``; a grade column whose header is not an existing assignment's
  ``Name (id)`` creates a new assignment with that name. An empty cell changes nothing.
* **Moodle** (*Grades*, *Import*, *CSV file*): ``ID number,Email address``, then one
  column per grade; on the import page map *ID number* (or *Email address*) to the user
  field of the same name, and each grade column to a grade item (or a new one).

The grade columns are the course's choice: ``total`` (one column, the score) or
``exercises`` (one per exercise, scaled by the same late penalty as the score). Students not
on the roster have no LMS id and are left out (collect lists them).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from autograder.course.collect.roster import Roster, RosterEntry
from autograder.course.collect.spreadsheet import csv_text, safe_cell
from autograder.spec.registry import ASSIGNMENT, EXERCISES

__all__ = [
    "CANVAS_ID_COLUMNS",
    "CANVAS_NAME",
    "LMS_PARTS",
    "MOODLE_ID_COLUMNS",
    "MOODLE_NAME",
    "grade_columns",
    "write_lms_files",
]

CANVAS_NAME = "canvas-grades.csv"
MOODLE_NAME = "moodle-grades.csv"
CANVAS_ID_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_ID_COLUMNS = ("ID number", "Email address")
LMS_PARTS = ("total", "exercises")


def _number(value: float) -> str:
    return f"{round(value, 2):g}"


def grade_columns(row: dict[str, str], *, parts: str, name: str) -> dict[str, str]:
    """The grade cells of one gradebook row: ``{name: score}``, or ``{"name: exercise": ...}``
    per exercise scaled by score / raw_score (the late penalty); "" where the gradebook's
    score is empty (an unverified result)."""
    if parts == "total":
        return {name: row["score"]}
    if not row["score"]:
        return {f"{name}: {exercise}": "" for exercise in EXERCISES}
    raw, score = float(row["raw_score"] or 0), float(row["score"])
    factor = score / raw if raw else 1.0
    return {
        f"{name}: {exercise}": _number(float(row[exercise]) * factor) if row[exercise] else "0"
        for exercise in EXERCISES
    }


def _entries(
    rows: Iterable[dict[str, str]], roster: Roster | None
) -> list[tuple[RosterEntry, dict[str, str]]]:
    """(roster entry, gradebook row) per student to export: roster students only when there
    is a roster, else everyone with just the student id."""
    pairs = []
    for row in rows:
        student = row["student"][1:] if row["student"].startswith("'") else row["student"]
        if roster is None:
            pairs.append((RosterEntry(student), row))
        elif student in roster.entries:
            pairs.append((roster.entries[student], row))
    return pairs


def write_lms_files(
    rows: list[dict[str, str]],
    out_dir: Path,
    *,
    roster: Roster | None,
    parts: str = "total",
    name: str = ASSIGNMENT,
) -> dict[str, Path]:
    """Write both import files to ``out_dir``; returns ``{"canvas": path, "moodle": path}``."""
    if parts not in LMS_PARTS:
        raise ValueError(f"LMS columns must be one of {', '.join(LMS_PARTS)}, not {parts!r}")
    pairs = _entries(rows, roster)
    headers = list(
        grade_columns({"score": "", **dict.fromkeys(EXERCISES, "")}, parts=parts, name=name)
    )
    canvas = [[*CANVAS_ID_COLUMNS, *headers]]
    moodle = [[*MOODLE_ID_COLUMNS, *headers]]
    for entry, row in pairs:
        grades = list(grade_columns(row, parts=parts, name=name).values())
        canvas.append(
            [
                safe_cell(entry.display_name),
                safe_cell(entry.canvas_id),
                safe_cell(entry.lms_id),
                safe_cell(entry.sis_login_id),
                safe_cell(entry.section),
                *grades,
            ]
        )
        moodle.append([safe_cell(entry.lms_id), safe_cell(entry.email), *grades])
    written = {"canvas": out_dir / CANVAS_NAME, "moodle": out_dir / MOODLE_NAME}
    written["canvas"].write_text(csv_text(canvas), encoding="utf-8", newline="")
    written["moodle"].write_text(csv_text(moodle), encoding="utf-8", newline="")
    return written
