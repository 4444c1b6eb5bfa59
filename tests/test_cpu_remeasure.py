"""The CPU timing checks measure a figure beyond its bound again, up to twice, and keep the
best: a busy machine cannot fail the model solution, and broken code still fails every time.

The judge's stopwatch is replaced by figures given here (as in tests/test_cuda_logic.py);
everything else is the checks' own code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from judge_context import call_check, judge_context

from autograder.grading.judge.checks import support
from autograder.grading.judge.checks import test_hard as hard
from autograder.grading.judge.checks.timing import Medians
from autograder.spec.settings import load_settings

TOL = load_settings().tolerances_for("cpu")
PER_ELEMENT_S = 4.6e-6  # rnn_style_torch on the CPU: one dependent step per element
REDUCTION_S = 5e-6


@pytest.fixture
def context(tmp_path: Path) -> support.GradingContext:
    return judge_context(tmp_path, exercise="hard", device="cpu")


class Stopwatch:
    """The judge's medians: serial slopes and reduction ratios, one per measurement."""

    def __init__(self, slopes: list[float], ratios: list[float]) -> None:
        self.slopes, self.ratios = list(slopes), list(ratios)
        self.serial = self.reductions = 0

    def __call__(self, ctx, contenders: dict, *, device: str, repeats: int, **more: Any) -> dict:
        assert device == "cpu"
        if set(contenders) == {"student", "reference"}:
            assert (repeats, more) == (5, {"warmup": 2})
            ratio = self.ratios[min(self.reductions, len(self.ratios) - 1)]
            self.reductions += 1
            return {"student": REDUCTION_S * ratio, "reference": REDUCTION_S}
        slope = self.slopes[self.serial]  # a fourth serial measurement raises IndexError
        self.serial += 1
        return {name: PER_ELEMENT_S * 256 * (int(name) / 256) ** slope for name in contenders}


def shapes(context, monkeypatch, stopwatch: Stopwatch) -> dict:
    """hard.curve_shapes_cpu with the stopwatch's figures: its first serial curve is the
    one the sweep check shares (cpu_serial, both clocks), the rest its own."""

    def both_clocks(*args: Any, **kwargs: Any) -> dict:
        return {name: Medians(s, s) for name, s in stopwatch(*args, **kwargs).items()}

    monkeypatch.setattr(hard, "_contender", lambda worker, function, n, device, rng: n)
    monkeypatch.setattr(hard, "interleaved_medians", stopwatch)
    monkeypatch.setattr(hard, "interleaved_timings", both_clocks)
    monkeypatch.setattr(support, "reference_worker", lambda ctx: object())
    call_check(hard.test_curve_shapes_cpu, object(), context)
    return context.records["?"]["timing"]


def test_two_disturbed_serial_measurements_do_not_fail_the_model_solution(context, monkeypatch):
    stopwatch = Stopwatch([0.60, 0.65, 1.0], [1.0])
    assert shapes(context, monkeypatch, stopwatch)["rnn_slope"] == pytest.approx(1.0)
    assert stopwatch.serial == 3


def test_a_slope_within_its_bounds_is_measured_once(context, monkeypatch):
    stopwatch = Stopwatch([TOL.rnn_slope_min], [1.0])
    data = shapes(context, monkeypatch, stopwatch)
    assert stopwatch.serial == 1 and stopwatch.reductions == 2
    assert data["rnn_lengths"] == [256, 512, 1024, 2048, 4096]  # the CPU check's lengths


def test_a_slope_beyond_its_bounds_three_times_fails_with_the_nearest_to_one(context, monkeypatch):
    stopwatch = Stopwatch([0.30, 0.60, 0.45], [1.0])
    with pytest.raises(support.CheckFailed, match=r"grows like n\^0\.60 over n=256\.\.4096"):
        shapes(context, monkeypatch, stopwatch)
    assert stopwatch.serial == 3


def test_two_disturbed_reductions_do_not_fail_the_model_solution(context, monkeypatch):
    stopwatch = Stopwatch([1.0], [9.0, 5.0, 1.1, 1.0])
    data = shapes(context, monkeypatch, stopwatch)
    assert data["reduction_ratio"] == {"64": pytest.approx(1.1), "65536": pytest.approx(1.0)}
    assert stopwatch.reductions == 4  # three at n=64, one at n=65,536


def test_a_loop_reduction_fails_after_three_measurements(context, monkeypatch):
    stopwatch = Stopwatch([1.0], [5600.0, 6100.0, 5900.0] * 2)
    with pytest.raises(support.CheckFailed, match=r"5600\.0x the time .* at n="):
        shapes(context, monkeypatch, stopwatch)
    assert stopwatch.reductions == 6


class Sleeper:
    """``time_fn``'s replies on sleeps of known length: each a relative error in turn."""

    def __init__(self, errors: list[float], calls_run: int = 5) -> None:
        self.errors, self.calls, self.calls_run, self.seconds = list(errors), 0, calls_run, []

    def call_timed(self, function: str, work: Any, **kwargs: Any) -> tuple[float, float]:
        seconds = dict(work.spec)["seconds"]
        self.seconds.append(seconds)
        error = self.errors[self.calls]  # a fourth call for one sleep raises IndexError
        self.calls += 1
        return seconds * (1 + error), self.calls_run * seconds


def test_time_fn_late_wake_ups_are_drawn_again(context):
    sleeper = Sleeper([0.30, 0.25, 0.01, 0.02])
    call_check(hard.test_time_fn_accurate_cpu, sleeper, context)
    assert sleeper.calls == 4
    report = context.records["?"]["timing"]
    assert len(report) == 2  # the two kept sleeps, each 15 to 25 ms long
    assert all(0.015 <= entry["known_seconds"] <= 0.025 for entry in report)


def test_time_fn_that_does_not_wait_fails_after_three_sleeps(context):
    sleeper = Sleeper([-0.99, -0.98, -0.97])
    with pytest.raises(support.CheckFailed) as failed:
        call_check(hard.test_time_fn_accurate_cpu, sleeper, context)
    assert sleeper.calls == 3
    known = sleeper.seconds[-1]  # 15 to 25 ms: 0.1% of it shows in the message's figures
    assert str(failed.value) == (
        f"time_fn on a sleep of known duration {known * 1e3:.2f} ms returned "
        f"{known * 0.03 * 1e3:.3f} ms (97% off, allowed 20%)"
    )


def test_time_fn_that_runs_fn_once_fails_after_three_sleeps(context):
    sleeper = Sleeper([0.0, 0.0, 0.0], calls_run=1)
    with pytest.raises(support.CheckFailed) as failed:
        call_check(hard.test_time_fn_accurate_cpu, sleeper, context)
    assert sleeper.calls == 3
    known = sleeper.seconds[-1]
    assert str(failed.value) == (
        f"time_fn(fn, repeats=5) took {known * 1e3:.1f} ms in all, less than 5 calls of "
        f"{known * 1e3:.2f} ms: it did not run fn 5 times"
    )
