"""The medium exercise's verdicts (``checks/test_medium.py``) on a fake worker.

Each check runs as the judge runs it, with only the worker replaced: a fake ``sub`` answers
each call with a Python scan the test chose, and its traced runs work on the judge's own
tape (inputs from ``tape.inputs``, ``op`` from ``tape.wrap``), as the real worker's replayed
log does. No worker starts and nothing is timed (``make mutate``'s ``medium`` target).
"""

from __future__ import annotations

import itertools
import math
import operator
import random
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from judge_context import call_check, failure, judge_context

from autograder.grading.judge.checks import support
from autograder.grading.judge.checks import test_medium as medium
from autograder.grading.judge.checks.scan_mistakes import MISSING_ROUND_HINT, hillis_steele_rounds
from autograder.grading.judge.checks.scan_shape import HINTS
from autograder.grading.judge.checks.support import SubmissionError, describe
from autograder.grading.judge.checks.traceable import TRACEABLE_HINT, WHAT_IS_TRACED
from autograder.grading.judge.trace import TraceInputs
from autograder.grading.worker.protocol import ArrayValue, FnArg, ForeignInt, OpArg


@pytest.fixture
def context(tmp_path: Path) -> support.GradingContext:
    return judge_context(tmp_path, exercise="medium", device="cpu")


class FakeSub:
    """The submission's worker: each function is Python the test gives, never a process."""

    def __init__(self, **functions: Callable[..., Any]) -> None:
        self.functions, self.calls, self.traced = functions, [], []

    def call(self, function: str, *args: Any) -> Any:
        self.calls.append((function, args))
        plain = [medium.OPS[arg.name] if type(arg) is FnArg else arg for arg in args]
        return self.functions[function](*plain)

    def trace(self, function: str, *args: Any, tape: Any, ops: dict) -> Any:
        self.traced.append((function, args, sorted(ops)))

        def given(arg: Any) -> Any:
            if type(arg) is TraceInputs:
                return arg.container(tape.inputs(arg.values))
            if type(arg) is OpArg:
                return tape.wrap(ops[arg.name])
            return arg

        return self.functions[function](*[given(arg) for arg in args])


def hillis_steele(xs: list, op: Callable) -> list:
    """The model scan: ceil(log2 n) rounds, each a new list."""
    values, step = list(xs), 1
    while step < len(values):
        values = [
            values[j] if j < step else op(values[j - step], values[j]) for j in range(len(values))
        ]
        step *= 2
    return values


def serial_scan(xs: list, op: Callable) -> list:
    return list(itertools.accumulate(xs, op))


def raises_value_error(*args: Any) -> Any:
    raise SubmissionError("ValueError: negative", raised=("ValueError", "Exception"))


def formulas(depth=medium.hillis_steele_depth, work=medium.hillis_steele_work) -> dict:
    """scan_depth / scan_work replies: the given formula, ValueError below zero."""
    return {
        "scan_depth": lambda n: raises_value_error() if n < 0 else depth(n),
        "scan_work": lambda n: raises_value_error() if n < 0 else work(n),
    }


def model(**changes: Callable) -> FakeSub:
    functions = {"serial_scan": serial_scan, "hillis_steele_scan": hillis_steele, **formulas()}
    return FakeSub(**(functions | changes))


def rounds(xs: list) -> int:
    return medium.hillis_steele_depth(len(xs))


def wrong_at(position: Callable[[int], int], *, when: Callable[[int], bool] = lambda n: True):
    """A scan right everywhere but one element (picked by ``position(n)``), on inputs ``when``
    selects: a plain list, of the right length and element types."""

    def scan(xs: list, op: Callable) -> list:
        values = serial_scan(xs, op)
        if values and when(len(xs)):
            index = position(len(xs))
            values[index] = values[index] + (1 if type(values[index]) is int else 0.5)
        return values

    return scan


