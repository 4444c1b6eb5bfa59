"""Checks of the medium exercise: the Hillis-Steele scan, its depth and work measured.

Depth and work come from running the submission's own scan, in its worker, on
traced inputs: the worker logs every application of ``op`` and the judge replays
the log on its own tape (:mod:`reference.tracer`), so values, depth and work are
the judge's. ``scan_depth`` / ``scan_work`` are only compared with that measurement.
"""

from __future__ import annotations

import itertools
import math
import operator
import string

import pytest

from autograder.grading.judge.checks import support, traceable
from autograder.grading.judge.checks.compare import same_value, smallest_failing
from autograder.grading.judge.checks.scan_mistakes import known_mistake
from autograder.grading.judge.checks.scan_shape import (
    HINTS,
    classify_depth,
    classify_work,
    depth_table,
    rounds,
)
from autograder.grading.judge.checks.support import CheckFailed, SubmissionError, check, describe
from autograder.grading.judge.trace import TraceInputs
from autograder.grading.worker.protocol import FnArg, OpArg
from reference.tracer import Tape, max_depth

TRACED_LENGTHS = (2, 3, 7, 64, 1000, 1024, 1025)


def hillis_steele_depth(n: int) -> int:
    """Rounds of Hillis-Steele: ceil(log2 n), 0 for n <= 1."""
    return rounds(n)


def hillis_steele_work(n: int) -> int:
    return sum(n - 2**k for k in range(hillis_steele_depth(n)))


def serial(xs: list, op=operator.add) -> list:
    return list(itertools.accumulate(xs, op))


def matmul2(left: tuple, right: tuple) -> tuple:
    (a, b), (c, d) = left
    (e, f), (g, h) = right
    return ((a * e + b * g, a * f + b * h), (c * e + d * g, c * f + d * h))


OPS = {"add": operator.add, "matmul2": matmul2}


@pytest.fixture(scope="module")
def sub(grading):
    return support.submission(grading)


def _scan_mismatch(sub, fn, xs, op, *, rel_tol=0.0):
    """None if ``fn`` scans ``xs`` right, else ``(one-line reason, what came back)``."""
    expected = serial(xs, OPS[op])
    got = sub.call(fn, list(xs), FnArg(op))
    if type(got) is not list:
        return f"returned {describe(got)}, not a list", got
    if len(got) != len(expected):
        return f"returned {len(got)} elements, expected {len(expected)}", got
    for index, (want, have) in enumerate(zip(expected, got, strict=True)):
        if not same_value(want, have, rel_tol=rel_tol):
            return f"element {index}: expected {describe(want)}, got {describe(have)}", got
    return None


def _expect_scan(sub, fn, xs, op, *, what, rel_tol=0.0):
    """Check one input; on failure, show the smallest prefix that fails too, and name the
    known mistake (a missing round, in-place rounds, swapped operands) its values match."""
    failure = _scan_mismatch(sub, fn, xs, op, rel_tol=rel_tol)
    if failure is None:
        return
    reason, got = failure
    shown, shown_got = xs, got
    message = f"{what} on {len(xs)} elements: {reason}"
    smaller = smallest_failing(
        [xs[:n] for n in range(min(len(xs), 64))],
        lambda prefix: _scan_mismatch(sub, fn, prefix, op, rel_tol=rel_tol),
    )
    if smaller is not None:
        prefix, (why, prefix_got) = smaller
        shown, shown_got = prefix, prefix_got
        message += (
            f"\nsmallest failing input: {describe(prefix)}"
            f"\n  expected {describe(serial(prefix, OPS[op]))}"
            f"\n  returned {describe(prefix_got)}\n  ({why})"
        )
    mistake = known_mistake(list(shown), OPS[op], shown_got, rel_tol=rel_tol)
    if mistake is None:
        raise CheckFailed(message)
    note, hint = mistake
    raise CheckFailed(f"{message}\n{note}", hint=hint)


@check("medium.serial_scan_correct")
def test_serial_scan_correct(sub, grading):
    rng = support.rng(grading, "medium.serial_scan_correct")
    fn = "serial_scan"
    for n in (0, 1, 2, 17, 100):
        _expect_scan(sub, fn, [rng.randint(-99, 99) for _ in range(n)], "add", what=fn)
    letters = [rng.choice(string.ascii_lowercase) for _ in range(9)]
    _expect_scan(sub, fn, letters, "add", what="serial_scan with string concatenation")


