"""``report``: one student's grading report, as Markdown (printed, or a file) and/or one
HTML page.

``python -m autograder report RESULTS.json [--html OUT] [--markdown OUT] [--student NAME]``

Everything inside a results file is treated as untrusted: students write the answers, and
their code writes the text that ends up in check outputs. The file is validated and
normalised by :func:`autograder.results.schema.load_results`, laid out once as a view
(:mod:`autograder.reports.view`), and rendered from templates by
:mod:`autograder.reports.markdown` and :mod:`autograder.reports.html`.
"""

from __future__ import annotations

import argparse
import sys

from autograder.reports.html import render_html
from autograder.reports.markdown import render_markdown
from autograder.results.schema import ResultsFileError, load_results
from reference.cli_support import UsageError

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    """Write or print the report: 0 on success, 2 for a missing or unusable file."""
    try:
        document = load_results(path=args.results)
    except ResultsFileError as error:
        raise UsageError(f"{args.results}: {error}") from None
    results_dir = args.results.resolve().parent
    written = []
    for out, renderer in ((args.html, render_html), (args.markdown, render_markdown)):
        if out is None:
            continue
        text = renderer(document, results_dir=results_dir, student=args.student)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
        except OSError as error:
            print(f"report: cannot write {out}: {error.strerror or error}", file=sys.stderr)
            return 2
        written.append(out)
    if not written:
        text = render_markdown(document, results_dir=results_dir, student=args.student)
        sys.stdout.write(text)
    else:
        for out in written:
            print(f"wrote {out}")
    return 0
