"""The challenge's verdicts (``checks/test_challenge.py``) on a fake worker.

Each check runs as the judge runs it, with only the worker replaced: a fake ``sub`` answers
with Python the test chose, and its traced runs compute on the judge's own tape (inputs
from ``tape.inputs``), as the real worker's replayed log does. No worker starts and nothing
is timed (``make mutate``'s ``challenge`` target).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from judge_context import call_check, failure, judge_context

from autograder.grading.judge.checks import support
from autograder.grading.judge.checks import test_challenge as challenge
from autograder.grading.judge.checks.scan_shape import rounds
from autograder.grading.judge.checks.support import SubmissionError, describe
from autograder.grading.judge.checks.traceable import TRACEABLE_HINT, WHAT_IS_TRACED
from autograder.grading.judge.trace import TraceInputs
from autograder.grading.worker.protocol import ArrayValue, ForeignFloat


@pytest.fixture
def context(tmp_path: Path) -> support.GradingContext:
    return judge_context(tmp_path, exercise="challenge", device="cpu")


class FakeSub:
    """The submission's worker: each function is Python the test gives, never a process."""

    def __init__(self, **functions: Callable[..., Any]) -> None:
        self.functions, self.calls, self.traced = functions, [], []

    def call(self, function: str, *args: Any) -> Any:
        self.calls.append((function, args))
        return self.functions[function](*args)

    def trace(self, function: str, *args: Any, tape: Any, ops: dict) -> Any:
        self.traced.append((function, args, ops))
        given = [
            arg.container(tape.inputs(arg.values)) if type(arg) is TraceInputs else arg
            for arg in args
        ]
        return self.functions[function](*given)


def combine(left: tuple, right: tuple) -> tuple:
    """The model's combine: the earlier step on the left."""
    return left[0] * right[0], right[0] * left[1] + right[1]


def scan_pairs(
    a: list, x: list, count: Callable[[int], int] = rounds, step_with: Callable | None = None
) -> list:
    """Hillis-Steele over (a, x) pairs, ``count(n)`` rounds; the x of each."""
    if len(a) != len(x):
        raise SubmissionError("ValueError: lengths differ", raised=("ValueError", "Exception"))
    values, step = list(zip(a, x, strict=True)), 1
    for _ in range(count(len(values))):
        values = [
            values[j] if j < step else (step_with or combine)(values[j - step], values[j])
            for j in range(len(values))
        ]
        step *= 2
    return [h for _, h in values]


def serial_pairs(a: list, x: list) -> list:
    h, out = 0.0, []
    for a_t, x_t in zip(a, x, strict=True):
        h = a_t * h + x_t
        out.append(h)
    return out


def model(**changes: Callable) -> FakeSub:
    return FakeSub(**({"combine": combine, "linear_recurrence": scan_pairs} | changes))


# ---------------------------------------------------------------- bindings, helpers


def test_each_check_of_the_registry_is_bound_to_its_function() -> None:
    from autograder.spec.registry import CHECKS_BY_ID

    bound = {
        name: [mark.args[0] for mark in getattr(value, "pytestmark", []) if mark.name == "check"]
        for name, value in vars(challenge).items()
        if name.startswith("test_")
    }
    assert bound == {
        "test_combine_correct": ["challenge.combine_correct"],
        "test_matches_serial_1024": ["challenge.matches_serial_1024"],
        "test_depth_logarithmic": ["challenge.depth_logarithmic"],
    }
    assert sorted(i for ids in bound.values() for i in ids) == sorted(
        i for i in CHECKS_BY_ID if i.startswith("challenge.")
    )
    assert challenge.sub._fixture_function_marker.scope == "module"


def test_the_serial_recurrence_and_the_reference_combine() -> None:
    assert challenge.serial_recurrence([0.5, 2.0, 1.0], [1.0, 3.0, -1.0]) == [1.0, 5.0, 4.0]
    assert challenge.serial_recurrence([], []) == []
    assert challenge.reference_combine((2.0, 3.0), (5.0, 7.0)) == (10.0, 22.0)
    with pytest.raises(ValueError):
        challenge.serial_recurrence([1.0], [])
    assert challenge.TRACED_LENGTHS == (3, 7, 64, 1000, 1024)


# ---------------------------------------------------------------- combine


