"""A machine-wide lease per device: one timed measurement at a time on each device.

Any number of gradings may run on one machine (runner processes, ``regrade --jobs``): their
untimed work (imports, correctness checks, staging, plots) runs in parallel, but each holds
its device's lease, an exclusive ``fcntl.flock`` on one file per device
(``<dir>/autograder-lease-<device>.lock``), for every timed window on the CPU (the judge's
and the student's own timings) and, on CUDA, for the judge's whole run (student code of one
grading at a time on the GPU: the GPU verdicts use the wall clock, which a co-tenant's
kernels would blur). ``flock`` is released by the kernel when its holder exits or is
killed, so a crashed grading never leaves it held.

Only the judge takes a lease (trusted code; workers inherit no descriptor and, in
bubblewrap, cannot see the folder). Waiting is bounded: after ``wait_max_s`` the judge
measures without the lease, says so in the exercise's incidents, and takes no lease for the
rest of its run. A wait is announced to ``on_wait_start`` as it begins and its seconds to
``on_wait`` as it ends (the judge stops its time limits meanwhile: waiting for another
grading must not cost a student a timeout, however long the other grading's window).

Taken in: ``judge/timed.py`` ``run_timed`` around the ``run`` request and its two CPU
readings (the judge's timed window: the one place its measurements start and end; staging
and fetching a sample run in parallel with other gradings), around the student's own timed
calls in ``judge/checks/test_easy.py`` and ``judge/checks/test_hard.py``, and for a CUDA run
in ``judge/main.py`` ``main``.

Where: settings ``[lease]`` (``dir``, ``wait_max_s``); the environment variable
``AUTOGRADER_LEASE_DIR`` overrides ``dir``; ``off`` turns leasing off (docs/gpu-runner.md).
"""

from __future__ import annotations

import fcntl
import os
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

LEASE_DIR_VARIABLE = "AUTOGRADER_LEASE_DIR"
OFF = "off"
POLL_S = (0.001, 0.004)  # a waiter retries after a random pause in this range (no convoy)
FILE_MODE = 0o660  # the runner's user and group; never a sandboxed worker's uid


@dataclass(frozen=True)
class LeaseConfig:
    """Where the lock files are and how long to wait; ``names`` maps a device to its file."""

    directory: str = ""  # "" or "off": no leasing
    names: dict[str, str] = field(default_factory=lambda: {"cpu": "cpu", "cuda": "cuda"})
    wait_max_s: float = 900.0

    @property
    def enabled(self) -> bool:
        return self.directory not in ("", OFF)


@dataclass
class _State:
    config: LeaseConfig = field(default_factory=LeaseConfig)
    held: dict[str, tuple[int, int]] = field(default_factory=dict)  # device -> (fd, depth)
    waited_s: float = 0.0
    incidents: list[str] = field(default_factory=list)
    on_wait: Callable[[float], None] | None = None
    on_wait_start: Callable[[], None] | None = None


_STATE = _State()


def resolve_directory(from_settings: str, environ: Mapping[str, str] = os.environ) -> str:
    """The lease folder: ``$AUTOGRADER_LEASE_DIR`` if set, else the settings' ``dir``."""
    return environ.get(LEASE_DIR_VARIABLE, from_settings).strip()


def device_names(device: str) -> dict[str, str]:
    """Lock-file names per device kind; a CUDA device is named by its UUID when torch has one,
    so runners that see different GPUs (``CUDA_VISIBLE_DEVICES``) do not wait for each other."""
    names = {"cpu": "cpu", "cuda": "cuda"}
    if device == "cuda":
        import torch  # the grader's own torch; only on a CUDA run

        uuid = getattr(torch.cuda.get_device_properties(0), "uuid", None)
        if uuid is not None:
            names["cuda"] = "cuda-" + re.sub(r"[^A-Za-z0-9_.-]", "", str(uuid))[:64]
    return names


def configure(
    config: LeaseConfig,
    on_wait: Callable[[float], None] | None = None,
    *,
    on_wait_start: Callable[[], None] | None = None,
) -> None:
    """Set this process's lease settings (the judge does, from its job); forgets earlier
    waits and incidents. Leases held stay held until their blocks end."""
    _STATE.config = config
    _STATE.on_wait = on_wait
    _STATE.on_wait_start = on_wait_start
    _STATE.waited_s = 0.0
    _STATE.incidents = []


def incidents() -> list[str]:
    """What went wrong with leasing in this process (a wait that ran out)."""
    return list(_STATE.incidents)


def waited_seconds() -> float:
    """Seconds this process has waited for leases so far."""
    return _STATE.waited_s


def lease_path(device: str, config: LeaseConfig | None = None) -> Path:
    config = config or _STATE.config
    kind = "cuda" if device.startswith("cuda") else "cpu"
    return Path(config.directory) / f"autograder-lease-{config.names.get(kind, kind)}.lock"


def _open(path: Path) -> int:
    """The lock file, opened without following a link; created (group-shared) if missing.

    An existing file is opened without O_CREAT: in a sticky world-writable folder (/tmp)
    the kernel refuses O_CREAT on another user's file (fs.protected_regular).
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
    while True:
        try:
            return os.open(path, flags)
        except FileNotFoundError:
            pass
        try:
            fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError:
            continue  # another grading created it first
        os.fchmod(fd, FILE_MODE)  # whatever the umask took away
        return fd


def _acquire(device: str) -> int | None:
    """An fd holding ``device``'s lease, or None (leasing off, or the wait ran out)."""
    config = _STATE.config
    path = lease_path(device, config)
    try:
        fd = _open(path)
    except OSError as error:
        _give_up(f"device lease {path} cannot be opened ({error.strerror or error})")
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except BlockingIOError:
        pass
    with _waiting():
        started = time.monotonic()
        while time.monotonic() - started <= config.wait_max_s:
            time.sleep(random.uniform(*POLL_S))
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                continue
    os.close(fd)
    _give_up(
        f"device lease {path}: still held by another grading after "
        f"{config.wait_max_s:.0f} s; measured without it"
    )
    return None


@contextmanager
def _waiting() -> Iterator[None]:
    """A wait for the lease, announced as it begins and reported with its length as it
    ends (also a wait that runs out: the judge's limits move by it too)."""
    if _STATE.on_wait_start is not None:
        _STATE.on_wait_start()
    started = time.monotonic()
    try:
        yield
    finally:
        waited = time.monotonic() - started
        _STATE.waited_s += waited
        if _STATE.on_wait is not None:
            _STATE.on_wait(waited)


def _give_up(reason: str) -> None:
    """No more leasing in this process: one stuck holder must not stall every window."""
    _STATE.incidents.append(reason)
    _STATE.config = LeaseConfig(directory=OFF)


@contextmanager
def device_lease(device: str) -> Iterator[None]:
    """Hold ``device``'s machine-wide lease for the block (re-entrant within a process)."""
    kind = "cuda" if device.startswith("cuda") else "cpu"
    if kind in _STATE.held:
        fd, depth = _STATE.held[kind]
        _STATE.held[kind] = (fd, depth + 1)
    elif _STATE.config.enabled and (fd := _acquire(kind)) is not None:
        _STATE.held[kind] = (fd, 1)
    else:
        yield
        return
    try:
        yield
    finally:
        fd, depth = _STATE.held[kind]
        if depth > 1:
            _STATE.held[kind] = (fd, depth - 1)
        else:
            del _STATE.held[kind]
            os.close(fd)  # closing the only descriptor releases the flock
