"""``regrade``'s gradings: one ``grade`` process per student, started, finished or stopped.

Grading is a black box: one ``python -m autograder grade ... --quiet`` process per student,
in its own process group (:mod:`autograder.course.grading_run`: the command, the start, and
the one check of the results file it leaves), so students run in parallel and cannot disturb
each other. It writes to ``DIR/<student>/.regrade-tmp/``; only a grading that finished with
a valid results file is moved into place: ``sweep.png``, ``submission/`` (copies of the
exercise modules, which ``collect --similarity`` compares), then ``results.json``
(``os.replace``) and last the sidecar ``.regrade.json``. A crash or Ctrl-C therefore loses
only the gradings in flight. A student who could not be graded gets
``DIR/<student>/regrade.log`` (the grader's output, if any, and the reason), so ``collect``
lists them; earlier results are kept.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from autograder.course import grading_run
from autograder.course.regrade.fetch import read_fetch_record
from autograder.course.regrade.state import write_state
from autograder.course.regrade.students import MODULE_FILES, Outcome, Student
from autograder.grading import student_files
from autograder.grading.processes import supervisor
from autograder.results import provenance
from autograder.results.write import write_json
from autograder.spec import paths

__all__ = [
    "Grading",
    "finish_grading",
    "grade_command",
    "keep_log",
    "kill_orphans",
    "note_failure",
    "signed_results",
    "start_grading",
    "stop_grading",
]

TEMP_NAME = ".regrade-tmp"
STOP_GRACE_S = 3.0  # after SIGINT, a grading gets this long to stop its own children


@dataclass
class Grading:
    """One student's ``grade`` process in flight, writing into ``temp``."""

    student: Student
    key: dict[str, Any]
    process: subprocess.Popen
    started: float
    temp: Path
    log: IO[bytes]


def grade_command(
    student: Student,
    *,
    results: Path,
    device: str,
    only: Sequence[str] | None,
    sandbox: str | None,
    gpu_only: bool = False,
    manifest: Path | None,
    settings: Path | None,
    seed: int | None,
) -> list[str]:
    """The ``python -m autograder grade`` command line of one student
    (:func:`autograder.course.grading_run.grade_command`)."""
    options = grading_run.GradeOptions(
        device=device,
        only=only,
        gpu_only=gpu_only,
        sandbox=sandbox,
        manifest=manifest,
        settings=settings,
        seed=seed,
    )
    return grading_run.grade_command(
        submission=student.path, results=results, options=options, repo=student.kind == "repo"
    )


