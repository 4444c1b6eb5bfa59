"""Workers in bubblewrap: no network, no files but their own job folder and scratch, no peers.

SPEC ("Grading architecture") asks for a sandbox wherever the machine allows one. :func:`resolve`
decides once per process whether bubblewrap can start here (and says why not), and
:func:`worker_command` wraps one worker's argv. Runs in the grader and the judge, never in a
worker. The parts: :mod:`~autograder.grading.sandbox.probe` finds a bwrap that starts,
:mod:`~autograder.grading.sandbox.bwrap` builds its command line and mounts, and
:mod:`~autograder.grading.sandbox.nobody` runs workers as uid 65534 when the grader is root.
docs/sandbox.md lists what a worker sees and the threat model.

How the worker's host user is chosen (``probe.how_workers_start``):

* ``caller``: the grader is not root. The worker keeps the grader's host uid (uid 65534 inside);
  the pid namespace keeps it away from the grader's processes.
* ``nobody``: the grader is root. A ``preexec_fn`` drops to host uid/gid 65534 before exec'ing
  bwrap, which then runs unprivileged. Paths that uid cannot reach (the interpreter under
  /root, pytest's 0700 temp folders) are first bind-mounted, as root, onto empty folders in a
  private mount namespace of that one child, and bwrap binds them from there.
* ``root``: the grader is root and ``nobody`` cannot start. bwrap runs as host root with a user
  namespace (uid 65534 inside, no capabilities); the kernel then ignores RLIMIT_NPROC, so this
  is weaker, and ``reason`` says so.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from autograder.grading.sandbox import probe
from autograder.grading.sandbox.bwrap import JOB_MOUNT, SandboxUnavailable, bwrap_command
from autograder.grading.sandbox.nobody import NOBODY, open_to_others, unconfined_user

__all__ = ["Sandbox", "SandboxUnavailable", "resolve", "worker_command", "worker_job_dir"]


@dataclass(frozen=True)
class Sandbox:
    """What workers run in, and why: ``to_json`` is SPEC's ``extra_data.sandbox``."""

    kind: str  # "bubblewrap" or "none"
    reason: str  # always filled: the bwrap used and how, or why there is none
    bwrap: str | None = None  # absolute path of the bwrap binary used
    run_as: str | None = None  # "caller" | "nobody" | "root": how the probe started workers

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "reason": self.reason}


def resolve(mode: str) -> Sandbox:
    """mode is "auto" | "bubblewrap" | "none". The probe runs once per process (cached).

    auto: bubblewrap when the probe works, else none with the reason. bubblewrap: raise
    SandboxUnavailable when it cannot start. none: no sandbox. Unknown mode: ValueError.
    """
    if mode == "none":
        return Sandbox("none", "--sandbox none was asked for" + unconfined_user()[1])
    if mode not in ("auto", "bubblewrap"):
        raise ValueError(f"unknown sandbox {mode!r}: use auto, bubblewrap or none")
    found, why, fix = probe.probe()
    if found is not None:
        return Sandbox("bubblewrap", found.reason, found.path, found.run_as)
    if mode == "auto":
        return Sandbox("none", f"auto: bwrap cannot start: {why}" + unconfined_user()[1])
    raise SandboxUnavailable(
        f"--sandbox bubblewrap: bwrap cannot start here ({why}); {fix}, "
        "or grade with --sandbox none (docs/sandbox.md)"
    )


def worker_command(
    sandbox: Sandbox,
    argv: list[str],
    *,
    job_dir: Path,
    device: str,
    env: dict[str, str],
    scratch_mib: int = 256,
) -> tuple[list[str], dict[str, str], Path | None, Callable[[], None] | None]:
    """Returns (argv to exec, env for Popen, cwd for Popen, preexec_fn or None).

    For kind "bubblewrap": argv wrapped in bwrap; inside, job_dir is visible read-only at /job,
    /tmp is a private size-limited tmpfs (scratch_mib) and the cwd and HOME, env is exactly
    `env` (with HOME=/tmp, TMPDIR=/tmp added; bwrap adds PWD=/tmp) and nothing else of the
    caller's environment; cwd is None (the worker's cwd is inside). For kind "none": argv
    unchanged, env with HOME and TMPDIR pointing at cwd, a fresh host temp folder the caller
    removes later. Call the returned preexec_fn from your own, after your limits.
    """
    if sandbox.kind == "none":
        scratch = Path(tempfile.mkdtemp(prefix="worker-scratch-"))
        drop, _ = unconfined_user()
        if drop is not None:  # root without a sandbox: the worker runs as uid 65534
            os.chown(scratch, NOBODY, NOBODY)
            open_to_others(job_dir)
        env = {**env, "HOME": str(scratch), "TMPDIR": str(scratch)}
        return list(argv), env, scratch, drop
    if sandbox.kind != "bubblewrap" or not sandbox.bwrap:
        raise ValueError(f"unknown sandbox {sandbox!r}")
    run_as, why = probe.how_workers_start(sandbox.bwrap)
    if not run_as:
        raise SandboxUnavailable(f"bwrap stopped working in this process: {why}")
    if sandbox.run_as and run_as != sandbox.run_as:  # never confined otherwise than reported
        raise SandboxUnavailable(
            f"workers would start as {run_as!r} here, not {sandbox.run_as!r} as the grader "
            f"probed and reported ({why})"
        )
    return bwrap_command(sandbox.bwrap, run_as, argv, job_dir, device, env, scratch_mib)


def worker_job_dir(sandbox: Sandbox, job_dir: Path) -> Path:
    """Where the worker sees ``job_dir``: /job in bubblewrap, the host path without a sandbox."""
    return JOB_MOUNT if sandbox.kind == "bubblewrap" else job_dir
