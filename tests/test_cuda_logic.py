"""The CUDA checks' decisions, on the CPU: measured figures injected where the judge's clock
would give them, through the checks' own code.

CI has no GPU, so tests/test_gpu.py skips there and the 14 points of the CUDA checks would
be decided by code no CI run executes. Here each CUDA check of
``autograder/grading/judge/checks/test_hard.py`` runs as the judge runs it, with only the
measurements replaced: the worker's replies (a fake ``sub``), the reference worker's kernel
(the known-duration calibration) and the judge's stopwatch (``interleaved_timings`` /
``interleaved_medians``). The figures are those recorded on an H200 in
docs/gpu-validation.md: the reference's pass, each broken submission's fail with its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from judge_context import call_check, judge_context

from autograder.grading.judge.checks import support
from autograder.grading.judge.checks import test_hard as hard
from autograder.grading.judge.checks.timing import Medians
from autograder.spec.settings import load_settings

TOL = load_settings().tolerances_for("cuda")
SWEEP_LENGTHS = (64, 256, 1024, 4096, 8192)  # hard.sweep_rows_cuda's lengths
RNN_PER_ELEMENT_S = 17.5e-6  # three kernel launches per step (docs/gpu-validation.md)
REDUCTION_S = 10e-6  # one launch plus synchronisation, timed in batches by the grader
CYCLES_PER_S = 1.4e9  # the fake device's torch.cuda._sleep rate
TRIP_S = 50e-6  # the reference worker's round trip
TRIES = 1 + hard.REMEASURE["cuda"]  # measurements of a curve figure beyond its bound


@pytest.fixture
def context(tmp_path: Path) -> support.GradingContext:
    return judge_context(tmp_path, exercise="hard", device="cuda")


class FakeSub:
    """The submission's worker: each reply given by the test, never a real process."""

    def __init__(self, **replies: Callable[..., tuple[Any, float]]) -> None:
        self.replies = replies

    def call_timed(self, function: str, *args: Any, **kwargs: Any) -> tuple[Any, float]:
        return self.replies[function](*args, **kwargs)

    def plot(self, *args: Any, **kwargs: Any) -> dict:
        raise support.CheckFailed("no plot here")  # the sweep's plot is kept, never judged


class FakeReference:
    """The reference worker's ``torch.cuda._sleep``: seconds = trip + cycles / rate."""

    ping_seconds = TRIP_S

    def __init__(self, jitter: float = 0.0) -> None:
        self.jitter, self.calls = jitter, 0

    def call(self, function: str, cycles: int) -> None:
        assert function == "cuda_sleep" and cycles == 1000  # the warm-up kernel

    def call_timed(self, function: str, cycles: int) -> tuple[None, float]:
        assert function == "cuda_sleep"
        self.calls += 1
        if self.calls % 8 in (1, 2, 3):  # each calibration: three runs of 1e6 cycles first
            assert cycles == 1_000_000
        wobble = 1 + self.jitter * (-1) ** self.calls
        return None, TRIP_S + cycles / CYCLES_PER_S * wobble


# ---------------------------------------------------------------- time_fn, known durations


def time_fn_replies(returned: Callable[[float], float], calls_run: int = 6) -> FakeSub:
    """``time_fn`` on a kernel of known length: its figure, and how long the call lasted
    (``calls_run`` kernels: warmup 1 + repeats 5 for a stopwatch that waits for each)."""

    def time_fn(work: Any, *, device: str, warmup: int, repeats: int) -> tuple[float, float]:
        assert device == "cuda" and (warmup, repeats) == (1, 5)
        cycles = dict(work.spec)["cycles"]
        known = cycles / CYCLES_PER_S
        return returned(known), calls_run * known + 2e-4

    return FakeSub(time_fn=time_fn)


def test_known_duration_calibration_hits_its_targets(context, monkeypatch) -> None:
    """The rate comes from 1e6 cycles, the trip time is taken off every kernel's timing."""
    reference = FakeReference()
    monkeypatch.setattr(support, "reference_worker", lambda ctx: reference)
    for target in (0.004, 0.010):
        cycles, known = hard._sleep_kernel(context, target)
        assert cycles == pytest.approx(CYCLES_PER_S * target, rel=1e-8)
        assert known == pytest.approx(cycles / CYCLES_PER_S, rel=1e-9)
    assert reference.calls == 2 * (3 + 5)  # three calibration runs, five of the kernel


