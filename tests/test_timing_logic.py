"""The stopwatch's decisions (``checks/timing.py``), with the workers and their clocks
replaced by given figures: how many calls a sample holds, the round-robin order, which
clock each device's verdict uses, the medians, the bound on work done outside the timed
calls, the checking of every timed output, and the log-log slope.

No worker starts and no time is measured: each fake worker reports the seconds the test
gives it, so every assertion is exact (``make mutate``'s ``timing`` target).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from judge_context import judge_context

from autograder.grading.judge import timed as timed_module
from autograder.grading.judge.checks import support, timing
from autograder.grading.judge.checks.support import CheckFailed
from autograder.grading.judge.timed import Baseline, Timed
from autograder.grading.processes import supervisor


@pytest.fixture
def context(tmp_path: Path) -> support.GradingContext:
    return judge_context(tmp_path, exercise="easy", device="cpu")


class Events(list):
    """What happened, in order: timed samples, pauses, leases, baselines."""


class FakeWorker:
    """A worker whose every timed batch takes the seconds the test says, per call."""

    def __init__(
        self,
        events: Events,
        label: str,
        *,
        cpu: Any = 1e-4,  # per call: a number, or a list consumed one sample at a time
        wall: Any = None,  # per call, on the judge's wall clock (default: cpu * 1.5)
        ping: float | None = 1e-4,
        outside: Any = 0.0,  # seconds outside the timed run (both clocks)
        pid: int | None = None,
        outputs: Any = None,  # a function of the calls; default: the first argument
    ) -> None:
        self.events, self.label, self.pid = events, label, pid
        self.cpu, self.wall, self.outside = cpu, wall, outside
        self.ping_seconds, self.pings = ping, 0
        self.outputs = outputs or (lambda calls: [args[0] for args in calls])
        self.samples = 0

    def ping(self) -> float:
        self.pings += 1
        if self.ping_seconds is None:  # as a real worker keeps its best round trip
            self.ping_seconds = 2e-4
        return 2e-4

    @staticmethod
    def _next(value: Any, index: int) -> float:
        return value[index] if isinstance(value, list) else value

    def timed(
        self, function: str, calls: list[list[Any]], *, device: str, table: Any = None
    ) -> Timed:
        self.events.append(("timed", self.label, function, len(calls), device))
        index, self.samples = self.samples, self.samples + 1
        cpu = self._next(self.cpu, index)
        wall = self._next(self.wall, index) if self.wall is not None else cpu * 1.5
        outside = self._next(self.outside, index)
        count = len(calls)
        return Timed(
            run_seconds=wall * count + (self.ping_seconds or 0.0),
            stage_seconds=0.0,
            cpu_seconds=cpu * count,
            count=count,
            outputs=self.outputs(calls),
            outside_cpu_seconds=outside,
            outside_wall_seconds=outside * 2,
        )


class FakeReference(FakeWorker):
    """The trusted reference worker: also what the untimed part of a sample costs it
    (``last_element`` on the same inputs: staging them, a ping, fetching its outputs)."""

    def __init__(self, events: Events, stage_cpu: float = 0.01, **kwargs: Any) -> None:
        super().__init__(events, "reference", **kwargs)
        self.stage_cpu = stage_cpu

    def timed(
        self, function: str, calls: list[list[Any]], *, device: str, table: Any = None
    ) -> Timed:
        if function != "last_element":
            return super().timed(function, calls, device=device, table=table)
        self.events.append(("baseline", len(calls), device))
        return Timed(
            run_seconds=1e-6,
            stage_seconds=0.0,
            cpu_seconds=1e-6,
            count=len(calls),
            outputs=[args[0] for args in calls],
            outside_cpu_seconds=self.stage_cpu,
            outside_wall_seconds=self.stage_cpu * 2,
        )


@pytest.fixture
def events(context, monkeypatch) -> Events:
    """Pauses and leases recorded; the reference worker registered in the context."""
    recorded = Events()

    def signal_tree(pid: int, number: int, table: Any = None) -> list[int]:
        recorded.append(("signal", pid, number))
        return [pid]

    def signal_pids(pids: list[int], number: int) -> None:
        recorded.extend(("signal", pid, number) for pid in pids)

    class Lease:
        def __init__(self, device: str) -> None:
            self.device = device

        def __enter__(self) -> None:
            recorded.append(("lease", self.device))

        def __exit__(self, *exc: Any) -> None:
            recorded.append(("release", self.device))

    monkeypatch.setattr(supervisor, "signal_tree", signal_tree)
    monkeypatch.setattr(supervisor, "signal_pids", signal_pids)
    monkeypatch.setattr(supervisor, "process_table", lambda: supervisor.ProcessTable({}, {}))
    monkeypatch.setattr(timed_module, "device_lease", Lease)
    reference = FakeReference(recorded)
    context.workers["reference"] = reference  # what support.reference_worker(ctx) returns
    return recorded


def contender(worker: FakeWorker, *, payload: int = 0, verify=None) -> timing.Contender:
    drawn = iter(range(10**9))

    def make_calls(count: int) -> list[list[Any]]:
        return [[next(drawn)] for _ in range(count)]

    def right(args: list[Any], output: Any) -> str | None:
        return None if output == args[0] else f"expected {args[0]}, got {output}"

    return timing.Contender(worker, "f", make_calls, verify or right, payload)


def timed_counts(events: Events, label: str) -> list[int]:
    return [event[3] for event in events if event[0] == "timed" and event[1] == label]


# ---------------------------------------------------------------- constants


def test_the_stopwatchs_settings() -> None:
    assert timing.OVERHEAD_SHARE == 0.05
    assert timing.MAX_CALLS == 4000
    assert timing.MAX_PAYLOAD_BYTES == 8 * 2**20  # calibrated by make bench, 2026-12-05
    assert (timing.STAGE_SLACK, timing.STAGE_GRACE_S, timing.STAGE_ATTEMPTS) == (3.0, 0.005, 3)


# ---------------------------------------------------------------- how many calls a sample holds


@pytest.mark.parametrize(
    ("cpu", "ping", "min_sample_s", "number"),
    [
        (1e-4, 1e-4, 0.005, 50),  # 5 ms window / 0.1 ms a call
        (1e-4, 1e-3, 0.005, 50),  # on the CPU a slow round trip does not enlarge the window
        (3e-4, 1e-5, 0.005, 17),  # rounded up
        (1.0, 1e-4, 0.005, 1),  # at least one call
        (1e-9, 1e-4, 0.005, 4000),  # at most MAX_CALLS
        (0.0, 1e-6, 1e-4, math.ceil(1e-4 / 1e-7)),  # a call of no CPU time counts as 0.1 us
    ],
)
def test_a_sample_holds_enough_calls_to_fill_its_window(
    context, events, cpu, ping, min_sample_s, number
) -> None:
    worker = FakeWorker(events, "student", cpu=cpu, ping=ping)
    timing.interleaved_timings(
        context, {"a": contender(worker)}, repeats=2, warmup=2, min_sample_s=min_sample_s
    )
    assert timed_counts(events, "student") == [1, number, number, number]


def test_the_call_count_is_sized_at_each_warm_up(context, events) -> None:
    # the first warm-up (one call) is slow, the second sees the true cost
    worker = FakeWorker(events, "student", cpu=[1e-3, 1e-4, 1e-4, 1e-4, 1e-4], ping=1e-4)
    timing.interleaved_timings(context, {"a": contender(worker)}, repeats=2, warmup=3)
    assert timed_counts(events, "student") == [1, 5, 50, 50, 50]


def test_no_warm_up_asked_still_sizes_the_sample_once(context, events) -> None:
    worker = FakeWorker(events, "student", cpu=1e-4, ping=1e-4)
    timing.interleaved_timings(context, {"a": contender(worker)}, repeats=1, warmup=0)
    assert timed_counts(events, "student") == [1, 50]


def test_a_large_input_bounds_the_calls_of_a_sample(context, events) -> None:
    worker = FakeWorker(events, "student", cpu=1e-9, ping=1e-4)
    payload = timing.MAX_PAYLOAD_BYTES // 100
    timing.interleaved_timings(
        context, {"a": contender(worker, payload=payload)}, repeats=1, warmup=1
    )
    assert timed_counts(events, "student") == [1, 100]
    huge = FakeWorker(events, "huge", cpu=1e-9, ping=1e-4)
    timing.interleaved_timings(
        context, {"b": contender(huge, payload=timing.MAX_PAYLOAD_BYTES * 2)}, repeats=1, warmup=1
    )
    assert timed_counts(events, "huge") == [1, 1]


def test_on_cuda_a_call_costs_its_wall_time_less_the_round_trip(context, events) -> None:
    # wall 1e-4 a call plus a 1e-3 round trip: 1e-4 a call once the trip is taken off
    worker = FakeWorker(events, "student", cpu=5e-3, wall=1e-4, ping=1e-3)
    timing.interleaved_timings(
        context, {"a": contender(worker)}, device="cuda", repeats=1, warmup=1
    )
    assert timed_counts(events, "student") == [1, 200]  # a 20 ms window (20x the ping)
    assert {event[4] for event in events if event[0] == "timed"} == {"cuda"}
    floor = FakeWorker(events, "floor", cpu=5e-3, wall=0.0, ping=1e-6)
    timing.interleaved_timings(
        context, {"b": contender(floor)}, device="cuda", repeats=1, warmup=1, min_sample_s=1e-4
    )
    assert timed_counts(events, "floor") == [1, math.ceil(1e-4 / 1e-7)]


def test_every_warm_up_on_cuda_sizes_the_sample_from_its_own_calls(context, events) -> None:
    worker = FakeWorker(events, "student", cpu=5e-3, wall=1e-4, ping=1e-3)
    timing.interleaved_timings(
        context, {"a": contender(worker)}, device="cuda", repeats=1, warmup=3
    )
    assert timed_counts(events, "student") == [1, 200, 200, 200]


def test_a_device_name_built_at_run_time_is_the_same_device(context, events) -> None:
    """A device read from a file or the command line is an equal string, not the literal."""
    cpu = "".join(["c", "pu"])
    assert cpu == "cpu" and id(cpu) != id("cpu")  # equal, not the same object
    stage = support.reference_worker(context).stage_cpu
    honest = FakeWorker(events, "honest", cpu=1e-4, wall=9e-4, ping=1e-4, outside=bound(stage))
    (medians,) = timing.interleaved_timings(
        context, {"a": contender(honest)}, device=cpu, repeats=1, warmup=1
    ).values()
    assert timed_counts(events, "honest") == [1, 50]  # sized by CPU time, not wall time
    assert medians.verdict == pytest.approx(1e-4)  # the CPU clock decides
    moved = FakeWorker(events, "moved", cpu=1e-4, outside=bound(stage) * 1.01)
    with pytest.raises(CheckFailed, match=r"ms of CPU time in your worker.* against 10\.0 ms"):
        timing.interleaved_timings(
            context, {"b": contender(moved)}, device=cpu, repeats=1, warmup=1
        )


def test_a_worker_without_a_recorded_ping_is_pinged_once_on_cuda(context, events) -> None:
    worker = FakeWorker(events, "student", cpu=1e-4, wall=2e-4, ping=None)  # ping(): 2e-4
    timing.interleaved_timings(
        context,
        {"a": contender(worker), "b": contender(worker)},
        device="cuda",
        repeats=1,
        warmup=1,
    )
    assert worker.pings == 1
    # a 5 ms window (the trip's 20x is 4 ms), 2e-4 a call once the trip is taken off
    assert timed_counts(events, "student") == [1, 1, 25, 25]


def test_on_the_cpu_no_worker_is_pinged(context, events) -> None:
    """The window is the worker's CPU time, which the round trip does not enter."""
    worker = FakeWorker(events, "student", cpu=1e-4, ping=None)
    timing.interleaved_timings(context, {"a": contender(worker)}, repeats=1, warmup=1)
    assert worker.pings == 0
    assert timed_counts(events, "student") == [1, 50]


