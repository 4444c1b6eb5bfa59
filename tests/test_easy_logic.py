"""The easy exercise's verdicts (``checks/test_easy.py``) on injected replies and timings.

Each check runs as the judge runs it, with only what a worker and the stopwatch would give
replaced: a fake ``sub`` answers each call, and ``interleaved_timings`` returns the figures
the test chose (the way tests/test_cuda_logic.py injects the CUDA checks' measurements).
No worker starts and nothing is timed, so every bound is tested at its edge, exactly
(``make mutate``'s ``easy`` target).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from judge_context import call_check, judge_context
from judge_context import failure as judge_failure

from autograder.grading.judge.checks import support
from autograder.grading.judge.checks import test_easy as easy
from autograder.grading.judge.checks.support import CheckFailed
from autograder.grading.judge.checks.timing import Contender, Medians
from autograder.grading.worker.protocol import ArrayValue, ForeignInt, ListArg
from autograder.spec.settings import load_settings

TOL = load_settings().tolerances_for("cpu")


@pytest.fixture
def context(tmp_path: Path) -> support.GradingContext:
    return judge_context(tmp_path, exercise="easy", device="cpu")


class FakeSub:
    """The submission's worker: each reply computed by the test, never a real process."""

    def __init__(self, **replies: Callable[..., Any]) -> None:
        self.replies, self.calls = replies, []

    def call(self, function: str, *args: Any) -> Any:
        self.calls.append((function, args))
        return self.replies[function](*args)

    def raised(self, function: str, *args: Any) -> tuple[Any, Any]:
        self.calls.append((function, args))
        return self.replies[function](*args)

    def call_timed(self, function: str, **kwargs: Any) -> tuple[Any, float]:
        self.calls.append((function, kwargs))
        return self.replies[function](**kwargs)


def failure(check: Callable[..., None], sub: Any, ctx: support.GradingContext) -> str:
    return str(judge_failure(check, sub, ctx))


def ndarray(values: Any) -> ArrayValue:
    values = np.asarray(values, dtype=np.float64)
    return ArrayValue("ndarray", "float64", values.shape, "cpu", values)


# ---------------------------------------------------------------- the checks' bindings


def test_each_check_of_the_registry_is_bound_to_its_function() -> None:
    from autograder.spec.registry import CHECKS_BY_ID

    bound = {
        name: [mark.args[0] for mark in getattr(value, "pytestmark", []) if mark.name == "check"]
        for name, value in vars(easy).items()
        if name.startswith("test_")
    }
    assert bound == {
        "test_vector_matches_reference": ["easy.vector_matches_reference"],
        "test_vector_rejects_empty": ["easy.vector_rejects_empty"],
        "test_numpy_matches_reference": ["easy.numpy_matches_reference"],
        "test_numpy_vectorised_over_d": ["easy.numpy_vectorised_over_d"],
        "test_python_grows_with_d": ["easy.python_grows_with_d"],
        "test_fit_overhead_exact": ["easy.fit_overhead_exact"],
        "test_serial_overhead_consistent": ["easy.serial_overhead_consistent"],
        "test_answer": ["easy.answer"],
    }
    assert sorted(i for ids in bound.values() for i in ids) == sorted(
        i for i in CHECKS_BY_ID if i.startswith("easy.")
    )


def test_the_submission_is_one_worker_for_the_whole_module() -> None:
    # pytest's own record of the fixture: one worker shared by every check of the module
    assert easy.sub._fixture_function_marker.scope == "module"


# ---------------------------------------------------------------- the recurrence


def test_the_recurrence_and_its_closed_form() -> None:
    xs = [[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]]
    # h1 = x1; h2 = 0.9 h1 + x2; h3 = 0.9 h2 + x3
    expected = [0.9 * (0.9 * 1.0 + 3.0) + 0.5, 0.9 * (0.9 * 2.0 - 1.0) + 0.0]
    assert easy.recurrence(xs) == expected
    assert easy.recurrence_array(np.array(xs)).tolist() == pytest.approx(expected, rel=1e-15)
    rows = np.random.default_rng(1).uniform(-1, 1, (50, 7))
    assert easy.recurrence_array(rows) == pytest.approx(easy.recurrence(rows.tolist()), rel=1e-12)
    assert easy.recurrence_array(np.array([[2.0, 3.0]])).tolist() == [2.0, 3.0]


