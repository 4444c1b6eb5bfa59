"""The judge's stopwatch: batches of fresh inputs, timed round-robin, checked, as medians.

Every duration is the judge's own clock around a worker's ``run`` request
(:meth:`WorkerProxy.timed`), never a figure a worker reports. Verdicts compare
contenders measured *in the same run*, round-robin, so a busy machine slows each
alike and the ratio survives. Each sample:

* runs the function on K inputs drawn fresh for that sample (no call can reuse an
  earlier result), with K chosen so the window is at least 5 ms of the worker's CPU time
  (on CUDA, of wall time, and the protocol's fixed cost, a measured empty round trip, at
  most 5% of it);
* checks every output against the judge's own expected value, so skipping work fails;
* bounds everything the worker did with the sample's inputs outside the timed ``run``
  request (staging, a ping, fetching the outputs: every cycle from the moment the inputs
  are sent until the outputs are back is in the window or in this part, see
  :mod:`~autograder.grading.judge.timed`) by what the same part of a sample costs the
  reference worker on the same inputs (staging, a ping, fetching its outputs), so work
  moved out of the window fails the check;
* pauses every other worker while it runs, so a contender cannot slow another.

On the CPU the judge's clock is the worker's CPU time over the timed window (the
kernel's per-process clocks over the whole tree, exited threads included, read by the
judge; a sample that starts or reaps a process fails, :mod:`~autograder.grading.judge.cpu_window`):
sleeping or waiting cannot make code look slower than its work, and a loaded machine
that deschedules the worker does not blur the figure. On CUDA it is the wall clock (the
worker waits for the device by design), and so is the bound on the rest.
"""

from __future__ import annotations

import math
import signal
import statistics
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from autograder.grading.judge.checks import support
from autograder.grading.judge.checks.support import CheckFailed
from autograder.grading.judge.proxy import Timed, WorkerProxy
from autograder.grading.judge.timed import Baseline
from autograder.grading.processes import supervisor
from autograder.grading.worker.protocol import TensorWindow

OVERHEAD_SHARE = 0.05  # the protocol's round trip is at most this share of a timed window
MAX_CALLS = 4000
MAX_PAYLOAD_BYTES = 8 * 2**20
STAGE_SLACK = 3.0  # a worker's work outside ``run`` may take this many times the reference's...
STAGE_GRACE_S = 0.005  # ...plus this (CPU time on the CPU, wall time on CUDA)
# A sample whose staging breaks that bound is drawn again, up to this many times in all: one
# of 5 unloaded gradings of the reference solutions (make bench, 2026-12-02) had two pauses in
# a row (32.9 ms of staging against 8.0 ms, wall clock); work moved out of the window breaks
# it every time.
STAGE_ATTEMPTS = 3


@dataclass
class Contender:
    """One function timed on fresh inputs: who runs it, how inputs are made and checked."""

    worker: WorkerProxy
    function: str
    make_calls: Callable[[int], list[list[Any]]]  # K fresh argument lists, one per call
    verify: Callable[[list[Any], Any], str | None]  # None if the output is right
    payload_bytes: int = 0  # approximate bytes of one argument list


def sample_window(device: str, ping_seconds: float, min_sample_s: float = 0.005) -> float:
    """Seconds of work one timed sample aims at. On CUDA the window is wall time, round trip
    included, so it is at least the round trip over ``OVERHEAD_SHARE``; on the CPU it is the
    worker's CPU time, which the round trip's wait does not enter, so a loaded machine (a
    slower round trip) does not make every sample larger."""
    if device == "cpu":
        return min_sample_s
    return max(min_sample_s, ping_seconds / OVERHEAD_SHARE)


