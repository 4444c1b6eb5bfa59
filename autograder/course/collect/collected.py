"""What ``collect`` read: one row per student, the class's figures per check, and the summary.

A :class:`StudentRecord` keeps only what the class views need from one results document
(scores, each check's status, what is pending, the integrity lines), so 1,000 students stay
small in memory. :class:`CollectSummary` is everything ``collect`` found and wrote; the
command prints it, tests inspect it, :func:`summary_view` turns it into the class summary's
view model (:mod:`autograder.reports.class_summary`).
"""

from __future__ import annotations

import statistics
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course.collect.attention import attention_groups, student_link
from autograder.course.collect.manual_grades import ManualSheet
from autograder.course.collect.roster import Roster
from autograder.course.collect.similarity import SimilarityReport
from autograder.reports import class_summary as view
from autograder.reports.html import png_data_uri
from autograder.reports.integrity import finding_line, tamper_line
from autograder.reports.text import display_text, format_points
from autograder.results import schema
from autograder.results.provenance import KEY_FILE_VARIABLE, KEY_VARIABLE
from autograder.results.rescore import exercise_totals
from autograder.results.schema import ResultsDocument, pending_kind
from autograder.spec.registry import (
    ASSIGNMENT,
    CHECKS_BY_ID,
    EXERCISES,
    EXTRA_CREDIT,
    exercise_points,
)

__all__ = [
    "HISTOGRAM_NAME",
    "CheckStats",
    "CollectSummary",
    "MissingStudent",
    "Skipped",
    "StudentRecord",
    "provenance_banner",
    "student_record",
    "summary_view",
]

"""The assignment name in the gradebook (nbgrader's ``assignment`` column) and summaries."""

HISTOGRAM_NAME = "score-distribution.png"
LISTED_PAIRS = 50  # similar pairs listed in the class summary; similarity.csv has every pair


@dataclass(frozen=True)
class Skipped:
    """A results file (or folder) left out of the collection, and why in a few words."""

    path: Path
    why: str

    def __str__(self) -> str:
        return f"skipped: {self.path} ({self.why})"


@dataclass(frozen=True)
class MissingStudent:
    """A roster student without a usable result: a gradebook row of 0, and why."""

    student_id: str
    reason: str  # "no submission", "results unreadable: ...", "could not be graded: ..."


@dataclass
class StudentRecord:
    """What the class views need from one student's results, kept small for 1,000 students."""

    student_id: str
    results_path: Path
    score: float
    max_score: float
    graded_at: str
    exercise_scores: dict[str, float]
    statuses: dict[str, str]  # check id -> passed | failed | pending
    check_names: dict[str, str]  # check id -> name as written in the results
    pending_manual: list[str]
    pending_gpu: list[str]
    tamper: list[str]
    findings: list[str]
    page: Path | None = None
    ta_grades: list[tuple[str, float, float, str]] = field(default_factory=list)
    # (check, score, max_score, comment) of each check a TA scored through --manual
    verified: bool = True  # written by the course's own grading, signed with the course key
    provenance: str = ""  # why not, when not verified
    refused: list[str] = field(default_factory=list)  # statuses no check can have, and why
    check_points: dict[str, tuple[float, float]] = field(default_factory=dict)  # (score, max)
    unanswered: list[str] = field(default_factory=list)  # written answers failed unscored: empty
    duedate: str = ""  # the student's deadline (--deadlines), ISO 8601
    fetched_at: str = ""  # when the graded state was fetched (regrade's fetch record)
    penalty: float = 0.0  # late penalty in points, already decided by the course's policy
    late_note: str = ""  # the late policy as applied, in words ("" when on time / no policy)

    @property
    def score_of_record(self) -> float:
        """The score the course records: the late penalty taken off, never below 0."""
        return max(0.0, self.score - self.penalty)

    @property
    def percent(self) -> float:
        return 100 * self.score / self.max_score if self.max_score else 0.0

    @property
    def flags(self) -> int:
        return len(self.tamper) + len(self.findings) + len(self.refused)

    @property
    def pending(self) -> int:
        """Checks still waiting for a TA or a GPU: the score is provisional while > 0."""
        return len(self.pending_manual) + len(self.pending_gpu)