# ---------------------------------------------------------------- round robin and medians


def test_contenders_are_timed_round_robin_after_their_warm_ups(context, events) -> None:
    first, second = FakeWorker(events, "one"), FakeWorker(events, "two")
    timing.interleaved_timings(
        context, {"a": contender(first), "b": contender(second)}, repeats=3, warmup=2
    )
    order = [event[1] for event in events if event[0] == "timed"]
    assert order == ["one", "one", "two", "two"] + ["one", "two"] * 3


def test_each_contender_gets_the_median_of_its_samples_by_both_clocks(context, events) -> None:
    cpu = [1e-4, 1e-4, 3e-4, 1e-4, 2e-4, 9e-4, 2.5e-4]  # 2 warm-ups, then 5 samples
    wall = [2e-4, 2e-4, 5e-4, 4e-4, 8e-4, 1e-3, 6e-4]
    worker = FakeWorker(events, "student", cpu=cpu, wall=wall, ping=0.0)
    (medians,) = timing.interleaved_timings(context, {"a": contender(worker)}, repeats=5).values()
    assert medians.cpu == pytest.approx(2.5e-4, rel=1e-12)  # of 3, 1, 2, 9, 2.5
    assert medians.wall == pytest.approx(6e-4, rel=1e-12)  # of 5, 4, 8, 10, 6
    assert medians.verdict == medians.cpu