def test_known_duration_calibration_takes_medians(context, monkeypatch) -> None:
    """One slow run in three (or two in five) moves neither the rate nor the duration."""
    reference = FakeReference(jitter=0.5)  # every other run 50% slow or fast
    monkeypatch.setattr(support, "reference_worker", lambda ctx: reference)
    cycles, known = hard._sleep_kernel(context, 0.004)
    assert cycles == pytest.approx(CYCLES_PER_S * 0.004 / 0.5, rel=1e-6)  # runs 1-3: median 0.5
    assert known == pytest.approx(cycles / CYCLES_PER_S * 1.5, rel=1e-9)  # runs 4-8: median 1.5


@pytest.mark.parametrize(
    ("case", "returned", "calls_run", "reason"),
    [
        ("reference", lambda known: known * 1.007, 6, None),  # 0.0019 - 0.0070 off
        ("other_styles (CUDA events)", lambda known: known * 0.9997, 6, None),
        ("time_fn_no_sync", lambda known: 0.005e-3, 0, "off, allowed 15%"),  # the launch only
        ("a figure 20% long", lambda known: known * 1.2, 6, "off, allowed 15%"),
        ("one run reported as five", lambda known: known, 1, "did not run fn 5 times"),
    ],
)
def test_time_fn_synchronises_cuda_decides_on_injected_figures(
    context, monkeypatch, case, returned, calls_run, reason
) -> None:
    monkeypatch.setattr(support, "reference_worker", lambda ctx: FakeReference())
    sub = time_fn_replies(returned, calls_run)
    if reason is None:
        call_check(hard.test_time_fn_synchronises_cuda, sub, context)
        report = context.records["?"]["timing"]
        assert [round(r["known_seconds"], 3) for r in report] == [0.004, 0.010]
        assert all(r["relative_error"] <= TOL.time_fn_rel_error for r in report)
    else:
        with pytest.raises(support.CheckFailed, match=reason):
            call_check(hard.test_time_fn_synchronises_cuda, sub, context)


# ---------------------------------------------------------------- the sweep against the judge


class Timed(NamedTuple):
    """What the judge would time: a worker's function at one length (no inputs drawn)."""

    worker: Any
    function: str
    n: int


def grader_timing(rnn_per_element: float = RNN_PER_ELEMENT_S) -> Callable[..., dict]:
    """The judge's stopwatch over the sweep's contenders: ``rnn_seconds:N`` / ``attention_...``."""

    def interleaved_timings(ctx, contenders: dict, *, device: str, repeats: int) -> dict:
        assert device == "cuda" and repeats == 3  # the check's own measurement settings
        timings = {}
        for name in contenders:
            curve, n = name.split(":")
            seconds = rnn_per_element * int(n) if curve == "rnn_seconds" else REDUCTION_S
            timings[name] = Medians(seconds, seconds)  # one clock on CUDA: the wall
        return timings

    return interleaved_timings


def sweep_rows(rnn_ratio: float = 1.0, attention_ratio: float = 1.9, **changes) -> list[dict]:
    """Rows as a student's sweep reports them, ``ratio`` times the grader's timing."""
    rows = [
        {
            "n": n,
            "rnn_seconds": RNN_PER_ELEMENT_S * n * rnn_ratio,
            "attention_seconds": REDUCTION_S * attention_ratio,
        }
        for n in SWEEP_LENGTHS
    ]
    for index, row in changes.get("rows", {}).items():
        rows[index] = rows[index] | row
    return rows


def run_sweep(
    context, monkeypatch, rows: list[dict], elapsed: float | None = None, made: dict | None = None
) -> list | None:
    """hard.sweep_rows_cuda on ``rows``: the rows it measured for the plot (``made`` holds the
    module fixtures' values, the cuda_sweep measurement among them)."""
    made = {} if made is None else made
    monkeypatch.setattr(
        hard, "_contender", lambda worker, function, n, device, rng: Timed(worker, function, n)
    )
    monkeypatch.setattr(hard, "interleaved_timings", grader_timing())
    total = sum(v for r in rows for k, v in r.items() if k != "n" and type(v) is float)
    sub = FakeSub(sweep=lambda lengths, device: (rows, elapsed or total * 1.3 + 0.01))
    call_check(hard.test_sweep_rows_cuda, sub, context, made)
    return made["cuda_sweep"].measured()