CORRECTNESS = {
    "medium.serial_scan_correct": (medium.test_serial_scan_correct, "serial_scan"),
    "medium.matches_serial_1024_int": (medium.test_matches_serial_1024_int, "hillis_steele_scan"),
    "medium.matches_serial_1024_float": (
        medium.test_matches_serial_1024_float,
        "hillis_steele_scan",
    ),
    "medium.edge_lengths": (medium.test_edge_lengths, "hillis_steele_scan"),
    "medium.non_commutative_op": (medium.test_non_commutative_op, "hillis_steele_scan"),
}


# ---------------------------------------------------------------- bindings and formulas


def test_each_check_of_the_registry_is_bound_to_its_function() -> None:
    from autograder.spec.registry import CHECKS_BY_ID

    bound = {
        name: [mark.args[0] for mark in getattr(value, "pytestmark", []) if mark.name == "check"]
        for name, value in vars(medium).items()
        if name.startswith("test_")
    }
    assert bound == {
        "test_serial_scan_correct": ["medium.serial_scan_correct"],
        "test_matches_serial_1024_int": ["medium.matches_serial_1024_int"],
        "test_matches_serial_1024_float": ["medium.matches_serial_1024_float"],
        "test_edge_lengths": ["medium.edge_lengths"],
        "test_non_commutative_op": ["medium.non_commutative_op"],
        "test_depth_measured": ["medium.depth_measured"],
        "test_work_measured": ["medium.work_measured"],
        "test_scan_depth_formula": ["medium.scan_depth_formula"],
        "test_scan_work_formula": ["medium.scan_work_formula"],
    }
    assert sorted(i for ids in bound.values() for i in ids) == sorted(
        i for i in CHECKS_BY_ID if i.startswith("medium.")
    )
    assert medium.sub._fixture_function_marker.scope == "module"


def test_hillis_steeles_depth_and_work() -> None:
    assert [medium.hillis_steele_depth(n) for n in (0, 1, 2, 3, 4, 5, 1024, 1025)] == [
        0,
        0,
        1,
        2,
        2,
        3,
        10,
        11,
    ]
    # sum over rounds k of (n - 2**k)
    assert [medium.hillis_steele_work(n) for n in (0, 1, 2, 3, 7, 64, 1024, 1025)] == [
        0,
        0,
        1,
        3,
        6 + 5 + 3,
        64 * 6 - 63,
        1024 * 10 - 1023,
        1025 * 11 - 2047,
    ]
    assert medium.serial([1, 2, 3]) == [1, 3, 6]
    assert medium.serial(["a", "b", "c"], operator.add) == ["a", "ab", "abc"]
    assert medium.matmul2(((1, 2), (3, 4)), ((5, 6), (7, 8))) == ((19, 22), (43, 50))
    assert {"add": operator.add, "matmul2": medium.matmul2} == medium.OPS


# ---------------------------------------------------------------- the scans' values


def test_the_model_scan_passes_every_correctness_check_on_its_inputs(context, made) -> None:
    sub = model()
    for check, _ in CORRECTNESS.values():
        call_check(check, sub, context, made)
    seen = [(fn, len(args[0]), args[1].name) for fn, args in sub.calls]
    assert seen == [
        *[("serial_scan", n, "add") for n in (0, 1, 2, 17, 100, 9)],
        ("hillis_steele_scan", 1024, "add"),
        ("hillis_steele_scan", 1024, "add"),
        *[("hillis_steele_scan", n, "add") for n in (0, 1, 2, 3, 5, 1000, 1025)],
        *[("hillis_steele_scan", n, "add") for n in (2, 3, 7, 16, 33)],
        *[("hillis_steele_scan", n, "matmul2") for n in (2, 5, 12)],
    ]


