"""Checks of the easy exercise: the vector hidden state, timed by the judge itself."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from autograder.grading.judge.checks import support
from autograder.grading.judge.checks.compare import expect_list
from autograder.grading.judge.checks.manual import written_answer
from autograder.grading.judge.checks.numbers import (
    at_least,
    at_most,
    ratio,
    worker_float,
    worker_seconds,
)
from autograder.grading.judge.checks.support import CheckFailed, check, describe
from autograder.grading.judge.checks.timing import Contender, Medians, interleaved_timings
from autograder.grading.judge.replies import describe_raised
from autograder.grading.processes.device_lease import device_lease
from autograder.grading.worker.protocol import ArrayValue, ListArg


def recurrence(xs: list[list[float]]) -> list[float]:
    h = [0.0] * len(xs[0])
    for row in xs:
        h = [0.9 * h_i + x_i for h_i, x_i in zip(h, row, strict=True)]
    return h


def recurrence_array(xs: np.ndarray) -> np.ndarray:
    """The final hidden state in closed form: sum over t of 0.9**(N-1-t) * x_t."""
    powers = 0.9 ** np.arange(len(xs) - 1, -1, -1, dtype=np.float64)
    return powers @ np.asarray(xs, dtype=np.float64)


def random_rows(rng, steps: int, dim: int) -> list[list[float]]:
    return [[rng.uniform(-1, 1) for _ in range(dim)] for _ in range(steps)]


@pytest.fixture(scope="module")
def sub(grading):
    return support.submission(grading)


@check("easy.vector_matches_reference")
def test_vector_matches_reference(sub, grading):
    rng = support.rng(grading, "easy.vector_matches_reference")
    for steps, dim in ((1, 1), (3, 64), (50, 8), (200, 64)):
        xs = random_rows(rng, steps, dim)
        expect_list(
            recurrence(xs),
            sub.call("rnn_style_vector", xs),
            what="rnn_style_vector",
            given=f"{steps} steps of dimension {dim}: {describe(xs)}",
            rel_tol=1e-12,
            abs_tol=1e-12,
        )


@check("easy.vector_rejects_empty")
def test_vector_rejects_empty(sub):
    raised, got = sub.raised("rnn_style_vector", [])
    if raised is None:
        raise CheckFailed(
            f"rnn_style_vector([]) should raise ValueError, it returned {describe(got)}"
        )
    if "ValueError" not in (raised.get("mro") or ()):
        raise CheckFailed(
            f"rnn_style_vector([]) should raise ValueError, it raised {describe_raised(raised)}"
        )


def _array(got, *, what: str, shape: tuple[int, ...]) -> np.ndarray:
    if type(got) is not ArrayValue or got.kind != "ndarray" or got.shape != shape:
        raise CheckFailed(f"{what} should return an ndarray of shape {shape}, got {describe(got)}")
    return np.asarray(got.values, dtype=np.float64)


@check("easy.numpy_matches_reference")
def test_numpy_matches_reference(sub, grading):
    rng = support.rng(grading, "easy.numpy_matches_reference")
    for steps, dim in ((1, 1), (3, 64), (200, 64)):
        rows = random_rows(rng, steps, dim)
        got = _array(
            sub.call("rnn_style_vector_numpy", np.array(rows, dtype=np.float64)),
            what="rnn_style_vector_numpy",
            shape=(dim,),
        )
        expected = np.array(recurrence(rows))
        if not np.allclose(expected, got, rtol=1e-10, atol=1e-12):
            index = int(np.argmax(np.abs(expected - got)))
            raise CheckFailed(
                f"rnn_style_vector_numpy on {steps} steps of dimension {dim}: element {index} "
                f"expected {float(expected[index])!r}, got {float(got[index])!r}"
            )


def _verify_state(args, output) -> str | None:
    """The output of one timed call against the closed-form final state."""
    xs = np.asarray(args[0].values if type(args[0]) is ListArg else args[0], dtype=np.float64)
    expected = recurrence_array(xs)
    if type(output) is ArrayValue:
        got = np.asarray(output.values, dtype=np.float64)
    elif type(output) is list and all(type(v) is float for v in output):
        got = np.array(output)
    else:
        return f"got {describe(output)}"
    if got.shape != expected.shape or not np.allclose(expected, got, rtol=1e-8, atol=1e-10):
        return "the final hidden state is wrong"
    return None


def per_step_seconds(
    ctx: support.GradingContext,
    sub,
    function: str,
    dims,
    steps: int,
    *,
    as_lists: bool,
    seed,
    repeats: int = 7,
) -> dict:
    """Judge-timed seconds per recurrence step of ``function`` at each hidden dim."""
    rng = np.random.default_rng(seed)

    def maker(d: int):
        def make(count: int) -> list:
            batch = [rng.uniform(-1, 1, (steps, d)) for _ in range(count)]
            return [[ListArg(xs) if as_lists else xs] for xs in batch]

        return make

    contenders = {
        f"d={d}": Contender(sub, function, maker(d), _verify_state, 8 * steps * d) for d in dims
    }
    timings = interleaved_timings(ctx, contenders, repeats=repeats)
    return {d: Medians(timings[f"d={d}"].cpu / steps, timings[f"d={d}"].wall / steps) for d in dims}


def _per_step_growth(
    ctx: support.GradingContext,
    sub,
    function: str,
    steps: int,
    *,
    as_lists: bool,
    seed,
    passes: Callable[[float], bool],
    repeats: int,
) -> tuple:
    """Growth d=256 over d=1; a figure that fails is measured once more, the better kept."""

    def measure() -> tuple[float, dict]:
        timings = per_step_seconds(
            ctx, sub, function, (1, 256), steps, as_lists=as_lists, seed=seed, repeats=repeats
        )
        per_step = {d: medians.verdict for d, medians in timings.items()}
        return ratio(per_step[256], per_step[1]), per_step

    growth, per_step = measure()
    if not passes(growth):  # a one-off disturbance must not fail honest code
        again = measure()
        if passes(again[0]):
            growth, per_step = again
    return growth, {"seconds_per_step": {str(d): s for d, s in per_step.items()}, "ratio": growth}


@check("easy.numpy_vectorised_over_d")
def test_numpy_vectorised_over_d(sub, grading):
    tol = grading.tolerances("cpu").numpy_growth_max
    seed = support.rng(grading, "easy.numpy_vectorised_over_d").getrandbits(32)
    growth, data = _per_step_growth(
        grading,
        sub,
        "rnn_style_vector_numpy",
        2000,
        as_lists=False,
        seed=seed,
        passes=lambda r: at_most(r, tol),
        repeats=5,  # 7 until 2026-12-05: honest 0.5-1.5 and broken 26-35 around the bound of 10
    )
    support.record(grading, "timing", data | {"tolerance_max": tol})
    if not at_most(growth, tol):
        raise CheckFailed(
            f"per-step time grew {growth:.1f}x from d=1 to d=256 (allowed: {tol}x); "
            "a vectorised step should cost about the same at any d"
        )


@check("easy.python_grows_with_d")
def test_python_grows_with_d(sub, grading):
    tol = grading.tolerances("cpu").python_growth_min
    seed = support.rng(grading, "easy.python_grows_with_d").getrandbits(32)
    growth, data = _per_step_growth(
        grading,
        sub,
        "rnn_style_vector",
        300,
        as_lists=True,
        seed=seed,
        passes=lambda r: at_least(r, tol),
        repeats=7,  # the narrowest margins of all (honest 14-52, broken up to 9.35, bound 11)
    )
    support.record(grading, "timing", data | {"tolerance_min": tol})
    if not at_least(growth, tol):
        raise CheckFailed(
            f"per-step time grew only {growth:.1f}x from d=1 to d=256 (expected at least {tol}x): "
            "rnn_style_vector should be the pure-Python loop over the d hidden units"
        )


@check("easy.fit_overhead_exact")
def test_fit_overhead_exact(sub, grading):
    rng = support.rng(grading, "easy.fit_overhead_exact")
    dims = (1, 4, 16, 64, 256)
    a, b = rng.uniform(1e-7, 1e-6), rng.uniform(1e-9, 1e-8)
    exact = {d: a + b * d for d in dims}
    noisy = {d: t * rng.uniform(0.9, 1.1) for d, t in exact.items()}
    slope, intercept = np.polyfit(np.array(dims, float), np.array(list(noisy.values())), 1)
    for data, want in ((exact, (a, b)), (noisy, (float(intercept), float(slope)))):
        got = sub.call("fit_overhead", dict(data))
        if type(got) not in (tuple, list) or len(got) != 2:
            raise CheckFailed(f"fit_overhead should return a tuple (a, b), got {describe(got)}")
        got_a = worker_float(got[0], what="fit_overhead's a")
        got_b = worker_float(got[1], what="fit_overhead's b")
        close_a = np.isclose(want[0], got_a, rtol=1e-6, atol=1e-15)
        if not (close_a and np.isclose(want[1], got_b, rtol=1e-6, atol=1e-17)):
            raise CheckFailed(
                f"fit_overhead({describe(data)}): expected (a, b) = "
                f"({want[0]:.6g}, {want[1]:.6g}), "
                f"got ({got_a:.6g}, {got_b:.6g})"
            )


@check("easy.serial_overhead_consistent")
def test_serial_overhead_consistent(sub, grading):
    """The figures serial_overhead reports against the judge's timing of the same calls.

    The judge times the whole ``serial_overhead`` call (it cannot report more time than
    it took) and then the functions it measures, on the same dims and lengths.
    """
    tol = grading.tolerances("cpu")
    dims, steps, repeats = (4, 64), 400, 5
    report = {}
    seed = support.rng(grading, "easy.serial_overhead_consistent").getrandbits(32)
    for impl, name in (("python", "rnn_style_vector"), ("numpy", "rnn_style_vector_numpy")):
        with device_lease("cpu"):  # the student's own timed window
            claimed, elapsed = sub.call_timed(
                "serial_overhead", hidden_dims=dims, seq_len=steps, repeats=repeats, impl=impl
            )
        if (
            type(claimed) is not dict
            or set(claimed) != set(dims)
            or not all(type(k) is int for k in claimed)
        ):
            raise CheckFailed(
                f"serial_overhead(hidden_dims={dims}, impl={impl!r}) should return "
                f"{{d: positive seconds}} for each d, got {describe(claimed)}"
            )
        claimed = {
            d: worker_seconds(claimed[d], what=f"serial_overhead(impl={impl!r})'s time at d={d}")
            for d in dims
        }
        reported_work = sum(claimed[d] * steps for d in dims)
        if not at_most(reported_work, elapsed):
            raise CheckFailed(
                f"serial_overhead(impl={impl!r}) reports {reported_work * 1e3:.1f} ms of calls "
                f"(one run per d) but the whole call took {elapsed * 1e3:.1f} ms: "
                "report what you measured"
            )
        observed = per_step_seconds(
            grading, sub, name, dims, steps, as_lists=impl == "python", seed=seed, repeats=3
        )
        for d in dims:
            # between the work's CPU time and the wall time the judge saw, with slack
            low, high = ratio(claimed[d], observed[d].cpu), ratio(claimed[d], observed[d].wall)
            report[f"{impl}:d={d}"] = {
                "claimed": claimed[d],
                "observed_cpu": observed[d].cpu,
                "observed_wall": observed[d].wall,
                "ratio": low,
                "ratio_to_wall": high,
            }
            agrees = at_least(low, tol.reported_ratio_min) and at_most(high, tol.reported_ratio_max)
            if not agrees:
                support.record(grading, "timing", report)
                raise CheckFailed(
                    f"serial_overhead(impl={impl!r}) reports {claimed[d]:.3g} s per step at d={d}; "
                    f"the grader timed {name} on the same inputs at {observed[d].cpu:.3g} s of "
                    f"CPU, {observed[d].wall:.3g} s of wall clock per step ({low:.2f}x and "
                    f"{high:.2f}x; allowed at least {tol.reported_ratio_min}x the CPU time and "
                    f"at most {tol.reported_ratio_max}x the wall time)"
                )
    support.record(grading, "timing", report)


@check("easy.answer")
def test_answer(sub, grading):
    written_answer(grading, sub, "ANSWER")