@pytest.mark.parametrize(("rnn_ratio", "attention_ratio"), [(1.0, 1.9), (0.79, 1.34), (1.07, 1.91)])
def test_sweep_rows_cuda_passes_the_references_ratios(
    context, monkeypatch, rnn_ratio, attention_ratio
) -> None:
    """The claimed/observed ratios measured for the reference (0.79-1.07, 1.34-1.91)."""
    rows = run_sweep(context, monkeypatch, sweep_rows(rnn_ratio, attention_ratio))
    assert [row["n"] for row in rows] == list(SWEEP_LENGTHS)
    comparison = context.records["?"]["timing"]["comparison"]
    assert len(comparison) == 2 * len(SWEEP_LENGTHS)


def made_up_timings() -> list[dict]:  # tests/submissions/made_up_timings
    return [{"n": n, "rnn_seconds": 2e-6 * n, "attention_seconds": 1e-5} for n in SWEEP_LENGTHS]


@pytest.mark.parametrize(
    ("case", "rows", "elapsed", "reason"),
    [
        ("made_up_timings", made_up_timings(), None, r"rnn_seconds=.* at n=64.*0\.11x"),
        ("patched_clock (100x)", sweep_rows(100.0, 190.0), None, r"at n=64.*100\.00x"),
        ("rows longer than the call", sweep_rows(), 1e-3, "report what you measured"),
        ("first row 10x", sweep_rows(rows={0: {"rnn_seconds": 17.5e-6 * 64 * 10}}), None, "n=64"),
        (
            "middle row 10x",
            sweep_rows(rows={2: {"rnn_seconds": 17.5e-6 * 1024 * 10}}),
            None,
            "n=1024",
        ),
        ("last row 0.1x", sweep_rows(rows={4: {"attention_seconds": 1e-6}}), None, "n=8192"),
        ("a row's n", sweep_rows(rows={2: {"n": 1000}}), None, "row 2: expected n=1024"),
        (
            "a missing key",
            sweep_rows(rows={4: {"attention_seconds": None}}),
            None,
            "should be a number",
        ),
        (
            "NaN timings",
            sweep_rows(rows={1: {"rnn_seconds": float("nan")}}),
            None,
            "row 1 .*finite",
        ),
        ("too few rows", sweep_rows()[:4], None, "should return 5 rows"),
        ("too many rows", [*sweep_rows(), sweep_rows()[0]], None, "should return 5 rows"),
        ("a row without a key", [*sweep_rows()[:4], {"n": 8192}], None, "row 4 should be"),
        ("a larger n", sweep_rows(rows={1: {"n": 257}}), None, "row 1: expected n=256"),
        ("a zero timing", sweep_rows(rows={0: {"rnn_seconds": 0.0}}), None, "row 0 .*positive"),
        ("a negative timing", sweep_rows(rows={3: {"attention_seconds": -1e-5}}), None, "row 3"),
    ],
)
def test_sweep_rows_cuda_fails_each_broken_sweep(
    context, monkeypatch, case, rows, elapsed, reason
) -> None:
    made = {}
    with pytest.raises(support.CheckFailed, match=reason):
        run_sweep(context, monkeypatch, rows, elapsed, made)
    assert made["cuda_sweep"].measured() is None


# ---------------------------------------------------------------- curve shapes


def grader_medians(
    rnn_times: list[Callable[[int], float]],
    student_reduction: Callable[[int], float],
    reference_reduction: Callable[[int], float] = lambda n: REDUCTION_S,
) -> Callable[..., dict]:
    """The judge's medians: the serial lengths (one figure set per measurement, in turn),
    or the student's reduction against the reference's at one n."""
    serial = iter(rnn_times)

    def interleaved_medians(
        ctx, contenders: dict, *, device: str, repeats: int, **more: Any
    ) -> dict:
        assert device == "cuda"
        if set(contenders) == {"student", "reference"}:
            assert (repeats, more) == (9, {"warmup": 2})
            n = contenders["student"].n
            return {"student": student_reduction(n), "reference": reference_reduction(n)}
        assert repeats == 5 and not more
        times = next(serial)
        return {name: times(int(name)) for name in contenders}

    return interleaved_medians