def test_random_rows_are_uniform_in_minus_one_to_one() -> None:
    import random

    rows = easy.random_rows(random.Random(3), 40, 5)
    values = [v for row in rows for v in row]
    assert len(rows) == 40 and all(len(row) == 5 for row in rows)
    assert all(-1 <= v <= 1 for v in values)
    assert min(values) < -0.8 and max(values) > 0.8


# ---------------------------------------------------------------- vector state, values


def test_the_vector_check_passes_the_exact_state_on_every_shape(context) -> None:
    sub = FakeSub(rnn_style_vector=easy.recurrence)
    call_check(easy.test_vector_matches_reference, sub, context)
    shapes = [(len(args[0]), len(args[0][0])) for _, args in sub.calls]
    assert shapes == [(1, 1), (3, 64), (50, 8), (200, 64)]


@pytest.mark.parametrize("position", [0, -1])
def test_the_vector_check_fails_one_wrong_element(context, position) -> None:
    def wrong(xs):
        state = easy.recurrence(xs)
        state[position] *= 1 + 1e-10
        return state

    message = failure(easy.test_vector_matches_reference, FakeSub(rnn_style_vector=wrong), context)
    assert message.startswith("rnn_style_vector")


def test_the_vector_check_fails_a_state_of_the_wrong_length(context) -> None:
    sub = FakeSub(rnn_style_vector=lambda xs: easy.recurrence(xs)[:-1] or [0.0, 0.0])
    assert failure(easy.test_vector_matches_reference, sub, context).startswith("rnn_style_vector")


def test_an_empty_sequence_must_raise_value_error(context) -> None:
    value_error = {"type": "ValueError", "message": "empty", "mro": ["ValueError", "Exception"]}
    subclass = {"type": "Empty", "mro": ["Empty", "ValueError", "Exception"]}
    for raised in (value_error, subclass):
        call_check(
            easy.test_vector_rejects_empty,
            FakeSub(rnn_style_vector=lambda xs, r=raised: (r, None)),
            context,
        )
    sub = FakeSub(rnn_style_vector=lambda xs: (None, [0.0]))
    assert failure(easy.test_vector_rejects_empty, sub, context) == (
        "rnn_style_vector([]) should raise ValueError, it returned [0.0]"
    )
    assert sub.calls == [("rnn_style_vector", ([],))]
    index_error = {
        "type": "IndexError",
        "message": "list index out of range",
        "mro": ["IndexError"],
    }
    sub = FakeSub(rnn_style_vector=lambda xs: (index_error, None))
    assert failure(easy.test_vector_rejects_empty, sub, context) == (
        "rnn_style_vector([]) should raise ValueError, "
        "it raised IndexError: list index out of range"
    )
    no_mro = {"type": "ValueError", "message": "m"}  # a report without its classes proves nothing
    sub = FakeSub(rnn_style_vector=lambda xs: (no_mro, None))
    assert failure(easy.test_vector_rejects_empty, sub, context).endswith("it raised ValueError: m")


# ---------------------------------------------------------------- numpy state, values


def numpy_state(scale: float = 1.0, *, at: int | None = None) -> Callable[[np.ndarray], Any]:
    def reply(rows: np.ndarray) -> ArrayValue:
        state = np.array(easy.recurrence(rows.tolist()))
        if at is None:
            state = state * scale
        elif at < len(state):
            state[at] *= scale
        return ndarray(state)

    return reply


