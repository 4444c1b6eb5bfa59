"""Written answers: collected for a TA, never auto-scored as passed."""

from __future__ import annotations

from autograder.grading.judge.checks import support
from autograder.grading.judge.checks.support import CheckFailed, GradingContext, Pending
from autograder.grading.judge.proxy import WorkerProxy

ANSWER_LIMIT = 8000  # characters of a written answer kept for the TA


def written_answer(ctx: GradingContext, sub: WorkerProxy, name: str) -> None:
    """Record the student's text for the TA queue; empty or missing answers fail at once.

    Whatever the worker sends, this check ends ``pending`` or ``failed``, never ``passed``.
    """
    text = sub.get(name)
    if type(text) is not str:
        raise CheckFailed(f"{name} should be a string, got {support.describe(text)}")
    if not text.strip():
        raise CheckFailed(f"{name} is empty: write your answer in the string")
    kept = text if len(text) <= ANSWER_LIMIT else text[:ANSWER_LIMIT] + "\n[... truncated]"
    support.record(ctx, "answer", kept)
    raise Pending(f"waiting for a TA ({len(text.split())} words)\n---\n{kept}")