def test_the_wall_clock_counts_the_whole_run_request(context, events) -> None:
    worker = FakeWorker(events, "student", cpu=1e-4, wall=2e-4, ping=1e-3)
    (medians,) = timing.interleaved_timings(context, {"a": contender(worker)}, repeats=3).values()
    number = timed_counts(events, "student")[-1]
    assert number == 50  # a 5 ms window of CPU time: the round trip does not enter it
    assert medians.wall == pytest.approx((2e-4 * number + 1e-3) / number, rel=1e-12)
    assert medians.cpu == pytest.approx(1e-4, rel=1e-12)


def test_on_cuda_the_verdict_is_the_wall_clock(context, events) -> None:
    worker = FakeWorker(events, "student", cpu=1e-6, wall=3e-4, ping=0.0)
    (medians,) = timing.interleaved_timings(
        context, {"a": contender(worker)}, device="cuda", repeats=3
    ).values()
    assert medians.verdict == medians.cpu == pytest.approx(3e-4, rel=1e-12)
    seconds = timing.interleaved_medians(
        context, {"a": contender(worker)}, device="cuda", repeats=3
    )
    assert seconds == {"a": pytest.approx(3e-4, rel=1e-12)}


def test_interleaved_medians_are_the_verdict_clocks(context, events) -> None:
    fast = FakeWorker(events, "fast", cpu=1e-4, wall=9e-4, ping=0.0)
    slow = FakeWorker(events, "slow", cpu=4e-4, wall=9e-4, ping=0.0)
    seconds = timing.interleaved_medians(
        context, {"fast": contender(fast), "slow": contender(slow)}, repeats=3, warmup=1
    )
    assert seconds == {"fast": pytest.approx(1e-4), "slow": pytest.approx(4e-4)}
    assert timed_counts(events, "fast") == [1, 50, 50, 50]