def test_the_numpy_check_passes_the_state_within_its_tolerance(context) -> None:
    sub = FakeSub(rnn_style_vector_numpy=numpy_state(1 + 5e-11))
    call_check(easy.test_numpy_matches_reference, sub, context)
    assert [args[0].shape for _, args in sub.calls] == [(1, 1), (3, 64), (200, 64)]
    assert all(type(args[0]) is np.ndarray and args[0].dtype == np.float64 for _, args in sub.calls)


def test_the_numpy_check_names_the_worst_element(context) -> None:
    sub = FakeSub(rnn_style_vector_numpy=numpy_state(1 + 1e-6, at=5))
    message = failure(easy.test_numpy_matches_reference, sub, context)
    assert message.startswith(
        "rnn_style_vector_numpy on 3 steps of dimension 64: element 5 expected"
    )
    expected = easy.recurrence(sub.calls[1][1][0].tolist())[5]
    # plain floats on both sides (numpy 2 would print np.float64(...))
    assert message.endswith(f"expected {expected!r}, got {expected * (1 + 1e-6)!r}")


def test_the_numpy_check_names_the_element_furthest_off(context) -> None:
    def drifting(rows: np.ndarray) -> ArrayValue:
        state = np.array(easy.recurrence(rows.tolist()))
        if rows.shape == (1, 1):
            return ndarray(state)
        return ndarray(state + 0.001 * np.arange(len(state)))  # the last one is furthest off

    message = failure(
        easy.test_numpy_matches_reference, FakeSub(rnn_style_vector_numpy=drifting), context
    )
    assert message.startswith(
        "rnn_style_vector_numpy on 3 steps of dimension 64: element 63 expected"
    )


@pytest.mark.parametrize("scale", [1 + 2e-10, 1 - 2e-10])
def test_the_numpy_check_fails_just_past_its_tolerance(context, scale) -> None:
    sub = FakeSub(rnn_style_vector_numpy=numpy_state(scale))
    message = failure(easy.test_numpy_matches_reference, sub, context)
    assert message.startswith("rnn_style_vector_numpy on 1 steps of dimension 1: element 0")


def test_a_state_near_zero_is_judged_by_the_absolute_tolerance(context) -> None:
    def shifted(by: float):
        def reply(rows):
            return ndarray(np.array(easy.recurrence(rows.tolist())) + by)

        return reply

    call_check(
        easy.test_numpy_matches_reference, FakeSub(rnn_style_vector_numpy=shifted(5e-13)), context
    )
    message = failure(
        easy.test_numpy_matches_reference, FakeSub(rnn_style_vector_numpy=shifted(5e-9)), context
    )
    assert "element" in message


@pytest.mark.parametrize(
    ("reply", "described"),
    [
        (lambda rows: ndarray(np.zeros((1, 1))), "<numpy.ndarray of shape (1, 1), dtype float64"),
        (lambda rows: ndarray(np.zeros(0)), "<numpy.ndarray of shape (0,), dtype float64"),
        (lambda rows: ndarray(np.zeros(2)), "<numpy.ndarray of shape (2,), dtype float64"),
        (
            lambda rows: ArrayValue("tensor", "float64", (1,), "cpu", np.zeros(1)),
            "<torch.Tensor of shape (1,)",
        ),
        (lambda rows: [float(rows[0, 0])], "["),
        (lambda rows: None, "None"),
    ],
    ids=["wrong shape", "empty", "longer", "tensor", "list", "None"],
)
def test_the_numpy_check_wants_an_ndarray_of_the_states_shape(context, reply, described) -> None:
    message = failure(
        easy.test_numpy_matches_reference, FakeSub(rnn_style_vector_numpy=reply), context
    )
    assert message.startswith(
        f"rnn_style_vector_numpy should return an ndarray of shape (1,), got {described}"
    )


# ---------------------------------------------------------------- a timed output's check