def combine_inputs() -> tuple[list, list]:
    """The check's draws from the run's seed: 20 pairs, then 20 triples."""
    rng = random.Random("7:challenge.combine_correct")
    pairs = [
        ((rng.uniform(-2, 2), rng.uniform(-2, 2)), (rng.uniform(-2, 2), rng.uniform(-2, 2)))
        for _ in range(20)
    ]
    triples = [tuple((rng.uniform(-2, 2), rng.uniform(-2, 2)) for _ in range(3)) for _ in range(20)]
    return pairs, triples


def test_the_model_combine_passes_on_the_runs_draws(context) -> None:
    sub = model()
    call_check(challenge.test_combine_correct, sub, context)
    pairs, triples = combine_inputs()
    asked = [args for _, args in sub.calls]
    assert asked[:20] == pairs
    grouped = []
    for p, q, r in triples:
        pq, qr = combine(p, q), combine(q, r)
        grouped += [(p, q), (q, r), (pq, r), (p, qr)]
    assert asked[20:] == grouped


@pytest.mark.parametrize(
    ("which", "by", "passes"),
    [(0, 0.9e-12, True), (1, 0.9e-12, True), (0, 1.2e-12, False), (1, 1.2e-12, False)],
    ids=["a within", "x within", "a past", "x past"],
)
def test_combine_is_compared_to_1e_12_in_each_part(context, which, by, passes) -> None:
    def off(left, right):
        value = list(combine(left, right))
        value[which] += by * max(1.0, abs(value[which]))
        return tuple(value)

    sub = model(combine=off)
    if passes:
        call_check(challenge.test_combine_correct, sub, context)
        return
    error = failure(challenge.test_combine_correct, sub, context)
    left, right = combine_inputs()[0][0]
    assert str(error) == (
        f"combine({left}, {right}): expected {combine(left, right)}, got {off(left, right)} "
        "(the earlier step is on the left: h -> a2*(a1*h + x1) + x2)"
    )


def test_a_combine_with_its_steps_swapped_fails_at_once(context) -> None:
    sub = model(combine=lambda left, right: combine(right, left))
    error = failure(challenge.test_combine_correct, sub, context)
    assert str(error).startswith("combine((")
    assert len(sub.calls) == 1


def test_a_combine_right_on_pairs_but_not_associative_fails(context) -> None:
    calls = []

    def drifting(left, right):  # right for the first 20 calls, then adds 0.1 to each x
        calls.append(1)
        a, x = combine(left, right)
        return a, x + (0.1 if len(calls) > 20 else 0.0)

    error = failure(challenge.test_combine_correct, model(combine=drifting), context)
    p, q, r = combine_inputs()[1][0]
    calls.clear()
    calls.extend([1] * 20)
    pq, qr = drifting(p, q), drifting(q, r)
    left, right = drifting(pq, r), drifting(p, qr)
    assert str(error) == (
        f"combine is not associative on {p}, {q}, {r}: (p.q).r = {left} but p.(q.r) = {right}"
    )


@pytest.mark.parametrize(("scale", "passes"), [(1 + 0.9e-9, True), (1 + 1.1e-9, False)])
def test_associativity_is_judged_to_a_relative_1e_9(context, scale, passes) -> None:
    calls = []

    def grouped_left_off(left, right):  # every third call of a triple: (p.q).r
        calls.append(1)
        a, x = combine(left, right)
        return a, x * (scale if len(calls) > 20 and (len(calls) - 20) % 4 == 3 else 1.0)

    sub = model(combine=grouped_left_off)
    if passes:
        call_check(challenge.test_combine_correct, sub, context)
        return
    assert str(failure(challenge.test_combine_correct, sub, context)).startswith(
        "combine is not associative on "
    )


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (lambda p, q: list(combine(p, q)), "combine should return a tuple (a, x), got [{a}, {x}]"),
        (
            lambda p, q: (*combine(p, q), 0.0),
            "combine should return a tuple (a, x), got ({a}, {x}, 0.0)",
        ),
        (lambda p, q: combine(p, q)[:1], "combine should return a tuple (a, x), got ({a})"),
        (lambda p, q: (1, 2.0), "combine should return two floats, got (1, 2.0)"),
        (lambda p, q: (1.0, "2"), "combine should return two floats, got (1.0, '2')"),
        (lambda p, q: (math.nan, 1.0), "combine's a must be a finite number, got nan"),
        (lambda p, q: (1.0, math.inf), "combine's x must be a finite number, got inf"),
    ],
    ids=["list", "three", "one", "an int", "a string", "nan a", "inf x"],
)
def test_combine_returns_a_pair_of_finite_floats(context, reply, message) -> None:
    error = failure(challenge.test_combine_correct, model(combine=reply), context)
    left, right = combine_inputs()[0][0]
    a, x = combine(left, right)
    assert str(error) == message.format(a=a, x=x)