def linear(n: int) -> float:
    return RNN_PER_ELEMENT_S * n


def run_shapes(context, monkeypatch, medians: Callable[..., dict]) -> dict:
    monkeypatch.setattr(
        hard, "_contender", lambda worker, function, n, device, rng: Timed(worker, function, n)
    )
    monkeypatch.setattr(hard, "interleaved_medians", medians)

    def both_clocks(*args: Any, **kwargs: Any) -> dict:  # the serial curve's (_serial_timings)
        return {name: Medians(s, s) for name, s in medians(*args, **kwargs).items()}

    monkeypatch.setattr(hard, "interleaved_timings", both_clocks)
    monkeypatch.setattr(support, "reference_worker", lambda ctx: FakeReference())
    call_check(hard.test_curve_shapes_cuda, FakeSub(), context)
    return context.records["?"]["timing"]


def test_curve_shapes_cuda_passes_the_references_curves(context, monkeypatch) -> None:
    """Slope 1.0, reduction 1.05x xs.mean(), flat from 64 to 65,536."""
    measured = []

    def reduction(n: int) -> float:
        measured.append(n)
        return 1.05 * REDUCTION_S

    data = run_shapes(context, monkeypatch, grader_medians([linear], reduction))
    assert measured == [64, 65536]  # within the bound: each n measured once
    assert data["rnn_slope"] == pytest.approx(1.0)
    assert data["reduction_ratio"] == {"64": pytest.approx(1.05), "65536": pytest.approx(1.05)}


def test_curve_shapes_cuda_keeps_the_better_of_two_serial_measurements(
    context, monkeypatch
) -> None:
    """A drifting first measurement (slope 0.6) is measured again; the honest one counts."""

    def drifting(n: int) -> float:
        return RNN_PER_ELEMENT_S * 1024 * (n / 1024) ** 0.6

    medians = grader_medians([drifting, linear], lambda n: REDUCTION_S)
    assert run_shapes(context, monkeypatch, medians)["rnn_slope"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("case", "serial", "student", "reference", "reason"),
    [
        # rnn_closed_form: one kernel, no serial steps, flat at any n (both measurements)
        ("rnn_closed_form", [lambda n: 30e-6] * TRIES, lambda n: REDUCTION_S, None, "n\\^0.00"),
        (
            "quadratic serial",
            [lambda n: 1e-9 * n * n] * TRIES,
            lambda n: REDUCTION_S,
            None,
            "n\\^2",
        ),
        # python_loop_reduction: 55x at n=64, 34,600x at 65,536 (both measurements)
        (
            "python_loop_reduction",
            [linear],
            lambda n: REDUCTION_S * (55 if n == 64 else 34_600),
            None,
            "34600.0x .* at n=65536",
        ),
        # a reduction as slow as the reference at both n, but growing: not one kernel
        (
            "growing reduction",
            [linear],
            lambda n: REDUCTION_S * (1 if n == 64 else 5),
            lambda n: REDUCTION_S * (1 if n == 64 else 5),
            "5.0x its time at n=64",
        ),
    ],
)
def test_curve_shapes_cuda_fails_each_broken_curve(
    context, monkeypatch, case, serial, student, reference, reason
) -> None:
    medians = grader_medians(serial, student, reference or (lambda n: REDUCTION_S))
    with pytest.raises(support.CheckFailed, match=reason):
        run_shapes(context, monkeypatch, medians)


def test_the_tolerances_separate_the_recorded_figures() -> None:
    """The bounds these tests rely on are the instructor's, read from grading.toml."""
    assert TOL.time_fn_rel_error == 0.15
    assert (TOL.reported_ratio_min, TOL.reported_ratio_max) == (0.5, 3.0)
    assert (TOL.rnn_slope_min, TOL.rnn_slope_max) == (0.8, 1.25)
    assert TOL.reduction_ratio_max == 4.0 and TOL.attention_flatness_max == 4.0


# ---- exact bounds and messages: what the mutation run showed unpinned (docs/testing.md)


