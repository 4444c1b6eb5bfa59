"""What ``grade`` and ``merge`` print when they finish: the per-exercise table and the
checks that did not pass. Plain text from a results document; standard library only, so
``merge`` prints it where only the grader's pure-Python modules are installed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from autograder.results.build import exercise_totals
from autograder.results.sinks import terminal_text
from autograder.spec.registry import EXERCISES, EXTRA_CREDIT

__all__ = ["terminal_checks", "terminal_table"]


def terminal_table(results: Mapping[str, Any]) -> str:
    """The per-exercise table printed at the end of grading."""
    totals = exercise_totals(results["tests"])
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
    lines.append(f"{'total':<11}{results['score']:>8g}{results['max_score']:>7g}")
    return "\n".join(lines)


def terminal_checks(results: Mapping[str, Any], *, width: int = 120) -> str:
    """One line per check that did not pass: what a student fixes first."""
    lines = []
    for test in results["tests"]:
        if test["status"] == "passed":
            continue
        first = (terminal_text(test["output"]).splitlines() or [""])[0]
        mark = "FAIL" if test["status"] == "failed" else "wait"
        line = f"  {mark} {terminal_text(test['id'])}: {first}"
        lines.append(line if len(line) <= width else line[: width - 3] + "...")
    return "\n".join(lines)
