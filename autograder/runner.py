"""Run one exercise's checks in an isolated child process and collect every verdict.

Isolation, from the outside in:

* a fresh sandbox folder holds only the exercise module copied from the
  submission, plus copies of the grader's own packages; nothing else the
  submission ships (conftest.py, pytest.ini, sitecustomize.py, ...) is copied;
* the child is ``python -I`` (no PYTHON* variables, no user site, no current
  folder on the path) with a scrubbed environment, its own session and process
  group, limits on address space (CPU runs), file size and core dumps, and a
  watchdog on resident memory, per-check and per-exercise wall time;
* results come back over a signed pipe, never through stdout;
* when the child dies or is killed, the check it was running fails with the
  reason, and a new child grades the checks that remain.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder import channel
from autograder.registry import CHECKS_BY_ID, EXERCISES
from autograder.settings import Settings, settings_to_dict

TRUSTED_PACKAGES = ("autograder", "reference")
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
POLL_SECONDS = 0.1


@dataclass
class ExerciseOutcome:
    """Everything one exercise's grading produced, as plain data."""

    exercise: str
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    incidents: list[str] = field(default_factory=list)
    integrity_changes: list[str] = field(default_factory=list)
    output_tail: str = ""
    wall_seconds: float = 0.0
    runs: int = 0
    artifacts: list[Path] = field(default_factory=list)
    sandbox: Path | None = None  # the caller copies artifacts out, then removes it