def test_by_default_two_warm_ups_size_seven_samples_of_5_ms(context, events) -> None:
    for measure, label in ((timing.interleaved_timings, "t"), (timing.interleaved_medians, "m")):
        worker = FakeWorker(events, label, cpu=1e-4, ping=1e-6)
        measure(context, {"a": contender(worker)})
        assert timed_counts(events, label) == [1, 50] + [50] * 7


def test_medians_verdict_is_the_cpu_figure() -> None:
    assert timing.Medians(cpu=1.0, wall=2.0).verdict == 1.0


# ---------------------------------------------------------------- a sample: pauses, lease, outputs


def test_every_other_worker_is_paused_while_one_is_timed(context, events) -> None:
    one = FakeWorker(events, "one", pid=101)
    two = FakeWorker(events, "two", pid=202)
    gone = FakeWorker(events, "gone", pid=None)  # no process (yet): nothing to pause
    timing.interleaved_timings(
        context,
        {"a": contender(one), "b": contender(two), "c": contender(gone)},
        repeats=1,
        warmup=1,
    )
    stop, cont = int(timing.signal.SIGSTOP), int(timing.signal.SIGCONT)
    samples = [i for i, event in enumerate(events) if event[0] == "timed"]
    last_two = samples[-2]  # two's timed sample in the round
    window = events[last_two - 1 : last_two + 2]
    assert window == [
        ("signal", 101, stop),
        ("timed", "two", "f", 50, "cpu"),
        ("signal", 101, cont),
    ]
    assert ("signal", 202, stop) not in events[last_two - 2 : last_two]
    first = samples[-3]  # one's: the other way round (workers are not paused by their order)
    assert events[first - 1 : first + 2] == [
        ("signal", 202, stop),
        ("timed", "one", "f", 50, "cpu"),
        ("signal", 202, cont),
    ]


