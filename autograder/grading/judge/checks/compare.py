"""Comparisons that hostile return values cannot fool.

Exact types first (a ``list`` subclass with an ``__eq__`` that is always true
is not a list here), then element by element with the expected value on the
left, so no method of a returned object is ever trusted.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from autograder.grading.judge.checks.support import CheckFailed, describe


def same_value(expected: Any, got: Any, *, rel_tol: float = 0.0, abs_tol: float = 0.0) -> bool:
    """Exact-type, element-wise equality; floats within the given tolerances."""
    kind = type(expected)
    if kind is float:
        if type(got) is not float:
            return False
        if math.isnan(expected):
            return math.isnan(got)
        return math.isclose(expected, got, rel_tol=rel_tol, abs_tol=abs_tol)
    if kind in (list, tuple):
        return (
            type(got) is kind
            and len(got) == len(expected)
            and all(
                same_value(e, g, rel_tol=rel_tol, abs_tol=abs_tol)
                for e, g in zip(expected, got, strict=True)
            )
        )
    if kind in (int, str, bool):
        return type(got) is kind and expected == got
    raise TypeError(f"no comparison for expected values of type {kind.__name__}")


def expect_list(
    expected: list[Any],
    got: Any,
    *,
    what: str,
    given: str,
    rel_tol: float = 0.0,
    abs_tol: float = 0.0,
) -> None:
    """Fail with the first mismatch: position, expected value and returned value."""
    if type(got) is not list:
        raise CheckFailed(f"{what} should return a list, got {describe(got)}\non input {given}")
    if len(got) != len(expected):
        raise CheckFailed(
            f"{what} returned {len(got)} elements, expected {len(expected)}\non input {given}"
        )
    for index, (want, have) in enumerate(zip(expected, got, strict=True)):
        if not same_value(want, have, rel_tol=rel_tol, abs_tol=abs_tol):
            raise CheckFailed(
                f"{what}: element {index} is wrong\n"
                f"  expected {describe(want)}\n  got      {describe(have)}\non input {given}"
            )


def smallest_failing(
    candidates: Sequence[Any], fails: Callable[[Any], str | None]
) -> tuple[Any, str] | None:
    """The first candidate (give them smallest first) for which ``fails`` returns a reason."""
    for candidate in candidates:
        reason = fails(candidate)
        if reason is not None:
            return candidate, reason
    return None
