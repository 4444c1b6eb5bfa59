"""What ``grade`` and ``merge`` print when they finish: the per-exercise table and the
checks that did not pass. Plain text from a results document; standard library only, so
``merge`` prints it where only the grader's pure-Python modules are installed."""

from __future__ import annotations

import re
import shlex
import shutil
import textwrap
from collections.abc import Mapping
from typing import Any

from autograder.reports.text import format_points
from autograder.results.rescore import exercise_totals
from autograder.results.sinks import terminal_text
from autograder.spec.registry import EXERCISES, EXTRA_CREDIT

__all__ = ["extra_credit_text", "report_command", "terminal_checks", "terminal_table"]

MIN_WIDTH = 40
_KEEP = "\u00a0"  # joins what must stay on one line; textwrap splits only ASCII whitespace
_EXPECTED_GOT = re.compile(r"expected (\S+), got (\S+)")


def _wrap(line: str, width: int) -> list[str]:
    """One message line wrapped; "expected X, got Y" stays on one line (it may overflow)."""
    indent = "      " + " " * (len(line) - len(line.lstrip(" ")))
    kept = _EXPECTED_GOT.sub(
        lambda m: f"expected{_KEEP}{m[1]},{_KEEP}got{_KEEP}{m[2]}", line.strip().replace(_KEEP, " ")
    )
    wrapped = textwrap.wrap(
        kept,
        width=width,
        initial_indent=indent,
        subsequent_indent=indent + "  ",
        break_long_words=False,
        break_on_hyphens=False,
    )
    return [part.replace(_KEEP, " ") for part in wrapped] or [""]


def extra_credit_text(results: Any) -> str:
    """ "3 / 10 extra credit" over the extra-credit exercises' results, "" when none."""
    totals = exercise_totals(results)
    rows = [row for name, row in totals.items() if name in EXTRA_CREDIT]
    if not rows:
        return ""
    earned = format_points(sum(row["score"] for row in rows))
    possible = format_points(sum(row["max_score"] for row in rows))
    return f"{earned} / {possible} extra credit"


def terminal_table(document: Mapping[str, Any]) -> str:
    """The per-exercise table printed at the end of grading."""
    totals = exercise_totals(document["tests"])
    header = f"{'exercise':<11}{'score':>8}{'max':>7}{'passed':>8}{'failed':>8}{'pending':>9}"
    lines = [header, "-" * len(header)]
    for exercise in EXERCISES:
        if exercise not in totals:
            continue
        row = totals[exercise]
        mark = " (extra credit)" if exercise in EXTRA_CREDIT else ""
        lines.append(
            f"{exercise:<11}{row['score']:>8g}{row['max_score']:>7g}{row['passed']:>8g}"
            f"{row['failed']:>8g}{row['pending']:>9g}{mark}"
        )
    lines.append("-" * len(header))
    extra = extra_credit_text(document["tests"])
    if extra and not document["max_score"]:  # only extra credit graded: never "3 / 0"
        lines.append(f"{'total':<11}{extra} (only extra credit was graded)")
    else:
        lines.append(f"{'total':<11}{document['score']:>8g}{document['max_score']:>7g}")
    if extra and document["max_score"]:
        lines.append(f"{'':<11}the total includes {extra} (not in the max)")
    return "\n".join(lines)


def terminal_checks(document: Mapping[str, Any], *, width: int | None = None) -> str:
    """Every check that did not pass, with its whole message and hint, wrapped to the
    terminal's width (``COLUMNS`` honoured): what a student fixes first, never cut."""
    if width is None:
        width = shutil.get_terminal_size((100, 24)).columns
    width = max(MIN_WIDTH, width)
    blocks = []
    for result in document["tests"]:
        if result["status"] == "passed":
            continue
        mark = "FAIL" if result["status"] == "failed" else "wait"
        points = f" ({format_points(result['max_score'])} points)" if result["max_score"] else ""
        lines = [f"  {mark} {terminal_text(result['id'])}{points}"]
        for line in terminal_text(result["output"]).splitlines() or [""]:
            lines.extend(_wrap(line, width))
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def report_command(results_path: object) -> str:
    """The one line that names the full report of a results file."""
    path = shlex.quote(str(results_path))
    return f"full report: python -m autograder report {path} (--html report.html for a page)"