@dataclass
class CheckStats:
    """One check over the class: failure rate = failed / graded, pending left out; partial
    credit (some of the points, e.g. a TA's 3.5 / 4) is graded but not failed."""

    check_id: str
    title: str
    passed: int = 0
    failed: int = 0
    pending: int = 0
    partial: int = 0
    lost: list[tuple[str, float, float, str]] = field(default_factory=list)
    # (student, score, max, how: "partial", "no answer" or "")

    @property
    def graded(self) -> int:
        return self.passed + self.failed + self.partial

    @property
    def failure_rate(self) -> float | None:
        return self.failed / self.graded if self.graded else None


@dataclass
class CollectSummary:
    """What ``collect`` found and wrote; the CLI prints it, tests inspect it."""

    out_dir: Path
    students: list[StudentRecord] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    without_results: list[Path] = field(default_factory=list)  # student folders, no file
    notes: list[str] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)  # gradebook, markdown, html, ...
    manual: ManualSheet | None = None  # the --manual file, as applied
    similarity: SimilarityReport | None = None
    key_configured: bool = False  # a course key was there to verify signatures with
    count_unverified: bool = False  # --count-unverified: unverified results count in total
    roster: Roster | None = None  # --roster: who must have a gradebook row
    missing: list[MissingStudent] = field(default_factory=list)  # roster students, no result
    outside_roster: list[str] = field(default_factory=list)  # collected, not on the roster

    def check_stats(self) -> list[CheckStats]:
        """Every check seen, worst failure rate first; checks nobody was graded on last."""
        stats: dict[str, CheckStats] = {}
        for student in self.students:
            for check_id, status in student.statuses.items():
                if check_id not in stats:
                    known = CHECKS_BY_ID.get(check_id)
                    title = known.title if known else student.check_names.get(check_id, "")
                    stats[check_id] = CheckStats(check_id=check_id, title=title)
                counts = stats[check_id]
                score, top = student.check_points.get(check_id, (0.0, 0.0))
                if status == "failed" and 0 < score < top:
                    status = "partial"
                if status in ("failed", "partial"):
                    how = "no answer" if check_id in student.unanswered else ""
                    how = "partial" if status == "partial" else how
                    counts.lost.append((student.student_id, score, top, how))
                setattr(counts, status, getattr(counts, status) + 1)
        return sorted(
            stats.values(),
            key=lambda s: (
                s.failure_rate is None,
                -(s.failure_rate or 0.0),
                -s.failed,
                s.check_id,
            ),
        )

    def pending_by_check(self, *, kind: str) -> dict[str, list[str]]:
        """Check id -> students still waiting on it; ``kind`` is 'manual' or 'gpu'."""
        waiting: dict[str, list[str]] = {}
        for student in self.students:
            for check_id in student.pending_manual if kind == "manual" else student.pending_gpu:
                waiting.setdefault(check_id, []).append(student.student_id)
        return dict(sorted(waiting.items()))


# --------------------------------------------------------------------------- reading


