"""What ``collect`` says when it has run: problems on stderr, what was applied and written on
stdout. Every path and reason can name a student's own file: all go through ``terminal_text``.
"""

from __future__ import annotations

import argparse
import sys

from autograder.course.collect.collected import CollectSummary
from autograder.results import provenance
from autograder.results.sinks import terminal_text

__all__ = ["NO_KEY_NOTE", "print_summary"]

NO_KEY_NOTE = (
    f"no course key configured (${provenance.KEY_VARIABLE} or ${provenance.KEY_FILE_VARIABLE}): "
    "no results file can be verified as the course's own grading"
)


def print_summary(summary: CollectSummary, args: argparse.Namespace) -> None:
    """What the command says: problems on stderr, what was applied and written on stdout."""
    for skipped in summary.skipped:  # paths and reasons name the students' own files
        print(terminal_text(str(skipped)), file=sys.stderr)
    for folder in summary.without_results:
        print(terminal_text(f"no results file: {folder}"), file=sys.stderr)
    if summary.manual is not None:
        for problem in summary.manual.problems:
            print(terminal_text(f"manual: {args.manual}: {problem} (row skipped)"), file=sys.stderr)
        print(
            f"TA scores: {len(summary.manual.applied)} applied, "
            f"{len(summary.manual.problems)} row(s) skipped"
        )
    if summary.similarity is not None:
        for note in summary.notes:
            if note.startswith("similarity: "):
                print(terminal_text(note), file=sys.stderr)
        if summary.similarity.boilerplate is None:
            print(
                f"similarity: no stubs at {args.boilerplate or 'solutions/ or exercises/'}: "
                "the released stub code was not removed before comparing "
                "(give --boilerplate DIR)",
                file=sys.stderr,
            )
        flagged = summary.similarity.flagged()
        print(
            f"similarity: {len(summary.similarity.pairs)} pairs compared, {len(flagged)} at or "
            f"above {summary.similarity.threshold:.2f} (leads, not penalties)"
        )
    for missing in summary.missing:
        print(terminal_text(f"roster: {missing.student_id}: 0 ({missing.reason})"), file=sys.stderr)
    if summary.outside_roster:
        print(
            terminal_text("not on the roster: " + ", ".join(summary.outside_roster)),
            file=sys.stderr,
        )
    unverified = [s for s in summary.students if not s.verified]
    if not summary.key_configured:
        print(f"collect: {NO_KEY_NOTE}", file=sys.stderr)  # said once, not per student
    elif unverified:
        print(
            terminal_text(
                f"unverified (not the course's own grading): {len(unverified)} result(s): "
                + ", ".join(f"{s.student_id} ({s.provenance})" for s in unverified[:20])
            ),
            file=sys.stderr,
        )
    print(
        f"collected {len(summary.students)} student(s), skipped {len(summary.skipped)} file(s); "
        f"wrote {', '.join(str(p) for p in summary.files.values())}"
    )
