"""The judge's stopwatch: batches of fresh inputs, timed round-robin, checked, as medians.

Every duration is the judge's own clock around a worker's ``run`` request
(:meth:`WorkerProxy.timed`), never a figure a worker reports. Verdicts compare
contenders measured *in the same run*, round-robin, so a busy machine slows each
alike and the ratio survives. Each sample:

* runs the function on K inputs drawn fresh for that sample (no call can reuse an
  earlier result), with K chosen so the protocol's fixed cost (a measured empty
  round trip) is at most 5% of the timed window;
* checks every output against the judge's own expected value, so skipping work fails;
* stages the same inputs in the reference worker and fails a worker whose staging
  took far longer (work done ahead of the timed window);
* pauses every other worker while it runs, so a contender cannot slow another.

On the CPU the judge's clock is the worker's CPU time over the timed window (the
kernel's accounting of all its processes, read by the judge): sleeping or waiting
cannot make code look slower than its work, and a loaded machine that deschedules the
worker does not blur the figure. On CUDA it is the wall clock (the worker waits for
the device by design).
"""

from __future__ import annotations

import math
import signal
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from autograder.grading import supervisor
from autograder.grading.checks import support
from autograder.grading.checks.support import CheckFailed
from autograder.grading.device_lease import device_lease
from autograder.grading.judge_proxy import Timed, WorkerProxy

OVERHEAD_SHARE = 0.05  # the protocol's round trip is at most this share of a timed window
MAX_CALLS = 4000
MAX_PAYLOAD_BYTES = 16 * 2**20
STAGE_SLACK = 3.0  # a worker's staging may take this many times the reference worker's...
STAGE_GRACE_S = 0.005  # ...plus this
# A sample whose staging breaks that bound is drawn again, up to this many times in all: one
# of 5 unloaded gradings of the reference solutions (make bench, 2026-12-02) had two pauses in
# a row (32.9 ms of staging against 8.0 ms); work moved into staging breaks it every time.
STAGE_ATTEMPTS = 3


@dataclass
class Contender:
    """One function timed on fresh inputs: who runs it, how inputs are made and checked."""

    worker: WorkerProxy
    function: str
    make_calls: Callable[[int], list[list[Any]]]  # K fresh argument lists, one per call
    verify: Callable[[list[Any], Any], str | None]  # None if the output is right
    payload_bytes: int = 0  # approximate bytes of one argument list
    # bound the staging time against the reference worker's; off only where being faster
    # can never help (a verdict that asks for *at least* some cost)
    guard_stage: bool = True


def windows(rng: Any, n: int, count: int, dtype: Any) -> list[Any]:
    """``count`` distinct length-``n`` windows of one fresh random pool, at random offsets.

    Cheap fresh inputs: drawing one pool per batch costs far less than ``count`` draws,
    and no two calls get the same input (offsets are drawn without replacement).
    """
    spread = max(count * 4, 64)
    pool = rng.standard_normal(n + spread).astype(dtype)
    offsets = rng.choice(spread, size=count, replace=False)
    return [pool[offset : offset + n] for offset in offsets]


def _stage_baseline(calls: list[list[Any]], device: str, function: str) -> float:
    """Seconds the reference worker takes to stage the same inputs."""
    reference = support.reference_worker()
    return reference.stage_only(calls, device=device, function=function)


@dataclass(frozen=True)
class Medians:
    """Median seconds per call by the judge's two clocks (the same on CUDA)."""

    cpu: float  # the worker's CPU time: what verdicts on the CPU use
    wall: float  # the judge's wall clock around the run request

    @property
    def verdict(self) -> float:
        return self.cpu


def interleaved_medians(
    contenders: Mapping[str, Contender],
    *,
    device: str = "cpu",
    repeats: int = 7,
    warmup: int = 2,
    min_sample_s: float = 0.005,
) -> dict[str, float]:
    """Median seconds per call of each contender by the verdict clock, timed round-robin."""
    timings = interleaved_timings(
        contenders, device=device, repeats=repeats, warmup=warmup, min_sample_s=min_sample_s
    )
    return {name: medians.verdict for name, medians in timings.items()}


def interleaved_timings(
    contenders: Mapping[str, Contender],
    *,
    device: str = "cpu",
    repeats: int = 7,
    warmup: int = 2,
    min_sample_s: float = 0.005,
) -> dict[str, Medians]:
    """Median seconds per call of each contender by both clocks, timed round-robin."""
    tol = support.context().tolerances(device)
    workers = {id(c.worker): c.worker for c in contenders.values()}
    pings = {key: (w.ping_seconds or w.ping()) for key, w in workers.items()}
    numbers: dict[str, int] = {}
    for name, contender in contenders.items():
        ping = pings[id(contender.worker)]
        window = max(min_sample_s, ping / OVERHEAD_SHARE)
        number = 1
        for _ in range(max(1, warmup)):  # unchecked staging: imports may happen here
            timed = _sample(contender, number, device, tol, others=workers, warm=True)
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
    for _ in range(repeats):
        for name, contender in contenders.items():
            timed = _sample(contender, numbers[name], device, tol, others=workers)
            seconds = timed.cpu_seconds if device == "cpu" else timed.run_seconds
            cpu[name].append(seconds / timed.count)
            wall[name].append(timed.per_call)
    medians = {
        name: Medians(statistics.median(cpu[name]), statistics.median(wall[name]))
        for name in contenders
    }
    return medians


def _sample(
    contender: Contender,
    number: int,
    device: str,
    tol: Any,
    *,
    others: Mapping[int, WorkerProxy],
    warm: bool = False,
) -> Timed:
    for _attempt in range(STAGE_ATTEMPTS):  # a pause of the machine gets another chance
        calls = contender.make_calls(number)
        reference = contender.worker is support.context().workers.get("reference")
        guarded = contender.guard_stage and not warm and not reference
        baseline = _stage_baseline(calls, device, contender.function) if guarded else math.inf
        paused = [w for key, w in others.items() if key != id(contender.worker) and w.pid]
        with device_lease(device):  # the timed window: alone on this device, machine-wide
            for worker in paused:
                supervisor.signal_tree(worker.pid, signal.SIGSTOP)
            try:
                timed = contender.worker.timed(contender.function, calls, device=device)
            finally:
                for worker in paused:
                    supervisor.signal_tree(worker.pid, signal.SIGCONT)
        if timed.stage_seconds <= STAGE_SLACK * baseline + STAGE_GRACE_S:
            break
    else:
        raise CheckFailed(
            f"{contender.function}: staging {number} inputs took "
            f"{timed.stage_seconds * 1e3:.1f} ms in your worker against "
            f"{baseline * 1e3:.1f} ms in the reference worker: work was done before "
            "the timed calls (timings count only the calls themselves)"
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
