"""The ``merge`` command: a CPU and a GPU results file into one, signed when every input is the
course's own, written as ``grade`` writes, and its table printed for the terminal."""

from __future__ import annotations

import argparse

from autograder.reports.terminal import terminal_table
from autograder.results import build as results_lib
from autograder.results.merge import MergeError, merge, signed_if_verified, write_merged
from autograder.results.sinks import terminal_text
from reference.cli_support import UsageError


def run(args: argparse.Namespace) -> int:
    """0 merged; 1 only with --fail-under and a lower score; 2 unusable input (one line).

    The summary's renderer (Jinja2) is imported only when a summary is asked for: the report
    job that merges installs no torch, and its install step adds Jinja2 for this."""
    render_summary = None
    if args.summary is not None:
        from autograder.reports.markdown import render_markdown

        render_summary = render_markdown
    try:
        document = merge(inputs=args.inputs, out_dir=args.out.parent)
        document = signed_if_verified(document, args.inputs)
        write_merged(
            document,
            out=args.out,
            junit=args.junit,
            summary=args.summary,
            render_summary=render_summary,
        )
    except MergeError as error:
        raise UsageError(str(error)) from None
    except OSError as error:
        raise UsageError(f"cannot write: {error.strerror or error}") from None
    print(terminal_table(document))
    gpu = "with" if document["extra_data"]["merge"]["gpu_results"] else "WITHOUT"
    print(f"merged {len(args.inputs)} file(s) {gpu} GPU results: {args.out}")
    for note in document["extra_data"]["merge"]["notes"]:
        print(terminal_text(f"note: {note}"))
    return 1 if results_lib.below_pass_mark(document, args.fail_under) else 0
