"""One student's report as one self-contained HTML page (inline CSS, the sweep plot as a
base64 data URI, no script, no network), so a TA can open it from disk, attach it to an
email, or archive it. The body is ``templates/report.html.j2`` (autoescaped), the frame
:func:`autograder.reports.render.page`."""

from __future__ import annotations

import base64
from pathlib import Path

from autograder.reports import render
from autograder.reports.text import display_text
from autograder.reports.view import build_report
from autograder.results.schema import ResultsDocument

__all__ = ["png_data_uri", "render_html"]


def png_data_uri(png: bytes) -> str:
    """The PNG bytes as a ``data:`` URI (base64: autoescaping leaves it as it is)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_html(
    document: ResultsDocument,
    *,
    results_dir: Path | None = None,
    student: str | None = None,
    unverified: str = "",
) -> str:
    """The report as one self-contained HTML page, from the typed results document
    (:func:`autograder.results.schema.load_results` or ``normalise_results``).

    ``results_dir`` (the results file's folder) lets the sweep plot be found and embedded;
    ``student`` overrides the name in the title (default: the submission folder's name);
    ``unverified`` (``collect``: why the document is not the course's own) is a banner.
    """
    report = build_report(document, results_dir=results_dir, student=student)
    report.provenance = display_text(unverified)
    plot_uri = png_data_uri(report.plot.png) if report.plot.png is not None else ""
    body = render.render_lines("report.html.j2", report=report, plot_uri=plot_uri)
    return render.page(title=f"Grading report: {report.title}", body=body)
