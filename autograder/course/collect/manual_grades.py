"""TA scores for the written answers: the template ``collect`` writes and the CSV it merges.

``collect`` writes ``OUT/manual-template.csv``: one row per student and manual check still
pending, with ``student,check,max_score,answer,score,comment,rubric`` (the answer from the
results' ``extra_data.manual``, the rubric's key points joined by " | "). A TA fills in
``score`` (and ``comment``) and passes the file back with ``collect --manual FILE``; only
``student,check,score`` are required, ``comment`` is optional, other columns are ignored.

Each valid row replaces that student's pending check: its points count in the gradebook,
the student's page and the class summary show the TA's score and comment. A row with an
empty score is still pending, not an error. Every other bad row is listed with its
spreadsheet row number (a multi-line answer is one row), student and check, and skipped,
never applied silently and never fatal to the rest: unknown student or
check, a check that is not manual (or not pending), a score that is not a number or outside
0..max, a row with missing or extra cells, and every row of a (student, check) given a score
more than once (which one was meant cannot be told, so none is applied).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.course.collect.spreadsheet import csv_text, safe_cell
from autograder.reports.text import display_text
from autograder.results import schema
from autograder.results.rescore import rescore
from autograder.spec.registry import CHECKS_BY_ID

__all__ = [
    "TEMPLATE_COLUMNS",
    "TEMPLATE_NAME",
    "BadRow",
    "ManualGrade",
    "ManualSheet",
    "apply_grades",
    "read_sheet",
    "template_csv",
    "template_rows",
]

TEMPLATE_NAME = "manual-template.csv"
TEMPLATE_COLUMNS = ("student", "check", "max_score", "answer", "score", "comment", "rubric")
REQUIRED = ("student", "check", "score")
MANUAL_CHECKS = ", ".join(c.id for c in CHECKS_BY_ID.values() if c.manual)


@dataclass(frozen=True)
class BadRow:
    """A row of the TA's file that was skipped, and why: ``row`` is the spreadsheet's row
    number (the header's row is 1; a multi-line cell is still one row), not a file line."""

    row: int
    why: str
    student: str = ""
    check: str = ""

    def __str__(self) -> str:
        who = f" ({self.student}, {self.check})" if self.student or self.check else ""
        return f"row {self.row}{who}: {self.why}"


@dataclass(frozen=True)
class ManualGrade:
    """One TA score from the file (validated against the student's results when applied)."""

    student: str
    check: str
    score: float
    comment: str
    row: int  # the spreadsheet's row number

    def problem(self, why: str) -> BadRow:
        """This row skipped for ``why``, naming its row, student and check."""
        return BadRow(self.row, why, self.student, self.check)


@dataclass
class ManualSheet:
    """The parsed file: scored rows by (student, check), problems found so far, empty rows."""

    path: Path
    grades: dict[tuple[str, str], ManualGrade] = field(default_factory=dict)
    problems: list[BadRow] = field(default_factory=list)
    still_pending: int = 0  # rows whose score cell is empty
    applied: list[ManualGrade] = field(default_factory=list)
    _by_student: dict[str, list[ManualGrade]] | None = field(default=None, repr=False)

    def for_student(self, student: str) -> list[ManualGrade]:
        if self._by_student is None:  # one pass, not one per student: 1,000 students stay fast
            self._by_student = {}
            for (name, _), grade in self.grades.items():
                self._by_student.setdefault(name, []).append(grade)
        return self._by_student.get(student, [])

    def finish(self, collected: Iterable[str], unreadable: Iterable[str] = ()) -> None:
        """List the rows for students that were not collected; sort problems by row."""
        collected, unreadable = set(collected), set(unreadable)
        for (student, _), grade in self.grades.items():
            if student in collected:
                continue
            why = (
                f"the results of {student!r} could not be read (see the skipped files)"
                if student in unreadable
                else f"unknown student {student!r}"
            )
            self.problems.append(grade.problem(why))
        self.problems.sort(key=lambda p: (p.row, p.why))


def _clean(value: str) -> str:
    """A cell as the TA meant it: spaces stripped, the template's anti-formula quote removed."""
    value = value.strip()
    if value[:1] == "'" and safe_cell(value[1:]) != value[1:]:  # the quote safe_cell adds
        return value[1:].strip()
    return value


def read_sheet(path: Path) -> ManualSheet:
    """Parse ``path``; problems that need no results (columns, numbers, duplicates) are found
    here, the rest by :func:`apply_grades`. Raises OSError when the file cannot be read."""
    sheet = ManualSheet(path=Path(path))
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        sheet.problems.append(BadRow(1, "not UTF-8 text: nothing applied"))
        return sheet
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: dict[tuple[str, str], list[ManualGrade]] = {}
    start = 0  # the spreadsheet row of the record read (blank records count, as in a sheet)
    try:
        for row in reader:
            start += 1
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [cell.strip().lower() for cell in row]
                missing = [name for name in REQUIRED if name not in header]
                if missing:
                    sheet.problems.append(
                        BadRow(start, f"missing column(s) {', '.join(missing)}: nothing applied")
                    )
                    return sheet
                continue
            grade = _parse_row(row, header, start, sheet)
            if grade is not None:
                rows.setdefault((grade.student, grade.check), []).append(grade)
    except csv.Error as error:
        sheet.problems.append(BadRow(start + 1, f"not readable as CSV ({error}): the rest skipped"))
    if header is None:
        sheet.problems.append(BadRow(1, "empty file: no header row"))
    for key, grades in rows.items():
        if len(grades) == 1:
            sheet.grades[key] = grades[0]
            continue
        numbers = [g.row for g in grades]
        for grade in grades:
            others = ", ".join(str(n) for n in numbers if n != grade.row)
            sheet.problems.append(
                grade.problem(f"duplicate: also scored on row {others}; none of them applied")
            )
    return sheet


def _parse_row(row: list[str], header: list[str], line: int, sheet: ManualSheet):
    """One record as a grade, or None (a problem listed, or an empty score: still pending)."""
    named = dict(zip(header, row, strict=False))
    who = (_clean(named.get("student", "")), _clean(named.get("check", "")))
    if len(row) > len(header):
        why = f"{len(row)} cells, the header has {len(header)} (an unquoted comma?)"
        sheet.problems.append(BadRow(line, why, *who))
        return None
    cells = dict(zip(header, row, strict=False))
    missing = [name for name in REQUIRED if name not in cells]
    if missing:
        sheet.problems.append(BadRow(line, f"missing column(s) {', '.join(missing)}", *who))
        return None
    student, check = _clean(cells["student"]), _clean(cells["check"])
    score_text = cells["score"].strip()
    if not student or not check:
        why = "missing " + ("student" if not student else "check")
        sheet.problems.append(BadRow(line, why, student, check))
        return None
    if not score_text:
        sheet.still_pending += 1
        return None
    try:
        score = float(score_text)
    except ValueError:
        score = math.nan
    if not math.isfinite(score):
        sheet.problems.append(BadRow(line, f"score {score_text!r} is not a number", student, check))
        return None
    return ManualGrade(student, check, score, _clean(cells.get("comment", "")), line)


def apply_grades(
    document: dict[str, Any], grades: Iterable[ManualGrade], sheet: ManualSheet
) -> None:
    """Apply one student's valid grades to their results document (in memory, for ``collect``).

    An applied check's result gets the TA's points, status ``passed`` (full marks) or
    ``failed``, an output naming the TA's score and comment, and ``ta_grade``; its written
    answer (in ``extra_data.manual``) gets ``ta_score`` and ``ta_comment``. When any grade
    applied, every figure derived from the results (score, max_score, the ``output`` summary,
    ``extra_data.exercises``) is derived again by :func:`~autograder.results.rescore.rescore`.
    """
    results = {schema.check_id(result): result for result in document["tests"]}
    extra = document.get("extra_data") if isinstance(document.get("extra_data"), dict) else {}
    manual = extra.get("manual") if isinstance(extra.get("manual"), list) else []
    changed = False
    for grade in grades:
        result = results.get(grade.check)
        known = CHECKS_BY_ID.get(grade.check)
        tags = result.get("tags") if result and isinstance(result.get("tags"), list) else []
        if result is None and known is None:
            sheet.problems.append(grade.problem(f"unknown check {grade.check!r}"))
            continue
        if not ((known and known.manual) or "manual" in tags):
            sheet.problems.append(
                grade.problem(f"not a manual check (a TA scores only {MANUAL_CHECKS})")
            )
            continue
        if result is None:
            why = f"{grade.student}'s results have no {grade.check} (graded with --only?)"
            sheet.problems.append(grade.problem(why))
            continue
        if result.get("status") != "pending":
            first = (str(result.get("output") or "").splitlines() or [""])[0][:80]
            why = (
                f"{grade.student}'s {grade.check} is not pending ({result.get('status')}: {first})"
            )
            sheet.problems.append(grade.problem(why))
            continue
        maximum = float(result["max_score"])
        if not 0 <= grade.score <= maximum:
            why = f"score {grade.score:g} is outside 0..{maximum:g} for {grade.check}"
            sheet.problems.append(grade.problem(why))
            continue
        result["score"] = grade.score
        result["status"] = "passed" if grade.score == maximum else "failed"
        result["output"] = f"Graded by a TA: {grade.score:g} / {maximum:g}." + (
            f"\nTA comment: {grade.comment}" if grade.comment else ""
        )
        result["ta_grade"] = {"score": grade.score, "comment": grade.comment}
        for answer in manual:
            if isinstance(answer, dict) and answer.get("check") == grade.check:
                answer.update(ta_score=grade.score, ta_comment=grade.comment, status="graded")
        sheet.applied.append(grade)
        changed = True
    if changed:
        rescore(document)


def template_rows(student: str, document: dict[str, Any]) -> list[dict[str, str]]:
    """The template's rows for one student: each manual check still pending."""
    extra = document.get("extra_data") if isinstance(document.get("extra_data"), dict) else {}
    manual = extra.get("manual") if isinstance(extra.get("manual"), list) else []
    answers = {e.get("check"): e for e in manual if isinstance(e, dict)}
    rows = []
    for result in document["tests"]:
        tags = result.get("tags") if isinstance(result.get("tags"), list) else []
        if result.get("status") != "pending" or "manual" not in tags:
            continue
        check_id = schema.check_id(result)
        answer = answers.get(check_id, {})
        known = CHECKS_BY_ID.get(check_id)
        rubric = list(known.rubric) if known else list(answer.get("rubric") or [])
        rows.append(
            {
                "student": student,
                "check": check_id,
                "max_score": f"{float(result['max_score']):g}",
                "answer": str(answer.get("answer") or ""),
                "score": "",
                "comment": "",
                "rubric": " | ".join(str(point) for point in rubric),
            }
        )
    return rows


def template_csv(rows: Iterable[dict[str, str]]) -> str:
    """``manual-template.csv``'s text: the header and ``rows`` (:func:`template_rows`), every
    cell display text that no spreadsheet runs as a formula."""
    lines = [list(TEMPLATE_COLUMNS)]
    lines += [[safe_cell(display_text(row[column])) for column in TEMPLATE_COLUMNS] for row in rows]
    return csv_text(lines)
