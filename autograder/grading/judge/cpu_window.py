"""The judge's CPU clock over a worker's process tree, for timed samples that add up.

Runs in the judge. A timed sample (:meth:`WorkerProxy.timed`) reads this clock before the
inputs are sent, before and after the timed ``run`` request, and after the outputs are
fetched. Every CPU cycle the worker spends from the moment it has the inputs to the moment
it has returned the outputs therefore lands in exactly one of two parts: the ``run`` window
(the measurement) or the rest (staging, the ping, fetching: bounded against the reference
worker's cost for the same requests by :mod:`~autograder.grading.judge.checks.timing`). There is
no third place to put work.

What makes each reading complete:

* **Threads, live or exited.** Each process is read through the kernel's per-process CPU
  clock (``clock_gettime`` on ``MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)``): nanoseconds,
  summed over every thread the process ever had, including threads that already ended (a
  thread started and joined inside a call is counted).
* **Processes.** The tree's members are listed (``/proc``, by parent pid) when the sample
  starts and again when it ends. Honest code starts no process while being timed, and a
  child's time reaches its parent only at tick resolution (10 ms) when reaped, so the
  sample fails with the reason when the tree gained or lost a process, when any member's
  reaped-children counters (``cutime``, ``cstime``, ``cminflt``, ``cmajflt``) moved, or when
  a process left the tree (an orphan re-parented to the judge, a child subreaper, when
  there is no sandbox: bubblewrap's pid namespace keeps orphans inside). Such strays are
  killed before each sample, so none can work unseen between samples either. A child that
  the kernel reaps by itself (its parent ignores SIGCHLD or sets ``SA_NOCLDWAIT``) would
  reach no counter: the worker's seccomp filter refuses both
  (:mod:`autograder.grading.worker.seccomp`).
* **Arithmetic.** A window that measures negative, or more CPU time than its wall time
  times the CPUs there are (plus the kernel's accounting lag, below), fails the sample: the
  bookkeeping does not add up.

The kernel updates the runtime of a thread running on *another* CPU only at a scheduler tick
or switch (``thread_group_cputime``: "rely only on values updated on tick"), so a reading can
lag by up to one tick per CPU and the next window then shows that work at once: an honest
0.3 ms window once showed 1.9 ms on 2 CPUs (CI, 2026-12-05). The lag moves time between
adjacent windows, never loses it, and the arithmetic check allows it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass

from autograder.grading.processes import supervisor

CPUCLOCK_SCHED = 2  # linux/posix-timers.h: the scheduler's exact runtime, in ns
REAPED_FIELDS = (8, 10, 13, 14)  # cminflt, cmajflt, cutime, cstime (after the command name)
START_TIME_FIELD = 19  # tells a process apart from a later one with the same pid
CPUS = os.cpu_count() or 1
SLACK_NS = 1_000_000  # clock reads are not atomic with the wall clock around them
TICK_NS = 10_000_000  # the longest scheduler tick in use (HZ=100): a thread's unaccounted run
LAG_NS = CPUS * TICK_NS  # what a reading can miss: one tick on every CPU


def process_cpu_ns(pid: int) -> int | None:
    """CPU time of every thread ``pid`` ever had, live or exited; None when it is gone."""
    try:
        return time.clock_gettime_ns((~pid << 3) | CPUCLOCK_SCHED)
    except OSError:
        return None


class WindowError(Exception):
    """A timed sample whose CPU accounting cannot be trusted (the reason is the message)."""


@dataclass(frozen=True)
class Members:
    """The processes of a worker's tree, and what the kernel says they reaped."""

    identity: dict[int, bytes]  # pid -> start time
    reaped: dict[int, tuple[bytes, ...]]  # pid -> reaped-children counters
    strays: frozenset[int]  # the judge's own children that are no worker


def members(
    root: int, workers: frozenset[int], table: supervisor.ProcessTable | None = None
) -> Members:
    """``root``'s tree and the judge's children that are not ``workers``, from one scan of
    /proc (``table``, when the caller has just taken one)."""
    me = os.getpid()
    table = table or supervisor.process_table()
    stats = {pid: fields for pid, fields in table.stats.items() if len(fields) > START_TIME_FIELD}
    children = table.children
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            tree.append(pid)
            todo.extend(children.get(pid, ()))
    strays = frozenset(pid for pid in children.get(me, ()) if pid not in workers)
    return Members(
        identity={pid: stats[pid][START_TIME_FIELD] for pid in tree},
        reaped={pid: tuple(stats[pid][i] for i in REAPED_FIELDS) for pid in tree},
        strays=strays,
    )


def kill_and_reap(pids: frozenset[int]) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    for pid in pids:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, 0)


class TreeClock:
    """CPU nanoseconds of one worker's tree; :meth:`finish` says if the sample adds up."""

    def __init__(
        self,
        root: int,
        workers: frozenset[int],
        pids: tuple[int, ...] = (),
        table: supervisor.ProcessTable | None = None,
    ) -> None:
        """``pids``: a trusted worker's known processes (the reference's); no scans then.
        ``table``: a scan of /proc taken just before, used for the starting tree."""
        self.root, self.workers = root, workers
        self.start: Members | None = None
        if table is not None and root not in table.stats:
            table = None  # the worker was (re)started after the scan: it is no start to trust
        if not pids:
            start = members(root, workers, table)
            if start.strays:  # an orphan from an earlier call must not work during this one
                kill_and_reap(start.strays)
                start = members(root, workers)
            self.start, pids = start, tuple(start.identity)
        self.pids = pids
        self.readings: list[tuple[int, float, float]] = []  # (CPU ns, wall before, after)

    def read(self) -> int:
        """Total CPU ns of the tree's processes now (all their threads, ended ones too)."""
        opened = time.perf_counter()
        total = 0
        for pid in self.pids:
            value = process_cpu_ns(pid)
            if value is None:
                raise WindowError("a process of the worker ended during the timed sample")
            total += value
        self.readings.append((total, opened, time.perf_counter()))
        return total

    def finish(self) -> None:
        """Raise :class:`WindowError` unless the tree and every reading add up."""
        if self.start is not None:
            self._same_tree(self.start, members(self.root, self.workers))
        # each reading is bracketed by the wall clock before and after it, and a window is
        # compared with the widest wall time that can hold it: the judge descheduled while
        # it reads (a busy machine) cannot make an honest window look too long
        for (before, opened, _), (after, _, closed) in zip(
            self.readings, self.readings[1:], strict=False
        ):
            if after < before:
                raise WindowError("a CPU time window measured negative")
            if after - before > (closed - opened) * 1e9 * CPUS + LAG_NS + SLACK_NS:
                raise WindowError(
                    f"{(after - before) / 1e6:.1f} ms of CPU time in "
                    f"{(closed - opened) * 1e3:.1f} ms of wall time on {CPUS} CPUs"
                )

    @staticmethod
    def _same_tree(start: Members, end: Members) -> None:
        if end.strays - start.strays:
            kill_and_reap(end.strays)
            raise WindowError(
                "a process left the worker's process tree during the timed sample "
                "(its CPU time could not be counted)"
            )
        if end.identity != start.identity:
            raise WindowError("a process was started or ended in the worker during the sample")
        if end.reaped != start.reaped:
            raise WindowError(
                "a child process of the worker ran and ended during the timed sample "
                "(the kernel counts its time only to 10 ms)"
            )


class ThreadClock:
    """The same interface over this thread's CPU time (a worker answering in-process)."""

    def read(self) -> int:
        return time.thread_time_ns()

    def finish(self) -> None:
        return None