def windows(rng: Any, n: int, count: int, dtype: Any, device: str = "cpu") -> list[TensorWindow]:
    """``count`` disjoint length-``n`` windows of one fresh random pool.

    One draw per batch, sent to the worker once (each window still reaches the function as
    a tensor of its own). The windows do not overlap: when they did (``n + 4K`` values for K
    windows), work done once over the pool answered every call, so a Python prefix sum over
    it while staging, or inside the timed calls, passed for a library reduction (red team,
    2026-12-05: tests/submissions/pool_python_prefix, window_views_sized_in_warmup).
    """
    pool = rng.random(count * n, dtype=dtype)  # uniform in [-1, 1): 4x cheaper than normals
    pool *= 2  # (40 ms against 9 ms at n=65,536, K=64), and a mean near 0 still unguessable
    pool -= 1  # within the checks' 1e-3 for every one of K calls
    return [TensorWindow(pool, index * n, n, device) for index in range(count)]


def _reference_outside(
    ctx: support.GradingContext,
    calls: list[list[Any]],
    device: str,
    others: Mapping[int, WorkerProxy],
) -> Baseline:
    """What the part of a sample outside ``run`` costs the reference worker on the same
    inputs: staging them, a ping and fetching one output per call of the timed functions'
    own kind (``last_element``: a 0-dim tensor, a row of d floats). Staging alone left out
    the fetch, so the bound was tight where many small outputs come back: an honest
    reduction on 608 inputs at n=64 measured 20.6 ms against 4.5 ms of staging
    (2026-12-04). Measured as a sample is, alone (:func:`_alone`): on CUDA the base is wall
    time, which a submission's own threads would otherwise stretch to loosen its bound."""
    reference = support.reference_worker(ctx)
    with _alone(reference, others) as table:
        timed = reference.timed("last_element", calls, device=device, table=table)
    return Baseline(timed.outside_cpu_seconds, timed.outside_wall_seconds)


@contextmanager
def _alone(
    worker: WorkerProxy, others: Mapping[int, WorkerProxy]
) -> Iterator[supervisor.ProcessTable]:
    """Every other worker of this grading paused: the conditions of a timed sample (whose
    ``run`` request takes the device's machine-wide lease in
    :func:`~autograder.grading.judge.timed.run_timed`). One scan of /proc serves the pause
    and the timed worker's starting tree."""
    paused = [other for other in others.values() if other is not worker and other.pid]
    table = supervisor.process_table()
    stopped: list[int] = []
    try:
        for other in paused:
            stopped += supervisor.signal_tree(other.pid, signal.SIGSTOP, table)
        yield table
    finally:  # the same processes: a stopped one cannot start another
        supervisor.signal_pids(stopped, signal.SIGCONT)


@dataclass(frozen=True)
class Medians:
    """Median seconds per call by the judge's two clocks (the same on CUDA)."""

    cpu: float  # the worker's CPU time: what verdicts on the CPU use
    wall: float  # the judge's wall clock around the run request

    @property
    def verdict(self) -> float:
        return self.cpu


def interleaved_medians(
    ctx: support.GradingContext,
    contenders: Mapping[str, Contender],
    *,
    device: str = "cpu",
    repeats: int = 7,
    warmup: int = 2,
    min_sample_s: float = 0.005,
) -> dict[str, float]:
    """Median seconds per call of each contender by the verdict clock, timed round-robin."""
    timings = interleaved_timings(
        ctx, contenders, device=device, repeats=repeats, warmup=warmup, min_sample_s=min_sample_s
    )
    return {name: medians.verdict for name, medians in timings.items()}