def test_the_inputs_are_the_runs_seeded_draws(context, made) -> None:
    """Each check draws from its own seeded generator: the ranges and kinds the checks name."""
    sub = model()
    for check, _ in CORRECTNESS.values():
        call_check(check, sub, context, made)
    given = [args[0] for _, args in sub.calls]

    def draws(check_id: str) -> random.Random:
        return random.Random(f"7:{check_id}")

    rng = draws("medium.serial_scan_correct")
    expected = [[rng.randint(-99, 99) for _ in range(n)] for n in (0, 1, 2, 17, 100)]
    expected.append([rng.choice(string.ascii_lowercase) for _ in range(9)])
    rng = draws("medium.matches_serial_1024_int")
    expected.append([rng.randint(-1000, 1000) for _ in range(1024)])
    rng = draws("medium.matches_serial_1024_float")
    expected.append([rng.random() for _ in range(1024)])
    rng = draws("medium.edge_lengths")
    expected += [[rng.randint(-50, 50) for _ in range(n)] for n in (0, 1, 2, 3, 5, 1000, 1025)]
    rng = draws("medium.non_commutative_op")
    expected += [
        ["".join(rng.choices(string.ascii_lowercase, k=2)) for _ in range(n)]
        for n in (2, 3, 7, 16, 33)
    ]
    expected += [
        [tuple(tuple(rng.randint(-3, 3) for _ in range(2)) for _ in range(2)) for _ in range(n)]
        for n in (2, 5, 12)
    ]
    assert given == expected


@pytest.mark.parametrize(
    ("position", "index"),
    [(lambda n: 0, 0), (lambda n: n // 2, 512), (lambda n: n - 1, 1023)],
    ids=["first", "middle", "last"],
)
def test_a_wrong_value_in_a_plain_list_fails_with_its_position(context, position, index) -> None:
    sub = model(hillis_steele_scan=wrong_at(position))
    error = failure(medium.test_matches_serial_1024_int, sub, context)
    xs = sub.calls[0][1][0]
    want = serial_scan(xs, operator.add)
    assert str(error) == (
        f"hillis_steele_scan on 1024 elements: element {index}: expected {want[index]}, "
        f"got {want[index] + 1}\n"
        f"smallest failing input: [{xs[0]}]\n  expected [{xs[0]}]\n  returned [{xs[0] + 1}]\n"
        f"  (element 0: expected {xs[0]}, got {xs[0] + 1})"
    )
    assert error.hint is None


@pytest.mark.parametrize("index", [0, 40, 62, 63, 100])
def test_the_smallest_failing_prefix_is_the_shortest_below_64(context, index) -> None:
    sub = model(hillis_steele_scan=wrong_at(lambda n: index, when=lambda n: n > index))
    error = failure(medium.test_matches_serial_1024_int, sub, context)
    xs = sub.calls[0][1][0]
    want = serial_scan(xs, operator.add)
    first = (
        f"hillis_steele_scan on 1024 elements: element {index}: expected {want[index]}, "
        f"got {want[index] + 1}"
    )
    if index >= 63:  # prefixes are tried up to 63 elements: none fails
        assert str(error) == first
        assert len(sub.calls) == 1 + 64
        return
    prefix = xs[: index + 1]
    got = [*want[:index], want[index] + 1]
    assert str(error) == (
        f"{first}\nsmallest failing input: {describe(prefix)}\n"
        f"  expected {describe(want[: index + 1])}\n  returned {describe(got)}\n"
        f"  (element {index}: expected {want[index]}, got {want[index] + 1})"
    )
    assert [len(args[0]) for _, args in sub.calls] == [1024, *range(index + 2)]


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (lambda xs, op: tuple(serial_scan(xs, op)), "returned {got}, not a list"),
        (lambda xs, op: serial_scan(xs, op)[:-1], "returned {length} elements, expected {n}"),
        (lambda xs, op: [*serial_scan(xs, op), 0], "returned {length} elements, expected {n}"),
        (lambda xs, op: [float(v) for v in serial_scan(xs, op)], "element 0: expected"),
    ],
    ids=["tuple", "shorter", "longer", "floats for ints"],
)
def test_a_scan_of_another_type_or_length_fails(context, reply, reason) -> None:
    sub = model(hillis_steele_scan=reply)
    error = str(failure(medium.test_matches_serial_1024_int, sub, context))
    xs = sub.calls[0][1][0]
    got = reply(xs, operator.add)
    assert error.startswith(
        "hillis_steele_scan on 1024 elements: "
        + reason.format(got=describe(got), length=len(got), n=1024)
    )