def test_paused_workers_are_resumed_when_a_sample_fails(context, events) -> None:
    other = FakeWorker(events, "other", pid=7)

    class Broken(FakeWorker):
        def timed(self, *args: Any, **kwargs: Any) -> Timed:
            raise CheckFailed("the worker died")

    broken = Broken(events, "broken")
    with pytest.raises(CheckFailed, match="the worker died"):
        timing.interleaved_timings(
            context, {"x": contender(broken), "o": contender(other)}, repeats=1
        )
    assert events[-1] == ("signal", 7, int(timing.signal.SIGCONT))


def test_every_output_of_a_sample_is_checked(context, events) -> None:
    def third_wrong(calls: list[list[Any]]) -> list[Any]:
        return [args[0] if i != 2 else -1 for i, args in enumerate(calls)]

    worker = FakeWorker(events, "student", outputs=third_wrong)
    with pytest.raises(CheckFailed) as failed:
        timing.interleaved_timings(context, {"a": contender(worker)}, repeats=1, warmup=1)
    assert str(failed.value) == (
        "f returned a wrong value while being timed (call 2): expected 3, got -1; "
        "a timing counts only correct work"
    )


def test_a_warm_up_checks_its_outputs_too(context, events) -> None:
    worker = FakeWorker(events, "student", outputs=lambda calls: [None for _ in calls])
    with pytest.raises(CheckFailed, match=r"\(call 0\): expected 0, got None"):
        timing.interleaved_timings(context, {"a": contender(worker)}, repeats=1, warmup=1)
    assert timed_counts(events, "student") == [1]


def test_a_sample_missing_outputs_never_passes(context, events) -> None:
    worker = FakeWorker(events, "student", outputs=lambda calls: [a[0] for a in calls[:-1]])
    with pytest.raises((CheckFailed, ValueError)):
        timing.interleaved_timings(context, {"a": contender(worker)}, repeats=1, warmup=1)


# ---------------------------------------------------------------- work outside the timed calls


def bound(stage: float) -> float:
    return timing.STAGE_SLACK * stage + timing.STAGE_GRACE_S


def test_work_outside_the_window_up_to_the_bound_passes(context, events) -> None:
    stage = support.reference_worker(context).stage_cpu
    worker = FakeWorker(events, "student", outside=bound(stage))
    timing.interleaved_timings(context, {"a": contender(worker)}, repeats=3, warmup=1)
    # the baseline is measured once (at the first checked sample) and kept
    baselines = [event for event in events if event[0] == "baseline"]
    assert baselines == [("baseline", 50, "cpu")]
    assert timed_counts(events, "student") == [1, 50, 50, 50]


def test_work_moved_out_of_the_window_fails_after_three_draws(context, events) -> None:
    stage = support.reference_worker(context).stage_cpu
    worker = FakeWorker(events, "student", outside=bound(stage) * (1 + 1e-9))
    with pytest.raises(CheckFailed) as failed:
        timing.interleaved_timings(context, {"a": contender(worker)}, repeats=3, warmup=1)
    assert str(failed.value) == (
        "f: staging 50 inputs and fetching the outputs took 35.0 ms of CPU time in your "
        "worker outside the timed calls, against 10.0 ms for the same in the reference "
        "worker: work was done outside the timed calls (timings count only the calls "
        "themselves)"
    )
    assert timed_counts(events, "student") == [1, 50, 50, 50]  # the warm-up, three draws
    assert [event[0] for event in events].count("baseline") == 3  # measured again each time


def test_the_message_gives_both_figures_in_milliseconds(context, events) -> None:
    support.reference_worker(context).stage_cpu = 0.5
    worker = FakeWorker(events, "student", outside=2.0)
    with pytest.raises(CheckFailed) as failed:
        timing.interleaved_timings(context, {"a": contender(worker)}, repeats=1, warmup=1)
    assert "took 2000.0 ms of CPU time" in str(failed.value)
    assert "against 500.0 ms for the same" in str(failed.value)


def test_a_pause_in_one_draw_is_forgiven_by_the_next(context, events) -> None:
    outside = [0.0, 1.0, 0.0, 0.0, 0.0]  # warm-up, a paused draw, then honest samples
    worker = FakeWorker(events, "student", outside=outside)
    (medians,) = timing.interleaved_timings(
        context, {"a": contender(worker)}, repeats=3, warmup=1
    ).values()
    assert timed_counts(events, "student") == [1, 50, 50, 50, 50]
    assert [event[0] for event in events].count("baseline") == 2
    assert medians.cpu == pytest.approx(1e-4)


