"""Grade one exercise: start its judge, collect every verdict, whatever happens.

Runs in ``grade``. The judge (:mod:`autograder.grading.judge`) is trusted code and
runs no submission code; it starts the workers. This side only enforces the
exercise's time limits on the judge (stopped while the judge says it waits for
another grading's timed window), reads its JSON-lines verdicts from an
inherited pipe and, should the judge itself fail, fails the checks it did not
report with the reason and starts a new judge for the rest.
"""

from __future__ import annotations

import dataclasses
import json
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.grading.judge.job import JudgeJob
from autograder.grading.processes import device_lease, supervisor
from autograder.grading.sandbox import Sandbox
from autograder.spec import paths
from autograder.spec.registry import CHECKS_BY_ID, EXERCISES
from autograder.spec.settings import Settings

POLL_SECONDS = 0.1


@dataclass
class GradedExercise:
    """Everything one exercise's grading produced, as plain data."""

    exercise: str
    verdicts: dict[str, dict[str, Any]] = field(default_factory=dict)  # check id -> verdict
    incidents: list[str] = field(default_factory=list)
    output_tail: str = ""
    wall_seconds: float = 0.0
    runs: int = 0
    worker_starts: dict[str, int] = field(default_factory=dict)
    artifacts: list[Path] = field(default_factory=list)
    lease_wait_seconds: float = 0.0  # waited for other gradings' timed windows: not charged
    work_dir: Path | None = None  # the caller copies artifacts out, then removes it


def prepare_work_dir(submission_dir: Path, exercise: str) -> tuple[Path, Path | None, list[str]]:
    """A fresh folder for the judge, with a copy of the exercise module (if a regular file)."""
    work_dir = Path(tempfile.mkdtemp(prefix=f"grade-{exercise}-"))
    (work_dir / paths.ARTIFACTS_FOLDER).mkdir()
    notes = []
    name = f"{EXERCISES[exercise]}.py"
    source = submission_dir / name
    copied = None
    if source.is_symlink():
        notes.append(f"{name} is a symbolic link; only regular files are graded")
    elif source.is_file():
        copied = work_dir / name
        shutil.copyfile(source, copied)
    return work_dir, copied, notes


def _judge_env(work_dir: Path) -> dict[str, str]:
    return supervisor.scrubbed_env(
        HOME=str(work_dir),
        TMPDIR=str(work_dir),
        MPLCONFIGDIR=str(work_dir),
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
    )


def run_exercise(
    *,
    exercise: str,
    check_ids: list[str],
    submission_dir: Path,
    device: str,
    seed: int,
    settings: Settings,
    sandbox: Sandbox,
    progress: Any = None,
    work_dirs: list[Path] | None = None,
) -> GradedExercise:
    """Grade ``check_ids`` of one exercise; every id gets a verdict, whatever happens.

    The exercise's work folder is appended to ``work_dirs`` as soon as it exists, so the
    caller removes it however grading ends."""
    graded = GradedExercise(exercise=exercise)
    work_dir, module, notes = prepare_work_dir(submission_dir, exercise)
    if work_dirs is not None:
        work_dirs.append(work_dir)
    graded.work_dir = work_dir
    graded.incidents.extend(notes)
    limits = settings.limits
    deadline = time.monotonic() + limits.exercise_timeout_s
    started = time.monotonic()
    remaining = list(check_ids)
    lease = device_lease.LeaseConfig(
        directory=device_lease.resolve_directory(settings.lease.dir),
        names=device_lease.device_names(device),
        wait_max_s=settings.lease.wait_max_s,
    )
    try:
        while remaining:
            if time.monotonic() >= deadline + graded.lease_wait_seconds:
                for check_id in remaining:
                    graded.verdicts[check_id] = _failed(
                        f"not run: the exercise's time limit ({limits.exercise_timeout_s:.0f} s) "
                        "was used up by earlier checks"
                    )
                break
            graded.runs += 1
            job = JudgeJob(
                exercise=exercise,
                check_ids=tuple(remaining),
                seed=seed,
                device=device,
                settings=settings,
                module_source=module,
                work_dir=work_dir,
                lease=lease,
                sandbox=sandbox,
                pipe_fd=-1,  # the pipe of each judge run, made by _run_judge
            )
            _run_judge(graded, job, work_dir, settings, deadline, progress)
            remaining = [c for c in check_ids if c not in graded.verdicts]
        output = work_dir / paths.OUTPUT_LOG
        if output.exists():
            graded.output_tail = supervisor.read_log_tail(output, limits.output_limit_kib * 1024)
        graded.artifacts.extend(sorted((work_dir / paths.ARTIFACTS_FOLDER).glob("*.png")))
        graded.wall_seconds = time.monotonic() - started
        return graded
    finally:
        supervisor.kill_strays()