@pytest.mark.parametrize(("scale", "passes"), [(1 + 0.99e-9, True), (1 + 1.01e-9, False)])
def test_float_scans_are_compared_to_a_relative_1e_9(context, scale, passes) -> None:
    sub = model(hillis_steele_scan=lambda xs, op: [v * scale for v in serial_scan(xs, op)])
    if passes:
        call_check(medium.test_matches_serial_1024_float, sub, context)
        return
    error = str(failure(medium.test_matches_serial_1024_float, sub, context))
    assert error.startswith("hillis_steele_scan on 1024 elements: element 0: expected ")


def test_int_scans_are_compared_exactly(context) -> None:
    sub = model(hillis_steele_scan=wrong_at(lambda n: n - 1, when=lambda n: n == 1025))
    error = str(failure(medium.test_edge_lengths, sub, context))
    assert error.startswith("hillis_steele_scan (length 1025) on 1025 elements: element 1024: ")
    assert "smallest failing input" not in error
    sub = model(hillis_steele_scan=lambda xs, op: [0] if not xs else serial_scan(xs, op))
    assert str(failure(medium.test_edge_lengths, sub, context)) == (
        "hillis_steele_scan (length 0) on 0 elements: returned 1 elements, expected 0"
    )


def test_the_serial_scan_check_names_the_string_concatenation(context) -> None:
    def wrong_strings(xs, op):
        strings = xs and type(xs[0]) is str
        return [*serial_scan(xs, op)[:-1], "?"] if strings else serial_scan(xs, op)

    sub = model(serial_scan=wrong_strings)
    error = str(failure(medium.test_serial_scan_correct, sub, context))
    letters = sub.calls[5][1][0]
    assert error.startswith(
        f"serial_scan with string concatenation on 9 elements: element 8: expected "
        f"{''.join(letters)!r}, got '?'\nsmallest failing input: [{letters[0]!r}]"
    )
    sub = model(serial_scan=wrong_at(lambda n: n - 1, when=lambda n: n == 1))
    assert str(failure(medium.test_serial_scan_correct, sub, context)).startswith(
        "serial_scan on 1 elements: element 0: expected "
    )


def test_a_known_mistake_is_named_with_its_hint_on_the_smallest_input(context) -> None:
    sub = model(
        hillis_steele_scan=lambda xs, op: hillis_steele_rounds(xs, op, max(0, rounds(xs) - 1))
    )
    error = failure(medium.test_matches_serial_1024_int, sub, context)
    assert str(error).endswith(
        "\nthese are the values after 0 rounds: one round too few (n=2 needs ceil(log2 n) = 1)"
    )
    assert "smallest failing input: [" in str(error)
    assert error.hint == MISSING_ROUND_HINT
    # the float check recognises it within its own tolerance too
    sub = model(
        hillis_steele_scan=lambda xs, op: [
            v * (1 + 1e-12) for v in hillis_steele_rounds(xs, op, max(0, rounds(xs) - 1))
        ]
    )
    assert failure(medium.test_matches_serial_1024_float, sub, context).hint == MISSING_ROUND_HINT


def test_swapped_operands_fail_the_non_commutative_check(context) -> None:
    sub = model(hillis_steele_scan=lambda xs, op: hillis_steele(xs, lambda a, b: op(b, a)))
    error = failure(medium.test_non_commutative_op, sub, context)
    words = sub.calls[0][1][0]
    assert str(error).startswith(
        "hillis_steele_scan with string concatenation on 2 elements: element 1: expected "
        f"{words[0] + words[1]!r}, got {words[1] + words[0]!r}\n"
        "these are the values with the operands swapped: the later element was the left operand"
    )  # no prefix shorter than 2 elements fails: none shown
    # matrices: the strings right, the products in the wrong order
    sub = model(
        hillis_steele_scan=lambda xs, op: hillis_steele(
            xs, op if op is operator.add else lambda a, b: op(b, a)
        )
    )
    error = str(failure(medium.test_non_commutative_op, sub, context))
    assert error.startswith("hillis_steele_scan with 2x2 matrix products on 2 elements:")


