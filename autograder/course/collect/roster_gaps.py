"""Who on the roster has no usable result, and why: the reason beside their 0.

``no submission`` (no folder, or a folder without results), ``results unreadable: ...`` (a
file collect could not read), ``could not be graded: ...`` (regrade's own reason, the last
line it appended to the student's ``regrade.log``; the lines before are the grader's output,
which a student's code can print, so only the last marked line counts).
"""

from __future__ import annotations

from pathlib import Path

from autograder.course.collect.collected import CollectSummary, MissingStudent
from autograder.spec import paths

__all__ = ["apply_roster"]

LOG_TAIL_BYTES = 4096  # the reason is regrade's last line; the rest is the grader's output


def _regrade_failure(folder: Path) -> str | None:
    """The reason regrade wrote for a student it could not grade (its last such line)."""
    log = folder / paths.REGRADE_LOG
    if log.is_symlink() or not log.is_file():
        return None
    try:
        with log.open("rb") as handle:
            handle.seek(max(0, log.stat().st_size - LOG_TAIL_BYTES))
            tail = handle.read().decode("utf-8", "replace")
    except OSError:
        return None
    reasons = [
        line[len(paths.REGRADE_FAILURE_MARK) :]
        for line in tail.splitlines()
        if line.startswith(paths.REGRADE_FAILURE_MARK)
    ]
    return reasons[-1][:300] if reasons else None


def _why_missing(summary: CollectSummary, unreadable: dict[str, str]) -> dict[str, str]:
    """Student id -> why they have no usable result, for the roster's 0 rows."""
    reasons = {}
    for folder in summary.without_results:
        failure = _regrade_failure(folder)
        reasons[folder.name] = f"could not be graded: {failure}" if failure else "no submission"
    reasons.update({s: f"results unreadable: {why}" for s, why in unreadable.items()})
    return reasons


def apply_roster(summary: CollectSummary, unreadable: dict[str, str]) -> None:
    """Every roster student without a result gets a 0 row with the reason; collected
    students not on the roster are listed."""
    if summary.roster is None:
        return
    reasons = _why_missing(summary, unreadable)
    collected = {s.student_id for s in summary.students}
    summary.missing = [
        MissingStudent(student, reasons.get(student, "no submission"))
        for student in sorted(summary.roster.entries)
        if student not in collected
    ]
    summary.outside_roster = sorted(collected - set(summary.roster.entries))
    summary.notes.extend(f"roster: {problem}" for problem in summary.roster.problems)
