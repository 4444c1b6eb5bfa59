"""Timed samples, judge side: a batch of calls run in a worker between two CPU readings.

A sample is three requests (``stage``, ``run``, ``fetch``) with a ping between the first two.
The worker tree's CPU clock (:mod:`~autograder.grading.judge.cpu_window`) is read before the
inputs are sent, around ``run`` and after the outputs are back: every cycle the worker
spends on these inputs is in the ``run`` window or in the ``outside_*`` figures, which
:mod:`~autograder.grading.judge.checks.timing` bounds against the same figure of the reference
worker on the same inputs. A sample whose tree or readings do not add up fails its check.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from autograder.grading.judge.cpu_window import WindowError
from autograder.grading.judge.verdicts import CheckFailed, SubmissionError
from autograder.grading.processes.device_lease import device_lease

if TYPE_CHECKING:
    from autograder.grading.judge.proxy import WorkerProxy
    from autograder.grading.processes.supervisor import ProcessTable


@dataclass
class Timed:
    """One timed batch: the judge's wall clock and the worker's CPU time around ``run``,
    and both clocks over everything else the worker did with these inputs (staging, the
    ping, fetching), which the caller bounds."""

    run_seconds: float
    stage_seconds: float
    cpu_seconds: float
    count: int
    outputs: list[Any] = field(default_factory=list)
    outside_cpu_seconds: float = 0.0
    outside_wall_seconds: float = 0.0

    @property
    def per_call(self) -> float:
        return self.run_seconds / max(self.count, 1)


@dataclass(frozen=True)
class Baseline:
    """What the part of a timed sample outside ``run`` (staging, a ping, fetching the
    outputs) cost the reference worker on the same inputs: the bound's base."""

    cpu_seconds: float
    wall_seconds: float


@contextlib.contextmanager
def _adding_up(function: str) -> Iterator[None]:
    """A tree or clock that does not add up fails the check with why."""
    try:
        yield
    except WindowError as error:
        raise CheckFailed(
            f"timing {function}: {error}; a timing counts only work the worker does "
            "itself, inside the timed call"
        ) from None


def run_timed(
    proxy: WorkerProxy,
    function: str,
    calls: list[list[Any]],
    *,
    device: str,
    table: ProcessTable | None = None,
) -> Timed:
    """Run ``function`` once per argument list, timed by the judge's clock: one sample.

    Three requests: ``stage`` (the worker decodes the inputs and moves them to the
    device), ``run`` (the calls back to back, then a device synchronisation: this
    window is the measurement) and ``fetch`` (the outputs, for the caller to check).
    The worker tree's CPU clock (:mod:`~autograder.grading.judge.cpu_window`) is read before
    the inputs are sent, around ``run`` and after the outputs are back, so every cycle
    spent on these inputs is in the window or in ``outside_*`` (which the caller
    bounds against the reference worker); a sample that does not add up fails.
    ``table``: a scan of /proc just taken (the worker's tree at the start is read from it).
    """
    with _adding_up(function):
        clock = proxy.window_clock(table)
        outside_wall = -time.perf_counter()
        cpu_start = clock.read()
        slot, stage_seconds = proxy.stage_inputs(calls, device=device, function=function)
        # a ping first: the worker has finished everything after staging (freeing the
        # buffers...) and waits for the next request, so the CPU reading below is clean
        proxy.request({"op": "ping"}, what="answering a ping")
        # the timed window alone on its device, machine-wide: other gradings stage, fetch and
        # check meanwhile (on the CPU those parts are CPU time, which their work does not
        # enter; on CUDA the judge holds the GPU's lease for its whole run)
        with device_lease(device):
            cpu_before = clock.read()
            started = time.perf_counter()
            reply, reply_buffers = proxy.request(
                {"op": "run", "slot": slot, "function": function, "device": device},
                what=f"timing {function}",
            )
            ended = time.perf_counter()
            cpu_after = clock.read()
        outside_wall += started
        run_seconds = ended - started
        count = proxy.value(reply, reply_buffers, name=function)
        reply, reply_buffers = proxy.request(
            {"op": "fetch", "slot": slot}, what=f"returning {function}'s outputs"
        )
        cpu_end = clock.read()
        outside_wall += time.perf_counter() - ended
        clock.finish()
    outputs = proxy.value(reply, reply_buffers, name=function)
    if type(count) is not int or type(outputs) is not list or count != len(calls):
        raise SubmissionError(f"the worker did not say it ran {function} {len(calls)} times")
    if len(outputs) != len(calls):
        raise SubmissionError(f"the worker ran {function} {count} times, not {len(calls)}")
    return Timed(
        run_seconds,
        stage_seconds,
        (cpu_after - cpu_before) / 1e9,
        len(calls),
        outputs,
        outside_cpu_seconds=((cpu_before - cpu_start) + (cpu_end - cpu_after)) / 1e9,
        outside_wall_seconds=outside_wall,
    )