# ---------------------------------------------------------------- traced depth and work


@pytest.fixture
def made() -> dict[str, Any]:
    """The check module's fixture values for one submission, as the module scope holds them
    in a judge: the traced scan one check measures serves the others."""
    return {}


def test_the_model_scan_is_measured_once_for_depth_and_work(context, made) -> None:
    sub = model()
    context.current_check = "medium.depth_measured"
    call_check(medium.test_depth_measured, sub, context, made)
    call_check(medium.test_work_measured, sub, context, made)
    assert [(fn, len(args[0].values), ops) for fn, args, ops in sub.traced] == [
        ("hillis_steele_scan", n, ["op"]) for n in medium.TRACED_LENGTHS
    ]
    assert all(type(args[1]) is OpArg and args[1].name == "op" for _, args, _ in sub.traced)
    assert context.records["medium.depth_measured"]["measured"] == {
        str(n): {"depth": medium.hillis_steele_depth(n), "work": medium.hillis_steele_work(n)}
        for n in medium.TRACED_LENGTHS
    }
    assert medium.TRACED_LENGTHS == (2, 3, 7, 64, 1000, 1024, 1025)


def test_the_traced_inputs_are_the_runs_seeded_draws(context, made) -> None:
    sub = model()
    call_check(medium.test_depth_measured, sub, context, made)
    rng = random.Random("7:medium.traced")
    values = [rng.randint(-9, 9) for _ in range(1025)]
    assert [list(args[0].values) for _, args, _ in sub.traced] == [
        values[:n] for n in medium.TRACED_LENGTHS
    ]


def test_a_serial_scan_fails_depth_and_work_with_both_tables(context, made) -> None:
    sub = model(hillis_steele_scan=serial_scan)
    error = failure(medium.test_depth_measured, sub, context, made)
    lengths = medium.TRACED_LENGTHS
    assert str(error) == (
        "the depth grows like n (1024 at n=1025): a chain as long as the input, the depth of "
        "a serial scan; this exercise asks for Hillis-Steele's ceil(log2 n) rounds\n"
        "measured depth (longest chain of op applications): "
        + ", ".join(f"n={n}: {n - 1}" for n in lengths)
        + "\nHillis-Steele's rounds:                            "
        + ", ".join(f"n={n}: {medium.hillis_steele_depth(n)}" for n in lengths)
    )
    assert error.hint == HINTS["linear"]
    error = failure(medium.test_work_measured, sub, context, made)
    assert str(error) == (
        "measured work at n=1025: 1024 applications of op, n - 1 applications: the work of a "
        "serial scan; Hillis-Steele performs the sum over rounds of (n - 2**k) = 9228\n"
        "measured work: " + ", ".join(f"n={n}: {n - 1}" for n in lengths) + "\n"
        "Hillis-Steele: " + ", ".join(f"n={n}: {medium.hillis_steele_work(n)}" for n in lengths)
    )
    assert error.hint == medium.WORK_HINTS["serial"] == HINTS["linear"]
    assert len(sub.traced) == len(lengths)  # measured once for both checks


def extra_work(count: Callable[[int], int], when: Callable[[int], bool] = lambda n: True):
    """The model's values and depth, with ``count(n)`` more applications of op thrown away."""

    def scan(xs: list, op: Callable) -> list:
        if when(len(xs)):
            for _ in range(count(len(xs))):
                op(xs[0], xs[0])
        return hillis_steele(xs, op)

    return scan


