"""One student's report as Markdown: for a terminal, a pull request comment or a GitHub step
summary (``grade --summary`` and ``merge --summary`` write it too), from
``templates/report.md.j2``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from autograder.reports import render
from autograder.reports.view import build_report
from autograder.results.schema import normalise_results

__all__ = ["render_markdown"]


def render_markdown(
    results: Mapping[str, Any], *, results_dir: Path | None = None, student: str | None = None
) -> str:
    """The report as Markdown, from a results document (normalised here: partial documents
    from ``--only`` runs and older files render too).

    ``results_dir`` (the results file's folder) lets the sweep plot be found; ``student``
    overrides the name in the title (default: the submission folder's name).
    """
    report = build_report(normalise_results(results), results_dir=results_dir, student=student)
    return render.render_lines("report.md.j2", report=report)
