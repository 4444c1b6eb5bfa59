"""The numeric gate's exact rules (``checks/numbers.py``): which values pass, what they come
back as, the bounds at their edges and the whole message of each refusal.

tests/test_numeric_gate.py shows hostile values fail; these pin each rule, so a loosened
bound, a dropped type check or a NaN-unsafe comparison fails a test (``make mutate``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograder.grading.judge.checks import numbers
from autograder.grading.judge.checks.support import CheckFailed
from autograder.grading.worker.protocol import ForeignFloat, ForeignInt, Opaque


def refusal(function, value, **kwargs) -> str:
    with pytest.raises(CheckFailed) as raised:
        function(value, **kwargs)
    return str(raised.value)


def test_the_limits_are_what_the_checks_were_calibrated_with() -> None:
    assert numbers.MAX_SECONDS == 3600.0
    assert numbers.MAX_ABS_FLOAT == 1e300
    assert numbers.MAX_COUNT == 10**9


@pytest.mark.parametrize(
    ("value", "plain"),
    [
        (3, 3),
        (-7, -7),
        (0, 0),
        (2.5, 2.5),
        (-0.0, -0.0),
        (ForeignInt(4), 4),  # numpy.int64 and the like
        (ForeignFloat(0.25), 0.25),
    ],
)
def test_numbers_come_back_as_plain_ints_and_floats(value, plain) -> None:
    got = numbers._number(value)
    assert got == plain and type(got) is type(plain)


@pytest.mark.parametrize("value", [True, False, None, "1", [1.0], Opaque("numpy.float64"), 1j])
def test_anything_else_is_not_a_number(value) -> None:
    assert numbers._number(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 1.0), (ForeignFloat(-2.5), -2.5), (ForeignInt(10**299), 1e299), (-(10**300), -1e300)],
)
def test_a_finite_number_in_range_passes_as_a_plain_float(value, expected) -> None:
    got = numbers.worker_float(value, what="a")
    assert type(got) is float and got == expected


def test_worker_float_bounds_are_inclusive_and_default_to_the_sane_range() -> None:
    assert numbers.worker_float(1e300, what="a") == 1e300
    assert numbers.worker_float(int(1e300), what="a") == 1e300  # an int exactly at the limit
    assert numbers.worker_float(-1e300, what="a") == -1e300
    assert numbers.worker_float(2.0, what="a", low=2.0, high=3.0) == 2.0
    assert numbers.worker_float(3.0, what="a", low=2.0, high=3.0) == 3.0
    assert refusal(numbers.worker_float, 1.1e300, what="a") == (
        "a is out of range: 1.1e+300 (expected -1e+300 to 1e+300)"
    )
    assert refusal(numbers.worker_float, -1.1e300, what="a") == (
        "a is out of range: -1.1e+300 (expected -1e+300 to 1e+300)"
    )
    assert refusal(numbers.worker_float, 1.5, what="b", low=2.0, high=3.0) == (
        "b is out of range: 1.5 (expected 2 to 3)"
    )
    assert refusal(numbers.worker_float, 3.5, what="b", low=2.0, high=3.0) == (
        "b is out of range: 3.5 (expected 2 to 3)"
    )


def test_worker_float_names_each_refusal() -> None:
    assert refusal(numbers.worker_float, "1", what="a") == "a should be a number, got '1'"
    assert refusal(numbers.worker_float, True, what="a") == "a should be a number, got True"
    assert refusal(numbers.worker_float, math.nan, what="a") == (
        "a must be a finite number, got nan"
    )
    assert refusal(numbers.worker_float, -math.inf, what="a") == (
        "a must be a finite number, got -inf"
    )
    # an integer too large for a float is named by its digits, before float() overflows
    assert refusal(numbers.worker_float, 10**400, what="a") == (
        "a is not a sane number: an integer of 401 digits"
    )
    assert refusal(numbers.worker_float, -(10**301), what="a") == (
        "a is not a sane number: an integer of 303 digits"
    )


def test_infinite_bounds_still_refuse_what_is_not_finite() -> None:
    for value in (math.inf, math.nan):
        message = refusal(numbers.worker_float, value, what="a", low=-math.inf, high=math.inf)
        assert message.startswith("a must be a finite number")


@pytest.mark.parametrize(
    ("value", "expected"), [(1e-9, 1e-9), (3600, 3600.0), (ForeignFloat(0.5), 0.5), (1, 1.0)]
)
def test_a_duration_is_positive_and_at_most_an_hour(value, expected) -> None:
    got = numbers.worker_seconds(value, what="t")
    assert type(got) is float and got == expected


def test_durations_at_and_past_their_bounds() -> None:
    assert numbers.worker_seconds(2.0, what="t", high=2.0) == 2.0
    assert refusal(numbers.worker_seconds, 2.5, what="t", high=2.0) == (
        "t must be a positive duration of at most 2 s, got 2.5 s"
    )
    assert refusal(numbers.worker_seconds, 3600.5, what="t") == (
        "t must be a positive duration of at most 3600 s, got 3600.5 s"
    )
    assert refusal(numbers.worker_seconds, 0.0, what="t") == (
        "t must be a positive duration of at most 3600 s, got 0.0 s"
    )
    assert refusal(numbers.worker_seconds, -1e-9, what="t") == (
        "t must be a positive duration of at most 3600 s, got -1e-09 s"
    )
    # larger than MAX_ABS_FLOAT is refused as not sane, whatever ``high`` allows
    assert refusal(numbers.worker_seconds, 10**301, what="t", high=math.inf).startswith(
        "t is not a sane number"
    )
    assert numbers.worker_seconds(1e300, what="t", high=math.inf) == 1e300
    assert refusal(numbers.worker_seconds, math.inf, what="t") == (
        "t must be a finite number, got inf"
    )
    assert refusal(numbers.worker_seconds, None, what="t") == "t should be a number, got None"


def test_a_count_is_exactly_an_int_from_zero_to_its_bound() -> None:
    assert numbers.worker_count(0, what="n") == 0
    assert numbers.worker_count(10**9, what="n") == 10**9
    assert numbers.worker_count(5, what="n", high=5) == 5
    assert refusal(numbers.worker_count, 6, what="n", high=5) == (
        "n is out of range: 6 (expected 0 to 5)"
    )
    assert refusal(numbers.worker_count, 10**9 + 1, what="n") == (
        "n is out of range: 1000000001 (expected 0 to 1000000000)"
    )
    assert refusal(numbers.worker_count, -1, what="n") == (
        "n is out of range: -1 (expected 0 to 1000000000)"
    )
    assert refusal(numbers.worker_count, 2.0, what="n") == "n should be an int, got 2.0"
    assert refusal(numbers.worker_count, True, what="n") == "n should be an int, got True"
    assert refusal(numbers.worker_count, ForeignInt(3), what="n") == (
        "n should be an int, got int(3)"
    )
    # a huge count is cut to 40 characters in the message
    assert refusal(numbers.worker_count, 10**100, what="n") == (
        "n is out of range: 1" + "0" * 36 + "... (expected 0 to 1000000000)"
    )


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (3.0, 2.0, 1.5),
        (0.0, 2.0, 0.0),
        (-3.0, 2.0, -1.5),
        (1.0, 0.5, 2.0),
        (1.0, 5e-324, 1.0 / 5e-324),  # the smallest positive float still divides
    ],
)
def test_a_ratio_of_a_finite_number_over_a_positive_one(numerator, denominator, expected) -> None:
    assert numbers.ratio(numerator, denominator) == expected


@pytest.mark.parametrize(
    ("numerator", "denominator"),
    [
        (1.0, 0.0),
        (1.0, -0.0),
        (1.0, -2.0),
        (1.0, -0.5),
        (1.0, math.nan),
        (math.nan, 1.0),
        (math.inf, 1.0),
        (-math.inf, 1.0),
    ],
)
def test_a_ratio_that_cannot_be_formed_is_nan(numerator, denominator) -> None:
    assert math.isnan(numbers.ratio(numerator, denominator))


def test_a_ratio_over_an_infinite_denominator_is_zero() -> None:
    assert numbers.ratio(1.0, math.inf) == 0.0


@pytest.mark.parametrize(
    ("value", "bound", "at_most", "at_least"),
    [
        (1.0, 2.0, True, False),
        (2.0, 2.0, True, True),
        (3.0, 2.0, False, True),
        (math.nan, 2.0, False, False),
        (2.0, math.nan, False, False),
        (-math.inf, 2.0, True, False),
        (math.inf, 2.0, False, True),
    ],
)
def test_bounds_are_inclusive_and_never_pass_nan(value, bound, at_most, at_least) -> None:
    assert numbers.at_most(value, bound) is at_most
    assert numbers.at_least(value, bound) is at_least


@pytest.mark.parametrize(
    ("value", "inside"),
    [(1.0, True), (0.5, True), (1.5, True), (0.49, False), (1.51, False), (math.nan, False)],
)
def test_between_includes_both_ends_and_never_passes_nan(value, inside) -> None:
    assert numbers.between(value, 0.5, 1.5) is inside


def test_comparisons_of_numpy_scalars_are_plain_bools() -> None:
    assert numbers.at_most(np.float64(1.0), 2.0) is True
    assert numbers.at_least(np.float64(1.0), 2.0) is False
    assert numbers.between(np.float64(np.nan), 0.0, 1.0) is False
