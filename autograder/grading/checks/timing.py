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
* on the CPU, fails a batch during which the worker's processes were mostly idle
  (sleeping to look slow), from the kernel's CPU-time accounting;
* pauses every other worker while it runs, so a contender cannot slow another.
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
from autograder.grading.worker_proxy import WorkerProxy

OVERHEAD_SHARE = 0.05  # the protocol's round trip is at most this share of a timed window
MAX_CALLS = 2000
MAX_PAYLOAD_BYTES = 32 * 2**20
STAGE_SLACK = 3.0  # a worker's staging may take this many times the reference worker's...
STAGE_GRACE_S = 0.005  # ...plus this


@dataclass
class Contender:
    """One function timed on fresh inputs: who runs it, how inputs are made and checked."""

    worker: WorkerProxy
    function: str
    make_args: Callable[[], list[Any]]  # one fresh argument list per call
    verify: Callable[[list[Any], Any], str | None]  # None if the output is right
    payload_bytes: int = 0  # approximate bytes of one argument list


def _stage_baseline(calls: list[list[Any]], device: str, function: str) -> float:
    """Seconds the reference worker takes to stage the same inputs."""
    reference = support.reference_worker()
    return reference.stage_only(calls, device=device, function=function)


def interleaved_medians(
    contenders: Mapping[str, Contender],
    *,
    device: str = "cpu",
    repeats: int = 7,
    warmup: int = 1,
    min_sample_s: float = 2e-4,
) -> dict[str, float]:
    """Median seconds per call of each contender, timed round-robin by the judge."""
    tol = support.context().tolerances(device)
    workers = {id(c.worker): c.worker for c in contenders.values()}
    pings = {key: (w.ping_seconds or w.ping()) for key, w in workers.items()}
    numbers: dict[str, int] = {}
    report: dict[str, Any] = {}
    for name, contender in contenders.items():
        once = math.inf
        for _ in range(max(1, warmup)):  # unchecked staging: imports may happen here
            once = _sample(contender, 1, device, tol, others=workers, warm=True)
        window = max(min_sample_s, pings[id(contender.worker)] / OVERHEAD_SHARE)
        number = max(1, min(MAX_CALLS, math.ceil(window / max(once, 1e-7))))
        if contender.payload_bytes:
            number = max(1, min(number, MAX_PAYLOAD_BYTES // contender.payload_bytes))
        numbers[name] = number
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, contender in contenders.items():
            samples[name].append(_sample(contender, numbers[name], device, tol, others=workers))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    report = {
        "calls_per_sample": numbers,
        "round_trip_seconds": min(pings.values()),
    }
    support.context().shared.setdefault("timing_method", []).append(report)
    return medians


def _sample(
    contender: Contender,
    number: int,
    device: str,
    tol: Any,
    *,
    others: Mapping[int, WorkerProxy],
    warm: bool = False,
) -> float:
    calls = [contender.make_args() for _ in range(number)]
    baseline = math.inf if warm else _stage_baseline(calls, device, contender.function)
    paused = [w for key, w in others.items() if key != id(contender.worker) and w.pid]
    for worker in paused:
        supervisor.signal_tree(worker.pid, signal.SIGSTOP)
    try:
        timed = contender.worker.timed(contender.function, calls, device=device)
    finally:
        for worker in paused:
            supervisor.signal_tree(worker.pid, signal.SIGCONT)
    if timed.stage_seconds > STAGE_SLACK * baseline + STAGE_GRACE_S:
        raise CheckFailed(
            f"{contender.function}: staging {number} inputs took {timed.stage_seconds * 1e3:.1f} ms "
            f"in your worker against {baseline * 1e3:.1f} ms in the reference worker: work was "
            "done before the timed calls (timings count only the calls themselves)"
        )
    for index, (args, output) in enumerate(zip(calls, timed.outputs, strict=True)):
        reason = contender.verify(args, output)
        if reason is not None:
            raise CheckFailed(
                f"{contender.function} returned a wrong value while being timed (call {index}): "
                f"{reason}; a timing counts only correct work"
            )
    if device == "cpu" and timed.run_seconds > 0.002:
        busy = timed.cpu_seconds / timed.run_seconds
        if busy < tol.cpu_busy_min:
            raise CheckFailed(
                f"{contender.function}: your worker was busy only {busy:.0%} of the "
                f"{timed.run_seconds * 1e3:.1f} ms it was timed (allowed: at least "
                f"{tol.cpu_busy_min:.0%}): sleeping or waiting is not computing"
            )
    return timed.per_call


def loglog_slope(ns: Sequence[float], seconds: Sequence[float]) -> float:
    """Least-squares slope of log(seconds) against log(n): 1 for linear, 0 for flat."""
    xs = [math.log(n) for n in ns]
    ys = [math.log(max(s, 1e-12)) for s in seconds]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    num = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    den = sum((x - mean_x) ** 2 for x in xs)
    return num / den