@check("medium.matches_serial_1024_int")
def test_matches_serial_1024_int(sub, grading):
    rng = support.rng(grading, "medium.matches_serial_1024_int")
    xs = [rng.randint(-1000, 1000) for _ in range(1024)]
    _expect_scan(sub, "hillis_steele_scan", xs, "add", what="hillis_steele_scan")


@check("medium.matches_serial_1024_float")
def test_matches_serial_1024_float(sub, grading):
    rng = support.rng(grading, "medium.matches_serial_1024_float")
    xs = [rng.random() for _ in range(1024)]
    _expect_scan(sub, "hillis_steele_scan", xs, "add", what="hillis_steele_scan", rel_tol=1e-9)


@check("medium.edge_lengths")
def test_edge_lengths(sub, grading):
    rng = support.rng(grading, "medium.edge_lengths")
    for n in (0, 1, 2, 3, 5, 1000, 1025):
        xs = [rng.randint(-50, 50) for _ in range(n)]
        _expect_scan(sub, "hillis_steele_scan", xs, "add", what=f"hillis_steele_scan (length {n})")


@check("medium.non_commutative_op")
def test_non_commutative_op(sub, grading):
    rng = support.rng(grading, "medium.non_commutative_op")
    fn = "hillis_steele_scan"
    for n in (2, 3, 7, 16, 33):
        words = ["".join(rng.choices(string.ascii_lowercase, k=2)) for _ in range(n)]
        _expect_scan(sub, fn, words, "add", what="hillis_steele_scan with string concatenation")
    for n in (2, 5, 12):
        mats = [
            tuple(tuple(rng.randint(-3, 3) for _ in range(2)) for _ in range(2)) for _ in range(n)
        ]
        _expect_scan(sub, fn, mats, "matmul2", what="hillis_steele_scan with 2x2 matrix products")


def _traced_run(sub, n: int, seed_values: list):
    """Run the submission's scan on traced inputs; return (outputs, tape) after sanity checks.

    Wrong values fail here, with the input, the expected and the returned values: a depth
    measured on wrong values would mean nothing, so none is reported.
    """
    tape = Tape()
    inputs = list(seed_values[:n])
    got = traceable.traced_call(
        sub,
        "hillis_steele_scan",
        TraceInputs(tuple(inputs)),
        OpArg("op"),
        tape=tape,
        ops={"op": operator.add},
    )
    expected = serial(inputs)
    if type(got) is not list or len(got) != n:
        traceable.not_traceable_result(got, n)
        raise CheckFailed(f"on {n} traced inputs the scan returned {describe(got)}")
    for index, value in enumerate(got):
        if not tape.owns(value):
            raise CheckFailed(
                f"on {n} traced inputs, element {index} is {describe(value)}: not a value made "
                "by op from the inputs, so its depth cannot be measured (combine only with op)",
                hint=traceable.TRACEABLE_HINT,
            )
    values = [value.value for value in got]
    if not same_value(expected, values):
        message = (
            f"hillis_steele_scan returned wrong values on {n} inputs, so its depth and work "
            f"were not measured:\n  input    {describe(inputs)}\n  expected {describe(expected)}\n"
            f"  returned {describe(values)}"
        )
        mistake = known_mistake(inputs, operator.add, values)
        if mistake is None:
            raise CheckFailed(
                message,
                hint="Make the scan return the right values first (the correctness checks "
                "show the smallest failing input); depth and work are measured only then.",
            )
        raise CheckFailed(f"{message}\n{mistake[0]}", hint=mistake[1])
    return got, tape


def _measure_scan(ctx: support.GradingContext, sub) -> dict[int, tuple[int, int]]:
    """{n: (depth, work)} of the submission's scan on traced inputs."""
    rng = support.rng(ctx, "medium.traced")
    values = [rng.randint(-9, 9) for _ in range(max(TRACED_LENGTHS))]
    measured = {}
    for n in TRACED_LENGTHS:
        outputs, tape = _traced_run(sub, n, values)
        measured[n] = (max_depth(outputs), tape.work)
    return measured


@pytest.fixture(scope="module")
def traced_scan(grading, sub) -> support.Measurement[dict[int, tuple[int, int]]]:
    """The scan's depth and work, measured once per grading by the first check that asks
    (depth, work, or a formula check's message) and used by the others."""
    return support.Measurement(lambda: _measure_scan(grading, sub))