def _child_env() -> dict[str, str]:
    """The grader that runs is this one: never a copy in the working folder or a student's."""
    env = dict(os.environ)
    env["PYTHONSAFEPATH"] = "1"
    env["PYTHONPATH"] = os.pathsep.join([str(paths.ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def start_grading(
    student: Student,
    key: dict[str, Any],
    out_dir: Path,
    command_for: Callable[..., list[str]],
) -> Grading:
    """Copy the student's modules into a fresh temporary folder and start ``grade`` there.

    Interrupted before the grading is started (Ctrl-C while copying or forking), the folder
    is removed: only a grading in flight, which ``regrade`` stops and clears, leaves one."""
    student_dir = out_dir / student.id
    temp = student_dir / TEMP_NAME
    shutil.rmtree(temp, ignore_errors=True)
    try:
        # All four modules (grade scans all four), read without following links: a module or
        # an exercises/ that links to a TA-side file is not copied (grade records why).
        student_files.copy_modules(
            student.path,
            paths.EXERCISES_FOLDER if student.kind == "repo" else "",
            MODULE_FILES.values(),
            temp / paths.SUBMISSION_FOLDER,
            limit=student_files.MAX_MODULE_BYTES,
        )
        with contextlib.ExitStack() as on_failure:
            log = (temp / paths.GRADE_LOG).open("wb")
            on_failure.callback(log.close)
            process = grading_run.start_grading(
                command_for(student, results=temp / paths.RESULTS_NAME),
                cwd=temp,
                env=_child_env(),
                log=log,
            )
            on_failure.pop_all()  # started: the log stays open for the grading
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return Grading(student, key, process, time.monotonic(), temp, log)


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    text = next((line.strip() for line in reversed(lines) if line.strip()), "")
    return text if len(text) <= 300 else text[:297] + "..."


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block has run (then raise as usual)."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def finish_grading(job: Grading, out_dir: Path, *, key: bytes | None = None) -> Outcome:
    """Move a finished grading into place, or say why it failed; with the course ``key``,
    the results are signed for this student and the modules copied (the grading has ended:
    no process of the submission is left to read the key). All or nothing: a Ctrl-C waits
    until the student's folder holds the new grading whole (results, then its sidecar)."""
    with _signals_held():
        return _finish(job, out_dir, key=key)


def _finish(job: Grading, out_dir: Path, *, key: bytes | None) -> Outcome:
    job.log.close()
    seconds = time.monotonic() - job.started
    student_dir = out_dir / job.student.id
    code = job.process.returncode
    results = job.temp / paths.RESULTS_NAME
    reason = ""
    if code != 0:
        said = _last_line(job.temp / paths.GRADE_LOG)
        reason = grading_run.exit_reason(code) + (f": {said}" if said else "")
    else:
        try:
            document = grading_run.read_results(results)
        except grading_run.ResultsFileError as error:
            reason = str(error)
    if reason:
        keep_log(job, student_dir, reason)
        return Outcome(job.student.id, "failed", reason, seconds)
    fetched = read_fetch_record(job.student.path)  # when and which commit, for deadlines
    if fetched is not None:  # read_results: extra_data, when there, is an object
        document.setdefault("extra_data", {})["fetch"] = fetched  # inside the signature
        write_json(document, results)
    if key is not None:
        signed = provenance.sign(
            document,
            key=key,
            student=job.student.id,
            submission=provenance.submission_sha256(job.temp / paths.SUBMISSION_FOLDER),
            by="regrade",
        )
        write_json(signed, results)
    plot = job.temp / paths.SWEEP_PLOT
    if plot.is_file():
        os.replace(plot, student_dir / paths.SWEEP_PLOT)
    else:
        with contextlib.suppress(FileNotFoundError):
            (student_dir / paths.SWEEP_PLOT).unlink()
    old = job.temp / "old-submission"
    with contextlib.suppress(FileNotFoundError):
        os.replace(student_dir / paths.SUBMISSION_FOLDER, old)
    os.replace(job.temp / paths.SUBMISSION_FOLDER, student_dir / paths.SUBMISSION_FOLDER)
    os.replace(results, student_dir / paths.RESULTS_NAME)
    write_state(job.key, seconds=seconds, temp=job.temp, student_dir=student_dir)
    shutil.rmtree(job.temp, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        (student_dir / paths.REGRADE_LOG).unlink()
    return Outcome(job.student.id, "graded", "", seconds)


def signed_results(student_dir: Path, *, key: bytes) -> bool:
    """Whether the student's results there verify with ``key`` (else they are regraded)."""
    try:
        document = grading_run.read_results(student_dir / paths.RESULTS_NAME)
    except grading_run.ResultsFileError:
        return False
    submission = provenance.submission_sha256(student_dir / paths.SUBMISSION_FOLDER)
    return provenance.verify(
        document, key=key, student=student_dir.name, submission=submission
    ).verified


def note_failure(student_dir: Path, reason: str, *, append: bool = False) -> None:
    """The reason in DIR/<student>/regrade.log, so ``collect`` lists the student too."""
    with contextlib.suppress(OSError):
        student_dir.mkdir(parents=True, exist_ok=True)
        with (student_dir / paths.REGRADE_LOG).open(
            "a" if append else "w", encoding="utf-8"
        ) as log:
            log.write(f"\n{paths.REGRADE_FAILURE_MARK}{reason}\n")


def keep_log(job: Grading, student_dir: Path, reason: str) -> None:
    """The grader's output as DIR/<student>/regrade.log, the reason at its end."""
    with contextlib.suppress(OSError):
        os.replace(job.temp / paths.GRADE_LOG, student_dir / paths.REGRADE_LOG)
    shutil.rmtree(job.temp, ignore_errors=True)
    note_failure(student_dir, reason, append=True)


def stop_grading(job: Grading) -> None:
    """Ctrl-C for the grading's process group (it stops its own children), then SIGKILL."""
    pid = job.process.pid
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        job.process.wait(timeout=STOP_GRACE_S)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    job.process.wait()
    job.log.close()


def kill_orphans() -> None:
    """Kill every remaining child of this process (only called once no grading is running).

    Orphans of a killed grading are reparented here once :func:`supervisor.become_subreaper`
    ran; a killed process's own children are reparented here in turn, hence the rounds.
    """
    for _ in range(5):
        if not supervisor.kill_strays():
            return