def student_record(student_id: str, path: Path, document: ResultsDocument) -> StudentRecord:
    """The small per-student summary the class views are built from (``document`` as
    :func:`~autograder.results.schema.load_results` returns it: every field present)."""
    extra = document["extra_data"]
    record = StudentRecord(
        student_id=student_id,
        results_path=path,
        score=float(document["score"]),
        max_score=float(document["max_score"]),
        graded_at=display_text(extra["graded_at"]),
        exercise_scores={
            exercise: total["score"]
            for exercise, total in exercise_totals(document["tests"]).items()
        },
        statuses={},
        check_names={},
        pending_manual=[],
        pending_gpu=[],
        tamper=[],
        findings=[],
    )
    for result in document["tests"]:
        check_id = schema.check_id(result)
        record.statuses[check_id] = result["status"]
        record.check_points[check_id] = (float(result["score"]), float(result["max_score"]))
        check = CHECKS_BY_ID.get(check_id)
        if check and check.manual and result["status"] == "failed" and result["ta_grade"] is None:
            record.unanswered.append(check_id)  # failed before any TA: nothing was written
        record.check_names[check_id] = display_text(result["name"])
        if result["ta_grade"] is not None:
            comment = display_text(result["ta_grade"]["comment"])
            record.ta_grades.append(
                (check_id, float(result["score"]), float(result["max_score"]), comment)
            )
        if result["status"] == "pending":
            kind = pending_kind(result["tags"])
            if kind == "manual":
                record.pending_manual.append(check_id)
            elif kind == "gpu":
                record.pending_gpu.append(check_id)
    integrity = extra["integrity"]
    record.tamper = [tamper_line(entry) for entry in integrity["tamper"]]
    record.findings = [
        " ".join(finding_line(finding)[:2]).strip() for finding in integrity["findings"]
    ]
    return record


# --------------------------------------------------------------------------- the view


def _stats_line(students: list[StudentRecord]) -> str:
    if not students:
        return "No results collected."
    scores = [s.score for s in students]
    max_scores = {s.max_score for s in students}
    out_of = format_points(max_scores.pop()) if len(max_scores) == 1 else "mixed maxima"
    return (
        f"{len(students)} students; score out of {out_of}: mean {statistics.fmean(scores):.1f}, "
        f"median {statistics.median(scores):g}, min {min(scores):g}, max {max(scores):g}."
    )


def _rate(stats: CheckStats) -> str:
    rate = stats.failure_rate
    return "n/a" if rate is None else f"{100 * rate:.0f}%"


def _page_href(student: StudentRecord, out_dir: Path) -> str | None:
    if student.page is None:
        return None
    return urllib.parse.quote(student.page.relative_to(out_dir).as_posix())


def _pending(
    summary: CollectSummary, kind: str, hrefs: dict[str, str | None]
) -> list[view.PendingCheck]:
    waiting = summary.pending_by_check(kind=kind)
    return [
        view.PendingCheck(
            check_id,
            [display_text(s) for s in students],
            [student_link(s, hrefs) for s in students],
        )
        for check_id, students in waiting.items()
    ]


def _ta_section(summary: CollectSummary, hrefs: dict[str, str | None]) -> view.TaScores | None:
    sheet = summary.manual
    if sheet is None:
        return None
    grades = [
        view.TaScore(
            display_text(s.student_id),
            check,
            f"{format_points(score)} / {format_points(top)}",
            comment,
            hrefs.get(s.student_id),
        )
        for s in summary.students
        for check, score, top, comment in s.ta_grades
    ]
    return view.TaScores(
        path=display_text(str(sheet.path)),
        applied=len(sheet.applied),
        still_pending=sheet.still_pending,
        grades=grades,
        problems=[display_text(str(problem)) for problem in sheet.problems],
    )


def _similarity_section(
    summary: CollectSummary, hrefs: dict[str, str | None]
) -> view.SimilarCode | None:
    report = summary.similarity
    if report is None:
        return None
    leads = report.leads()
    return view.SimilarCode(
        pairs_compared=len(report.pairs),
        flagged=len(report.flagged()),
        threshold=f"{report.threshold:.2f}",
        pairs=[
            view.SimilarPair(
                p.exercise,
                display_text(p.student_a),
                display_text(p.student_b),
                f"{p.similarity:.2f}",
                hrefs.get(p.student_a),
                hrefs.get(p.student_b),
            )
            for p in leads[:LISTED_PAIRS]
        ],
        more_pairs=max(0, len(leads) - LISTED_PAIRS),
        model_matches=[
            view.ModelMatches(
                exercise, display_text(", ".join(f"{s} ({v:.2f})" for s, v in matches))
            )
            for exercise, matches in report.matches_by_exercise().items()
        ],
        without_code=[display_text(student) for student in report.without_code],
    )


