"""Traced calls whose failure says what can be traced: plain Python values, not arrays.

Judge-side. Depth and work are measured by running the submission on traced stand-ins for
plain Python numbers, combined with the operator the check gives (and ``+ - * /`` where the
exercise allows arithmetic). A numpy array or torch tensor cannot hold them, and ``float()``,
``int()``, comparisons or ``if`` on an element need the number the tracer hides; the worker
then raises ``TracerError``. This module turns that into a message that says so and what to do.
"""

from __future__ import annotations

from typing import Any

from autograder.grading.judge.checks.support import CheckFailed, SubmissionError, describe
from autograder.grading.worker import protocol

__all__ = ["TRACEABLE_HINT", "not_traceable_result", "traced_call"]

WHAT_IS_TRACED = (
    "Depth is measured by running your function on traced stand-ins for plain Python numbers, "
    "combined only with the operator given (and + - * / where the exercise allows arithmetic). "
    "A numpy array or a torch tensor cannot hold them, and float(), int(), comparisons or an "
    "if on an element need the number the tracer hides."
)

TRACEABLE_HINT = (
    "Write the graded function over plain Python lists: index the elements and combine them "
    "only with op (or + - * /), with no numpy, torch, float() or comparisons of elements inside "
    "it. Keep a vectorised numpy/torch version in a function of your own if you like."
)


def traced_call(sub: Any, function: str, *args: Any, tape: Any, ops: Any) -> Any:
    """``sub.trace(...)``; a ``TracerError`` from the submission becomes a message on what
    can be traced (other failures pass through as they are)."""
    try:
        return sub.trace(function, *args, tape=tape, ops=ops)
    except SubmissionError as error:
        if "TracerError" not in str(error).split(":", 1)[0]:
            raise
        raise CheckFailed(
            f"{function} could not run on traced values: {error}\n{WHAT_IS_TRACED}",
            hint=TRACEABLE_HINT,
        ) from None


def not_traceable_result(got: Any, n: int) -> None:
    """Fail with the traceability message when a traced run returned an array or tensor."""
    if type(got) is protocol.ArrayValue or (
        type(got) is protocol.Opaque and got.type_name.split(".")[0] in ("numpy", "torch")
    ):
        raise CheckFailed(
            f"on {n} traced inputs the function returned {describe(got)}, not a list of "
            f"traced values\n{WHAT_IS_TRACED}",
            hint=TRACEABLE_HINT,
        )
