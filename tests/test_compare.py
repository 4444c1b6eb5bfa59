"""The judge's value comparisons (autograder/grading/judge/checks/compare.py), unit by unit.

The adversarial gradings show each check failing a wrong submission end to end; these pin
each rule of the comparison itself, fast enough to run once per mutant (``make mutate``).
"""

from __future__ import annotations

import math

import pytest

from autograder.grading.judge.checks.compare import expect_list, same_value, smallest_failing
from autograder.grading.judge.checks.support import CheckFailed


class AlwaysEqualList(list):
    def __eq__(self, other):
        return True


class LoudFloat(float):
    pass


@pytest.mark.parametrize(
    ("expected", "got"),
    [
        (1, 1),
        (-7, -7),
        ("ab", "ab"),
        (True, True),
        (1.0, 1.0),
        (0.0, -0.0),
        ([], []),
        ((), ()),
        ([1, 2.5, "x"], [1, 2.5, "x"]),
        (((1, 2), (3, 4)), ((1, 2), (3, 4))),
        ([[1.0, 2.0], [3.0]], [[1.0, 2.0], [3.0]]),
    ],
)
def test_equal_values_of_the_same_type_are_the_same(expected, got) -> None:
    assert same_value(expected, got) is True


@pytest.mark.parametrize(
    ("expected", "got"),
    [
        (1, 2),
        (1, 1.0),  # an int is not a float
        (1.0, 1),
        (1, True),  # bool is an int subclass: still not an int
        (True, 1),
        (False, True),
        ("ab", "ba"),
        ("ab", b"ab"),
        (1.0, LoudFloat(1.0)),  # a float subclass could lie in any method
        ([1, 2], AlwaysEqualList([9, 9])),
        ([1, 2], (1, 2)),
        ((1, 2), [1, 2]),
        ([1, 2], [1, 2, 3]),
        ([1, 2, 3], [1, 2]),
        ([1, 2, 3], [0, 2, 3]),  # first
        ([1, 2, 3], [1, 0, 3]),  # middle
        ([1, 2, 3], [1, 2, 0]),  # last
        (((1, 2), (3, 4)), ((1, 2), (3, 5))),
        ([1.0, 2.0], [1.0, math.nan]),
        (1.0, math.inf),
        (math.inf, -math.inf),
        (1.0, None),
        (1, "1"),
    ],
)
def test_a_different_value_or_type_is_not_the_same(expected, got) -> None:
    assert same_value(expected, got) is False


def test_nan_matches_only_nan() -> None:
    assert same_value(math.nan, math.nan) is True
    assert same_value(math.nan, 1.0) is False
    assert same_value(1.0, math.nan, rel_tol=1e9, abs_tol=1e9) is False
    assert same_value(math.nan, 1.0, rel_tol=1e9, abs_tol=1e9) is False


def test_floats_are_compared_within_the_given_tolerances_only() -> None:
    assert same_value(1.0, 1.0 + 1e-12) is False  # exact by default
    assert same_value(1.0, 1.0 + 1e-12, rel_tol=1e-9) is True
    assert same_value(1.0, 1.0 + 1e-6, rel_tol=1e-9) is False
    assert same_value(0.0, 1e-13, abs_tol=1e-12) is True
    assert same_value(0.0, 1e-11, abs_tol=1e-12) is False
    assert same_value(0.0, 1e-13, rel_tol=0.5) is False  # relative to 0 is nothing
    # tolerances reach inside containers
    assert same_value([1.0, (2.0,)], [1.0, (2.0 + 1e-12,)], rel_tol=1e-9) is True
    assert same_value([1.0, (2.0,)], [1.0, (2.0 + 1e-6,)], rel_tol=1e-9) is False
    assert same_value([0.0], [1e-13], abs_tol=1e-12) is True


def test_an_expected_type_without_a_rule_is_a_grader_bug() -> None:
    with pytest.raises(TypeError, match="dict"):
        same_value({"a": 1}, {"a": 1})


def test_expect_list_accepts_the_right_list() -> None:
    assert expect_list([1, 2, 3], [1, 2, 3], what="f", given="xs") is None
    assert expect_list([1.0], [1.0 + 1e-12], what="f", given="xs", rel_tol=1e-9) is None
    assert expect_list([0.0], [1e-13], what="f", given="xs", abs_tol=1e-12) is None
    assert expect_list([], [], what="f", given="xs") is None


@pytest.mark.parametrize("index", [0, 2, 4])
def test_expect_list_names_the_first_wrong_element(index: int) -> None:
    expected = [10, 11, 12, 13, 14]
    got = list(expected)
    got[index] = 99
    with pytest.raises(CheckFailed) as failed:
        expect_list(expected, got, what="scan", given="the input")
    assert str(failed.value) == (
        f"scan: element {index} is wrong\n  expected {expected[index]}\n  got      99\n"
        "on input the input"
    )


def test_expect_list_reports_the_first_of_several_wrong_elements() -> None:
    with pytest.raises(CheckFailed, match="element 1 is wrong"):
        expect_list([1, 2, 3], [1, 0, 0], what="f", given="xs")


def test_expect_list_wants_a_plain_list_of_the_right_length() -> None:
    with pytest.raises(CheckFailed) as failed:
        expect_list([1, 2], (1, 2), what="f", given="xs")
    assert str(failed.value) == "f should return a list, got (1, 2)\non input xs"
    with pytest.raises(CheckFailed, match="should return a list"):
        expect_list([1, 2], AlwaysEqualList([1, 2]), what="f", given="xs")
    with pytest.raises(CheckFailed) as failed:
        expect_list([1, 2], [1, 2, 3], what="f", given="xs")
    assert str(failed.value) == "f returned 3 elements, expected 2\non input xs"
    with pytest.raises(CheckFailed, match="returned 1 elements, expected 2"):
        expect_list([1, 2], [1], what="f", given="xs")


def test_expect_list_uses_both_tolerances() -> None:
    with pytest.raises(CheckFailed, match="element 0"):
        expect_list([1.0], [1.0 + 1e-6], what="f", given="xs", rel_tol=1e-9)
    with pytest.raises(CheckFailed, match="element 0"):
        expect_list([0.0], [1e-11], what="f", given="xs", abs_tol=1e-12)


def test_smallest_failing_returns_the_first_failing_candidate_and_its_reason() -> None:
    seen = []

    def fails(candidate: int) -> str | None:
        seen.append(candidate)
        return f"{candidate} is too big" if candidate >= 3 else None

    assert smallest_failing([1, 2, 3, 4, 5], fails) == (3, "3 is too big")
    assert seen == [1, 2, 3]  # stops at the first failure
    assert smallest_failing([1, 2], fails) is None
    assert smallest_failing([], fails) is None
    assert smallest_failing([0], lambda c: "") == (0, "")  # an empty reason still fails


def test_long_lists_and_large_values_built_at_run_time_are_the_same() -> None:
    """Equal, not identical: lengths past 256, big ints and strings are distinct objects."""
    long = [int(str(n)) for n in range(1000)]
    assert same_value(long, [int(str(n)) for n in range(1000)]) is True
    assert same_value(10**6, int("1000000")) is True
    assert same_value("ab" * 300, "".join(["ab"] * 300)) is True
    assert expect_list(long, list(long), what="f", given="xs") is None
