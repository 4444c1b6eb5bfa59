"""Process primitives for the grader and the judge: limits, watchdogs, reaping, CPU time, logs.

Runs in trusted processes only (``grade`` and each judge). Nothing here reads
what a worker says; it reads the kernel's view of the worker's processes.
"""

from __future__ import annotations

import contextlib
import functools
import os
import resource
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

PASSED_THROUGH_ENV = (
    "PATH",
    "LANG",
    "LC_ALL",
    "CUDA_VISIBLE_DEVICES",
    "NVIDIA_VISIBLE_DEVICES",
    "LD_LIBRARY_PATH",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
)
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> bool:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def become_subreaper() -> bool:
    """Orphans of our children are reparented here, so none can outlive grading."""
    return _prctl(PR_SET_CHILD_SUBREAPER, 1)


def make_non_dumpable() -> bool:
    """A same-user worker can then neither ptrace this process nor read its memory or environ."""
    return _prctl(PR_SET_DUMPABLE, 0)


def scrubbed_env(**extra: str) -> dict[str, str]:
    """The few variables a grading process keeps from ours, plus ``extra``.

    One CPU thread each: a thread pool waking on a busy machine made CPU reductions up to
    20x slower at random, which no tolerance can absorb fairly.
    """
    env = {key: os.environ[key] for key in PASSED_THROUGH_ENV if key in os.environ}
    env.setdefault("PATH", "/usr/bin:/bin")
    env.update(
        MPLBACKEND="Agg",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONFAULTHANDLER="1",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
    )
    env.update(extra)
    return env


def worker_limits(
    memory_bytes: int | None, file_bytes: int, processes: int | None = None
) -> Callable[[], None]:
    """A preexec function: address space (CPU runs), file size, no core dumps."""

    def apply() -> None:
        if memory_bytes is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if processes is not None:
            resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write fails, not kills

    return apply


def proc_stat_fields(pid: int) -> list[bytes] | None:
    """/proc/<pid>/stat after the command name (index 0: state, 1: parent pid, 11: utime...);
    None for a process that is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None


def all_pids() -> Iterable[int]:
    """Every process id this process can see in /proc."""
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            yield int(entry.name)


@dataclass(frozen=True)
class ProcessTable:
    """One reading of a process tree: each process's stat fields and its children by parent pid.

    A timed sample takes one and uses it both to pause the other workers and to list the
    timed worker's tree."""

    stats: dict[int, list[bytes]]
    children: dict[int, list[int]]


@functools.cache
def _children_lists() -> bool:
    """Whether the kernel lists each thread's children (``/proc/<pid>/task/<tid>/children``,
    CONFIG_PROC_CHILDREN): then a tree is read in its own few files."""
    me = os.getpid()
    try:
        with open(f"/proc/{me}/task/{me}/children", "rb"):
            return True
    except OSError:
        return False