@pytest.mark.parametrize(
    ("scan", "n", "work", "what", "kind"),
    [
        (extra_work(lambda n: 1), 1025, 9229, "1 more than Hillis-Steele", "more"),
        (extra_work(lambda n: 1, when=lambda n: n == 2), 2, 2, "1 more than Hillis-Steele", "more"),
        (extra_work(lambda n: 1, when=lambda n: n == 64), 64, 322, "1 more than", "more"),
        (
            lambda xs, op: (serial_scan(xs, op), serial_scan(xs, op))[0],
            1025,
            2048,
            "about 2n: the work of a work-efficient",
            "efficient",
        ),
        (
            lambda xs, op: (hillis_steele(xs[: len(xs) // 2], op), hillis_steele(xs, op))[1],
            1025,
            9228 + 512 * 9 - 511,
            "1 more",
            "more",
        ),
    ],
    ids=["more at every n", "more at n=2 only", "more at n=64 only", "efficient", "more, half"],
)
def test_work_is_compared_at_every_length_and_named_at_the_largest_wrong(
    context, made, scan, n, work, what, kind
) -> None:
    sub = model(hillis_steele_scan=scan)
    error = failure(medium.test_work_measured, sub, context, made)
    expected = medium.hillis_steele_work(n)
    assert str(error).startswith(f"measured work at n={n}: {work} applications of op, ")
    if kind == "more":
        assert f", {work - expected} more than Hillis-Steele" in str(error)
    else:
        assert what in str(error)
    assert f"Hillis-Steele performs the sum over rounds of (n - 2**k) = {expected}\n" in str(error)
    assert error.hint == medium.WORK_HINTS[kind]


def test_fewer_applications_than_hillis_steele_are_named(context, made) -> None:
    def divide_and_conquer(xs: list, op: Callable) -> list:
        if len(xs) <= 1:
            return list(xs)
        half = len(xs) // 2
        left, right = divide_and_conquer(xs[:half], op), divide_and_conquer(xs[half:], op)
        return left + [op(left[-1], value) for value in right]

    sub = model(hillis_steele_scan=divide_and_conquer)
    error = failure(medium.test_work_measured, sub, context, made)
    assert str(error).startswith("measured work at n=1025: ")
    assert "fewer than Hillis-Steele's rounds: another schedule" in str(error)
    assert error.hint == medium.WORK_HINTS["fewer"]
    assert set(medium.WORK_HINTS) == {"serial", "more", "efficient", "fewer"}


@pytest.mark.parametrize(
    ("reply", "message", "hint"),
    [
        (
            lambda xs, op: tuple(hillis_steele(xs, op)),
            "on 2 traced inputs the scan returned (Traced({a}, depth=0), Traced({ab}, depth=1))",
            None,
        ),
        (
            lambda xs, op: hillis_steele(xs, op)[:-1],
            "on 2 traced inputs the scan returned [Traced({a}, depth=0)]",
            None,
        ),
        (
            lambda xs, op: [*hillis_steele(xs, op), xs[0]],
            "on 2 traced inputs the scan returned [Traced({a}, depth=0), Traced({ab}, depth=1), "
            "Traced({a}, depth=0)]",
            None,
        ),
        (
            lambda xs, op: ArrayValue("ndarray", "int64", (len(xs),), "cpu", None),
            "on 2 traced inputs the function returned <numpy.ndarray of shape (2,), dtype int64, "
            f"on cpu>, not a list of traced values\n{WHAT_IS_TRACED}",
            TRACEABLE_HINT,
        ),
        (
            lambda xs, op: [*hillis_steele(xs, op)[:-1], 5],
            "on 2 traced inputs, element 1 is 5: not a value made by op from the inputs, so its "
            "depth cannot be measured (combine only with op)",
            TRACEABLE_HINT,
        ),
    ],
    ids=["tuple", "shorter", "longer", "array", "a plain number"],
)
def test_a_traced_run_must_return_the_tapes_values(context, made, reply, message, hint) -> None:
    sub = model(hillis_steele_scan=reply)
    error = failure(medium.test_depth_measured, sub, context, made)
    a, b = sub.traced[0][1][0].values
    assert str(error) == message.format(a=a, ab=a + b)
    assert error.hint == hint
    again = failure(
        medium.test_work_measured, sub, context, made
    )  # the same failure, measured once
    assert (str(again), again.hint) == (str(error), error.hint)
    assert len(sub.traced) == 1


@pytest.mark.parametrize("index", [0, 3, 6], ids=["first", "middle", "last"])
def test_wrong_traced_values_are_not_measured(context, made, index) -> None:
    def wrong(xs, op):
        values = hillis_steele(xs, op)
        if len(xs) == 7:
            values[index] = op(values[index], xs[0])  # the tape's, but the wrong value
        return values

    sub = model(hillis_steele_scan=wrong)
    error = failure(medium.test_work_measured, sub, context, made)
    inputs = list(sub.traced[2][1][0].values)
    expected = serial_scan(inputs, operator.add)
    returned = list(expected)
    returned[index] += inputs[0]
    assert str(error) == (
        "hillis_steele_scan returned wrong values on 7 inputs, so its depth and work were not "
        f"measured:\n  input    {describe(inputs)}\n  expected {describe(expected)}\n"
        f"  returned {describe(returned)}"
    )
    assert error.hint.startswith("Make the scan return the right values first")


def test_wrong_traced_values_of_a_known_mistake_are_named(context, made) -> None:
    sub = model(hillis_steele_scan=lambda xs, op: hillis_steele_rounds(xs, op, rounds(xs) - 1))
    error = failure(medium.test_depth_measured, sub, context, made)
    assert str(error).endswith(
        "\nthese are the values after 0 rounds: one round too few (n=2 needs ceil(log2 n) = 1)"
    )
    assert error.hint == MISSING_ROUND_HINT


def test_a_scan_that_crashes_when_traced_fails_both_checks_alike(context, made) -> None:
    def crash(xs, op):
        raise SubmissionError("the worker exited", raised=("RuntimeError",))

    sub = model(hillis_steele_scan=crash)
    for check in (medium.test_depth_measured, medium.test_work_measured):
        with pytest.raises(SubmissionError) as crashed:
            call_check(check, sub, context, made)
        assert (str(crashed.value), crashed.value.raised) == (
            "the worker exited",
            ("RuntimeError",),
        )
        assert type(crashed.value) is SubmissionError
    assert len(sub.traced) == 1
    # the formulas stand on their own: graded without the measurement
    call_check(medium.test_scan_depth_formula, sub, context, made)
    call_check(medium.test_scan_work_formula, sub, context, made)


# ---------------------------------------------------------------- the formulas


@pytest.fixture
def measured(made) -> dict:
    """The model scan's depth and work, as the traced_scan fixture gives them to the checks
    (the traced runs themselves are tested above; here only the message shows them)."""
    figures = {
        n: (medium.hillis_steele_depth(n), medium.hillis_steele_work(n))
        for n in medium.TRACED_LENGTHS
    }
    made["traced_scan"] = support.Measurement(lambda: figures)
    return figures


def test_the_formulas_are_asked_at_every_length_and_below_zero(context, made, measured) -> None:
    sub = model()
    call_check(medium.test_scan_depth_formula, sub, context, made)
    call_check(medium.test_scan_work_formula, sub, context, made)
    for name in ("scan_depth", "scan_work"):
        assert [args[0] for fn, args in sub.calls if fn == name] == [*medium.FORMULA_LENGTHS, -1]


def test_formula_lengths() -> None:
    assert medium.FORMULA_LENGTHS == (
        0,
        1,
        2,
        3,
        7,
        64,
        1000,
        1024,
        1025,
        4096,
        2**20,
        2**20 + 1,
        2**53,
        2**53 + 1,
        2**60 + 1,
    )


@pytest.mark.parametrize("name", ["scan_depth", "scan_work"])
@pytest.mark.parametrize("n", [0, 64, 2**20 + 1, 2**60 + 1], ids=["0", "64", "2**20+1", "2**60+1"])
def test_one_wrong_formula_value_fails_at_its_length(context, made, measured, name, n) -> None:
    truth = medium.hillis_steele_depth if name == "scan_depth" else medium.hillis_steele_work
    sub = model(**{name: lambda m: truth(m) + 7 * (m == n)})
    check = (
        medium.test_scan_depth_formula if name == "scan_depth" else medium.test_scan_work_formula
    )
    error = failure(check, sub, context, made)
    measured = (medium.hillis_steele_depth(n), medium.hillis_steele_work(n))
    seen = f"; your scan measured {measured[name == 'scan_work']}" if n == 64 else ""
    assert str(error) == f"{name}({n}): expected {truth(n)}, got {truth(n) + 7}{seen}"
    assert error.hint is None


@pytest.mark.parametrize(
    ("value", "shown"),
    [("6", "'6'"), (None, "None"), (6.0, "6.0"), (ForeignInt(6), "int(6)")],
    ids=["a string", "None", "a float", "a numpy int"],
)
def test_a_formula_must_return_an_int(context, made, measured, value, shown) -> None:
    sub = model(scan_depth=lambda n: value if n == 64 else medium.hillis_steele_depth(n))
    assert str(failure(medium.test_scan_depth_formula, sub, context, made)) == (
        f"scan_depth(64): expected 6, got {shown}; your scan measured 6"
    )


def test_an_int_subclass_at_zero_fails_without_the_float_hint(context, made, measured) -> None:
    """lying_objects' scan_depth: an int subclass equal to everything. Its 0 at n=0 once took
    the float-rounding branch, whose math.log2(0) crashed the judge's check."""
    sub = model(scan_depth=lambda n: ForeignInt(0))
    error = failure(medium.test_scan_depth_formula, sub, context, made)
    assert (str(error), error.hint) == ("scan_depth(0): expected 0, got int(0)", None)


@pytest.mark.parametrize(("n", "got"), [(1, 1), (1, -1), (2, 0), (3, 1), (64, 5)])
def test_a_wrong_depth_at_small_n_is_not_a_float_rounding(context, made, measured, n, got) -> None:
    """Below 2 elements there are no rounds, whatever float log2 says; and a count below the
    float count is not the float count: a plain message."""
    sub = model(scan_depth=lambda m: got if m == n else medium.hillis_steele_depth(m))
    error = failure(medium.test_scan_depth_formula, sub, context, made)
    seen = f"; your scan measured {measured[n][0]}" if n in measured else ""
    expected = medium.hillis_steele_depth(n)
    assert (str(error), error.hint) == (
        f"scan_depth({n}): expected {expected}, got {got}{seen}",
        None,
    )


@pytest.mark.parametrize("name", ["scan_depth", "scan_work"])
def test_float_log2_rounds_are_named(context, made, measured, name) -> None:
    def with_float_rounds(n: int) -> int:
        count = math.ceil(math.log2(n)) if n > 1 else 0
        return count if name == "scan_depth" else sum(n - 2**k for k in range(count))

    sub = model(**{name: with_float_rounds})
    check = (
        medium.test_scan_depth_formula if name == "scan_depth" else medium.test_scan_work_formula
    )
    error = failure(check, sub, context, made)
    n = 2**53 + 1
    truth = medium.hillis_steele_depth if name == "scan_depth" else medium.hillis_steele_work
    assert str(error) == (
        f"{name}({n}): expected {truth(n)}, got {with_float_rounds(n)}\n"
        f"that is math.ceil(math.log2(n)) rounds: math.log2({n}) rounds to 53.0 in floating point"
    )
    assert error.hint.startswith("Count the rounds with integers: (n - 1).bit_length()")


@pytest.mark.parametrize("name", ["scan_depth", "scan_work"])
def test_a_formula_that_accepts_minus_one_fails(context, made, measured, name) -> None:
    truth = medium.hillis_steele_depth if name == "scan_depth" else medium.hillis_steele_work
    sub = model(**{name: lambda n: truth(max(n, 0))})
    check = (
        medium.test_scan_depth_formula if name == "scan_depth" else medium.test_scan_work_formula
    )
    error = failure(check, sub, context, made)
    assert str(error) == (
        f"{name}(-1) returned 0; a negative length should raise ValueError, as the docstring says"
    )
    assert error.hint == "Start with: if n < 0: raise ValueError(...)."