def test_time_fn_messages_name_the_figures(context, monkeypatch) -> None:
    monkeypatch.setattr(support, "reference_worker", lambda ctx: FakeReference())
    known = int(CYCLES_PER_S * 0.004) / CYCLES_PER_S
    with pytest.raises(support.CheckFailed) as failed:
        call_check(
            hard.test_time_fn_synchronises_cuda, time_fn_replies(lambda k: 0.005e-3, 0), context
        )
    assert str(failed.value) == (
        f"time_fn on a GPU kernel of known duration {known * 1e3:.2f} ms returned 0.005 ms "
        "(100% off, allowed 15%)"
    )
    with pytest.raises(support.CheckFailed) as failed:
        call_check(hard.test_time_fn_synchronises_cuda, time_fn_replies(lambda k: k, 1), context)
    assert str(failed.value) == (
        f"time_fn(fn, repeats=5) took {(known + 2e-4) * 1e3:.1f} ms in all, less than 5 calls "
        f"of {known * 1e3:.2f} ms: it did not run fn 5 times"
    )


def test_time_fn_whose_call_lasts_exactly_the_bound_passes(context, monkeypatch) -> None:
    """``elapsed`` equal to repeats x known x (1 - tolerance) is enough."""
    monkeypatch.setattr(support, "reference_worker", lambda ctx: FakeReference())

    def time_fn(work: Any, *, device: str, warmup: int, repeats: int) -> tuple[float, float]:
        known = dict(work.spec)["cycles"] / CYCLES_PER_S
        return known, repeats * known * (1 - TOL.time_fn_rel_error)

    call_check(hard.test_time_fn_synchronises_cuda, FakeSub(time_fn=time_fn), context)


POWER_OF_TWO_S = 2.0**-10  # ratios of these are exact in binary floating point


def exact_timing(ctx, contenders: dict, *, device: str, repeats: int) -> dict:
    return {name: Medians(POWER_OF_TWO_S, POWER_OF_TWO_S) for name in contenders}


@pytest.mark.parametrize(("ratio", "passes"), [(0.5, True), (3.0, True), (3.5, False)])
def test_sweep_ratios_at_their_bounds(context, monkeypatch, ratio: float, passes: bool) -> None:
    """0.5x the CPU time and 3.0x the wall time are allowed; 3.5x is not."""
    monkeypatch.setattr(
        hard, "_contender", lambda worker, function, n, device, rng: Timed(worker, function, n)
    )
    monkeypatch.setattr(hard, "interleaved_timings", exact_timing)
    rows = [
        {"n": n, "rnn_seconds": POWER_OF_TWO_S * ratio, "attention_seconds": POWER_OF_TWO_S}
        for n in SWEEP_LENGTHS
    ]
    sub = FakeSub(sweep=lambda lengths, device: (rows, 1.0))
    if passes:
        call_check(hard.test_sweep_rows_cuda, sub, context)
    else:
        with pytest.raises(support.CheckFailed, match=r"at n=64.*3\.50x and 3\.50x"):
            call_check(hard.test_sweep_rows_cuda, sub, context)


def test_sweep_longer_than_its_call_names_both_durations(context, monkeypatch) -> None:
    rows = sweep_rows()
    total = sum(r["rnn_seconds"] + r["attention_seconds"] for r in rows)
    with pytest.raises(support.CheckFailed) as failed:
        run_sweep(context, monkeypatch, rows, 1e-3)
    assert str(failed.value) == (
        f"sweep reports {total * 1e3:.2f} ms of calls (one of each) but the whole call took "
        "1.00 ms: report what you measured"
    )


def fixed_slope(monkeypatch, *slopes: float) -> None:
    """The serial curve's fitted slope, one per measurement."""
    values = iter(slopes)
    monkeypatch.setattr(hard, "loglog_slope", lambda ns, seconds: next(values))


