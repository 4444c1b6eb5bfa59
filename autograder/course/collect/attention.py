"""The class summary's first screen: who needs attention, and why, each name linked.

Groups, in the order a TA acts on them: unverified results (named only when a course key is
configured; without one the banner says it once), integrity flags, no usable result (the
roster's missing students, or the folders collect could not use), waiting for a TA, failed
checks (partial credit is not a failure), not on the roster. Empty groups are left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from autograder.reports import class_summary as view
from autograder.reports.text import display_text
from autograder.results import schema

if TYPE_CHECKING:
    from autograder.course.collect.collected import CollectSummary, StudentRecord

__all__ = ["LISTED_CHECKS", "attention_groups", "student_link"]


def student_link(student: str, hrefs: dict[str, str | None], detail: str = "") -> view.StudentLink:
    """A student's name as display text, linked to their page when it was written."""
    return view.StudentLink(display_text(student), hrefs.get(student), detail)


LISTED_CHECKS = 4  # checks named per student on the first screen; their page has the rest


def _first(checks: list[str]) -> str:
    more = len(checks) - LISTED_CHECKS
    return ", ".join(checks[:LISTED_CHECKS]) + (f" and {more} more" if more > 0 else "")


def _failed_checks(student: StudentRecord) -> list[str]:
    """Checks the student failed outright (partial credit is not a failure)."""
    return [
        check
        for check, status in student.statuses.items()
        if status == "failed" and student.check_points.get(check, (0.0, 0.0))[0] <= 0
    ]


def attention_groups(summary: CollectSummary, hrefs: dict[str, str | None]) -> list[view.Attention]:
    """The class summary's first screen: who needs attention, group by group (empty groups
    left out): unverified, integrity flags, no usable result, waiting for a TA, failed
    checks, not on the roster."""

    def entry(student: str, why: str) -> view.AttentionEntry:
        return view.AttentionEntry(student_link(student, hrefs), display_text(why))

    students = summary.students
    missing = [entry(m.student_id, m.reason) for m in summary.missing]
    if summary.roster is None:  # without a roster, the folders collect saw are all we know
        missing += [entry(p.name, "no results file") for p in summary.without_results]
        missing += [
            entry(s.path.parent.name, f"results unreadable: {s.why}")
            for s in summary.skipped
            if s.path.name == schema.RESULTS_NAME
        ]
    unverified = [  # without a course key every result is unverified: the banner says so once
        entry(s.student_id, s.provenance or "not verified")
        for s in students
        if not s.verified and summary.key_configured
    ]
    flagged = [entry(s.student_id, f"{s.flags} integrity flag(s)") for s in students if s.flags]
    manual = [
        entry(s.student_id, "waiting: " + _first(s.pending_manual))
        for s in students
        if s.pending_manual
    ]
    failed = [
        entry(s.student_id, f"{len(checks)} failed: {_first(checks)}")
        for s in students
        if (checks := _failed_checks(s))
    ]
    outside = [entry(student, "collected, not on the roster") for student in summary.outside_roster]
    groups = [
        ("unverified", "Unverified results", unverified),
        ("flagged", "Integrity flags", flagged),
        ("missing", "No usable result", missing),
        ("manual", "Waiting for a TA", manual),
        ("failed", "Failed checks", failed),
        ("outside", "Not on the roster", outside),
    ]
    return [view.Attention(key, title, entries) for key, title, entries in groups if entries]