def _child_pids(pid: int) -> list[int]:
    """``pid``'s children from each of its threads' lists (a child is listed under the thread
    that started it); [] for a process that is gone. ``PermissionError`` where they cannot
    be read."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except PermissionError:
        raise
    except OSError:  # gone, or going (ENOENT, ESRCH): a tree may change while it is read
        return []
    found: list[int] = []
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as listing:
                found += map(int, listing.read().split())
        except PermissionError:
            raise
        except OSError:  # a thread that ended meanwhile
            continue
    return found


def _scan_all() -> ProcessTable:
    stats: dict[int, list[bytes]] = {}
    children: dict[int, list[int]] = {}
    for pid in all_pids():
        fields = proc_stat_fields(pid)
        if fields:
            stats[pid] = fields
            children.setdefault(int(fields[1]), []).append(pid)
    return ProcessTable(stats, children)


NUM_THREADS_FIELD = 17  # in proc_stat_fields
# threads whose children lists one reading of a tree may open (about 25 us each) before it
# scans /proc instead, whose cost does not grow with threads: a worker's idle threads (2,000
# made a reading 52 ms against 5 ms for the scan; red team 2026-12-05) must not slow every
# timed sample of the grading
WALK_THREADS_MAX = 256


def process_table(root: int | None = None) -> ProcessTable:
    """``root`` (this process by default) and every process below it.

    Read from the kernel's children lists: about 0.1 ms for a judge and its workers, where a
    scan of every stat file in /proc took 1 ms on a quiet 70-process VM, twice per timed
    sample, and grows with whatever else the machine runs. Without those lists (or without
    the right to read them), or for a tree of more than :data:`WALK_THREADS_MAX` threads, it
    scans all of /proc. Either reading races with a process started while it is taken; the
    timed sample compares the tree at its start and its end.
    """
    root = os.getpid() if root is None else root
    if not _children_lists():
        return _scan_all()
    stats: dict[int, list[bytes]] = {}
    children: dict[int, list[int]] = {}
    todo = [root]
    threads = 0
    try:
        while todo:
            pid = todo.pop()
            fields = proc_stat_fields(pid)
            if not fields or pid in stats:
                continue
            stats[pid] = fields
            threads += int(fields[NUM_THREADS_FIELD])
            if threads > WALK_THREADS_MAX:
                return _scan_all()
            below = _child_pids(pid)
            if below:
                children[pid] = below
                todo += below
    except (PermissionError, ValueError, IndexError):
        return _scan_all()
    return ProcessTable(stats, children)


def descendants(root: int, table: ProcessTable | None = None) -> list[int]:
    """``root`` and every process below it (by parent pid), from /proc (or ``table``)."""
    children = (table or process_table(root)).children
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def tree_cpu_seconds(root: int) -> float:
    """CPU time of ``root`` and its descendants: every thread, ended ones too, and reaped
    children.

    Each process is read through the kernel's per-process CPU clock (ns, over all the
    threads it ever had); children that ended and were waited for count through their
    parent's ``cutime`` and ``cstime`` (clock ticks). Timed samples use the stricter
    :class:`autograder.grading.judge.cpu_window.TreeClock`.
    """
    total = 0
    ticks = os.sysconf("SC_CLK_TCK")
    for pid in descendants(root):
        fields = proc_stat_fields(pid)
        if fields:
            with contextlib.suppress(IndexError, ValueError):
                total += (int(fields[13]) + int(fields[14])) * 10**9 // ticks
        with contextlib.suppress(OSError):
            total += time.clock_gettime_ns((~pid << 3) | 2)  # MAKE_PROCESS_CPUCLOCK, SCHED
    return total / 1e9


def tree_rss_bytes(root: int) -> int:
    """Resident memory of ``root`` and its descendants."""
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    for pid in descendants(root):
        fields = proc_stat_fields(pid)
        if fields:
            with contextlib.suppress(IndexError, ValueError):
                total += int(fields[21]) * page
    return total


def signal_pids(pids: Iterable[int], signum: int) -> None:
    """Send ``signum`` to each of ``pids`` (one already gone is skipped)."""
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signum)


def signal_tree(root: int, signum: int, table: ProcessTable | None = None) -> list[int]:
    """Send ``signum`` to ``root``'s tree (as listed in ``table``, else now); the pids sent to."""
    pids = descendants(root, table)
    signal_pids(pids, signum)
    return pids


def kill_tree(root: int) -> None:
    """SIGKILL ``root``, its process group and everything below it."""
    pids = descendants(root)
    with contextlib.suppress(OSError):
        os.killpg(root, signal.SIGKILL)
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def has_exited(pid: int) -> bool:
    """Whether our child ``pid`` has ended, without reaping it: until the caller waits, the
    pid stays reserved (a zombie), so killing by that pid cannot reach a newer process."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # already reaped
        return True


def kill_child_tree(process: subprocess.Popen) -> None:
    """:func:`kill_tree` for a child we started, only while its pid is still ours. Once it has
    been reaped (``returncode`` set) the pid may name any newer process of the machine, and
    what it left behind is re-parented to us (the subreaper) and killed as a stray."""
    if process.returncode is None:
        kill_tree(process.pid)


def kill_strays(keep: Iterable[int] = ()) -> list[int]:
    """Kill our children other than ``keep``: orphans reparented here by the subreaper."""
    me, keep = os.getpid(), set(keep)
    killed = []
    for pid in process_table(me).children.get(me, ()):
        if pid not in keep:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
    for pid in killed:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, 0)
    return killed


def exit_reason(returncode: int | None) -> str:
    """A student-facing sentence for how a process ended."""
    if returncode is None:
        return "the process stopped answering"
    if returncode < 0:
        name = signal.Signals(-returncode).name
        hint = " (out of memory?)" if -returncode == signal.SIGKILL else ""
        return f"the process was killed by {name}{hint}"
    return f"the process exited early with status {returncode} (sys.exit or os._exit?)"


def read_log_tail(path: Path, limit: int, offset: int = 0) -> str:
    """What a process wrote to ``path`` after byte ``offset``: the last ``limit`` bytes at most,
    after a ``[... N bytes cut]`` line when some were cut; "" when there is nothing (or no file).
    """
    try:
        size = path.stat().st_size
    except OSError:
        return ""
    if size <= offset:
        return ""
    start = max(offset, size - limit)
    with path.open("rb") as handle:
        handle.seek(start)
        text = handle.read(size - start).decode(errors="replace")
    return (f"[... {start - offset} bytes cut]\n" if start > offset else "") + text