def interleaved_timings(
    ctx: support.GradingContext,
    contenders: Mapping[str, Contender],
    *,
    device: str = "cpu",
    repeats: int = 7,
    warmup: int = 2,
    min_sample_s: float = 0.005,
) -> dict[str, Medians]:
    """Median seconds per call of each contender by both clocks, timed round-robin."""
    tol = ctx.tolerances(device)
    workers = {id(c.worker): c.worker for c in contenders.values()}
    pings = {
        key: (w.ping_seconds or w.ping()) if device != "cpu" else 0.0 for key, w in workers.items()
    }
    numbers: dict[str, int] = {}
    for name, contender in contenders.items():
        ping = pings[id(contender.worker)]
        window = sample_window(device, ping, min_sample_s)
        number = 1
        for _ in range(max(1, warmup)):  # unchecked staging: imports may happen here
            timed = _sample(ctx, contender, number, device, tol, others=workers, warm=True)
            if device == "cpu":  # the window is CPU time: the worker's fixed cost is tiny
                once = max(timed.cpu_seconds / timed.count, 1e-7)
            else:
                once = max((timed.run_seconds - ping) / timed.count, 1e-7)
            number = max(1, min(MAX_CALLS, math.ceil(window / once)))
            if contender.payload_bytes:
                number = max(1, min(number, MAX_PAYLOAD_BYTES // contender.payload_bytes))
        numbers[name] = number
    cpu: dict[str, list[float]] = {name: [] for name in contenders}
    wall: dict[str, list[float]] = {name: [] for name in contenders}
    baselines: dict[str, Baseline] = {}
    for _ in range(repeats):
        for name, contender in contenders.items():
            timed = _sample(
                ctx,
                contender,
                numbers[name],
                device,
                tol,
                others=workers,
                baselines=(baselines, name),
            )
            seconds = timed.cpu_seconds if device == "cpu" else timed.run_seconds
            cpu[name].append(seconds / timed.count)
            wall[name].append(timed.per_call)
    medians = {
        name: Medians(statistics.median(cpu[name]), statistics.median(wall[name]))
        for name in contenders
    }
    return medians


def _sample(
    ctx: support.GradingContext,
    contender: Contender,
    number: int,
    device: str,
    tol: Any,
    *,
    others: Mapping[int, WorkerProxy],
    warm: bool = False,
    baselines: tuple[dict[str, Baseline], str] | None = None,
) -> Timed:
    """One checked sample. The reference's baseline for a contender is measured at its first
    sample and again whenever a sample breaks the bound (CPU time of the same requests on
    inputs of the same size barely varies; re-measuring each time doubled the staging)."""
    cache, name = baselines if baselines is not None else ({}, "")
    for attempt in range(STAGE_ATTEMPTS):  # a pause of the machine gets another chance
        calls = contender.make_calls(number)
        # every sample but the warm-ups (which only size K) and the trusted reference's;
        # even a lower bound is guarded: work moved out of one contender's window (d=1)
        # raises a ratio as surely as it lowers another
        reference = contender.worker is ctx.workers.get("reference")
        guarded = not warm and not reference
        if guarded and (attempt > 0 or name not in cache):
            cache[name] = _reference_outside(ctx, calls, device, others)
        baseline = cache[name] if guarded else Baseline(math.inf, math.inf)
        base = baseline.cpu_seconds if device == "cpu" else baseline.wall_seconds
        with _alone(contender.worker, others) as table:  # the timed window
            timed = contender.worker.timed(contender.function, calls, device=device, table=table)
        outside = timed.outside_cpu_seconds if device == "cpu" else timed.outside_wall_seconds
        if outside <= STAGE_SLACK * base + STAGE_GRACE_S:
            break
    else:
        clock = "CPU time" if device == "cpu" else "wall time"
        raise CheckFailed(
            f"{contender.function}: staging {number} inputs and fetching the outputs took "
            f"{outside * 1e3:.1f} ms of {clock} in your worker outside the timed calls, "
            f"against {base * 1e3:.1f} ms for the same in the reference worker: work "
            "was done outside the timed calls (timings count only the calls themselves)"
        )
    for index, (args, output) in enumerate(zip(calls, timed.outputs, strict=True)):
        reason = contender.verify(args, output)
        if reason is not None:
            raise CheckFailed(
                f"{contender.function} returned a wrong value while being timed (call {index}): "
                f"{reason}; a timing counts only correct work"
            )
    return timed


def loglog_slope(ns: Sequence[float], seconds: Sequence[float]) -> float:
    """Least-squares slope of log(seconds) against log(n): 1 for linear, 0 for flat."""
    xs = [math.log(n) for n in ns]
    ys = [math.log(max(s, 1e-12)) for s in seconds]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    num = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    den = sum((x - mean_x) ** 2 for x in xs)
    return num / den
