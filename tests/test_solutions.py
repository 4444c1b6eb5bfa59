"""The reference solutions in solutions/ are correct: the project's own tests, not the grader.

The grader checks a student's submission; these tests check the model answers the stubs are
generated from, so a mistake in a solution fails here before it can mark students down.
Depth and work are measured with ``reference.tracer``, the same way the grader measures them.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
import operator
import random
import string
import time
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch

from reference.tracer import Tape, max_depth

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"


def load_solution(name: str) -> ModuleType:
    """Import ``solutions/<name>.py`` by path, as the grader loads a submission."""
    spec = importlib.util.spec_from_file_location(f"solution_{name}", SOLUTIONS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


easy = load_solution("easy_vector_state")
medium = load_solution("medium_parallel_scan")
hard = load_solution("hard_gpu_sweep")
challenge = load_solution("challenge_linear_recurrence")


def matmul2(left: tuple, right: tuple) -> tuple:
    """2x2 integer matrix product on nested tuples: associative, not commutative."""
    (a, b), (c, d) = left
    (e, f), (g, h) = right
    return ((a * e + b * g, a * f + b * h), (c * e + d * g, c * f + d * h))


# ---------------------------------------------------------------- medium: parallel scan


@pytest.mark.parametrize("n", [0, 1, 2, 3, 1000, 1024, 1025])
def test_hillis_steele_equals_serial_scan_on_integers(n: int) -> None:
    rng = random.Random(n)
    xs = [rng.randint(-1000, 1000) for _ in range(n)]
    expected = list(np.cumsum(xs, dtype=np.int64)) if n else []
    assert medium.serial_scan(xs) == expected
    assert medium.hillis_steele_scan(xs) == expected
    assert isinstance(medium.hillis_steele_scan(xs), list)


def test_hillis_steele_on_floats_matches_serial_scan() -> None:
    rng = random.Random(7)
    xs = [rng.uniform(-1.0, 1.0) for _ in range(1024)]
    np.testing.assert_allclose(
        medium.hillis_steele_scan(xs), medium.serial_scan(xs), rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize("n", [0, 1, 2, 3, 26, 100])
def test_scans_keep_the_earlier_element_on_the_left(n: int) -> None:
    letters = [string.ascii_letters[i % 52] for i in range(n)]
    prefixes = ["".join(letters[: j + 1]) for j in range(n)]
    assert medium.serial_scan(letters) == prefixes
    assert medium.hillis_steele_scan(letters) == prefixes


def test_hillis_steele_with_matrix_products() -> None:
    rng = random.Random(3)
    matrices = [
        ((rng.randint(-3, 3), rng.randint(-3, 3)), (rng.randint(-3, 3), rng.randint(-3, 3)))
        for _ in range(37)
    ]
    assert medium.hillis_steele_scan(matrices, matmul2) == medium.serial_scan(matrices, matmul2)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 8, 9, 100, 1024, 1025])
def test_measured_depth_and_work_match_the_formulas(n: int) -> None:
    tape = Tape()
    out = medium.hillis_steele_scan(tape.inputs(range(n)), tape.wrap(operator.add))
    assert [node.value for node in out] == [j * (j + 1) // 2 for j in range(n)]
    assert max_depth(out) == medium.scan_depth(n)
    assert tape.work == medium.scan_work(n)


def test_scan_depth_and_work_values() -> None:
    assert [medium.scan_depth(n) for n in range(10)] == [0, 0, 1, 2, 2, 3, 3, 3, 3, 4]
    assert medium.scan_depth(1024) == 10
    assert medium.scan_depth(2**60 + 1) == 61  # where a floating-point log2 would go wrong
    assert medium.scan_work(1024) == 10 * 1024 - (2**10 - 1)
    assert medium.scan_work(0) == medium.scan_work(1) == 0
    for function in (medium.scan_depth, medium.scan_work):
        with pytest.raises(ValueError):
            function(-1)


@pytest.mark.parametrize("n", [1, 2, 64, 1024])
def test_serial_scan_depth_is_n_minus_one(n: int) -> None:
    tape = Tape()
    out = medium.serial_scan(tape.inputs(range(n)), tape.wrap(operator.add))
    assert max_depth(out) == n - 1
    assert tape.work == n - 1


# ---------------------------------------------------------------- easy: vector hidden state


def closed_form(xs: np.ndarray) -> np.ndarray:
    """h_T = sum_t 0.9**(T-1-t) x_t, from unrolling h = 0.9 h + x from zeros."""
    steps = len(xs)
    weights = 0.9 ** np.arange(steps - 1, -1, -1, dtype=np.float64)
    return weights @ xs


@pytest.mark.parametrize(("steps", "width"), [(1, 1), (5, 3), (200, 64)])
def test_both_recurrences_match_the_closed_form(steps: int, width: int) -> None:
    xs = np.random.default_rng(steps).standard_normal((steps, width))
    expected = closed_form(xs)
    got_python = easy.rnn_style_vector(xs.tolist())
    got_numpy = easy.rnn_style_vector_numpy(xs)
    assert isinstance(got_python, list)
    assert all(isinstance(value, float) for value in got_python)
    np.testing.assert_allclose(got_python, expected, rtol=1e-10, atol=1e-12)
    assert got_numpy.shape == (width,)
    assert got_numpy.dtype == np.float64
    np.testing.assert_allclose(got_numpy, expected, rtol=1e-10, atol=1e-12)


def test_recurrences_reject_bad_input() -> None:
    with pytest.raises(ValueError):
        easy.rnn_style_vector([])
    with pytest.raises(ValueError):
        easy.rnn_style_vector([[1.0, 2.0], [3.0]])
    with pytest.raises(ValueError):
        easy.rnn_style_vector_numpy(np.zeros((0, 4)))


def test_serial_overhead_returns_one_positive_time_per_dim() -> None:
    for impl in easy.IMPLS:
        per_step = easy.serial_overhead(hidden_dims=(1, 8), seq_len=20, repeats=2, impl=impl)
        assert list(per_step) == [1, 8]
        assert all(isinstance(t, float) and t > 0 for t in per_step.values())
    with pytest.raises(ValueError, match="python"):
        easy.serial_overhead(hidden_dims=(1,), seq_len=5, repeats=1, impl="fortran")


def test_fit_overhead_is_exact_on_a_line() -> None:
    a, b = easy.fit_overhead({d: 2e-7 + 3e-9 * d for d in (1, 4, 16, 64, 256)})
    assert type(a) is float and type(b) is float
    assert a == pytest.approx(2e-7, rel=1e-9)
    assert b == pytest.approx(3e-9, rel=1e-9)


def test_fit_overhead_equals_polyfit_on_noisy_data() -> None:
    rng = np.random.default_rng(11)
    dims = [1, 4, 16, 64, 256]
    per_step = {d: 4e-7 + 3.5e-8 * d + rng.normal(0, 5e-8) for d in dims}
    slope, intercept = np.polyfit(dims, [per_step[d] for d in dims], 1)
    assert easy.fit_overhead(per_step) == pytest.approx((intercept, slope), rel=1e-9)
    with pytest.raises(ValueError):
        easy.fit_overhead({64: 1e-6})


# ---------------------------------------------------------------- hard: GPU sweep (on CPU here)


@pytest.mark.parametrize("n", [1, 64, 1000])
def test_torch_functions_match_float64_references(n: int) -> None:
    xs = torch.rand(n, generator=torch.Generator().manual_seed(n), dtype=torch.float32)
    reference = xs.double().tolist()
    expected_h = 0.0
    for x in reference:
        expected_h = 0.9 * expected_h + x
    mean = hard.attention_style_torch(xs)
    h = hard.rnn_style_torch(xs)
    for result in (mean, h):
        assert result.dim() == 0
        assert result.device == xs.device
        assert result.dtype == torch.float32
    assert mean.item() == pytest.approx(math.fsum(reference) / n, rel=1e-5)
    assert h.item() == pytest.approx(expected_h, rel=1e-5)


def test_time_fn_measures_known_durations() -> None:
    duration = 0.02
    measured = hard.time_fn(lambda: time.sleep(duration), device="cpu", warmup=1, repeats=5)
    assert duration * 0.95 <= measured <= duration * 1.5  # loose: sleep overshoots when busy


def test_short_sweep_and_its_plot(tmp_path: Path) -> None:
    rows = hard.sweep(lengths=(64, 128, 256), device="cpu")
    assert [row["n"] for row in rows] == [64, 128, 256]
    for row in rows:
        assert set(row) == {"n", "rnn_seconds", "attention_seconds"}
        assert row["rnn_seconds"] > 0 and row["attention_seconds"] > 0

    path = tmp_path / "plots" / "sweep.png"
    figure = hard.plot_sweep(rows, path)
    assert path.stat().st_size > 0
    (axes,) = figure.get_axes()
    assert axes.get_xscale() == axes.get_yscale() == "log"
    labels = [line.get_label() for line in axes.get_lines()]
    assert len(labels) == 2
    assert any("rnn" in label for label in labels)
    assert any("attention" in label for label in labels)
    assert axes.get_xlabel() and axes.get_ylabel() and axes.get_title()
    assert axes.get_legend() is not None


def test_sweep_lengths_cover_the_lesson_range() -> None:
    assert hard.SWEEP_LENGTHS[0] == 64
    assert hard.SWEEP_LENGTHS[-1] == 65_536
    assert all(b == 2 * a for a, b in itertools.pairwise(hard.SWEEP_LENGTHS))


# ---------------------------------------------------------------- challenge: linear recurrence


def serial_recurrence(a: list[float], x: list[float]) -> list[float]:
    h, out = 0.0, []
    for a_t, x_t in zip(a, x, strict=True):
        h = a_t * h + x_t
        out.append(h)
    return out


@pytest.mark.parametrize("n", [0, 1, 2, 3, 1000, 1024])
def test_linear_recurrence_matches_the_serial_one(n: int) -> None:
    rng = random.Random(n)
    a = [rng.uniform(-1.0, 1.0) for _ in range(n)]
    x = [rng.uniform(-1.0, 1.0) for _ in range(n)]
    got = challenge.linear_recurrence(a, x)
    assert isinstance(got, list)
    np.testing.assert_allclose(got, serial_recurrence(a, x), rtol=1e-9, atol=1e-12)


def test_linear_recurrence_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError):
        challenge.linear_recurrence([0.5, 0.5], [1.0])


@pytest.mark.parametrize("n", [1, 2, 3, 8, 100, 1000, 1024, 1025])
def test_linear_recurrence_depth_is_logarithmic(n: int) -> None:
    rng = random.Random(n)
    tape = Tape()
    a = tape.inputs(rng.uniform(-1.0, 1.0) for _ in range(n))
    x = tape.inputs(rng.uniform(-1.0, 1.0) for _ in range(n))
    depth = max_depth(challenge.linear_recurrence(a, x))
    rounds = medium.scan_depth(n)  # ceil(log2 n) rounds of combine
    # Each round adds a multiply and an add to the chain, 2 * ceil(log2 n) in all, when n is
    # a power of two. Otherwise the last round's left partner is a shorter, already finished
    # prefix and the multiply is off the critical path: ceil(log2 n) + floor(log2 n).
    assert depth == rounds + (n.bit_length() - 1)
    if n & (n - 1) == 0:
        assert depth == 2 * rounds


def test_combine_is_associative_and_ordered() -> None:
    rng = random.Random(5)
    for _ in range(200):
        p, q, r = ((rng.uniform(-2, 2), rng.uniform(-2, 2)) for _ in range(3))
        left_first = challenge.combine(challenge.combine(p, q), r)
        right_first = challenge.combine(p, challenge.combine(q, r))
        assert left_first == pytest.approx(right_first, rel=1e-9, abs=1e-12)
    # applying h -> 2h + 1 and then h -> 3h + 5 is h -> 6h + 8
    assert challenge.combine((2.0, 1.0), (3.0, 5.0)) == (6.0, 8.0)
