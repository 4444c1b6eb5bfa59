"""The student's ``time_fn`` on work of known duration, judged by the judge's own clock.

Runs in the judge, for ``hard.time_fn_accurate_cpu`` and ``hard.time_fn_synchronises_cuda``
(checks/test_hard.py). On the CPU the work is a wait that only the judge times
(judge/waits.py): the worker never holds a duration it could return without timing. On
CUDA it is a ``torch.cuda._sleep`` kernel whose cycles the worker is sent; that check is about
synchronisation (docs/protocol.md).
"""

from __future__ import annotations

import random

from autograder.grading.judge.checks.numbers import at_most, worker_seconds
from autograder.grading.judge.checks.support import CheckFailed
from autograder.grading.judge.waits import JudgeWaits
from autograder.grading.processes.device_lease import device_lease
from autograder.grading.worker.protocol import WorkArg

TIME_FN_CALL = {"warmup": 1, "repeats": 5}  # time_fn's arguments in both time_fn checks
# the judge's waits for hard.time_fn_accurate_cpu. A figure within 20% of both ranges' waits
# would have to be at most 1.2 x 12 = 14.4 ms and at least 0.8 x 20 = 16 ms: no constant
# passes both (15-25 ms until 2026-12-05: a constant 20 ms passed 99% of gradings).
WAIT_RANGES = ((0.010, 0.012), (0.020, 0.025))
# the check's measurements, each from a range drawn at random, both ranges present: a
# time_fn that guesses each range by how many times it was called (tests/submissions/
# time_fn_call_count) guesses all of them right in 1 grading in 2**4 - 2 = 14.
WAIT_MEASUREMENTS = 4
WAIT_SLACK = 4  # asks beyond warm-up + repeats that a time_fn may make (a warm-up of its own)
# a busy machine only makes an honest figure larger (the worker's time of a call encloses
# the judge's hold of it), by a late wake-up: a figure above the known duration by more than
# the tolerance and at most this much is measured again, from the same range. Anything else
# fails at once; a retry for every failure let a made-up sequence of figures try each range
# in turn (red team s7b: 11, 22.5, 11 ms passed every grading). 1.3 x 12.1 ms < 0.8 x 20 ms:
# no figure is worth a retry in the short range and a pass in the long one.
RETRY_BAND = 0.3


class LateFigure(CheckFailed):
    """time_fn's figure above the known duration by more than the tolerance, at most by
    :data:`RETRY_BAND`: what a late wake-up on a busy machine does to an honest one."""


def wait_plan(rng: random.Random) -> list[tuple[float, float]]:
    """The range of each measurement: drawn one by one, again until both ranges are in."""
    while True:
        plan = [rng.choice(WAIT_RANGES) for _ in range(WAIT_MEASUREMENTS)]
        if len(set(plan)) == len(WAIT_RANGES):
            return plan


def time_fn_figures(label: str, known: float, seconds: float, elapsed: float, tol: float) -> dict:
    """time_fn's figure against the known duration, and its whole call against the repeats."""
    repeats = TIME_FN_CALL["repeats"]
    error = abs(seconds - known) / known
    data = {
        "known_seconds": known,
        "time_fn_seconds": seconds,
        "relative_error": error,
        "elapsed_seconds": elapsed,
        "tolerance": tol,
    }
    if not at_most(error, tol):
        late = seconds > known and at_most(error, RETRY_BAND)
        raise (LateFigure if late else CheckFailed)(
            f"time_fn on {label} of known duration {known * 1e3:.2f} ms returned "
            f"{seconds * 1e3:.3f} ms ({error:.0%} off, allowed {tol:.0%})"
        )
    if elapsed < repeats * known * (1 - tol):
        raise CheckFailed(
            f"time_fn(fn, repeats={repeats}) took {elapsed * 1e3:.1f} ms in all, less than "
            f"{repeats} calls of {known * 1e3:.2f} ms: it did not run fn {repeats} times"
        )
    return data


def expect_time_fn(sub, device: str, work: dict, known: float, label: str, tol: float) -> dict:
    """``time_fn`` on work of known duration: its figure, and the judge's clock around it."""
    with device_lease(device):  # the student's own timed window
        got, elapsed = sub.call_timed(
            "time_fn", WorkArg(tuple(work.items())), device=device, **TIME_FN_CALL
        )
    seconds = worker_seconds(got, what="time_fn's result (seconds per call)")
    return time_fn_figures(label, known, seconds, elapsed, tol)


def expect_time_fn_waits(sub, wait: float, tol: float) -> dict:
    """``time_fn`` on a work object each of whose calls the judge holds for ``wait`` seconds
    (judge/waits.py): the known duration is the judge's own measurement of its waits."""
    repeats = TIME_FN_CALL["repeats"]
    waits = JudgeWaits(wait, limit=TIME_FN_CALL["warmup"] + repeats + WAIT_SLACK)
    with device_lease("cpu"):  # the student's own timed window
        got, elapsed = sub.call_timed(
            "time_fn", WorkArg((("kind", "wait"),)), device="cpu", waits=waits, **TIME_FN_CALL
        )
    seconds = worker_seconds(got, what="time_fn's result (seconds per call)")
    known = waits.known(repeats)
    if known is None:
        raise CheckFailed(
            f"time_fn(fn, repeats={repeats}) called fn {len(waits.waits)} times: it did not "
            f"run fn {repeats} times"
        )
    data = time_fn_figures("a wait", known, seconds, elapsed, tol)
    return data | {"fn_calls": len(waits.waits)}
