"""When the next exercise's judge starts: once every judge already started is waiting.

Runs in ``grade``. Each exercise is graded by :func:`~autograder.grading.exercise.run_exercise`
in a thread of its own, and its judge works only in the grading's turn
(:mod:`~autograder.grading.processes.grading_turn`). :func:`run_exercises` starts them in
order, the next one as soon as no started judge is working: when the last one has ended,
or when every live one waits for a device lease held by another grading (its core would
otherwise idle). With no other grading on the machine nothing waits, so the exercises run
one after another as before.

The schedule also knows the live judges, so that one exercise clearing its strays spares
its siblings, and whether grading was stopped (Ctrl-C, SIGTERM: the main thread stops, every
judge is killed before the exception goes on).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from subprocess import Popen as Process
from typing import TypeVar

from autograder.grading.processes import supervisor

POLL_SECONDS = 0.1  # the main thread wakes this often while it waits (Ctrl-C reaches it)

Graded = TypeVar("Graded")


class JudgeSchedule:
    """How many judges of one grading are working, and which are alive."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self.working = 0  # judges started or resumed, and not waiting or ended
        self.stopped = threading.Event()
        self._judges: set[int] = set()  # pids of live judges

    def start_when_idle(self) -> Slot:
        """Block until no judge works (or grading stopped); the next one's slot, working."""
        with self._condition:
            while self.working > 0 and not self.stopped.is_set():
                self._condition.wait(POLL_SECONDS)
            self.working += 1
        return Slot(self)

    def _count(self, change: int) -> None:
        with self._condition:
            self.working += change
            self._condition.notify_all()

    def start_judge(self, start: Callable[[], Process]) -> Process:
        """``start()`` a judge and note it alive, as no stray is being cleared."""
        with self._condition:
            process = start()
            self._judges.add(process.pid)
        return process

    def judge_ended(self, pid: int) -> None:
        with self._condition:
            self._judges.discard(pid)

    def kill_strays(self) -> None:
        """Kill this process's children that are not live judges (orphans of a judge)."""
        with self._condition:
            supervisor.kill_strays(keep=self._judges)


class Slot:
    """One exercise's place in the schedule: working or not (used by its own thread)."""

    def __init__(self, schedule: JudgeSchedule) -> None:
        self.schedule, self.working = schedule, True

    def pause(self) -> None:
        """The exercise's judge waits, or has ended: the next exercise may start."""
        if self.working:
            self.working = False
            self.schedule._count(-1)

    def resume(self) -> None:
        """Its judge works again (a wait ended, or the exercise starts a new judge)."""
        if not self.working:
            self.working = True
            self.schedule._count(+1)


def run_exercises(
    exercises: Sequence[str],
    grade_one: Callable[[str, Slot], Graded],
    announce: Callable[[str], None],
) -> dict[str, Future[Graded]]:
    """Start ``grade_one(exercise, slot)`` for each exercise in order, each once the judges
    before it all wait or have ended; ``announce(exercise)`` as each starts. Returns when
    all have ended. On an exception here (Ctrl-C), every judge is stopped before it goes on."""
    schedule = JudgeSchedule()
    futures: dict[str, Future[Graded]] = {}

    def run(exercise: str, slot: Slot) -> Graded:
        try:
            return grade_one(exercise, slot)
        finally:
            slot.pause()

    with ThreadPoolExecutor(max_workers=max(1, len(exercises))) as pool:
        try:
            for exercise in exercises:
                slot = schedule.start_when_idle()
                announce(exercise)
                futures[exercise] = pool.submit(run, exercise, slot)
            for future in futures.values():
                _wait(future)
        except BaseException:
            schedule.stopped.set()  # each thread kills its judge within POLL_SECONDS
            raise
    return futures


def _wait(future: Future) -> None:
    """Wait for ``future`` in short steps, so that a signal reaches this thread."""
    while not future.done():
        try:
            future.result(timeout=POLL_SECONDS)
        except TimeoutError:
            continue
        except Exception:
            return  # the caller reads the error from the future
