"""One student's report as Markdown: for a terminal, a pull request comment or a GitHub step
summary (``grade --summary`` and ``merge --summary`` write it too), from
``templates/report.md.j2``."""

from __future__ import annotations

from pathlib import Path

from autograder.reports import render
from autograder.reports.view import build_report
from autograder.results.schema import ResultsDocument

__all__ = ["render_markdown"]


def render_markdown(
    document: ResultsDocument, *, results_dir: Path | None = None, student: str | None = None
) -> str:
    """The report as Markdown, from the typed results document (the schema's reader makes
    one of any results file: partial documents from ``--only`` runs and older files too).

    ``results_dir`` (the results file's folder) lets the sweep plot be found; ``student``
    overrides the name in the title (default: the submission folder's name).
    """
    report = build_report(document, results_dir=results_dir, student=student)
    return render.render_lines("report.md.j2", report=report)