def test_numpy_floats_are_floats(context) -> None:
    def numpy_like(left, right):
        a, x = combine(left, right)
        return ForeignFloat(a), ForeignFloat(x)  # numpy.float64, as the protocol decodes it

    call_check(challenge.test_combine_correct, model(combine=numpy_like), context)


# ---------------------------------------------------------------- the recurrence's values


def recurrence_inputs() -> list[tuple[list, list]]:
    rng = random.Random("7:challenge.matches_serial_1024")
    inputs = []
    for n in (0, 1, 2, 5, 1000, 1024):
        a = [rng.uniform(0.5, 1.0) for _ in range(n)]
        inputs.append((a, [rng.uniform(-1.0, 1.0) for _ in range(n)]))
    return inputs


def test_the_model_recurrence_passes_on_the_runs_draws(context) -> None:
    sub = model()
    call_check(challenge.test_matches_serial_1024, sub, context)
    assert [args for _, args in sub.calls] == [
        *recurrence_inputs(),
        ([0.5, 0.25, 0.75], [1.0, 2.0]),
    ]


@pytest.mark.parametrize("index", [0, 2, 4], ids=["first", "middle", "last"])
def test_a_wrong_value_in_a_plain_list_fails_with_its_position(context, index) -> None:
    def wrong(a, x):
        values = scan_pairs(a, x)
        if len(a) == 5:
            values[index] += 0.5
        return values

    error = failure(challenge.test_matches_serial_1024, model(linear_recurrence=wrong), context)
    a, x = recurrence_inputs()[3]
    assert str(error) == (
        f"linear_recurrence (length 5): element {index} is wrong\n"
        f"  expected {describe(serial_pairs(a, x)[index])}\n"
        f"  got      {describe(wrong(a, x)[index])}\n"
        f"on input a={describe(a)}, x={describe(x)}"
    )


@pytest.mark.parametrize(
    ("by", "passes"), [(0.9e-9, True), (1.2e-9, False)], ids=["within", "past"]
)
def test_the_recurrence_is_compared_to_1e_9(context, by, passes) -> None:
    def off(a, x):
        return [h + by * max(1.0, abs(h)) for h in scan_pairs(a, x)]

    sub = model(linear_recurrence=off)
    if passes:
        call_check(challenge.test_matches_serial_1024, sub, context)
        return
    assert str(failure(challenge.test_matches_serial_1024, sub, context)).startswith(
        "linear_recurrence (length 1): element 0 is wrong\n"
    )


@pytest.mark.parametrize(("from_n", "n", "done"), [(2, 2, "0 rounds"), (5, 5, "2 rounds")])
def test_one_round_too_few_is_named(context, from_n, n, done) -> None:
    def short(a, x):
        return scan_pairs(a, x, lambda m: rounds(m) - (m >= from_n))

    error = failure(challenge.test_matches_serial_1024, model(linear_recurrence=short), context)
    assert str(error).startswith(f"linear_recurrence (length {n}): element ")
    assert str(error).endswith(
        f"\nthese are the values after {done}: one round too few "
        f"(n={n} needs ceil(log2 n) = {rounds(n)})"
    )
    assert error.hint == challenge.MISSING_ROUND


def test_a_recurrence_of_another_type_or_length_fails(context) -> None:
    sub = model(linear_recurrence=lambda a, x: tuple(scan_pairs(a, x)))
    assert str(failure(challenge.test_matches_serial_1024, sub, context)) == (
        "linear_recurrence (length 0) should return a list, got ()\non input a=[], x=[]"
    )
    sub = model(
        linear_recurrence=lambda a, x: scan_pairs(a, x)[1:] if len(a) == 2 else [0.0] * len(a)
    )
    error = failure(challenge.test_matches_serial_1024, sub, context)
    assert str(error).startswith("linear_recurrence (length 1): element 0 is wrong")
    assert error.hint is None  # one element: no rounds to be short of


