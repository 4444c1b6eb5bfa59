"""Checks of the easy exercise: the vector hidden state, timed by the grader itself."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.checks import support
from autograder.checks.compare import expect_list
from autograder.checks.manual import written_answer
from autograder.checks.support import CheckFailed, attribute, call, check, describe
from autograder.checks.timing import interleaved_medians


def recurrence(xs: list[list[float]]) -> list[float]:
    h = [0.0] * len(xs[0])
    for row in xs:
        h = [0.9 * h_i + x_i for h_i, x_i in zip(h, row, strict=True)]
    return h


def random_rows(rng, steps: int, dim: int) -> list[list[float]]:
    return [[rng.uniform(-1, 1) for _ in range(dim)] for _ in range(steps)]


@pytest.fixture(scope="module")
def sub():
    return support.submission("easy")


@check("easy.vector_matches_reference")
def test_vector_matches_reference(sub):
    rng = support.rng("easy.vector_matches_reference")
    fn = attribute(sub, "rnn_style_vector")
    for steps, dim in ((1, 1), (3, 64), (50, 8), (200, 64)):
        xs = random_rows(rng, steps, dim)
        expect_list(
            recurrence(xs),
            call(fn, xs),
            what="rnn_style_vector",
            given=f"{steps} steps of dimension {dim}: {describe(xs)}",
            rel_tol=1e-12,
            abs_tol=1e-12,
        )


@check("easy.vector_rejects_empty")
def test_vector_rejects_empty(sub):
    fn = attribute(sub, "rnn_style_vector")
    try:
        got = fn([])
    except ValueError:
        return
    except NotImplementedError:
        raise
    except BaseException as error:
        raise CheckFailed(
            f"rnn_style_vector([]) should raise ValueError, it raised "
            f"{support.describe_exception(error)}"
        ) from None
    raise CheckFailed(f"rnn_style_vector([]) should raise ValueError, it returned {describe(got)}")


@check("easy.numpy_matches_reference")
def test_numpy_matches_reference(sub):
    rng = support.rng("easy.numpy_matches_reference")
    fn = attribute(sub, "rnn_style_vector_numpy")
    for steps, dim in ((1, 1), (3, 64), (200, 64)):
        rows = random_rows(rng, steps, dim)
        got = call(fn, np.array(rows, dtype=np.float64))
        if type(got) is not np.ndarray or got.shape != (dim,):
            raise CheckFailed(
                f"rnn_style_vector_numpy should return an ndarray of shape ({dim},), got "
                f"{describe(got)}" + (f" of shape {got.shape}" if type(got) is np.ndarray else "")
            )
        expected = np.array(recurrence(rows))
        if not np.allclose(expected, np.asarray(got, dtype=np.float64), rtol=1e-10, atol=1e-12):
            index = int(np.argmax(np.abs(expected - got)))
            raise CheckFailed(
                f"rnn_style_vector_numpy on {steps} steps of dimension {dim}: element {index} "
                f"expected {expected[index]!r}, got {float(got[index])!r}"
            )


def _per_step_growth(fn, make_input, dims: tuple[int, int], steps: int) -> tuple[float, dict]:
    """Grader-timed seconds per step at two hidden dims and their ratio (large over small)."""
    small, large = dims
    inputs = {d: make_input(steps, d) for d in dims}
    medians = interleaved_medians(
        {f"d={d}": (lambda d=d: call(fn, inputs[d])) for d in dims}, repeats=7, warmup=1
    )
    per_step = {d: medians[f"d={d}"] / steps for d in dims}
    ratio = per_step[large] / per_step[small]
    return ratio, {"seconds_per_step": {str(d): s for d, s in per_step.items()}, "ratio": ratio}


@check("easy.numpy_vectorised_over_d")
def test_numpy_vectorised_over_d(sub):
    rng = np.random.default_rng(support.rng("easy.numpy_vectorised_over_d").getrandbits(32))
    tol = support.context().tolerances("cpu").numpy_growth_max
    ratio, data = _per_step_growth(
        attribute(sub, "rnn_style_vector_numpy"),
        lambda steps, d: rng.standard_normal((steps, d)),
        (1, 256),
        2000,
    )
    support.record("timing", data | {"tolerance_max": tol})
    if ratio > tol:
        raise CheckFailed(
            f"per-step time grew {ratio:.1f}x from d=1 to d=256 (allowed: {tol}x); "
            "a vectorised step should cost about the same at any d"
        )


@check("easy.python_grows_with_d")
def test_python_grows_with_d(sub):
    rng = support.rng("easy.python_grows_with_d")
    tol = support.context().tolerances("cpu").python_growth_min
    ratio, data = _per_step_growth(
        attribute(sub, "rnn_style_vector"), lambda s, d: random_rows(rng, s, d), (1, 256), 300
    )
    support.record("timing", data | {"tolerance_min": tol})
    if ratio < tol:
        raise CheckFailed(
            f"per-step time grew only {ratio:.1f}x from d=1 to d=256 (expected at least {tol}x): "
            "rnn_style_vector should be the pure-Python loop over the d hidden units"
        )


@check("easy.fit_overhead_exact")
def test_fit_overhead_exact(sub):
    rng = support.rng("easy.fit_overhead_exact")
    fn = attribute(sub, "fit_overhead")
    dims = (1, 4, 16, 64, 256)
    a, b = rng.uniform(1e-7, 1e-6), rng.uniform(1e-9, 1e-8)
    exact = {d: a + b * d for d in dims}
    noisy = {d: t * rng.uniform(0.9, 1.1) for d, t in exact.items()}
    slope, intercept = np.polyfit(np.array(dims, float), np.array(list(noisy.values())), 1)
    for data, want in ((exact, (a, b)), (noisy, (float(intercept), float(slope)))):
        got = call(fn, dict(data))
        pair = [support.as_float(v) for v in got] if type(got) in (tuple, list) else []
        if len(pair) != 2 or None in pair:
            raise CheckFailed(f"fit_overhead should return a tuple (a, b), got {describe(got)}")
        got_a, got_b = pair
        close_a = np.isclose(want[0], got_a, rtol=1e-6, atol=1e-15)
        if not (close_a and np.isclose(want[1], got_b, rtol=1e-6, atol=1e-17)):
            raise CheckFailed(
                f"fit_overhead({describe(data)}): expected (a, b) = "
                f"({want[0]:.6g}, {want[1]:.6g}), "
                f"got ({got_a:.6g}, {got_b:.6g})"
            )


def _hidden_dim(xs) -> int:
    return len(xs[0]) if len(xs) else 0


@check("easy.serial_overhead_consistent")
def test_serial_overhead_consistent(sub):
    tol = support.context().tolerances("cpu")
    dims, steps = (4, 64), 400
    report = {}
    for impl, name in (("python", "rnn_style_vector"), ("numpy", "rnn_style_vector_numpy")):
        with support.observed_calls(sub, (name,), size=_hidden_dim, sync=lambda: None) as seen:
            claimed = call(
                attribute(sub, "serial_overhead"),
                hidden_dims=dims,
                seq_len=steps,
                repeats=5,
                impl=impl,
            )
        if (
            type(claimed) is not dict
            or set(claimed) != set(dims)
            or not all(
                type(k) is int and (support.as_float(v) or 0) > 0 for k, v in claimed.items()
            )
        ):
            raise CheckFailed(
                f"serial_overhead(hidden_dims={dims}, impl={impl!r}) should return "
                f"{{d: positive seconds}} for each d, got {describe(claimed)}"
            )
        for d in dims:
            observed = support.median_duration(seen[name], d)
            if observed is None:
                raise CheckFailed(
                    f"serial_overhead(impl={impl!r}) reports a time for d={d} but never called "
                    f"{name} with rows of length {d}: report what you measured"
                )
            per_step = observed / steps
            ratio = support.as_float(claimed[d]) / per_step
            report[f"{impl}:d={d}"] = {
                "claimed": support.as_float(claimed[d]),
                "observed": per_step,
                "ratio": ratio,
            }
            if not tol.reported_ratio_min <= ratio <= tol.reported_ratio_max:
                support.record("timing", report)
                raise CheckFailed(
                    f"serial_overhead(impl={impl!r}) reports {claimed[d]:.3g} s per step at d={d}; "
                    f"the grader timed the calls it made at {per_step:.3g} s per step "
                    f"({ratio:.2f}x, allowed {tol.reported_ratio_min}..{tol.reported_ratio_max}x)"
                )
    support.record("timing", report)


@check("easy.answer")
def test_answer(sub):
    written_answer(sub, "ANSWER", "easy.answer")