def prepare_sandbox(submission_dir: Path, exercise: str) -> tuple[Path, list[str]]:
    """A fresh folder with the exercise module (if a regular file) and the grader's packages."""
    sandbox = Path(tempfile.mkdtemp(prefix=f"grade-{exercise}-"))
    notes = []
    for sub in ("submission", "trusted", "artifacts", "home", "tmp"):
        (sandbox / sub).mkdir()
    name = f"{EXERCISES[exercise]}.py"
    source = submission_dir / name
    if source.is_symlink():
        notes.append(f"{name} is a symbolic link; only regular files are graded")
    elif source.is_file():
        shutil.copyfile(source, sandbox / "submission" / name)
    here = Path(__file__).resolve().parent.parent
    for package in TRUSTED_PACKAGES:
        shutil.copytree(
            here / package,
            sandbox / "trusted" / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
    return sandbox, notes


def _child_env(sandbox: Path) -> dict[str, str]:
    env = {key: os.environ[key] for key in PASSED_THROUGH_ENV if key in os.environ}
    env.update(
        HOME=str(sandbox / "home"),
        TMPDIR=str(sandbox / "tmp"),
        MPLBACKEND="Agg",
        MPLCONFIGDIR=str(sandbox / "home"),
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONFAULTHANDLER="1",
        # one CPU thread per child: a thread pool waking on a busy machine made CPU
        # reductions up to 20x slower at random, which no tolerance can absorb fairly
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
    )
    env.setdefault("PATH", "/usr/bin:/bin")
    return env


def _limit_child(memory_bytes: int | None, file_bytes: int) -> None:
    """Runs in the child between fork and exec."""
    if memory_bytes is not None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write fails instead of killing


def _group_rss_bytes(pgid: int) -> int:
    """Resident memory of every process in the process group."""
    total = 0
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
            if int(fields[2]) == pgid:
                total += int(fields[21]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total


def kill_strays() -> list[int]:
    """Kill processes a submission left behind.

    The grader is a child subreaper (:func:`become_subreaper`), so a process a
    submission started, even in a new session, is reparented here when its
    parent dies. Grading children are reaped before this runs, so any child of
    this process that is still alive is such a stray.
    """
    me = os.getpid()
    killed = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                parent = int(stat.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == me:
            with contextlib.suppress(OSError):
                os.kill(int(entry.name), signal.SIGKILL)
                killed.append(int(entry.name))
    for pid in killed:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, 0)
    return killed


def become_subreaper() -> bool:
    """Orphans of grading children are reparented here, so none can outlive grading."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def run_exercise(
    *,
    exercise: str,
    check_ids: list[str],
    submission_dir: Path,
    device: str,
    seed: int,
    settings: Settings,
    progress: Any = None,
) -> ExerciseOutcome:
    """Grade ``check_ids`` of one exercise; every id gets a result, whatever the child does."""
    outcome = ExerciseOutcome(exercise=exercise)
    sandbox, notes = prepare_sandbox(submission_dir, exercise)
    outcome.incidents.extend(notes)
    limits = settings.limits
    deadline = time.monotonic() + limits.exercise_timeout_s
    started = time.monotonic()
    remaining = list(check_ids)
    try:
        while remaining:
            if time.monotonic() >= deadline:
                for check_id in remaining:
                    outcome.results[check_id] = _failed(
                        f"not run: the exercise's time limit ({limits.exercise_timeout_s:.0f} s) "
                        "was used up by earlier checks"
                    )
                break
            outcome.runs += 1
            _run_child(outcome, sandbox, remaining, device, seed, settings, deadline, progress)
            remaining = [c for c in check_ids if c not in outcome.results]
        output = sandbox / "output.log"
        if output.exists():
            outcome.output_tail = _tail(output, limits.output_limit_kib * 1024)
        for artifact in sorted((sandbox / "artifacts").glob("*.png")):
            outcome.artifacts.append(artifact)
        outcome.wall_seconds = time.monotonic() - started
        return outcome
    finally:
        kill_strays()
        outcome.sandbox = sandbox


def _failed(message: str) -> dict[str, Any]:
    return {"status": "failed", "output": message}


def _tail(path: Path, limit: int) -> str:
    size = path.stat().st_size
    with path.open("rb") as handle:
        if size > limit:
            handle.seek(size - limit)
        text = handle.read().decode(errors="replace")
    return (f"[... {size - limit} bytes cut]\n" if size > limit else "") + text


def _run_child(
    outcome: ExerciseOutcome,
    sandbox: Path,
    check_ids: list[str],
    device: str,
    seed: int,
    settings: Settings,
    deadline: float,
    progress: Any,
) -> None:
    limits = settings.limits
    key = secrets.token_bytes(32)
    read_fd, write_fd = os.pipe()
    job = {
        "key": key.hex(),
        "exercise": outcome.exercise,
        "check_ids": check_ids,
        "seed": seed,
        "device": device,
        "settings": settings_to_dict(settings),
        "trusted_dir": str(sandbox / "trusted"),
        "sandbox_dir": str(sandbox),
        "submission_dir": str(sandbox / "submission"),
        "artifacts_dir": str(sandbox / "artifacts"),
        "pipe_fd": write_fd,
    }
    boot = (
        f"import sys; sys.path.insert(0, {str(sandbox / 'trusted')!r}); "
        "from autograder.child import main; main()"
    )
    memory = limits.memory_mib * 2**20
    with open(sandbox / "output.log", "ab") as log:
        child = subprocess.Popen(
            [sys.executable, "-I", "-c", boot],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=sandbox / "submission",
            env=_child_env(sandbox),
            pass_fds=(write_fd,),
            start_new_session=True,
            preexec_fn=lambda: _limit_child(
                None if device.startswith("cuda") else memory, limits.file_size_mib * 2**20
            ),
        )
    os.close(write_fd)
    child.stdin.write((json.dumps(job) + "\n").encode())
    child.stdin.close()

    current: str | None = None
    current_since = time.monotonic()
    importing_since: float | None = None
    kill_reason: str | None = None
    buffer = b""
    done = False
    selector = selectors.DefaultSelector()
    selector.register(read_fd, selectors.EVENT_READ)
    try:
        while True:
            eof = False
            for _ in selector.select(timeout=POLL_SECONDS):
                chunk = os.read(read_fd, 65536)
                if not chunk:
                    eof = True
                buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                message = channel.verify(key, line + b"\n")
                if message is None:
                    outcome.incidents.append("an unsigned message on the results pipe was ignored")
                    continue
                event = message.get("event")
                if event == "start":
                    current, current_since = message["id"], time.monotonic()
                    if progress:
                        progress(f"  {current} ...")
                elif event == "import":
                    importing_since = time.monotonic() if message.get("phase") == "start" else None
                elif event == "result":
                    check_id = message.pop("id")
                    message.pop("event")
                    if check_id in check_ids and check_id not in outcome.results:
                        outcome.results[check_id] = message
                    current = None
                elif event == "integrity":
                    outcome.integrity_changes.extend(message.get("changes", []))
                elif event == "done":
                    done = True
            now = time.monotonic()
            if current is not None:
                allowed = (
                    CHECKS_BY_ID[current].timeout * limits.timeout_scale + limits.check_grace_s
                )
                if now - current_since > allowed:
                    kill_reason = f"timed out after {allowed:.0f} s (the process was killed)"
            if importing_since is not None and now - importing_since > limits.import_timeout_s:
                kill_reason = (
                    f"importing the module did not finish within {limits.import_timeout_s:.0f} s"
                )
            if now > deadline:
                kill_reason = "the exercise's time limit was reached (the process was killed)"
            if device.startswith("cuda") and _group_rss_bytes(child.pid) > memory:
                kill_reason = f"used more than {limits.memory_mib} MiB of memory (killed)"
            if kill_reason or eof or (child.poll() is not None and not lines):
                break
    finally:
        selector.close()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        os.close(read_fd)

    if done and not kill_reason:
        for check_id in check_ids:
            if check_id not in outcome.results:
                outcome.results[check_id] = _failed("not run: the grader found no test for it")
        return
    reason = kill_reason or _exit_reason(child.returncode)
    if importing_since is not None:
        # The module itself kills the process on import: every remaining check would too.
        for check_id in check_ids:
            outcome.results.setdefault(check_id, _failed(f"importing the submission: {reason}"))
        outcome.incidents.append(f"the submission's import {reason}")
        return
    culprit = current or next((c for c in check_ids if c not in outcome.results), None)
    if culprit is not None:
        outcome.results[culprit] = _failed(f"{reason} while this check ran")
        outcome.incidents.append(f"{culprit}: {reason}")


def _exit_reason(returncode: int | None) -> str:
    if returncode is None:
        return "the process stopped answering"
    if returncode < 0:
        name = signal.Signals(-returncode).name
        hint = " (out of memory?)" if -returncode == signal.SIGKILL else ""
        return f"the process was killed by {name}{hint}"
    return f"the process exited early with status {returncode} (sys.exit or os._exit?)"
