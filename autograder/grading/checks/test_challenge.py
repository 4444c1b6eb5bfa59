"""Checks of the extra-credit challenge: a linear recurrence as a scan over affine steps."""

from __future__ import annotations

import pytest

from autograder.grading.checks import support
from autograder.grading.checks.compare import expect_list, same_value
from autograder.grading.checks.numbers import worker_float
from autograder.grading.checks.support import CheckFailed, check, describe
from autograder.grading.judge_trace import TraceInputs
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
def sub():
    return support.submission()


@check("challenge.combine_correct")
def test_combine_correct(sub):
    rng = support.rng("challenge.combine_correct")
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
def test_matches_serial_1024(sub):
    rng = support.rng("challenge.matches_serial_1024")
    for n in (0, 1, 2, 5, 1000, 1024):
        a = [rng.uniform(0.5, 1.0) for _ in range(n)]
        x = [rng.uniform(-1.0, 1.0) for _ in range(n)]
        given = f"a={describe(a)}, x={describe(x)}"
        expect_list(
            serial_recurrence(a, x),
            sub.call("linear_recurrence", a, x),
            what=f"linear_recurrence (length {n})",
            given=given,
            rel_tol=1e-9,
            abs_tol=1e-9,
        )


def _combine_depth(sub) -> int:
    """Depth one call of the submission's combine adds (2 for a2*x1 + x2)."""
    tape = Tape()
    got = sub.trace(
        "combine",
        TraceInputs((0.5, 0.25), container=tuple),
        TraceInputs((0.75, 0.125), container=tuple),
        tape=tape,
        ops={},
    )
    if type(got) is not tuple:
        raise CheckFailed(f"combine on traced values returned {describe(got)}, not a tuple")
    return max(max_depth(got), 1)


@check("challenge.depth_logarithmic")
def test_depth_logarithmic(sub):
    rng = support.rng("challenge.depth_logarithmic")
    per_combine = _combine_depth(sub)
    measured = {}
    for n in (7, 1000, 1024):
        tape = Tape()
        a_values = [rng.uniform(0.5, 1.0) for _ in range(n)]
        x_values = [rng.uniform(-1.0, 1.0) for _ in range(n)]
        got = sub.trace(
            "linear_recurrence",
            TraceInputs(tuple(a_values)),
            TraceInputs(tuple(x_values)),
            tape=tape,
            ops={},
        )
        if type(got) is not list or len(got) != n:
            raise CheckFailed(f"on {n} traced inputs linear_recurrence returned {describe(got)}")
        for index, value in enumerate(got):
            if not tape.owns(value):
                raise CheckFailed(
                    f"element {index} is {describe(value)}: not computed from the inputs with "
                    "arithmetic the tracer can see (avoid float() and plain-number copies)"
                )
        expected = serial_recurrence(a_values, x_values)
        expect_list(
            expected,
            [v.value for v in got],
            what="traced run",
            given=f"n={n}",
            rel_tol=1e-9,
            abs_tol=1e-9,
        )
        rounds = (n - 1).bit_length()
        depth = max_depth(got)
        measured[n] = depth
        bound = per_combine * (rounds + 1)
        if depth > bound:
            raise CheckFailed(
                f"measured depth for n={n} is {depth} operations; ceil(log2 n) = {rounds} rounds "
                f"of combine ({per_combine} deep each) allow at most {bound}"
            )
    support.record("measured_depth", {str(n): d for n, d in measured.items()})
