"""The class summary (``class-summary.md`` and ``class-summary.html``) from one view model.

``collect`` fills a :class:`ClassSummary` (every figure as display text, see
:func:`autograder.course.collect.collected.summary_view`) and both formats render it from templates:
``class-summary.html.j2`` is autoescaped, ``class-summary.md.j2`` passes every untrusted
value through the ``md`` filter (:func:`~autograder.reports.text.md_inline`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from autograder.reports import render
from autograder.reports.similarity_page import CSV_NAME, PAGE_NAME
from autograder.reports.text import md_inline

__all__ = [
    "Attention",
    "AttentionEntry",
    "CheckRow",
    "ClassSummary",
    "Flagged",
    "ModelMatches",
    "PendingCheck",
    "SimilarCode",
    "SimilarPair",
    "StudentLink",
    "StudentRow",
    "TaScore",
    "TaScores",
    "render_html",
    "render_markdown",
]

render.environment().filters["md"] = md_inline  # Markdown templates: untrusted text, one line


@dataclass(frozen=True)
class StudentLink:
    """A student's name and their page (relative link), wherever a name is shown."""

    name: str
    href: str | None = None
    detail: str = ""  # what about them, e.g. "2.5 / 4" for partial credit


@dataclass(frozen=True)
class AttentionEntry:
    """One student in a "needs attention" group, and why (``"3 failed checks"``)."""

    student: StudentLink
    why: str


@dataclass(frozen=True)
class Attention:
    """One group of the first screen: failed, pending for a TA, unverified, flagged, missing."""

    key: str  # an id for the page: failed, manual, unverified, flagged, missing, outside
    title: str
    entries: list[AttentionEntry]


@dataclass(frozen=True)
class CheckRow:
    """One check over the class: failure rate (``n/a`` when nobody was graded on it)."""

    check_id: str
    title: str
    failure_rate: str
    failed: int
    graded: int
    pending: int
    partial: int = 0  # partial credit (a TA's 3.5 / 4): graded, not failed
    lost: list[StudentLink] = field(default_factory=list)  # who lost points here


@dataclass(frozen=True)
class Flagged:
    """A student with integrity flags: the tamper lines, then the finding lines."""

    student_id: str
    lines: list[str]
    href: str | None = None


@dataclass(frozen=True)
class PendingCheck:
    """A check still waiting for a TA or a GPU, and the students waiting on it."""

    check_id: str
    students: list[str]
    links: list[StudentLink] = field(default_factory=list)  # the same students, linked


@dataclass(frozen=True)
class TaScore:
    """One check a TA scored through ``--manual`` (``score`` as ``"2.5 / 4"``)."""

    student_id: str
    check_id: str
    score: str
    comment: str
    href: str | None = None


@dataclass(frozen=True)
class TaScores:
    """What the ``--manual`` file did: the scores applied and the rows skipped."""

    path: str
    applied: int
    still_pending: int
    grades: list[TaScore]
    problems: list[str]


@dataclass(frozen=True)
class SimilarPair:
    """Two students' similar code in one exercise: a lead for a TA."""

    exercise: str
    student_a: str
    student_b: str
    similarity: str
    href_a: str | None = None
    href_b: str | None = None


@dataclass(frozen=True)
class ModelMatches:
    """The students whose code in one exercise matches the model answer (``"ada (0.93), ..."``)."""

    exercise: str
    students: str


@dataclass(frozen=True)
class SimilarCode:
    """The similarity section: leads listed here, every pair in ``similarity.csv``."""

    pairs_compared: int
    flagged: int
    threshold: str
    pairs: list[SimilarPair]
    more_pairs: int  # leads past the listed ones
    model_matches: list[ModelMatches]
    without_code: list[str]


@dataclass(frozen=True)
class StudentRow:
    """One student's line of the class table (``href``: their report page, when written)."""

    student_id: str
    href: str | None
    score: str
    max_score: str
    exercise_scores: list[str]  # one per exercise, empty when the run did not grade it
    pending: int
    flags: int
    note: str = ""  # a roster student without a usable result: why their 0


@dataclass(frozen=True)
class ClassSummary:
    """Everything both formats show. Text fields are display text; templates escape them."""

    assignment: str
    generated: str
    stats_line: str
    histogram_name: str | None  # the PNG beside class-summary.md
    histogram_uri: str | None  # the same PNG as a data URI, for the self-contained HTML
    checks: list[CheckRow]
    flagged: list[Flagged]
    pending_manual: list[PendingCheck]
    ta_scores: TaScores | None  # with --manual
    pending_gpu: list[PendingCheck]
    similar_code: SimilarCode | None  # with --similarity
    exercises: list[str]
    students: list[StudentRow]
    left_out: list[str]
    notes: list[str]
    provenance: str = ""  # banner: results not verified as the course's own grading
    attention: list[Attention] = field(default_factory=list)  # the first screen: who, and why


def render_markdown(view: ClassSummary) -> str:
    """``class-summary.md``."""
    template = render.environment().get_template("class-summary.md.j2")
    return template.render(view=view, similarity_page=PAGE_NAME, similarity_csv=CSV_NAME)


def render_html(view: ClassSummary) -> str:
    """``class-summary.html``: a self-contained page, every value escaped, no script."""
    template = render.environment().get_template("class-summary.html.j2")
    body = template.render(view=view, similarity_page=PAGE_NAME, similarity_csv=CSV_NAME)
    return render.page(title=f"Class summary: {view.assignment}", body=body)
