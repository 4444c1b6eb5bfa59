"""The one gate every number from a worker passes before a verdict uses it.

A worker can send NaN, infinities, integers thousands of digits long, negative
durations or a string where a float was asked for. Each helper here takes the
decoded value, checks its type, that it is finite and that it lies in a sane range for
what it claims to be, and returns a plain ``float`` or ``int``; anything else raises
:class:`CheckFailed` naming what was asked and what came back, so the check it answers
fails and nothing else does.

Comparisons against tolerances go through :func:`at_most` and :func:`at_least`, written
``not (value <= bound)``-safe: a NaN that slipped through anywhere still fails.
"""

from __future__ import annotations

import math
from typing import Any

from autograder.grading.judge.checks.support import CheckFailed, describe

MAX_SECONDS = 3600.0  # no timed call in this course lasts an hour
MAX_ABS_FLOAT = 1e300  # finite and still safe to square or sum a few of
MAX_COUNT = 10**9


def _number(value: Any) -> float | int | None:
    """The plain number in an int, a float or a numpy/torch-like scalar, else None.

    ``bool`` is not a number here (``True`` is not a count or a duration).
    """
    if type(value) is bool:
        return None
    if isinstance(value, int):
        return int.__index__(value)
    if isinstance(value, float):
        return float.__float__(value)
    return None


def worker_float(
    value: Any, *, what: str, low: float = -MAX_ABS_FLOAT, high: float = MAX_ABS_FLOAT
) -> float:
    """A finite float in ``[low, high]`` from an int or float a worker sent, else CheckFailed."""
    number = _number(value)
    if number is None:
        raise CheckFailed(f"{what} should be a number, got {describe(value)}")
    if type(number) is int and abs(number) > MAX_ABS_FLOAT:
        raise CheckFailed(f"{what} is not a sane number: an integer of {len(str(number))} digits")
    number = float(number)
    if not math.isfinite(number):
        raise CheckFailed(f"{what} must be a finite number, got {number!r}")
    if not (low <= number <= high):
        raise CheckFailed(f"{what} is out of range: {number!r} (expected {low:g} to {high:g})")
    return number


def worker_seconds(value: Any, *, what: str, high: float = MAX_SECONDS) -> float:
    """A duration a worker reports: finite, positive, at most ``high`` seconds."""
    seconds = worker_float(value, what=what, low=-math.inf, high=math.inf)
    if not (0.0 < seconds <= high):
        raise CheckFailed(
            f"{what} must be a positive duration of at most {high:g} s, got {seconds!r} s"
        )
    return seconds


def worker_count(value: Any, *, what: str, high: int = MAX_COUNT) -> int:
    """A count a worker reports: exactly an ``int``, 0 to ``high``."""
    if type(value) is not int:
        raise CheckFailed(f"{what} should be an int, got {describe(value)}")
    if not (0 <= value <= high):
        raise CheckFailed(f"{what} is out of range: {describe(value, 40)} (expected 0 to {high})")
    return value


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``; NaN (which fails every bound) when it cannot be formed."""
    if not (denominator > 0.0) or not math.isfinite(numerator):
        return math.nan
    return numerator / denominator


def at_most(value: float, bound: float) -> bool:
    """``value <= bound``, False for NaN: use as ``if not at_most(x, tol): fail``."""
    return bool(value <= bound)


def at_least(value: float, bound: float) -> bool:
    """``value >= bound``, False for NaN."""
    return bool(value >= bound)


def between(value: float, low: float, high: float) -> bool:
    """``low <= value <= high``, False for NaN."""
    return bool(low <= value <= high)