def test_a_timed_output_is_the_final_state_as_an_array_or_a_list_of_floats() -> None:
    rows = np.random.default_rng(2).uniform(-1, 1, (30, 4))
    state = easy.recurrence_array(rows)
    assert easy._verify_state([rows], ndarray(state)) is None
    assert easy._verify_state([rows.tolist()], [float(v) for v in state]) is None
    assert easy._verify_state([rows], ndarray(state * (1 + 5e-9))) is None
    assert easy._verify_state([rows], ndarray(state * (1 + 2e-8))) == (
        "the final hidden state is wrong"
    )
    assert easy._verify_state([rows], ndarray(state + 5e-11 * (state == 0))) is None
    wrong_last = state.copy()
    wrong_last[-1] += 1e-3
    assert easy._verify_state([rows], ndarray(wrong_last)) == "the final hidden state is wrong"
    assert easy._verify_state([rows], ndarray(state[:3])) == "the final hidden state is wrong"
    longer = ndarray(np.append(state, 0.0))
    assert easy._verify_state([rows], longer) == "the final hidden state is wrong"
    assert easy._verify_state([rows], [*map(float, state), 0.0]) == (
        "the final hidden state is wrong"
    )
    assert easy._verify_state([rows], ndarray([state])) == "the final hidden state is wrong"


def test_a_timed_output_of_another_kind_is_named() -> None:
    rows = np.zeros((2, 2))
    assert easy._verify_state([rows], [0.0, 0]) == "got [0.0, 0]"
    assert easy._verify_state([rows], (0.0, 0.0)) == "got (0.0, 0.0)"
    assert easy._verify_state([rows], None) == "got None"
    assert easy._verify_state([np.zeros((2, 1))], [0.0]) is None
    assert easy._verify_state([np.zeros((2, 1))], []) == "the final hidden state is wrong"


# ---------------------------------------------------------------- timings, injected


class FakeStopwatch:
    """``interleaved_timings`` replaced: per-step seconds by d, one dict per measurement."""

    def __init__(self, *per_step: dict[int, tuple[float, float]]) -> None:
        self.per_step = list(per_step)
        self.asked: list[tuple[dict[str, Contender], int]] = []

    def __call__(
        self, ctx, contenders: dict[str, Contender], *, repeats: int
    ) -> dict[str, Medians]:
        self.asked.append((contenders, repeats))
        figures = self.per_step[min(len(self.asked), len(self.per_step)) - 1]
        sent = contenders[next(iter(contenders))].make_calls(1)[0][0]
        steps = len(sent.values if type(sent) is ListArg else sent)
        return {
            name: Medians(figures[int(name[2:])][0] * steps, figures[int(name[2:])][1] * steps)
            for name in contenders
        }


def growth(ratio: float, base: float = 1e-6) -> dict[int, tuple[float, float]]:
    """Per-step (CPU, wall) seconds at d=1 and d=256 that grow by ``ratio``."""
    return {1: (base, base * 2), 256: (base * ratio, base * ratio * 2)}


def test_per_step_seconds_times_one_contender_per_d(context, monkeypatch) -> None:
    stopwatch = FakeStopwatch({4: (2e-6, 3e-6), 64: (5e-6, 8e-6)})
    monkeypatch.setattr(easy, "interleaved_timings", stopwatch)
    sub = object()
    got = easy.per_step_seconds(context, sub, "f", (4, 64), 10, as_lists=True, seed=5, repeats=3)
    assert got == {
        4: Medians(pytest.approx(2e-6), pytest.approx(3e-6)),
        64: Medians(pytest.approx(5e-6), pytest.approx(8e-6)),
    }
    ((contenders, repeats),) = stopwatch.asked
    assert repeats == 3 and list(contenders) == ["d=4", "d=64"]
    for d, contender in zip((4, 64), contenders.values(), strict=True):
        assert contender.worker is sub and contender.function == "f"
        assert contender.verify is easy._verify_state
        assert contender.payload_bytes == 8 * 10 * d
        calls = contender.make_calls(3)
        assert len(calls) == 3 and all(len(args) == 1 for args in calls)
        # lists travel as bytes (ListArg); the worker hands submission code values.tolist()
        assert all(type(args[0]) is ListArg and args[0].values.shape == (10, d) for args in calls)
        assert len({args[0].values.tobytes() for args in calls}) == 3  # fresh for every call
        values = [v for args in calls for row in args[0].values.tolist() for v in row]
        assert all(-1 <= v <= 1 for v in values) and min(values) < -0.5 and max(values) > 0.5


