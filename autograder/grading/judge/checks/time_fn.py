"""The student's ``time_fn`` on work of known duration, judged by the judge's own clock.

Runs in the judge, for ``hard.time_fn_accurate_cpu`` and ``hard.time_fn_synchronises_cuda``
(checks/test_hard.py). On the CPU the work is a wait that only the judge times
(judge/waits.py): the worker never holds a duration it could return without timing. On
CUDA it is a ``torch.cuda._sleep`` kernel whose cycles the worker is sent; that check is about
synchronisation (docs/protocol.md).
"""

from __future__ import annotations

from autograder.grading.judge.checks.numbers import at_most, worker_seconds
from autograder.grading.judge.checks.support import CheckFailed
from autograder.grading.judge.waits import JudgeWaits
from autograder.grading.processes.device_lease import device_lease
from autograder.grading.worker.protocol import WorkArg

TIME_FN_CALL = {"warmup": 1, "repeats": 5}  # time_fn's arguments in both time_fn checks
# the judge's waits for hard.time_fn_accurate_cpu: one measurement in each range, in random
# order. A figure within 20% of both ranges' waits would have to be at most 1.2 x 12 = 14.4 ms
# and at least 0.8 x 20 = 16 ms: no constant passes both (15-25 ms until 2026-12-05: a
# constant 20 ms passed 99% of gradings). A retry draws from its measurement's range.
WAIT_RANGES = ((0.010, 0.012), (0.020, 0.025))
WAIT_SLACK = 4  # asks beyond warm-up + repeats that a time_fn may make (a warm-up of its own)


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
        raise CheckFailed(
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