def _measured(ctx: support.GradingContext, traced_scan) -> dict[int, tuple[int, int]]:
    """The traced scan's figures, recorded on the check that uses them."""
    measured = traced_scan.result()
    support.record(
        ctx, "measured", {str(n): {"depth": d, "work": w} for n, (d, w) in measured.items()}
    )
    return measured


@check("medium.depth_measured")
def test_depth_measured(grading, traced_scan):
    measured = _measured(grading, traced_scan)
    depths = {n: depth for n, (depth, _) in measured.items()}
    shape = classify_depth(depths)
    if shape.kind == "rounds":
        return
    raise CheckFailed(
        f"{shape.summary}; this exercise asks for Hillis-Steele's ceil(log2 n) rounds\n"
        f"measured depth (longest chain of op applications): {depth_table(depths)}\n"
        f"Hillis-Steele's rounds:                            "
        f"{depth_table({n: hillis_steele_depth(n) for n in depths})}",
        hint=HINTS[shape.kind],
    )


WORK_HINTS = {
    "serial": HINTS["linear"],
    "more": (
        "Apply op only in the rounds' combinations (j >= 2**k), once each, and copy the other "
        "elements; remove calls whose results you do not use (a debugging scan, a check)."
    ),
    "efficient": (
        "Hillis-Steele trades work for depth: in every round k it applies op at every "
        "j >= 2**k (n - 2**k applications), about n log2 n in all."
    ),
    "fewer": (
        "In every round k, apply op once at every j >= 2**k (n - 2**k applications): "
        "Hillis-Steele does more work than other schedules of the same depth."
    ),
}


@check("medium.work_measured")
def test_work_measured(grading, traced_scan):
    measured = _measured(grading, traced_scan)
    works = {n: work for n, (_, work) in measured.items()}
    wrong = [n for n, work in works.items() if work != hillis_steele_work(n)]
    if not wrong:
        return
    n = max(wrong)
    expected = hillis_steele_work(n)
    kind, what = classify_work(n, works[n], expected)
    raise CheckFailed(
        f"measured work at n={n}: {works[n]} applications of op, {what}; Hillis-Steele "
        f"performs the sum over rounds of (n - 2**k) = {expected}\n"
        f"measured work: {depth_table(works)}\n"
        f"Hillis-Steele: {depth_table({m: hillis_steele_work(m) for m in works})}",
        hint=WORK_HINTS[kind],
    )


FORMULA_LENGTHS = (0, 1, *TRACED_LENGTHS, 4096, 2**20, 2**20 + 1, 2**53, 2**53 + 1, 2**60 + 1)
"""Where the formulas are checked: the traced lengths, and where float log2 rounds wrongly."""


def _float_rounds(n: int) -> int:
    return math.ceil(math.log2(n)) if n > 1 else 0


def _expect_formula(ctx: support.GradingContext, sub, traced_scan, name: str, truth, with_rounds):
    try:
        measured = _measured(ctx, traced_scan)
    except (CheckFailed, SubmissionError):
        measured = {}  # the scan itself is graded elsewhere; the formula stands on its own
    index = 0 if name == "scan_depth" else 1
    for n in FORMULA_LENGTHS:
        got = sub.call(name, n)
        expected = truth(n)
        if type(got) is not int or got != expected:
            seen = f"; your scan measured {measured[n][index]}" if n in measured else ""
            message = f"{name}({n}): expected {expected}, got {describe(got)}{seen}"
            if type(got) is int and got == with_rounds(n, _float_rounds(n)):
                raise CheckFailed(
                    f"{message}\nthat is math.ceil(math.log2(n)) rounds: math.log2({n}) "
                    f"rounds to {math.log2(n)!r} in floating point",
                    hint="Count the rounds with integers: (n - 1).bit_length() for n > 1, or a "
                    "loop doubling an offset while it is below n.",
                )
            raise CheckFailed(message)
    support.expect_value_error(
        sub,
        name,
        -1,
        why="a negative length should raise ValueError, as the docstring says",
        hint="Start with: if n < 0: raise ValueError(...).",
    )


@check("medium.scan_depth_formula")
def test_scan_depth_formula(sub, grading, traced_scan):
    _expect_formula(
        grading, sub, traced_scan, "scan_depth", hillis_steele_depth, lambda n, count: count
    )


@check("medium.scan_work_formula")
def test_scan_work_formula(sub, grading, traced_scan):
    _expect_formula(
        grading,
        sub,
        traced_scan,
        "scan_work",
        hillis_steele_work,
        lambda n, count: sum(n - 2**k for k in range(count)),
    )