def test_lengths_that_differ_must_raise_value_error(context) -> None:
    def lenient(a, x):
        return scan_pairs(a[: len(x)], x)

    error = failure(challenge.test_matches_serial_1024, model(linear_recurrence=lenient), context)
    assert str(error) == (
        f"linear_recurrence([0.5, 0.25, 0.75], [1.0, 2.0]) returned "
        f"{describe(lenient([0.5, 0.25, 0.75], [1.0, 2.0]))}; lengths that differ should raise "
        "ValueError, as the docstring says"
    )
    assert error.hint.startswith("Compare len(a) and len(x) first")


# ---------------------------------------------------------------- traced depth


def traced_inputs() -> list[tuple[list, list]]:
    rng = random.Random("7:challenge.depth_logarithmic")
    inputs = []
    for n in challenge.TRACED_LENGTHS:
        a = [rng.uniform(0.5, 1.0) for _ in range(n)]
        inputs.append((a, [rng.uniform(-1.0, 1.0) for _ in range(n)]))
    return inputs


def test_the_model_scan_is_log_depth_and_recorded(context) -> None:
    sub = model()
    context.current_check = "challenge.depth_logarithmic"
    call_check(challenge.test_depth_logarithmic, sub, context)
    combine_call, *runs = sub.traced
    assert combine_call[0] == "combine" and combine_call[2] == {}
    assert combine_call[1] == (
        TraceInputs((0.5, 0.25), container=tuple),
        TraceInputs((0.75, 0.125), container=tuple),
    )
    assert [(fn, (list(a.values), list(x.values)), ops) for fn, (a, x), ops in runs] == [
        ("linear_recurrence", inputs, {}) for inputs in traced_inputs()
    ]
    # two levels of combine (a multiply, an add) a round; one less where the last element's
    # first combine reads the depth-0 first input (n not a power of two)
    assert context.records["challenge.depth_logarithmic"]["measured_depth"] == {
        "3": 3,
        "7": 5,
        "64": 12,
        "1000": 19,
        "1024": 20,
    }


def test_a_serial_recurrence_fails_with_the_bounds_in_units_of_combine(context) -> None:
    error = failure(
        challenge.test_depth_logarithmic, model(linear_recurrence=serial_pairs), context
    )
    lengths = challenge.TRACED_LENGTHS
    assert str(error) == (
        "the depth grows like n (2048 at n=1024): a chain as long as the input, the depth of a "
        "serial scan; the challenge asks for a logarithmic depth (any log-depth scan: "
        "Hillis-Steele, Blelloch, Brent-Kung, divide and conquer)\n"
        "measured depth (operations on the longest chain): "
        + ", ".join(f"n={n}: {2 * n}" for n in lengths)
        + "\nmost a log-depth scan needs, 2 ceil(log2 n) + 2 levels of combine (2 deep each): "
        + ", ".join(f"n={n}: {2 * (2 * rounds(n) + 2)}" for n in lengths)
    )
    assert error.hint == challenge.DEPTH_HINTS["linear"]


def test_a_blocked_recurrence_gets_the_blocks_hint(context) -> None:
    def blocked(a, x):  # serial inside blocks of sqrt(n), then a serial carry between them
        width = max(1, math.isqrt(len(a)))
        out, carry_a, carry_h = [], None, None
        for start in range(0, len(a), width):
            h_block, a_block = [], []
            pa, ph = None, None
            for a_t, x_t in zip(a[start : start + width], x[start : start + width], strict=True):
                pa, ph = (a_t, x_t) if pa is None else combine((pa, ph), (a_t, x_t))
                a_block.append(pa)
                h_block.append(ph)
            if carry_h is not None:
                h_block = [
                    combine((carry_a, carry_h), (s, h))[1]
                    for s, h in zip(a_block, h_block, strict=True)
                ]
            carry_a, carry_h = (
                (a_block[-1] if carry_a is None else carry_a * a_block[-1]),
                h_block[-1],
            )
            out += h_block
        return out

    error = failure(challenge.test_depth_logarithmic, model(linear_recurrence=blocked), context)
    assert "the depth grows like a power of n" in str(error)
    assert error.hint == challenge.DEPTH_HINTS["power"]