def test_per_step_seconds_sends_arrays_when_not_lists(context, monkeypatch) -> None:
    draws = []
    for _ in range(2):
        stopwatch = FakeStopwatch({1: (1e-6, 1e-6)})
        monkeypatch.setattr(easy, "interleaved_timings", stopwatch)
        easy.per_step_seconds(context, object(), "g", (1,), 6, as_lists=False, seed=5)
        ((contenders, repeats),) = stopwatch.asked
        assert repeats == 7
        make = contenders["d=1"].make_calls
        draws.append([make(1)[0][0] for _ in range(2)])
    assert all(type(x) is np.ndarray and x.shape == (6, 1) for x in draws[0] + draws[1])
    # the seed makes the inputs reproducible; each batch is drawn afresh
    assert draws[0][0].tolist() == draws[1][0].tolist()
    assert draws[0][0].tolist() != draws[0][1].tolist()


def run_growth_check(context, monkeypatch, check, *measurements) -> tuple[str | None, dict]:
    stopwatch = FakeStopwatch(*measurements)
    monkeypatch.setattr(easy, "interleaved_timings", stopwatch)
    try:
        call_check(check, object(), context)
        message = None
    except CheckFailed as failed:
        message = str(failed)
    return message, {"measured": len(stopwatch.asked), **context.records["?"]["timing"]}


@pytest.mark.parametrize(("ratio", "passes"), [(1.0, True), (10.0, True), (10.01, False)])
def test_numpy_growth_at_its_bound(context, monkeypatch, ratio, passes) -> None:
    message, record = run_growth_check(
        context, monkeypatch, easy.test_numpy_vectorised_over_d, growth(ratio)
    )
    assert (message is None) is passes
    assert record["ratio"] == pytest.approx(ratio) and record["tolerance_max"] == 10.0
    assert record["measured"] == (1 if passes else 2)
    assert record["seconds_per_step"] == {
        "1": pytest.approx(1e-6),
        "256": pytest.approx(ratio * 1e-6),
    }


def test_numpy_growth_failure_names_the_figures(context, monkeypatch) -> None:
    message, _ = run_growth_check(
        context, monkeypatch, easy.test_numpy_vectorised_over_d, growth(25.0), growth(30.0)
    )
    assert message == (
        "per-step time grew 25.0x from d=1 to d=256 (allowed: 10.0x); "
        "a vectorised step should cost about the same at any d"
    )


def test_a_disturbed_numpy_measurement_is_taken_again(context, monkeypatch) -> None:
    message, record = run_growth_check(
        context, monkeypatch, easy.test_numpy_vectorised_over_d, growth(25.0), growth(3.0)
    )
    assert message is None and record["ratio"] == pytest.approx(3.0) and record["measured"] == 2
    assert record["seconds_per_step"]["256"] == pytest.approx(3e-6)


def test_a_numpy_figure_that_cannot_be_formed_fails(context, monkeypatch) -> None:
    zero = {1: (0.0, 0.0), 256: (1e-6, 1e-6)}
    message, record = run_growth_check(
        context, monkeypatch, easy.test_numpy_vectorised_over_d, zero, zero
    )
    assert message.startswith("per-step time grew nanx") and math.isnan(record["ratio"])


@pytest.mark.parametrize(("ratio", "passes"), [(50.0, True), (11.0, True), (10.99, False)])
def test_python_growth_at_its_bound(context, monkeypatch, ratio, passes) -> None:
    message, record = run_growth_check(
        context, monkeypatch, easy.test_python_grows_with_d, growth(ratio)
    )
    assert (message is None) is passes
    assert record["ratio"] == pytest.approx(ratio) and record["tolerance_min"] == 11.0
    assert record["measured"] == (1 if passes else 2)