def test_two_paused_draws_in_a_row_are_still_forgiven(context, events) -> None:
    worker = FakeWorker(events, "student", outside=[0.0, 1.0, 1.0, 0.0])
    timing.interleaved_timings(context, {"a": contender(worker)}, repeats=1, warmup=1)
    assert timed_counts(events, "student") == [1, 50, 50, 50]


def test_the_warm_ups_and_the_reference_are_not_bounded(context, events) -> None:
    warm_only = FakeWorker(events, "student", outside=[5.0, 0.0])
    timing.interleaved_timings(context, {"a": contender(warm_only)}, repeats=1, warmup=1)
    reference = support.reference_worker(context)
    reference.outside = 5.0  # the trusted reference is never bounded, nor measured against
    timing.interleaved_timings(context, {"r": contender(reference)}, repeats=2, warmup=1)
    assert timed_counts(events, "reference") == [1, 50, 50]
    assert [event for event in events if event[0] == "baseline"] == [("baseline", 50, "cpu")]


def test_on_cuda_work_outside_is_bounded_by_wall_time(context, events) -> None:
    stage = support.reference_worker(context).stage_cpu  # its wall baseline is twice that
    ok = FakeWorker(events, "ok", cpu=1e-6, wall=1e-4, ping=1e-6, outside=bound(2 * stage) / 2)
    timing.interleaved_timings(context, {"a": contender(ok)}, device="cuda", repeats=1, warmup=1)
    bad = FakeWorker(events, "bad", cpu=1e-6, wall=1e-4, ping=1e-6, outside=0.04)
    with pytest.raises(CheckFailed) as failed:
        timing.interleaved_timings(
            context, {"b": contender(bad)}, device="cuda", repeats=1, warmup=1
        )
    assert "took 80.0 ms of wall time in your worker" in str(failed.value)
    assert "against 20.0 ms for the same" in str(failed.value)
    assert ("baseline", 50, "cuda") in events


# ---------------------------------------------------------------- fresh inputs


class RecordingRng:
    def __init__(self) -> None:
        self.rng = np.random.default_rng(3)
        self.asked: list[tuple] = []

    def random(self, size: int, *, dtype: Any) -> np.ndarray:
        self.asked.append(("uniform", size, dtype))
        return self.rng.random(size, dtype=dtype)


@pytest.mark.parametrize(("n", "count"), [(10, 1), (10, 16), (12, 17), (100, 100)])
def test_windows_are_disjoint_slices_of_one_fresh_pool(n, count) -> None:
    """No two calls share an input, nor any element of one: work done once over the pool
    (a prefix sum) would otherwise answer every call (tests/submissions/pool_python_prefix)."""
    rng = RecordingRng()
    sent = timing.windows(rng, n, count, np.float32)
    assert rng.asked == [("uniform", n * count, np.float32)]
    got = [window.values for window in sent]
    assert len(got) == count
    assert all(w.shape == (n,) and w.dtype == np.float32 for w in got)
    assert len({id(window.pool) for window in sent}) == 1  # one pool crosses once
    covered = sorted(i for window in sent for i in range(window.offset, window.offset + n))
    assert covered == list(range(n * count))  # every element in exactly one window


def test_each_window_starts_at_its_offset() -> None:
    rng = RecordingRng()
    sent = timing.windows(rng, 5, 8, np.float64)
    pool = np.random.default_rng(3).random(5 * 8) * 2 - 1  # uniform in [-1, 1)
    for window in sent:
        assert window.values.tolist() == pool[window.offset : window.offset + 5].tolist()


# ---------------------------------------------------------------- the curve's slope


@pytest.mark.parametrize(
    ("power", "slope"), [(1.0, 1.0), (2.0, 2.0), (0.0, 0.0), (0.5, 0.5), (-1.0, -1.0)]
)
def test_the_loglog_slope_of_a_power_law_is_its_power(power, slope) -> None:
    ns = [64, 256, 1024, 4096]
    seconds = [3e-6 * n**power for n in ns]
    assert timing.loglog_slope(ns, seconds) == pytest.approx(slope, abs=1e-12)


def test_the_loglog_slope_is_the_least_squares_fit() -> None:
    ns = [1, 2, 4, 8, 16]
    seconds = [1.0, 3.0, 2.0, 20.0, 11.0]
    expected = np.polyfit(np.log(ns), np.log(seconds), 1)[0]
    assert timing.loglog_slope(ns, seconds) == pytest.approx(expected, rel=1e-12)
    assert timing.loglog_slope([2, 4], [5.0, 10.0]) == pytest.approx(1.0, rel=1e-12)


