"""Checks of the extra-credit challenge: a linear recurrence as a scan over affine steps."""

from __future__ import annotations

import pytest

from autograder.grading.judge.checks import support, traceable
from autograder.grading.judge.checks.compare import expect_list, same_value
from autograder.grading.judge.checks.numbers import worker_float
from autograder.grading.judge.checks.scan_mistakes import hillis_steele_rounds
from autograder.grading.judge.checks.scan_shape import (
    classify_depth,
    depth_table,
    log_depth_bound,
    rounds,
)
from autograder.grading.judge.checks.support import CheckFailed, check, describe
from autograder.grading.judge.trace import TraceInputs
from reference.tracer import Tape, max_depth


def serial_recurrence(a: list[float], x: list[float]) -> list[float]:
    h, out = 0.0, []
    for a_t, x_t in zip(a, x, strict=True):
        h = a_t * h + x_t
        out.append(h)
    return out


def _pair(value, what: str) -> tuple[float, float]:
    if type(value) is not tuple or len(value) != 2:
        raise CheckFailed(f"{what} should return a tuple (a, x), got {describe(value)}")
    if not all(isinstance(v, float) for v in value):
        raise CheckFailed(f"{what} should return two floats, got {describe(value)}")
    return worker_float(value[0], what=f"{what}'s a"), worker_float(value[1], what=f"{what}'s x")


@pytest.fixture(scope="module")
def sub(grading):
    return support.submission(grading)


@check("challenge.combine_correct")
def test_combine_correct(sub, grading):
    rng = support.rng(grading, "challenge.combine_correct")
    for _ in range(20):
        left = (rng.uniform(-2, 2), rng.uniform(-2, 2))
        right = (rng.uniform(-2, 2), rng.uniform(-2, 2))
        got = _pair(sub.call("combine", left, right), "combine")
        want = (left[0] * right[0], right[0] * left[1] + right[1])
        if not all(
            same_value(w, g, rel_tol=1e-12, abs_tol=1e-12) for w, g in zip(want, got, strict=True)
        ):
            raise CheckFailed(
                f"combine({left}, {right}): expected {want}, got {got} "
                "(the earlier step is on the left: h -> a2*(a1*h + x1) + x2)"
            )
    for _ in range(20):
        p, q, r = ((rng.uniform(-2, 2), rng.uniform(-2, 2)) for _ in range(3))
        pq = _pair(sub.call("combine", p, q), "combine")
        qr = _pair(sub.call("combine", q, r), "combine")
        grouped_left = _pair(sub.call("combine", pq, r), "combine")
        grouped_right = _pair(sub.call("combine", p, qr), "combine")
        if not all(
            same_value(x, y, rel_tol=1e-9, abs_tol=1e-12)
            for x, y in zip(grouped_left, grouped_right, strict=True)
        ):
            raise CheckFailed(
                f"combine is not associative on {p}, {q}, {r}: "
                f"(p.q).r = {grouped_left} but p.(q.r) = {grouped_right}"
            )


@check("challenge.matches_serial_1024")
def test_matches_serial_1024(sub, grading):
    rng = support.rng(grading, "challenge.matches_serial_1024")
    for n in (0, 1, 2, 5, 1000, 1024):
        a = [rng.uniform(0.5, 1.0) for _ in range(n)]
        x = [rng.uniform(-1.0, 1.0) for _ in range(n)]
        given = f"a={describe(a)}, x={describe(x)}"
        got = sub.call("linear_recurrence", a, x)
        try:
            expect_list(
                serial_recurrence(a, x),
                got,
                what=f"linear_recurrence (length {n})",
                given=given,
                rel_tol=1e-9,
                abs_tol=1e-9,
            )
        except CheckFailed as error:
            steps = list(zip(a, x, strict=True))
            short = [h for _, h in hillis_steele_rounds(steps, reference_combine, rounds(n) - 1)]
            if n > 1 and same_value(short, got, rel_tol=1e-9, abs_tol=1e-9):
                raise CheckFailed(
                    f"{error}\nthese are the values after {rounds(n) - 1} round"
                    f"{'s' * (rounds(n) != 2)}: one round too few (n={n} needs "
                    f"ceil(log2 n) = {rounds(n)})",
                    hint=MISSING_ROUND,
                ) from None
            raise
    support.expect_value_error(
        sub,
        "linear_recurrence",
        [0.5, 0.25, 0.75],
        [1.0, 2.0],
        why="lengths that differ should raise ValueError, as the docstring says",
        hint="Compare len(a) and len(x) first and raise ValueError when they differ; zip() "
        "would silently drop the extra steps.",
    )


def _combine_depth(sub) -> int:
    """Depth one call of the submission's combine adds (2 for a2*x1 + x2)."""
    tape = Tape()
    got = traceable.traced_call(
        sub,
        "combine",
        TraceInputs((0.5, 0.25), container=tuple),
        TraceInputs((0.75, 0.125), container=tuple),
        tape=tape,
        ops={},
    )
    if type(got) is not tuple:
        raise CheckFailed(f"combine on traced values returned {describe(got)}, not a tuple")
    return max(max_depth(got), 1)