def test_python_growth_failure_names_the_figures(context, monkeypatch) -> None:
    message, _ = run_growth_check(
        context, monkeypatch, easy.test_python_grows_with_d, growth(2.0), growth(1.5)
    )
    assert message == (
        "per-step time grew only 2.0x from d=1 to d=256 (expected at least 11.0x): "
        "rnn_style_vector should be the pure-Python loop over the d hidden units"
    )


def test_a_disturbed_python_measurement_is_taken_again(context, monkeypatch) -> None:
    message, record = run_growth_check(
        context, monkeypatch, easy.test_python_grows_with_d, growth(4.0), growth(40.0)
    )
    assert message is None and record["ratio"] == pytest.approx(40.0)


def test_the_growth_checks_time_their_functions_as_the_lesson_runs_them(
    context, monkeypatch
) -> None:
    for check, function, steps, kind, samples in (
        (easy.test_numpy_vectorised_over_d, "rnn_style_vector_numpy", 2000, np.ndarray, 5),
        (easy.test_python_grows_with_d, "rnn_style_vector", 300, ListArg, 7),
    ):
        stopwatch = FakeStopwatch(growth(10.0 if kind is np.ndarray else 11.0))
        monkeypatch.setattr(easy, "interleaved_timings", stopwatch)
        call_check(check, object(), context)
        ((contenders, repeats),) = stopwatch.asked
        assert list(contenders) == ["d=1", "d=256"] and repeats == samples
        (args,) = contenders["d=256"].make_calls(1)
        assert contenders["d=256"].function == function
        sent = args[0].values if kind is ListArg else args[0]
        assert type(args[0]) is kind and np.shape(sent) == (steps, 256)


# ---------------------------------------------------------------- fit_overhead


def fitted(change: Callable[[float, float], Any] = lambda a, b: (a, b)) -> FakeSub:
    def fit(data: dict) -> Any:
        dims = np.array(list(data), dtype=float)
        slope, intercept = np.polyfit(dims, np.array(list(data.values())), 1)
        return change(float(intercept), float(slope))

    return FakeSub(fit_overhead=fit)


def test_fit_overhead_passes_the_least_squares_line(context) -> None:
    sub = fitted()
    call_check(easy.test_fit_overhead_exact, sub, context)
    (_, (exact,)), (_, (noisy,)) = sub.calls
    assert list(exact) == [1, 4, 16, 64, 256] == list(noisy)
    a = exact[1] - (exact[4] - exact[1]) / 3
    assert all(v == pytest.approx(a + (exact[4] - exact[1]) / 3 * d) for d, v in exact.items())
    b = (exact[4] - exact[1]) / 3
    assert 1e-7 <= exact[1] - b <= 1e-6 and 1e-9 <= b <= 1e-8  # the lesson's magnitudes
    assert all(0.9 <= noisy[d] / exact[d] <= 1.1 for d in exact)  # 10% noise at most
    assert noisy != exact
    call_check(easy.test_fit_overhead_exact, fitted(lambda a, b: [a, b]), context)
    call_check(
        easy.test_fit_overhead_exact, fitted(lambda a, b: (a * (1 + 5e-7), b * (1 - 5e-7))), context
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda a, b: (a * (1 + 2e-6), b),
        lambda a, b: (a, b * (1 - 2e-6)),
        lambda a, b: (b, a),
    ],
    ids=["a off", "b off", "swapped"],
)
def test_fit_overhead_fails_a_wrong_line(context, change) -> None:
    message = failure(easy.test_fit_overhead_exact, fitted(change), context)
    assert message.startswith("fit_overhead({1: ") and "expected (a, b) = (" in message