def test_a_zero_or_negative_time_counts_as_a_picosecond() -> None:
    assert timing.loglog_slope([1, 10], [0.0, 1e-11]) == pytest.approx(1.0, rel=1e-9)
    assert timing.loglog_slope([1, 10], [-5.0, 1e-11]) == pytest.approx(1.0, rel=1e-9)
    assert timing.loglog_slope([1, 10, 100], [0.0, 0.0, 0.0]) == 0.0


def test_the_slope_needs_as_many_times_as_lengths() -> None:
    with pytest.raises(ValueError):
        timing.loglog_slope([1, 2, 3], [1.0, 2.0])


def test_a_slope_of_nan_times_is_nan() -> None:
    assert math.isnan(timing.loglog_slope([1, 2, 4], [1.0, math.nan, 4.0]))


def test_a_samples_window_on_the_cpu_is_min_sample_s_and_on_cuda_covers_the_round_trip():
    assert timing.sample_window("cpu", 1.0, 0.002) == 0.002
    assert timing.sample_window("cpu", 0.0) == 0.005
    assert timing.sample_window("".join(["c", "p", "u"]), 1.0, 0.002) == 0.002  # built at run time
    assert timing.sample_window("cuda", 1e-3, 0.005) == pytest.approx(0.02)
    assert timing.sample_window("cuda", 1e-4, 0.005) == 0.005
    assert timing.sample_window("cuda", 2.5e-4, 0.005) == pytest.approx(0.005)


def test_the_base_of_the_bound_is_the_reference_doing_the_same_untimed_part(
    context, events
) -> None:
    calls = [[1], [2], [3]]
    student = FakeWorker(events, "student", pid=101)
    reference = context.workers["reference"]
    others = {id(student): student, id(reference): reference}
    base = timing._reference_outside(context, calls, "cuda", others)
    assert base == Baseline(cpu_seconds=0.01, wall_seconds=0.02)
    stop, cont = int(timing.signal.SIGSTOP), int(timing.signal.SIGCONT)
    # measured alone, as a sample is: on CUDA its wall time is the base, which the student's
    # own threads would stretch were the student's worker running meanwhile
    assert events == [("signal", 101, stop), ("baseline", 3, "cuda"), ("signal", 101, cont)]


# ---------------------------------------------------------------- the lease: the run request only


class RecordingProxy:
    """A worker proxy recording the requests of one sample, with a clock that says when it is
    read: what :func:`timed_module.run_timed` asks, in order."""

    def __init__(self, events: Events) -> None:
        self.events = events

    def window_clock(self, table: Any = None) -> Any:
        events = self.events

        class Clock:
            readings = 0

            def read(self) -> int:
                events.append(("clock",))
                Clock.readings += 1
                return Clock.readings * 1000

            def finish(self) -> None:
                events.append(("finish",))

        return Clock()

    def stage_inputs(self, calls: list[list[Any]], *, device: str, function: str) -> tuple:
        self.events.append(("stage", len(calls)))
        return 1, 0.0

    def request(self, header: dict[str, Any], **kwargs: Any) -> tuple:
        self.events.append((header["op"],))
        value = [2, 3] if header["op"] == "fetch" else 2
        return {"value": value}, []

    def value(self, reply: dict[str, Any], buffers: list[bytes], *, name: str) -> Any:
        return reply["value"]


def test_the_lease_holds_only_the_run_request_and_its_two_readings(context, events) -> None:
    """Other gradings on the machine stage, fetch and check while this one does: the lease is
    the timed window, the run request between its two CPU readings, and nothing else."""
    timed = timed_module.run_timed(RecordingProxy(events), "f", [[2], [3]], device="cpu")
    assert events == [
        ("clock",),  # before the inputs are sent
        ("stage", 2),
        ("ping",),
        ("lease", "cpu"),
        ("clock",),
        ("run",),
        ("clock",),
        ("release", "cpu"),
        ("fetch",),
        ("clock",),  # after the outputs are back
        ("finish",),
    ]
    assert timed.cpu_seconds == 1000 / 1e9 and timed.outside_cpu_seconds == 2000 / 1e9
    assert timed.outputs == [2, 3]