def test_a_combine_of_depth_zero_counts_as_one_level(context) -> None:
    # a combine that returns its right step untouched: 0 levels deep, counted as 1, so the
    # model's scan (2 levels a round) must be within 2 ceil(log2 n) + 2 single levels
    sub = model(combine=lambda left, right: right)
    call_check(challenge.test_depth_logarithmic, sub, context)
    sub = model(combine=lambda left, right: [*right])
    assert str(failure(challenge.test_depth_logarithmic, sub, context)).startswith(
        "combine on traced values returned [Traced(0.75, depth=0), Traced(0.125, depth=0)], "
        "not a tuple"
    )


def test_a_combine_of_depth_zero_bounds_the_scan_in_single_levels(context) -> None:
    # three levels a round (the model's two, and + 0.0): within 2 ceil(log2 n) + 2 levels of
    # a combine 2 deep, not of one counted as 1 deep
    def three_levels(a, x):
        return scan_pairs(a, x, step_with=lambda p, q: (p[0] * q[0], q[0] * p[1] + q[1] + 0.0))

    call_check(challenge.test_depth_logarithmic, model(linear_recurrence=three_levels), context)
    sub = model(combine=lambda left, right: right, linear_recurrence=three_levels)
    error = failure(challenge.test_depth_logarithmic, sub, context)
    assert "2 ceil(log2 n) + 2 levels of combine (1 deep each): n=3: 6, " in str(error)


@pytest.mark.parametrize(
    ("reply", "message", "hint"),
    [
        (
            lambda a, x: tuple(scan_pairs(a, x)),
            "on 3 traced inputs linear_recurrence returned (Traced(",
            None,
        ),
        (
            lambda a, x: scan_pairs(a, x)[:-1],
            "on 3 traced inputs linear_recurrence returned [Traced(",
            None,
        ),
        (
            lambda a, x: [*scan_pairs(a, x), x[0]],
            "on 3 traced inputs linear_recurrence returned [Traced(",
            None,
        ),
        (
            lambda a, x: ArrayValue("tensor", "float64", (len(a),), "cpu", None),
            "on 3 traced inputs the function returned <torch.Tensor of shape (3,), dtype float64,"
            f" on cpu>, not a list of traced values\n{WHAT_IS_TRACED}",
            TRACEABLE_HINT,
        ),
        (
            lambda a, x: [*scan_pairs(a, x)[:-1], 0.5],
            "on 3 traced inputs, element 2 is 0.5: not computed from the inputs with arithmetic "
            "the tracer can see (float(), plain-number copies, numpy or torch hide it)",
            TRACEABLE_HINT,
        ),
    ],
    ids=["tuple", "shorter", "longer", "tensor", "a plain number"],
)
def test_a_traced_run_must_return_the_tapes_values(context, reply, message, hint) -> None:
    error = failure(challenge.test_depth_logarithmic, model(linear_recurrence=reply), context)
    assert str(error).startswith(message)
    assert error.hint == hint


@pytest.mark.parametrize("index", [0, 3, 6], ids=["first", "middle", "last"])
def test_wrong_traced_values_are_not_measured(context, index) -> None:
    def wrong(a, x):
        values = scan_pairs(a, x)
        if len(a) == 7:
            values[index] = values[index] + x[0]  # the tape's, but the wrong value
        return values

    sub = model(linear_recurrence=wrong)
    error = failure(challenge.test_depth_logarithmic, sub, context)
    a, x = traced_inputs()[1]
    returned = scan_pairs(a, x)
    returned[index] += x[0]
    assert str(error) == (
        "linear_recurrence returned wrong values on 7 steps, so its depth was not measured:\n"
        f"  input    a={describe(a)}\n           x={describe(x)}\n"
        f"  expected {describe(serial_pairs(a, x))}\n  returned {describe(returned)}"
    )
    assert error.hint.startswith("Make linear_recurrence return the right values first")


@pytest.mark.parametrize(("from_n", "n", "done"), [(3, 3, "1 round"), (64, 64, "5 rounds")])
def test_traced_values_one_round_short_are_named(context, from_n, n, done) -> None:
    def short(a, x):
        return scan_pairs(a, x, lambda m: rounds(m) - (m >= from_n))

    error = failure(challenge.test_depth_logarithmic, model(linear_recurrence=short), context)
    assert str(error).startswith(f"linear_recurrence returned wrong values on {n} steps")
    assert str(error).endswith(
        f"\nthese are the values after {done}: one round too few "
        f"(n={n} needs ceil(log2 n) = {rounds(n)})"
    )
    assert error.hint == challenge.MISSING_ROUND