def test_fit_overhead_failure_names_both_lines(context) -> None:
    sub = fitted(lambda a, b: (2 * a, 3 * b))
    message = failure(easy.test_fit_overhead_exact, sub, context)
    (_, (data,)) = sub.calls[0]
    slope, intercept = np.polyfit(np.array(list(data), float), np.array(list(data.values())), 1)
    assert message.endswith(
        f"expected (a, b) = ({intercept:.6g}, {slope:.6g}), "
        f"got ({2 * intercept:.6g}, {3 * slope:.6g})"
    )


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ({"a": 1.0, "b": 2.0}, "fit_overhead should return a tuple (a, b), got {"),
        ((1.0,), "fit_overhead should return a tuple (a, b), got (1.0)"),
        ((1.0, 2.0, 3.0), "fit_overhead should return a tuple (a, b), got (1.0, 2.0, 3.0)"),
        ((math.nan, 1.0), "fit_overhead's a must be a finite number, got nan"),
        ((1.0, "2"), "fit_overhead's b should be a number, got '2'"),
    ],
)
def test_fit_overhead_wants_two_numbers(context, reply, reason) -> None:
    message = failure(
        easy.test_fit_overhead_exact, FakeSub(fit_overhead=lambda data: reply), context
    )
    assert message.startswith(reason)


# ---------------------------------------------------------------- serial_overhead, injected


def serial_overhead(
    claimed: dict[str, Any], elapsed: float = 1.0
) -> Callable[..., tuple[Any, float]]:
    """Replies by impl: the claimed {d: seconds per step} and the whole call's duration."""

    def reply(*, hidden_dims, seq_len, repeats, impl):
        assert (hidden_dims, seq_len, repeats) == ((4, 64), 400, 5)
        return claimed[impl], elapsed

    return reply


HONEST = {"python": {4: 2e-6, 64: 2e-5}, "numpy": {4: 2.5e-6, 64: 1.9e-5}}
OBSERVED = {4: (2e-6, 3e-6), 64: (2e-5, 3e-5)}  # (CPU, wall) per step, the judge's timing


def run_serial(context, monkeypatch, claimed, elapsed=1.0, observed=OBSERVED):
    stopwatch = FakeStopwatch(observed)
    monkeypatch.setattr(easy, "interleaved_timings", stopwatch)
    leases = []

    class Lease:
        def __init__(self, device: str) -> None:
            leases.append(device)

        def __enter__(self) -> None:
            leases.append("held")

        def __exit__(self, *exc: Any) -> None:
            leases.append("released")

    monkeypatch.setattr(easy, "device_lease", Lease)
    sub = FakeSub(serial_overhead=serial_overhead(claimed, elapsed))
    try:
        call_check(easy.test_serial_overhead_consistent, sub, context)
        message = None
    except CheckFailed as failed:
        message = str(failed)
    return message, stopwatch, leases, context.records.get("?", {}).get("timing")


def test_serial_overhead_passes_figures_between_the_judges_two_clocks(context, monkeypatch) -> None:
    claimed = {"python": {4: 2e-6, 64: 2e-5}, "numpy": {4: 2e-6, 64: 2e-5}}
    message, stopwatch, leases, report = run_serial(context, monkeypatch, claimed)
    assert message is None
    assert leases == ["cpu", "held", "released"] * 2
    functions = [contenders["d=4"].function for contenders, _ in stopwatch.asked]
    assert functions == ["rnn_style_vector", "rnn_style_vector_numpy"]
    assert [repeats for _, repeats in stopwatch.asked] == [3, 3]
    kinds = [type(c["d=4"].make_calls(1)[0][0]) for c, _ in stopwatch.asked]
    assert kinds == [ListArg, np.ndarray]  # lists travel as bytes, arrive as lists
    assert set(report) == {"python:d=4", "python:d=64", "numpy:d=4", "numpy:d=64"}
    assert report["python:d=64"] == {
        "claimed": 2e-5,
        "observed_cpu": pytest.approx(2e-5),
        "observed_wall": pytest.approx(3e-5),
        "ratio": pytest.approx(1.0),
        "ratio_to_wall": pytest.approx(2 / 3),
    }


