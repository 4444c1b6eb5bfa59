"""The bwrap command line of one worker: namespaces, mounts, environment, process limit.

Runs in the grader and the judge (never in a worker). :func:`bwrap_command` wraps a worker's
argv for one bwrap binary and one way of starting it (``run_as``, chosen by
:mod:`autograder.grading.sandbox.probe`). docs/sandbox.md lists what a worker sees and the
threat model; every path and flag below is there for a reason given in that file.

RLIMIT_NPROC is set inside the sandbox (``prlimit`` before the worker), not in ``preexec_fn``:
measured here, a limit set on bwrap itself counts every process of the host uid (other
workers included), while one set inside the new user namespace counts that sandbox only.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from autograder.grading.sandbox.nobody import (
    NOBODY,
    SCRATCH,
    drop_to_nobody,
    nobody_exec_path,
    open_to_others,
    reachable,
    stage_point,
    stage_root,
)

JOB_MOUNT = Path("/job")  # where the worker sees ``job_dir``
MAX_PROCESSES = max(256, 8 * (os.cpu_count() or 1))  # threads count too: torch pools per core
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")  # as the host has
# /etc, read-only and only these: ld.so.cache for dlopen (libcuda, libgomp); fonts for fc-list,
# which matplotlib runs to find system fonts. passwd and group are synthetic (one line each).
ETC_PATHS = ("/etc/ld.so.cache", "/etc/fonts")
# CUDA: device nodes bound with --dev-bind when they exist (names under /dev; globs allowed),
# and read-only paths the driver reads. /proc/driver/nvidia comes with the sandbox's own /proc;
# driver libraries under /usr (incl. /usr/local/nvidia, /usr/local/cuda) come with /usr.
NVIDIA_DEVICES = (
    "nvidiactl",
    "nvidia[0-9]*",
    "nvidia-uvm",
    "nvidia-uvm-tools",
    "nvidia-modeset",
    "nvidia-caps",
)
CUDA_RO_PATHS = ("/sys",)
GRADER_PACKAGES = ("autograder", "reference")  # hidden from workers when inside a bound prefix
DEV_DIR = Path("/dev")
PRLIMIT = "/usr/bin/prlimit"  # util-linux; a python -S trampoline sets the limit without it
PROBE_TIMEOUT_S = 30.0

_NAMESPACES = (
    "--unshare-user",
    "--unshare-pid",
    "--unshare-net",  # a fresh network namespace: loopback only
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
)
_SET_NPROC = (  # the trampoline used where prlimit is missing: set the limit, exec the worker
    "import os, resource, sys; n = int(sys.argv[1]); "
    "resource.setrlimit(resource.RLIMIT_NPROC, (n, n)); os.execv(sys.argv[2], sys.argv[2:])"
)


class SandboxUnavailable(Exception):
    """`--sandbox bubblewrap` where bwrap cannot start: the message is one line naming the fix."""


@functools.cache
def bwrap_features(bwrap: str) -> tuple[str, bool, bool]:
    """(version line, supports --size, supports --disable-userns), asked as the worker's user."""
    preexec = None
    if os.geteuid() == 0:
        bwrap, staged = nobody_exec_path(bwrap)
        preexec = drop_to_nobody(staged)
    try:
        version = _output([bwrap, "--version"], preexec)
        usage = _output([bwrap, "--help"], preexec)
    except (OSError, subprocess.SubprocessError):
        return "", False, False
    return version.strip(), "--size" in usage, "--disable-userns" in usage


def _output(argv: list[str], preexec: Callable[[], None] | None) -> str:
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=PROBE_TIMEOUT_S,
        env={},
        preexec_fn=preexec,
        check=True,
    )
    return done.stdout


