"""Several exercises of one grading at once, their progress shown in the exercises' order.

Why: a grading's exercises are independent (a judge each, with its own work folder and
workers), and a judge mostly waits on one worker at a time, so a grading on two cores ran
at half speed (docs/benchmarks.md: the hard exercise alone is three quarters of the wall
time). With a judge per core the others finish while the hard one measures. Timing stays
clean as it does between the gradings of a regrade: each timed window holds the machine-wide
device lease (:mod:`~autograder.grading.processes.device_lease`), and a window's CPU clock
counts only the timed worker's tree, whatever runs on another core.

How many: ``$AUTOGRADER_JUDGES`` (a positive integer), else the cores this process may use,
never more than the exercises graded. One runs them in this thread, exactly as before:
what a course with one core (a Gradescope container) or ``regrade --jobs`` = cores gets.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from reference.cli_support import UsageError

JUDGES_VARIABLE = "AUTOGRADER_JUDGES"

Graded = TypeVar("Graded")


def judges_at_once(exercises: int, environ: dict[str, str] | None = None) -> int:
    """Exercises graded side by side: ``$AUTOGRADER_JUDGES`` or the usable cores, at most
    ``exercises`` (and at least 1)."""
    environ = os.environ if environ is None else environ
    text = environ.get(JUDGES_VARIABLE, "").strip()
    if text:
        if not text.isdigit() or int(text) < 1:
            raise UsageError(f"{JUDGES_VARIABLE}={text!r}: must be a positive whole number")
        wanted = int(text)
    else:
        wanted = len(os.sched_getaffinity(0))
    return max(1, min(wanted, exercises))


def judges_per_grading(gradings: int) -> int:
    """What each of ``gradings`` gradings running at once (``regrade --jobs``) may run side by
    side: its share of the usable cores, at least 1."""
    return max(1, len(os.sched_getaffinity(0)) // max(1, gradings))


class OrderedProgress:
    """Each exercise's progress lines in the exercises' order: the first unfinished exercise's
    lines as they come, a later one's held until every exercise before it has finished."""

    def __init__(self, exercises: Sequence[str], say: Callable[[str], None]) -> None:
        self._order = list(exercises)
        self._say = say
        self._held: dict[str, list[str]] = {exercise: [] for exercise in self._order}
        self._shown = 0  # index of the exercise whose lines go out as they come
        self._lock = threading.Lock()

    def say(self, exercise: str, line: str) -> None:
        with self._lock:
            if self._shown < len(self._order) and self._order[self._shown] == exercise:
                self._say(line)
            else:
                self._held[exercise].append(line)

    def finish(self, exercise: str) -> None:
        """``exercise`` is done (it must be the one shown): show the next one's held lines."""
        with self._lock:
            if self._order[self._shown] != exercise:
                raise ValueError(f"{exercise} finished out of order")
            self._shown += 1
            if self._shown < len(self._order):
                for line in self._held.pop(self._order[self._shown]):
                    self._say(line)


def graded_in_order(
    exercises: Sequence[str],
    grade_one: Callable[[str, threading.Event], Graded],
    at_once: int,
) -> Iterator[tuple[str, Graded]]:
    """``grade_one(exercise, stop)`` for each exercise, ``at_once`` of them at a time, yielded
    in the exercises' order. When the caller stops early (Ctrl-C, SIGTERM, an error), ``stop``
    is set and this waits for the running ones: ``grade_one`` must end soon after it is set
    (its judges killed), so nothing outlives the grading."""
    stop = threading.Event()
    if at_once <= 1:
        for exercise in exercises:
            yield exercise, grade_one(exercise, stop)
        return
    pool = ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="exercise")
    try:
        futures = [(exercise, pool.submit(grade_one, exercise, stop)) for exercise in exercises]
        for exercise, future in futures:
            yield exercise, future.result()
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
