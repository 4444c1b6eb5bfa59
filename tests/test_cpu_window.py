"""The timed window's CPU clock counts every thread, live or exited, and a sample in which a
process starts, ends or leaves the tree, or whose readings do not add up, fails with why."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from autograder.grading.judge import cpu_window
from autograder.grading.judge.cpu_window import TreeClock, WindowError

# a stand-in worker: reads one command per line, does it, answers "ok"
WORKER = textwrap.dedent(
    """
    import os, sys, threading

    def spin(n):
        total = 0
        for i in range(n):
            total += i

    for line in sys.stdin:
        what = line.strip()
        if what == "thread":
            threads = [threading.Thread(target=spin, args=(400_000,)) for _ in range(3)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        elif what == "inline":
            spin(1_200_000)
        elif what == "fork":
            pid = os.fork()
            if pid == 0:
                spin(10_000)
                os._exit(0)
            os.waitpid(pid, 0)
        elif what == "orphan":
            if os.fork() == 0:
                if os.fork() == 0:
                    spin(10_000)
                    import time
                    time.sleep(30)
                os._exit(0)
            os.wait()
        print("ok", flush=True)
    """
)


@pytest.fixture
def worker():
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    yield process
    process.kill()
    process.wait()


def ask(process, what: str) -> None:
    process.stdin.write(what + "\n")
    process.stdin.flush()
    assert process.stdout.readline().strip() == "ok"


def window(process, what: str) -> int:
    clock = TreeClock(process.pid, frozenset({process.pid}))
    before = clock.read()
    ask(process, what)
    after = clock.read()
    clock.finish()
    return after - before


def test_a_scan_taken_before_the_worker_started_is_not_its_starting_tree(worker):
    """A timed sample scans /proc once, then asks for the worker's clock; a worker restarted
    in between (after a crash) is missing from that scan. Its tree is scanned afresh, so an
    honest sample is not failed for a process that 'started' during it..."""
    from autograder.grading.processes import supervisor

    stale = supervisor.ProcessTable({}, {})
    clock = TreeClock(worker.pid, frozenset({worker.pid}), table=stale)
    assert clock.start is not None and worker.pid in clock.start.identity
    clock.read()
    ask(worker, "inline")
    clock.read()
    clock.finish()
    # ...while a scan that has the worker is used as it is
    current = supervisor.process_table()
    assert TreeClock(worker.pid, frozenset({worker.pid}), table=current).pids == (worker.pid,)


def test_threads_that_ended_inside_the_window_are_counted(worker):
    ask(worker, "inline")  # warm up
    inline = window(worker, "inline")
    threaded = window(worker, "thread")
    # the same work in three threads started and joined in the call: counted, not lost
    assert threaded > 0.5 * inline, (threaded, inline)


def test_a_child_process_reaped_inside_the_window_fails_the_sample(worker):
    with pytest.raises(WindowError, match="child process"):
        window(worker, "fork")


def test_a_process_that_leaves_the_tree_fails_the_sample_and_is_killed(worker):
    # this test process plays the judge: make it a subreaper, as the judge is
    from autograder.grading.processes import supervisor

    assert supervisor.become_subreaper()  # Linux >= 3.4, which grading itself needs
    try:
        with pytest.raises(WindowError, match="left the worker's process tree"):
            window(worker, "orphan")
        strays = cpu_window.members(worker.pid, frozenset({worker.pid})).strays
        assert not strays
    finally:
        supervisor._prctl(supervisor.PR_SET_CHILD_SUBREAPER, 0)


def test_readings_that_do_not_add_up_fail():
    clock = TreeClock(os.getpid(), frozenset(), pids=(os.getpid(),))
    clock.readings = [(5_000_000, 1.0, 1.0), (4_000_000, 1.1, 1.1)]
    with pytest.raises(WindowError, match="negative"):
        clock.finish()
    clock.readings = [(0, 1.0, 1.0), (int(10e9) * cpu_window.CPUS, 1.001, 1.001)]
    with pytest.raises(WindowError, match="of wall time"):
        clock.finish()


def test_a_window_is_held_to_the_widest_wall_time_around_its_readings():
    """The judge descheduled between reading the clock and the wall clock (a busy machine)
    while the worker still works: the window is compared with the wall time from before
    the first reading to after the last, so honest work is not called impossible..."""
    clock = TreeClock(os.getpid(), frozenset(), pids=(os.getpid(),))
    cpu_ns = int(0.050e9) * cpu_window.CPUS  # all CPUs busy for 50 ms
    clock.readings = [(0, 1.000, 1.040), (cpu_ns, 1.045, 1.050)]
    clock.finish()
    # ...while CPU time beyond that widest span and the kernel's lag still fails
    beyond = cpu_ns + cpu_window.LAG_NS + cpu_window.SLACK_NS + 1_000
    clock.readings = [(0, 1.000, 1.040), (beyond, 1.045, 1.050)]
    with pytest.raises(WindowError, match="of wall time"):
        clock.finish()


def test_a_window_may_show_work_the_previous_reading_had_not_yet_seen():
    """The kernel accounts a thread running on another CPU at its next tick, so a short
    honest window can show up to a tick per CPU more than its wall time allows (CI,
    2026-12-05: 1.9 ms of CPU in 0.3 ms on 2 CPUs failed the reference solution)."""
    clock = TreeClock(os.getpid(), frozenset(), pids=(os.getpid(),))
    wall_ns = 300_000
    lagged = wall_ns * cpu_window.CPUS + cpu_window.LAG_NS
    clock.readings = [(0, 1.0, 1.0), (lagged, 1.0 + wall_ns / 1e9, 1.0 + wall_ns / 1e9)]
    clock.finish()
    assert cpu_window.LAG_NS >= cpu_window.CPUS * 4_000_000  # at least a tick at HZ=250


def test_the_process_clock_of_a_gone_process_is_none():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert cpu_window.process_cpu_ns(child.pid) is None
    assert cpu_window.process_cpu_ns(os.getpid()) > 0
