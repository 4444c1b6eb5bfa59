"""Checks of the medium exercise: the Hillis-Steele scan, its depth and work measured.

Depth and work come from running the submission's own scan, in its worker, on
traced inputs: the worker logs every application of ``op`` and the judge replays
the log on its own tape (:mod:`reference.tracer`), so values, depth and work are
the judge's. ``scan_depth`` / ``scan_work`` are only compared with that measurement.
"""

from __future__ import annotations

import itertools
import operator
import string

import pytest

from autograder.grading.checks import support
from autograder.grading.checks.compare import same_value, smallest_failing
from autograder.grading.checks.support import CheckFailed, SubmissionError, check, describe
from autograder.grading.judge_trace import TraceInputs
from autograder.grading.protocol import FnArg, OpArg
from reference.tracer import Tape, max_depth

TRACED_LENGTHS = (2, 3, 7, 64, 1000, 1024, 1025)


def hillis_steele_depth(n: int) -> int:
    """Rounds of Hillis-Steele: ceil(log2 n), 0 for n <= 1."""
    return (n - 1).bit_length() if n > 1 else 0


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
def sub():
    return support.submission()


def _scan_mismatch(sub, fn, xs, op, *, rel_tol=0.0):
    """None if ``fn`` scans ``xs`` right, else a one-line reason."""
    expected = serial(xs, OPS[op])
    got = sub.call(fn, list(xs), FnArg(op))
    if type(got) is not list:
        return f"returned {describe(got)}, not a list"
    if len(got) != len(expected):
        return f"returned {len(got)} elements, expected {len(expected)}"
    for index, (want, have) in enumerate(zip(expected, got, strict=True)):
        if not same_value(want, have, rel_tol=rel_tol):
            return f"element {index}: expected {describe(want)}, got {describe(have)}"
    return None


def _expect_scan(sub, fn, xs, op, *, what, rel_tol=0.0):
    """Check one input; on failure, report the smallest prefix that fails too."""
    reason = _scan_mismatch(sub, fn, xs, op, rel_tol=rel_tol)
    if reason is None:
        return
    smaller = smallest_failing(
        [xs[:n] for n in range(min(len(xs), 64))],
        lambda prefix: _scan_mismatch(sub, fn, prefix, op, rel_tol=rel_tol),
    )
    message = f"{what} on {len(xs)} elements: {reason}"
    if smaller is not None:
        prefix, why = smaller
        message += f"\nsmallest failing input: {describe(prefix)}\n  {why}"
    raise CheckFailed(message)


@check("medium.serial_scan_correct")
def test_serial_scan_correct(sub):
    rng = support.rng("medium.serial_scan_correct")
    fn = "serial_scan"
    for n in (0, 1, 2, 17, 100):
        _expect_scan(sub, fn, [rng.randint(-99, 99) for _ in range(n)], "add", what=fn)
    letters = [rng.choice(string.ascii_lowercase) for _ in range(9)]
    _expect_scan(sub, fn, letters, "add", what="serial_scan with string concatenation")


@check("medium.matches_serial_1024_int")
def test_matches_serial_1024_int(sub):
    rng = support.rng("medium.matches_serial_1024_int")
    xs = [rng.randint(-1000, 1000) for _ in range(1024)]
    _expect_scan(sub, "hillis_steele_scan", xs, "add", what="hillis_steele_scan")


@check("medium.matches_serial_1024_float")
def test_matches_serial_1024_float(sub):
    rng = support.rng("medium.matches_serial_1024_float")
    xs = [rng.random() for _ in range(1024)]
    _expect_scan(sub, "hillis_steele_scan", xs, "add", what="hillis_steele_scan", rel_tol=1e-9)


@check("medium.edge_lengths")
def test_edge_lengths(sub):
    rng = support.rng("medium.edge_lengths")
    for n in (0, 1, 2, 3, 5, 1000, 1025):
        xs = [rng.randint(-50, 50) for _ in range(n)]
        _expect_scan(sub, "hillis_steele_scan", xs, "add", what=f"hillis_steele_scan (length {n})")


@check("medium.non_commutative_op")
def test_non_commutative_op(sub):
    rng = support.rng("medium.non_commutative_op")
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
    """Run the submission's scan on traced inputs; return (outputs, tape) after sanity checks."""
    tape = Tape()
    got = sub.trace(
        "hillis_steele_scan",
        TraceInputs(tuple(seed_values[:n])),
        OpArg("op"),
        tape=tape,
        ops={"op": operator.add},
    )
    expected = serial(seed_values[:n])
    if type(got) is not list or len(got) != n:
        raise CheckFailed(f"on {n} traced inputs the scan returned {describe(got)}")
    for index, value in enumerate(got):
        if not tape.owns(value):
            raise CheckFailed(
                f"on {n} traced inputs, element {index} is {describe(value)}: not a value made "
                "by op from the inputs, so its depth cannot be measured (combine only with op)"
            )
        if not same_value(expected[index], value.value):
            raise CheckFailed(
                f"on {n} traced inputs, element {index} is {describe(value.value)}, "
                f"expected {expected[index]}"
            )
    return got, tape


def _measure(sub) -> dict[int, tuple[int, int]]:
    """{n: (depth, work)} of the submission's scan, measured once per grading and shared."""
    shared = support.context().shared
    if "measured" not in shared:
        rng = support.rng("medium.traced")
        values = [rng.randint(-9, 9) for _ in range(max(TRACED_LENGTHS))]
        measured = {}
        try:
            for n in TRACED_LENGTHS:
                outputs, tape = _traced_run(sub, n, values)
                measured[n] = (max_depth(outputs), tape.work)
        except (CheckFailed, SubmissionError) as error:
            shared["measured"] = error
        else:
            shared["measured"] = measured
    measured = shared["measured"]
    if isinstance(measured, Exception):
        raise type(measured)(str(measured))
    support.record("measured", {str(n): {"depth": d, "work": w} for n, (d, w) in measured.items()})
    return measured


@check("medium.depth_measured")
def test_depth_measured(sub):
    for n, (depth, _) in _measure(sub).items():
        expected = hillis_steele_depth(n)
        if depth != expected:
            hint = " (a chain as long as the input: a serial scan)" if depth >= n - 1 else ""
            raise CheckFailed(
                f"measured depth for n={n}: expected ceil(log2 n) = {expected}, got {depth}{hint}"
            )


@check("medium.work_measured")
def test_work_measured(sub):
    for n, (_, work) in _measure(sub).items():
        expected = hillis_steele_work(n)
        if work != expected:
            raise CheckFailed(
                f"measured work for n={n}: expected {expected} applications of op, got {work}"
            )


def _expect_formula(sub, name: str, truth):
    try:
        measured = _measure(sub)
    except (CheckFailed, SubmissionError):
        measured = {}  # the scan itself is graded elsewhere; the formula stands on its own
    index = 0 if name == "scan_depth" else 1
    for n in (0, 1, *TRACED_LENGTHS, 4096, 2**20, 2**20 + 1):
        got = sub.call(name, n)
        expected = truth(n)
        if type(got) is not int or got != expected:
            seen = f"; your scan measured {measured[n][index]}" if n in measured else ""
            raise CheckFailed(f"{name}({n}): expected {expected}, got {describe(got)}{seen}")


@check("medium.scan_depth_formula")
def test_scan_depth_formula(sub):
    _expect_formula(sub, "scan_depth", hillis_steele_depth)


@check("medium.scan_work_formula")
def test_scan_work_formula(sub):
    _expect_formula(sub, "scan_work", hillis_steele_work)