@pytest.mark.parametrize(
    ("claimed", "passes"),
    [
        (0.25 * 2e-6, True),  # a quarter of the CPU time: the lowest figure allowed
        (0.249 * 2e-6, False),
        (8.0 * 3e-6, True),  # eight times the wall time: the highest
        (8.01 * 3e-6, False),
    ],
)
def test_serial_overhead_ratios_at_their_bounds(context, monkeypatch, claimed, passes) -> None:
    figures = {"python": {4: claimed, 64: 2e-5}, "numpy": HONEST["numpy"]}
    message, *_ = run_serial(context, monkeypatch, figures)
    assert (message is None) is passes
    if not passes:
        assert message.startswith(
            f"serial_overhead(impl='python') reports {claimed:.3g} s per step at d=4; the grader "
            "timed rnn_style_vector on the same inputs at 2e-06 s of CPU, 3e-06 s of wall clock "
            "per step ("
        )
        assert message.endswith(
            "allowed at least 0.25x the CPU time and at most 8.0x the wall time)"
        )


def test_serial_overhead_checks_the_last_d_of_the_numpy_run(context, monkeypatch) -> None:
    figures = {"python": HONEST["python"], "numpy": {4: 3e-6, 64: 1.0}}
    message, _, _, report = run_serial(context, monkeypatch, figures, elapsed=1e9)
    assert message.startswith("serial_overhead(impl='numpy') reports 1 s per step at d=64")
    assert report["numpy:d=64"]["ratio"] == pytest.approx(1.0 / 2e-5)


def test_serial_overhead_cannot_report_more_than_the_call_took(context, monkeypatch) -> None:
    work = sum(HONEST["python"][d] * 400 for d in (4, 64))
    message, *_ = run_serial(context, monkeypatch, HONEST, elapsed=work)
    assert message is None
    message, stopwatch, _, _ = run_serial(context, monkeypatch, HONEST, elapsed=work * 0.999)
    assert message == (
        f"serial_overhead(impl='python') reports {work * 1e3:.1f} ms of calls (one run per d) "
        f"but the whole call took {work * 0.999 * 1e3:.1f} ms: report what you measured"
    )
    assert stopwatch.asked == []  # refused before anything is timed


def test_the_totals_are_named_in_milliseconds(context, monkeypatch) -> None:
    claims = {4: 1e-3, 64: 1e-3}  # 400 steps at each d: 800 ms of calls
    message, *_ = run_serial(context, monkeypatch, {"python": claims}, elapsed=0.5)
    assert "reports 800.0 ms of calls (one run per d) but the whole call took 500.0 ms" in message


@pytest.mark.parametrize(
    ("claimed", "reason"),
    [
        ([2e-6, 2e-5], "should return {d: positive seconds} for each d, got [2e-06, 2e-05]"),
        ({4: 2e-6}, "should return {d: positive seconds} for each d, got {4: 2e-06}"),
        ({4: 2e-6, 64: 2e-5, 5: 1e-6}, "should return {d: positive seconds} for each d"),
        ({ForeignInt(4): 2e-6, 64: 2e-5}, "should return {d: positive seconds} for each d"),
        ({"4": 2e-6, 64: 2e-5}, "should return {d: positive seconds} for each d"),
    ],
)
def test_serial_overhead_must_return_one_time_per_d(context, monkeypatch, claimed, reason) -> None:
    message, *_ = run_serial(context, monkeypatch, {"python": claimed, "numpy": claimed})
    assert message.startswith("serial_overhead(hidden_dims=(4, 64), impl='python') " + reason)


@pytest.mark.parametrize("bad", [math.nan, 0.0, -1e-6, "1e-6", 1e9])
def test_serial_overhead_times_pass_the_numeric_gate(context, monkeypatch, bad) -> None:
    message, *_ = run_serial(context, monkeypatch, {"python": {4: bad, 64: 2e-5}, "numpy": {}})
    assert message.startswith("serial_overhead(impl='python')'s time at d=4 ")
