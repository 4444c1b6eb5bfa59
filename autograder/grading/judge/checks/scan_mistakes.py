"""Which known mistake a scan's wrong values come from, found by recomputing that mistake.

Judge-side. When a scan returns wrong values, the judge computes, on the same input, what each
common mistake would return (one Hillis-Steele round too few, rounds updated in place left to
right, the operands swapped) and names the one that matches exactly, with its hint. When none
matches, the message shows the values and the check's own hint stays.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from autograder.grading.judge.checks.compare import same_value
from autograder.grading.judge.checks.scan_shape import rounds

Op = Callable[[Any, Any], Any]

__all__ = ["FIXED_WIDTH_HINT", "MISSING_ROUND_HINT", "hillis_steele_rounds", "known_mistake"]

MISSING_ROUND_HINT = (
    "Keep doing rounds while 2**k < n: ceil(log2 n) rounds in all, which is one more than "
    "int(log2 n) whenever n is not a power of two. Compute the count with integers, e.g. "
    "(n - 1).bit_length(), or loop while the offset is below n."
)


FIXED_WIDTH_HINT = (
    "Keep the elements in a Python list and call op on two elements at a time: a numpy array "
    "stores strings at a fixed width (and 2x2 matrices as a 3-d array), so the op you are given "
    "cannot work on array slices."
)


def _cut_to_width(xs: list, got: list, op: Op) -> bool:
    """True when each returned string is the right one cut to the longest input's width."""
    if not all(type(x) is str for x in xs) or not all(type(g) is str for g in got):
        return False
    width = max(len(x) for x in xs)
    try:
        expected = list(itertools.accumulate(xs, op))
    except Exception:
        return False
    return len(got) == len(xs) and all(
        type(e) is str and g == e[:width] for g, e in zip(got, expected, strict=True)
    )


def hillis_steele_rounds(xs: list, op: Op, count: int) -> list:
    """Hillis-Steele's first ``count`` rounds on ``xs``, each building a new list."""
    values = list(xs)
    for k in range(count):
        step = 1 << k
        values = [
            values[j] if j < step else op(values[j - step], values[j]) for j in range(len(values))
        ]
    return values


def _in_place(xs: list, op: Op) -> list:
    out, offset = list(xs), 1
    while offset < len(out):
        for j in range(offset, len(out)):
            out[j] = op(out[j - offset], out[j])
        offset *= 2
    return out


def _swapped(op: Op) -> Op:
    return lambda left, right: op(right, left)


def _mistakes(xs: list, op: Op) -> list[tuple[Callable[[], list], str, str]]:
    n = len(xs)
    return [
        (
            lambda: hillis_steele_rounds(xs, op, rounds(n) - 1),
            f"these are the values after {rounds(n) - 1} round{'s' * (rounds(n) != 2)}: one "
            "round too few "
            f"(n={n} needs ceil(log2 n) = {rounds(n)})",
            MISSING_ROUND_HINT,
        ),
        (
            lambda: _in_place(xs, op),
            "these are the values of rounds that update one list in place, left to right: a "
            "round read values it had just written",
            "Build each round's list new from the previous one (new[j] = op(prev[j - 2**k], "
            "prev[j])); never read a value written in the same round.",
        ),
        (
            lambda: hillis_steele_rounds(xs, _swapped(op), rounds(n)),
            "these are the values with the operands swapped: the later element was the left "
            "operand",
            "The earlier element is always the left operand: op(prev[j - 2**k], prev[j]).",
        ),
        (
            lambda: list(itertools.accumulate(xs, _swapped(op))),
            "these are the values of a serial scan with the operands swapped",
            "The earlier element is always the left operand: op(out[j - 1], xs[j]).",
        ),
    ]


def known_mistake(xs: list, op: Op, got: Any, *, rel_tol: float = 0.0) -> tuple[str, str] | None:
    """``(what it is, hint)`` when ``got`` is exactly what a known mistake returns on ``xs``."""
    if len(xs) < 2 or type(got) is not list:
        return None
    if _cut_to_width(list(xs), got, op):
        width = max(len(x) for x in xs)
        return (
            f"no returned string is longer than the longest input ({width} characters): the "
            "concatenations were cut to a fixed width, as a numpy string array does",
            FIXED_WIDTH_HINT,
        )
    for compute, note, hint in _mistakes(list(xs), op):
        try:
            candidate = compute()
        except Exception:  # e.g. an op that needs its own operand order
            continue
        if same_value(candidate, got, rel_tol=rel_tol):
            return note, hint
    return None