def _seconds(value: Any, *, limits: float) -> float:
    """A wait the judge reported, as seconds in [0, limits + 1] (0 if not a number)."""
    if type(value) not in (int, float) or not 0 <= value <= limits + 1:
        return 0.0
    return float(value)


def _failed(message: str) -> dict[str, Any]:
    return {"status": "failed", "output": message}


def _run_judge(
    graded: GradedExercise,
    job: JudgeJob,
    work_dir: Path,
    settings: Settings,
    deadline: float,
    progress: Any,
) -> None:
    limits = settings.limits
    longest_wait = settings.lease.wait_max_s + limits.check_grace_s  # one wait, at most
    read_fd, write_fd = os.pipe()
    job = dataclasses.replace(job, pipe_fd=write_fd)
    package_root = paths.ROOT
    boot = (
        f"import sys; sys.path.insert(0, {str(package_root)!r}); "
        "from autograder.grading.judge.main import main; main()"
    )
    with open(work_dir / "judge.log", "ab") as log:
        judge = subprocess.Popen(
            [sys.executable, "-I", "-c", boot],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=work_dir,
            env=_judge_env(work_dir),
            pass_fds=(write_fd,),
            start_new_session=True,
        )
    os.close(write_fd)
    judge.stdin.write((job.to_json() + "\n").encode())
    judge.stdin.close()
    check_ids = job.check_ids
    current: str | None = None
    current_since = time.monotonic()
    waiting_since: float | None = None  # the judge said it waits for the lease: limits stop
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
                try:
                    message = json.loads(line)
                except json.JSONDecodeError:
                    continue
                event = message.get("event")
                if event == "start":
                    current, current_since = message["id"], time.monotonic()
                    if progress:
                        progress(f"  {current} ...")
                elif event == "result":
                    check_id = message.pop("id")
                    message.pop("event")
                    if check_id in check_ids and check_id not in graded.verdicts:
                        graded.verdicts[check_id] = message
                    current = None
                elif event == "workers":
                    graded.incidents.extend(message.get("incidents", []))
                    for label, count in message.get("starts", {}).items():
                        graded.worker_starts[label] = graded.worker_starts.get(label, 0) + count
                elif event == "waiting":
                    waiting_since = waiting_since or time.monotonic()
                elif event == "lease_wait":  # the judge's time limits move by the wait
                    waited = _seconds(message.get("seconds"), limits=longest_wait)
                    current_since += waited
                    graded.lease_wait_seconds += waited
                    waiting_since = None
                elif event == "done":
                    done = True
            now = time.monotonic()
            waited_now = now - waiting_since if waiting_since is not None else 0.0
            if waited_now > longest_wait:
                kill_reason = f"waited over {longest_wait:.0f} s for the device lease"
            elif current is not None and waiting_since is None:
                allowed = (
                    CHECKS_BY_ID[current].timeout * limits.timeout_scale
                    + limits.import_timeout_s  # a worker restarted during the check
                    + limits.check_grace_s
                )
                if now - current_since > allowed:
                    kill_reason = f"timed out after {allowed:.0f} s (the judge was stopped)"
            if now > deadline + graded.lease_wait_seconds + waited_now:
                kill_reason = "the exercise's time limit was reached (the judge was stopped)"
            if kill_reason or eof or (supervisor.has_exited(judge.pid) and not lines):
                break
    finally:
        selector.close()
        supervisor.kill_child_tree(judge)
        judge.wait()
        os.close(read_fd)

    if done and not kill_reason:
        for check_id in check_ids:
            if check_id not in graded.verdicts:
                graded.verdicts[check_id] = _failed("not run: the grader found no test for it")
        return
    reason = kill_reason or f"the judge stopped: {supervisor.exit_reason(judge.returncode)}"
    culprit = current or next((c for c in check_ids if c not in graded.verdicts), None)
    if culprit is not None:
        graded.verdicts[culprit] = _failed(f"{reason} while this check ran")
        graded.incidents.append(f"{culprit}: {reason}")
