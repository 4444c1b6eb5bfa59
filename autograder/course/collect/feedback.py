"""``collect --feedback DIR``: one page per student to send back, what Gradescope calls
"publish grades" and nbgrader ``generate_feedback`` (nbgrader courses keep using that).

``DIR/<student>.md`` and ``DIR/<student>.html`` hold the score of record, each check's
verdict and points (partial credit shown as partial), the TA's scores and comments, and the
late policy as applied; a roster student without a usable result gets a page saying why.
Every string from a results file or a TA's sheet is neutralised for its sink (Markdown through
``md_inline``, HTML through Jinja2's autoescape). The instructor's workflow can publish the
pages (docs/ta-guide.md, *Feedback back to students*).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autograder.course.collect.collected import CollectSummary, MissingStudent, StudentRecord
from autograder.reports import render
from autograder.reports.text import display_text, format_points
from autograder.spec.registry import ASSIGNMENT, CHECKS_BY_ID, HIDDEN

__all__ = ["FeedbackPage", "FeedbackResult", "feedback_page", "write_feedback"]


@dataclass(frozen=True)
class FeedbackResult:
    """One result as the student reads it: the check, its verdict in words and the points."""

    check_id: str
    title: str
    verdict: str  # passed | partial | failed | waiting for a TA | waiting for a GPU run
    points: str  # "3.5 / 4"
    comment: str  # the TA's comment, "" when none


@dataclass(frozen=True)
class FeedbackPage:
    """Everything one student's feedback page shows, as display text."""

    assignment: str
    student: str
    score: str  # the score of record, "" when there is none
    max_score: str
    reason: str  # why there is no score (a roster student without a usable result)
    late: str  # the late policy as applied ("" when on time or no policy)
    unverified: str  # why the result is not counted, when it is not
    results: list[FeedbackResult]
    pending: int


def _verdict(status: str, score: float, top: float, pending_manual: bool) -> str:
    if status == "pending":
        return "waiting for a TA" if pending_manual else "waiting for a GPU run"
    if 0 < score < top:
        return "partial"
    return "passed" if status == "passed" else "failed"


def feedback_page(record: StudentRecord, *, counted: bool) -> FeedbackPage:
    """The page of a collected student; ``counted``: their result counts in the gradebook."""
    comments = {check: comment for check, _, _, comment in record.ta_grades}
    results = []
    for check_id, status in record.statuses.items():
        score, top = record.check_points.get(check_id, (0.0, 0.0))
        check = CHECKS_BY_ID.get(check_id)
        hidden = check is not None and check.visibility == HIDDEN  # its points, not its name
        results.append(
            FeedbackResult(
                check_id="hidden check" if hidden else display_text(check_id),
                title=display_text(check.title) if check and not hidden else "",
                verdict=_verdict(status, score, top, check_id in record.pending_manual),
                points=f"{format_points(score)} / {format_points(top)}",
                comment=comments.get(check_id, ""),
            )
        )
    return FeedbackPage(
        assignment=ASSIGNMENT,
        student=display_text(record.student_id),
        score=format_points(record.score_of_record) if counted else "",
        max_score=format_points(record.max_score),
        reason="",
        late=display_text(record.late_note),
        unverified="" if counted else display_text(record.provenance or "not verified"),
        results=results,
        pending=record.pending,
    )


def _missing_page(missing: MissingStudent, max_score: float) -> FeedbackPage:
    return FeedbackPage(
        assignment=ASSIGNMENT,
        student=display_text(missing.student_id),
        score="0",
        max_score=format_points(max_score),
        reason=display_text(missing.reason),
        late="",
        unverified="",
        results=[],
        pending=0,
    )


def _file_stem(student: str) -> str | None:
    """The student id as a file name, or None when it could name another place."""
    if not student or student.startswith(".") or Path(student).name != student:
        return None
    return student if "\\" not in student and "\x00" not in student else None


def write_feedback(summary: CollectSummary, folder: Path, *, max_score: float) -> list[Path]:
    """Write one Markdown and one HTML page per student (collected and roster-missing) to
    ``folder``; a student id that cannot be a file name is named in ``summary.notes``."""
    folder.mkdir(parents=True, exist_ok=True)
    pages = [
        (s.student_id, feedback_page(s, counted=s.verified or summary.count_unverified))
        for s in summary.students
    ]
    pages += [(m.student_id, _missing_page(m, max_score)) for m in summary.missing]
    written = []
    environment = render.environment()
    for student, page in pages:
        stem = _file_stem(student)
        if stem is None:
            summary.notes.append(f"feedback: {student!r} is not a usable file name: no page")
            continue
        markdown = environment.get_template("feedback.md.j2").render(page=page)
        body = environment.get_template("feedback.html.j2").render(page=page)
        html = render.page(title=f"Feedback: {page.assignment}: {page.student}", body=body)
        for suffix, text in ((".md", markdown), (".html", html)):
            path = folder / f"{stem}{suffix}"
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written