def summary_view(
    summary: CollectSummary, *, generated: str, histogram: bytes | None
) -> view.ClassSummary:
    """The class summary's view model: every figure and line both formats show, as text."""
    students = summary.students
    hrefs = {s.student_id: _page_href(s, summary.out_dir) for s in students}
    checks = [
        view.CheckRow(
            s.check_id,
            display_text(s.title),
            _rate(s),
            s.failed,
            s.graded,
            s.pending,
            s.partial,
            [
                student_link(
                    student,
                    hrefs,
                    f"partial {format_points(score)} / {format_points(top)}"
                    if how == "partial"
                    else how,
                )
                for student, score, top, how in s.lost
            ],
        )
        for s in summary.check_stats()
    ]
    rows = [
        view.StudentRow(
            student_id=display_text(s.student_id),
            href=_page_href(s, summary.out_dir),
            score=format_points(s.score),
            max_score=format_points(s.max_score),
            exercise_scores=[
                format_points(s.exercise_scores[e]) if e in s.exercise_scores else ""
                for e in EXERCISES
            ],
            pending=s.pending,
            flags=s.flags,
        )
        for s in students
    ]
    rows += [  # roster students without a usable result: their 0 is in the gradebook too
        view.StudentRow(
            student_id=display_text(m.student_id),
            href=None,
            score="0",
            max_score=format_points(
                sum(exercise_points(e) for e in EXERCISES if e not in EXTRA_CREDIT)
            ),
            exercise_scores=["" for _ in EXERCISES],
            pending=0,
            flags=0,
            note=display_text(m.reason),
        )
        for m in summary.missing
    ]
    rows.sort(key=lambda row: row.student_id)
    left_out = [str(s) for s in summary.skipped]
    left_out += [f"no results file: {p}" for p in summary.without_results]
    return view.ClassSummary(
        assignment=ASSIGNMENT,
        generated=generated,
        stats_line=_stats_line(students),
        histogram_name=HISTOGRAM_NAME if students else None,
        histogram_uri=png_data_uri(histogram) if histogram else None,
        checks=checks,
        flagged=[
            view.Flagged(
                display_text(s.student_id),
                [*s.tamper, *s.findings, *(f"refused: {r}" for r in s.refused)],
                hrefs.get(s.student_id),
            )
            for s in students
            if s.flags
        ],
        pending_manual=_pending(summary, "manual", hrefs),
        ta_scores=_ta_section(summary, hrefs),
        pending_gpu=_pending(summary, "gpu", hrefs),
        similar_code=_similarity_section(summary, hrefs),
        exercises=list(EXERCISES),
        students=rows,
        left_out=[display_text(text) for text in left_out],
        notes=[display_text(note) for note in summary.notes],
        provenance=display_text(provenance_banner(summary)),
        attention=attention_groups(summary, hrefs),
    )


def provenance_banner(summary: CollectSummary) -> str:
    """The class summary's banner about unverified results ("" when every one is verified)."""
    unverified = [s for s in summary.students if not s.verified]
    if not unverified:
        return ""
    counted = (
        "counted in total (--count-unverified)"
        if summary.count_unverified
        else "left out of total in gradebook.csv (--count-unverified counts them)"
    )
    if not summary.key_configured:
        return (
            f"No course key configured (${KEY_VARIABLE} or ${KEY_FILE_VARIABLE}): none of the "
            f"{len(unverified)} results files can be verified as the course's own grading; "
            f"they are {counted}."
        )
    names = ", ".join(f"{s.student_id} ({s.provenance})" for s in unverified[:20])
    more = f" and {len(unverified) - 20} more" if len(unverified) > 20 else ""
    return (
        f"{len(unverified)} of {len(summary.students)} results files are unverified (not "
        f"signed by the course's own grading with the course key), {counted}: {names}{more}."
    )