TRACED_LENGTHS = (3, 7, 64, 1000, 1024)
"""Small lengths, and lengths above 1,000 where a serial or blocked scan is far too deep."""

MISSING_ROUND = (
    "Keep doing rounds while 2**k < n: ceil(log2 n) rounds in all, one more than int(log2 n) "
    "whenever n is not a power of two; count them with integers ((n - 1).bit_length())."
)

DEPTH_HINTS = {
    "linear": (
        "Each h_t waits for h_{t-1}: a serial loop over the steps (or rounds that read values "
        "written in the same round). Scan the pairs in rounds, each building a new list from "
        "the previous one with combine."
    ),
    "deep_logarithmic": (
        "Some step of your scan starts only after a whole earlier scan has finished. In a "
        "log-depth scan each level of combine reads only the level before it."
    ),
    "polylog": (
        "Some step of your scan waits for a whole earlier scan (a scan inside a scan). Do the "
        "rounds over the whole list of pairs at once, each reading only the previous round."
    ),
    "power": (
        "A serial pass over blocks (or inside them) adds depth with every block. Replace the "
        "serial passes with rounds of combine that each read only the previous round's list."
    ),
}


def _traced_recurrence(sub, n: int, rng) -> tuple[int, list[float]]:
    """The depth of one traced run of linear_recurrence on n steps (values checked first)."""
    tape = Tape()
    a_values = [rng.uniform(0.5, 1.0) for _ in range(n)]
    x_values = [rng.uniform(-1.0, 1.0) for _ in range(n)]
    got = traceable.traced_call(
        sub,
        "linear_recurrence",
        TraceInputs(tuple(a_values)),
        TraceInputs(tuple(x_values)),
        tape=tape,
        ops={},
    )
    if type(got) is not list or len(got) != n:
        traceable.not_traceable_result(got, n)
        raise CheckFailed(f"on {n} traced inputs linear_recurrence returned {describe(got)}")
    for index, value in enumerate(got):
        if not tape.owns(value):
            raise CheckFailed(
                f"on {n} traced inputs, element {index} is {describe(value)}: not computed "
                "from the inputs with arithmetic the tracer can see (float(), plain-number "
                "copies, numpy or torch hide it)",
                hint=traceable.TRACEABLE_HINT,
            )
    expected = serial_recurrence(a_values, x_values)
    values = [v.value for v in got]
    if not same_value(expected, values, rel_tol=1e-9, abs_tol=1e-9):
        steps = list(zip(a_values, x_values, strict=True))
        short = [h for _, h in hillis_steele_rounds(steps, reference_combine, rounds(n) - 1)]
        missing = n > 1 and same_value(short, values, rel_tol=1e-9, abs_tol=1e-9)
        raise CheckFailed(
            f"linear_recurrence returned wrong values on {n} steps, so its depth was not "
            f"measured:\n  input    a={describe(a_values)}\n           x={describe(x_values)}"
            f"\n  expected {describe(expected)}\n  returned {describe(values)}"
            + (
                f"\nthese are the values after {rounds(n) - 1} round{'s' * (rounds(n) != 2)}: one "
                "round too few "
                f"(n={n} needs ceil(log2 n) = {rounds(n)})"
                if missing
                else ""
            ),
            hint=MISSING_ROUND
            if missing
            else "Make linear_recurrence return the right values "
            "first (challenge.matches_serial_1024 shows the input); the depth is measured only "
            "then.",
        )
    return max_depth(got), values


def reference_combine(left: tuple, right: tuple) -> tuple:
    return left[0] * right[0], right[0] * left[1] + right[1]


@check("challenge.depth_logarithmic")
def test_depth_logarithmic(sub, grading):
    rng = support.rng(grading, "challenge.depth_logarithmic")
    per_combine = _combine_depth(sub)
    measured = {n: _traced_recurrence(sub, n, rng)[0] for n in TRACED_LENGTHS}
    support.record(grading, "measured_depth", {str(n): d for n, d in measured.items()})
    shape = classify_depth(measured, unit=per_combine)
    if shape.logarithmic:
        return
    bounds = {n: log_depth_bound(n, per_combine) for n in measured}
    raise CheckFailed(
        f"{shape.summary}; the challenge asks for a logarithmic depth (any log-depth scan: "
        "Hillis-Steele, Blelloch, Brent-Kung, divide and conquer)\n"
        f"measured depth (operations on the longest chain): {depth_table(measured)}\n"
        f"most a log-depth scan needs, 2 ceil(log2 n) + 2 levels of combine ({per_combine} deep "
        f"each): {depth_table(bounds)}",
        hint=DEPTH_HINTS.get(shape.kind, DEPTH_HINTS["deep_logarithmic"]),
    )