def bwrap_command(
    bwrap: str,
    run_as: str,
    argv: list[str],
    job_dir: Path,
    device: str,
    env: dict[str, str],
    scratch_mib: int,
) -> tuple[list[str], dict[str, str], None, Callable[[], None] | None]:
    """(argv to exec, env for Popen, cwd None, preexec_fn or None) for ``argv`` in bwrap."""
    staged: list[tuple[str, str]] = []  # (host path, mount point) for the nobody preexec

    def source(path: str) -> str:
        """The host path bwrap binds from: staged where host uid 65534 cannot reach it."""
        real = os.path.realpath(path)
        if run_as != "nobody" or reachable(real):
            return real
        point = stage_point(real)
        staged.append((real, point))
        return point

    _, _, disable_userns = bwrap_features(bwrap)
    if run_as == "nobody":
        open_to_others(job_dir)
        bwrap, staged_exec = nobody_exec_path(bwrap)
        staged.extend(staged_exec)
    stage = stage_root()
    args = [bwrap, *_NAMESPACES]
    if disable_userns:
        args.append("--disable-userns")  # no nested user namespaces: less kernel to attack
    args += ["--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    args += ["--uid", str(NOBODY), "--gid", str(NOBODY), "--hostname", "grading-worker"]
    args.append("--clearenv")
    for key, value in {**env, "HOME": SCRATCH, "TMPDIR": SCRATCH}.items():
        args += ["--setenv", key, value]
    # the scratch tmpfs first: bwrap mounts in order, so a runtime that lives under /tmp (a
    # clone checked out there, its .venv) is bound on top of it instead of hidden by it
    args += ["--size", str(scratch_mib * 2**20), "--tmpfs", SCRATCH]
    for path in SYSTEM_PATHS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", source(path), path]
    for path in ETC_PATHS:
        if os.path.exists(path):
            args += ["--ro-bind", source(path), path]
    args += ["--ro-bind", source(str(stage / "passwd")), "/etc/passwd"]
    args += ["--ro-bind", source(str(stage / "group")), "/etc/group"]
    prefixes = runtime_prefixes()
    for path in prefixes:
        args += ["--ro-bind", source(path), path]
    for path in grader_packages(prefixes):
        args += ["--ro-bind", source(str(stage / "empty")), path]
    args += ["--ro-bind", source(str(job_dir)), str(JOB_MOUNT)]
    args += ["--proc", "/proc", "--dev", "/dev"]
    if device.startswith("cuda"):
        for node in nvidia_device_nodes():
            args += ["--dev-bind", str(DEV_DIR / node), f"/dev/{node}"]
        for path in CUDA_RO_PATHS:
            if os.path.exists(path):
                args += ["--ro-bind", path, path]
    args += ["--remount-ro", "/dev"]  # bwrap's /dev is a writable tmpfs with no size limit
    args += ["--remount-ro", "/"]  # so is the root it builds: nothing writable but /tmp
    args += ["--chdir", SCRATCH, "--"]
    if os.path.exists(PRLIMIT):
        args += [PRLIMIT, f"--nproc={MAX_PROCESSES}", "--"]
    else:
        args += [sys.executable, "-I", "-S", "-c", _SET_NPROC, str(MAX_PROCESSES)]
    args += argv
    preexec = drop_to_nobody(staged) if run_as == "nobody" else None
    return args, {"PATH": "/usr/bin:/bin"}, None, preexec


def nvidia_device_nodes() -> list[str]:
    """The NVIDIA device nodes (names under DEV_DIR) that exist here, in NVIDIA_DEVICES order."""
    found: list[str] = []
    for pattern in NVIDIA_DEVICES:
        for path in sorted(DEV_DIR.glob(pattern)):
            if path.name not in found:
                found.append(path.name)
    return found


def runtime_prefixes() -> list[str]:
    """The interpreter (sys.base_prefix) and the venv (sys.prefix), never a folder above them."""
    found: list[str] = []
    for path in (sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix):
        path = os.path.abspath(path)
        if os.path.realpath(path) == "/":
            raise SandboxUnavailable(f"refusing to bind {path} (the whole file system)")
        if any(is_under(path, p) for p in (*SYSTEM_PATHS, *found)):
            continue
        found = [p for p in found if not is_under(p, path)] + [path]
    return found


def grader_packages(prefixes: list[str]) -> list[str]:
    """The grader's own installed packages inside a bound prefix: covered by an empty folder."""
    found = []
    for name in GRADER_PACKAGES:
        spec = importlib.util.find_spec(name)
        for location in (spec.submodule_search_locations or []) if spec else []:
            if any(is_under(location, p) for p in prefixes):
                found.append(location)
    return found


def is_under(path: str, folder: str) -> bool:
    """``path`` is ``folder`` or inside it (as strings: neither needs to exist)."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")