@pytest.mark.parametrize(("slope", "passes"), [(0.8, True), (1.25, True), (0.79, False)])
def test_serial_slope_at_its_bounds(context, monkeypatch, slope: float, passes: bool) -> None:
    """A slope at a bound passes without a second measurement (one figure set is given)."""
    fixed_slope(monkeypatch, *([slope] if passes else [slope] * TRIES))
    medians = grader_medians([linear] if passes else [linear] * TRIES, lambda n: REDUCTION_S)
    if passes:
        data = run_shapes(context, monkeypatch, medians)
        assert data["rnn_slope"] == slope
        assert data["rnn_lengths"] == [1024, 2048, 4096, 8192, 16384]
    else:
        with pytest.raises(support.CheckFailed) as failed:
            run_shapes(context, monkeypatch, medians)
        assert str(failed.value) == (
            "rnn_style_torch's time grows like n^0.79 over n=1024..16384 (expected n^1, "
            "allowed 0.8..1.25): one step per element"
        )


def test_of_two_wrong_slopes_the_nearer_to_one_is_reported(context, monkeypatch) -> None:
    fixed_slope(monkeypatch, 0.6, 1.5, 1.5)
    medians = grader_medians([linear] * TRIES, lambda n: REDUCTION_S)
    with pytest.raises(support.CheckFailed, match=r"grows like n\^0\.60 over"):
        run_shapes(context, monkeypatch, medians)


def test_a_slow_first_reduction_is_measured_again(context, monkeypatch) -> None:
    """A one-off disturbance (10x on the first measurement at each n) does not fail."""
    calls = {64: 0, 65536: 0}

    def disturbed(n: int) -> float:
        calls[n] += 1
        return REDUCTION_S * (10 if calls[n] == 1 else 1.05)

    data = run_shapes(context, monkeypatch, grader_medians([linear], disturbed))
    assert data["reduction_ratio"] == {"64": pytest.approx(1.05), "65536": pytest.approx(1.05)}
    assert calls == {64: 2, 65536: 2}
    ok = {64: 0, 65536: 0}

    def steady(n: int) -> float:
        ok[n] += 1
        return REDUCTION_S * 4.0  # at the bound: not measured again

    run_shapes(context, monkeypatch, grader_medians([linear], steady))
    assert ok == {64: 1, 65536: 1}


def test_flatness_exactly_at_its_bound_passes(context, monkeypatch) -> None:
    def reduction(n: int) -> float:
        return POWER_OF_TWO_S * (4 if n == 65536 else 1)

    medians = grader_medians([linear], reduction, reduction)
    assert run_shapes(context, monkeypatch, medians)["attention_seconds"] == {
        "64": POWER_OF_TWO_S,
        "65536": 4 * POWER_OF_TWO_S,
    }


def test_a_sweep_whose_rows_add_up_to_the_whole_call_passes(context, monkeypatch) -> None:
    rows = sweep_rows()
    total = sum(row[key] for row in rows for key in ("rnn_seconds", "attention_seconds"))
    run_sweep(context, monkeypatch, rows, total)


@pytest.mark.parametrize(
    ("first", "again", "reported"),
    [
        (0.6, 1.5, "0.60"),  # the nearer to 1 of two wrong slopes is kept
        (0.75, 1.25, "0.75"),  # equally near: the first stays, though the second would pass
        (1.3, 0.75, "0.75"),
        (0.3, 1.5, "1.50"),
        (-0.5, 2.0, "2.00"),
        (2.6, 0.3, "0.30"),
    ],
)
def test_of_two_serial_measurements_the_nearer_to_one_is_kept(
    context, monkeypatch, first: float, again: float, reported: str
) -> None:
    fixed_slope(monkeypatch, first, again, again)  # a wrong curve is wrong every time
    medians = grader_medians([linear] * TRIES, lambda n: REDUCTION_S)
    with pytest.raises(support.CheckFailed, match=rf"grows like n\^{reported} over"):
        run_shapes(context, monkeypatch, medians)


def test_on_cuda_a_curve_figure_beyond_its_bound_is_measured_twice_at_most(
    context, monkeypatch
) -> None:
    """One more measurement on CUDA, where each costs a loop reduction seconds of GPU (the CPU
    takes two more: tests/test_cpu_remeasure.py): disturbed twice in a row, a figure fails."""
    fixed_slope(monkeypatch, 0.5, 0.6)  # a third measurement would find no figure
    medians = grader_medians([linear] * TRIES, lambda n: REDUCTION_S)
    with pytest.raises(support.CheckFailed, match=r"grows like n\^0\.60 over"):
        run_shapes(context, monkeypatch, medians)
    assert TRIES == 2
