"""``similarity.html``: the similar pairs side by side, the shared code highlighted.

:mod:`autograder.course.collect.similarity` compares the code and fills a :class:`SimilarityPage`;
this module renders it from ``templates/similarity.html.j2`` (autoescaped). The one piece of
HTML built here is the highlighted code: each part escaped, the shared runs in ``<mark>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from autograder.reports import render
from autograder.reports.text import display_text

__all__ = [
    "CSV_NAME",
    "PAGE_NAME",
    "CodeSide",
    "ModelMatch",
    "SidePair",
    "SimilarityPage",
    "first_shared_cut",
    "highlighted",
    "render_html",
]


PAGE_NAME = "similarity.html"
"""The page rendered here, written beside the class summary, which links to it."""
CSV_NAME = "similarity.csv"
"""Every compared pair (``collect --similarity``), named on this page and the class summary."""


def highlighted(code: str, shared: list[tuple[int, int]]) -> Markup:
    """``code`` escaped, with the ``shared`` (start, end) character runs wrapped in ``<mark>``.

    Runs are taken in order and clipped to the text; a run overlapping the previous one
    starts where that one ended.
    """
    parts, at = [], 0
    for start, end in sorted(shared):
        start, end = max(start, at), min(end, len(code))
        if start >= end:
            continue
        parts.append(escape(display_text(code[at:start])))
        parts.append(Markup("<mark>{}</mark>").format(display_text(code[start:end])))
        at = end
    parts.append(escape(display_text(code[at:])))
    return Markup("").join(parts)


CONTEXT_LINES = 2  # lines shown above the first shared region


def first_shared_cut(code: str, shared: list[tuple[int, int]]) -> int:
    """Where the pane opens: the start of the line ``CONTEXT_LINES`` above the first shared
    run (0 when there is none, or it is near the top). Pages run no script, so a pane cannot
    scroll itself: the code above is folded away instead."""
    starts = [start for start, end in shared if end > start]
    if not starts:
        return 0
    cut = code.rfind("\n", 0, max(0, min(min(starts), len(code)))) + 1
    for _ in range(CONTEXT_LINES):
        if cut == 0:
            break
        cut = code.rfind("\n", 0, cut - 1) + 1
    return cut


@dataclass(frozen=True)
class CodeSide:
    """One student's file of a pair, and the runs of it found in the other's."""

    student: str
    code: str
    shared: list[tuple[int, int]]
    href: str | None = None  # the student's page

    @property
    def highlighted(self) -> Markup:
        return highlighted(self.code, self.shared)

    @property
    def folded_lines(self) -> int:
        """Lines above the first shared region, folded away (0: the pane shows the top)."""
        return self.code[: first_shared_cut(self.code, self.shared)].count("\n")

    @property
    def folded(self) -> Markup:
        """The code above the first shared region (no shared runs in it), escaped."""
        return escape(display_text(self.code[: first_shared_cut(self.code, self.shared)]))

    @property
    def from_first(self) -> Markup:
        """The code from the first shared region on, highlighted."""
        cut = first_shared_cut(self.code, self.shared)
        return highlighted(self.code[cut:], [(a - cut, b - cut) for a, b in self.shared])


@dataclass(frozen=True)
class SidePair:
    """A pair at or above the threshold (``similarity`` as ``"0.93"``)."""

    exercise: str
    similarity: str
    first: CodeSide
    second: CodeSide


@dataclass(frozen=True)
class ModelMatch:
    """A student whose code in one exercise matches the model answer."""

    student: str
    exercise: str
    similarity: str
    href: str | None = None  # the student's page


@dataclass(frozen=True)
class SimilarityPage:
    """Everything ``similarity.html`` shows. Text fields are display text."""

    pairs_compared: int
    flagged: int
    threshold: str
    boilerplate: str  # the stub folder removed before comparing, or "none"
    without_code: list[tuple[str, str | None]]  # (student, their page): no submitted code
    compared_with_model: bool  # --reference given
    model_matches: list[ModelMatch]
    pairs: list[SidePair]  # the leads shown, at most similarity.MAX_SHOWN_PAIRS
    both_model: int  # flagged pairs not shown: both students match the model answer
    left_out: int  # leads past the shown ones (in similarity.csv)


def render_html(page: SimilarityPage) -> str:
    """``similarity.html``: a self-contained page, every value escaped, no script."""
    body = (
        render.environment().get_template("similarity.html.j2").render(page=page, csv_name=CSV_NAME)
    )
    return render.page(title="Code similarity", body=body)
