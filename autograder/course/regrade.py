"""``regrade``: grade a whole class, N students at a time, resumably.

``python -m autograder regrade SOURCE... --out DIR [--jobs N] [--device auto|cpu|cuda]
[--sandbox auto|bubblewrap|none] [--manifest FILE] [--shard K/N] [--force] [--settings FILE]
[--seed N] [--only EXERCISE...] [--timeout SECONDS]``

Students. Each SOURCE is one student, named after its folder: a repository clone (it has
``exercises/``: graded with ``grade --repo``, so tampered protected files are reported) or a
submission folder (exercise modules at its top: ``grade --submission``). Any other folder is a
class folder: each of its sub-folders not starting with "." is one student, and one that is
neither kind (an empty or failed clone) is listed as not gradable. The same student id twice
is a usage error.

Grading is a black box: one ``python -m autograder grade ... --quiet`` process per student,
in its own process group, so students run in parallel and cannot disturb each other. It
writes to ``DIR/<student>/.regrade-tmp/``; only a grading that finished with a valid results
file is moved into place: ``sweep.png``, ``submission/`` (copies of the exercise modules,
which ``collect --similarity`` compares), then ``results.json`` (``os.replace``) and
last the sidecar ``.regrade.json``. A crash or Ctrl-C therefore loses only the gradings in
flight. A student who could not be graded gets ``DIR/<student>/regrade.log`` (the grader's
output, if any, and the reason), so ``collect`` lists them; earlier results are kept.

Resuming. The sidecar records what the results were graded from: a sha256 of the four
exercise modules (``grade`` scans all four for integrity findings, whatever ``--only`` says;
for a repository also every file the manifest comparison reads, and the manifest itself), a
sha256 of the grader (the installed ``autograder`` and ``reference`` packages' source, plus
the ``--settings`` file) and the options that change results (``--only``, ``--device``,
``--seed``, ``--sandbox``). A student whose three match, with a readable results file, is
skipped as up to date; ``--force`` regrades everyone.

Sharding. ``--shard K/N`` grades the students at positions K-1, K-1+N, K-1+2N, ... of the
list sorted by student id (index modulo N): N machines given the same sources grade disjoint
slices that together cover the class, balanced to within one student.

Exit status: 0 when every selected student has results (graded now or up to date), 1 when
any could not be graded (each is listed with the reason), 2 for a usage error (one line on
stderr), 128 + the signal number (130 for Ctrl-C) when interrupted, after the summary.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from autograder.course import manifest as release_manifest
from autograder.spec.registry import EXERCISES

__all__ = [
    "DEFAULT_JOBS",
    "DEFAULT_TIMEOUT_S",
    "RegradeSummary",
    "RegradeUsageError",
    "Student",
    "find_students",
    "main",
    "regrade",
]

DEFAULT_TIMEOUT_S = 1200.0
"""Wall-clock limit of one student's grading: 20 min is ~200 times a normal CPU grading."""

DEFAULT_JOBS = 1
"""Gradings at once. On 2 cores, 2 jobs graded 1.25x as many students per minute but cost one
false timing failure in 72 reference gradings, 1 job none in 48 (docs/benchmarks.md, TA loop)."""

RESULTS_NAME = "results.json"
PLOT_NAME = "sweep.png"  # `grade` writes the sweep plot next to its results file
STATE_NAME = ".regrade.json"
TEMP_NAME = ".regrade-tmp"
LOG_NAME = "regrade.log"
SUBMISSION_FOLDER = "submission"
STATE_SCHEMA = "why-transformers-regrade/1"
MODULE_FILES = {exercise: f"{module}.py" for exercise, module in EXERCISES.items()}
POLL_S = 0.1
STOP_GRACE_S = 3.0  # after SIGINT, a grading gets this long to stop its own children
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding this autograder/


class RegradeUsageError(ValueError):
    """Bad command-line input: one line on stderr, exit status 2."""


@dataclass(frozen=True)
class Student:
    """One student to grade: ``kind`` is 'repo', 'submission' or 'unusable' (see problem)."""

    id: str
    path: Path
    kind: str
    problem: str = ""


@dataclass
class Outcome:
    """What happened to one student: graded, skipped (up to date), failed or interrupted."""

    student: str
    status: str
    reason: str = ""
    seconds: float = 0.0


@dataclass
class RegradeSummary:
    """Every selected student's outcome; the CLI prints it and derives the exit status."""

    out_dir: Path
    total: int
    outcomes: list[Outcome] = field(default_factory=list)
    interrupted_by: int | None = None  # the signal number, when interrupted
    seconds: float = 0.0

    def having(self, status: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def not_started(self) -> int:
        return self.total - len(self.outcomes)

    @property
    def exit_status(self) -> int:
        if self.interrupted_by is not None:
            return 128 + self.interrupted_by
        return 1 if self.having("failed") else 0


# --------------------------------------------------------------------------- students


def _kind(folder: Path) -> str | None:
    """'repo', 'submission', or None for a folder that is neither (a class folder)."""
    if (folder / "exercises").is_dir():
        return "repo"
    if any((folder / name).is_file() for name in MODULE_FILES.values()):
        return "submission"
    return None


def find_students(sources: Sequence[Path]) -> list[Student]:
    """Every student under ``sources``, sorted by id; raises RegradeUsageError on bad input."""
    found: dict[str, Student] = {}
    for source in map(Path, sources):
        if not source.is_dir():
            raise RegradeUsageError(f"not a folder: {source}")
        kind = _kind(source)
        if kind is not None:
            students = [Student(source.resolve().name, source.resolve(), kind)]
        else:
            try:
                folders = sorted(p for p in source.iterdir() if p.is_dir() and p.name[0] != ".")
            except OSError as error:
                raise RegradeUsageError(f"cannot list {source}: {error.strerror}") from error
            if not folders:
                raise RegradeUsageError(
                    f"no students in {source}: it has no exercises/, no exercise modules "
                    "and no student folders"
                )
            students = []
            for folder in folders:
                try:
                    kind = _kind(folder)
                except OSError as error:
                    kind, problem = None, f"unreadable: {error.strerror or error}"
                else:
                    problem = "no exercises/ folder and no exercise modules (an empty clone?)"
                students.append(
                    Student(
                        folder.name, folder.resolve(), kind or "unusable", "" if kind else problem
                    )
                )
        for student in students:
            if student.id in found:
                raise RegradeUsageError(
                    f"student id {student.id!r} twice: {found[student.id].path} and {student.path}"
                )
            found[student.id] = student
    return [found[key] for key in sorted(found)]


def parse_shard(text: str) -> tuple[int, int]:
    """``K/N`` with 1 <= K <= N, else RegradeUsageError."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match:
        raise RegradeUsageError(f"--shard {text!r}: use K/N, e.g. 2/4")
    k, n = int(match[1]), int(match[2])
    if not 1 <= k <= n:
        raise RegradeUsageError(f"--shard {text!r}: K must be between 1 and N")
    return k, n


def select_shard(students: Sequence[Student], shard: tuple[int, int] | None) -> list[Student]:
    """The K-th of N slices of the id-sorted list: positions K-1, K-1+N, ..."""
    ordered = sorted(students, key=lambda s: s.id)
    if shard is None:
        return ordered
    k, n = shard
    return ordered[k - 1 :: n]


# --------------------------------------------------------------------------- fingerprints


def _hash_files(digest: Any, root: Path, relatives: Sequence[str]) -> None:
    for relative in sorted(set(relatives)):
        path = root / relative
        exists = path.is_file() or path.is_symlink()
        value = release_manifest.file_digest(path) if exists else "missing"
        digest.update(f"{relative}\0{value}\n".encode())


def _source_folder(student: Student) -> Path:
    return student.path / "exercises" if student.kind == "repo" else student.path


def _trusted_manifest(manifest: Path | None) -> Path | None:
    """The manifest ``grade --repo`` compares with, when one is given apart from the repo's."""
    if manifest is not None:
        return manifest
    variable = os.environ.get("AUTOGRADER_RELEASE_MANIFEST")
    return Path(variable) if variable else None


def submission_digest(
    student: Student, *, only: Sequence[str] | None, manifest: Path | None
) -> str:
    """sha256 of what the grading reads: raises OSError when the folder cannot be read.

    All four exercise modules, whatever ``only`` says: ``grade`` scans every one of them for
    integrity findings. ``only`` is part of the options recorded beside this digest.
    """
    digest = hashlib.sha256(f"{student.kind}\n".encode())
    _hash_files(digest, _source_folder(student), list(MODULE_FILES.values()))
    if student.kind == "repo":
        manifest_path = _trusted_manifest(manifest) or student.path / ".release-manifest.json"
        document, state = release_manifest.read_manifest(manifest_path)
        digest.update(f"manifest {state}\n".encode())
        if manifest_path.is_file():
            digest.update(release_manifest.file_digest(manifest_path).encode())
        protected = list(document["files"]) if document else []
        files = release_manifest.repo_files(student.path)
        _hash_files(digest, student.path, [*protected, *files, release_manifest.MANIFEST_NAME])
    return digest.hexdigest()


def grader_digest(settings: Path | None) -> str:
    """sha256 of the grader's source (autograder/ and reference/) and the settings file."""
    digest = hashlib.sha256()
    for package in ("autograder", "reference"):
        folder = PACKAGE_ROOT / package
        files = [
            path.relative_to(PACKAGE_ROOT).as_posix()
            for path in folder.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
        ]
        _hash_files(digest, PACKAGE_ROOT, files)
    if settings is not None:
        digest.update(b"settings\0" + Path(settings).read_bytes())
    return digest.hexdigest()


def _read_state(student_dir: Path) -> dict[str, Any] | None:
    try:
        state = json.loads((student_dir / STATE_NAME).read_text(encoding="utf-8"))
        results = json.loads((student_dir / RESULTS_NAME).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(state, dict) or not isinstance(results, dict) or "tests" not in results:
        return None
    return state


# --------------------------------------------------------------------------- one grading


@dataclass
class _Job:
    student: Student
    key: dict[str, Any]
    process: subprocess.Popen
    started: float
    temp: Path
    log: IO[bytes]


def _grade_command(
    student: Student,
    *,
    results: Path,
    device: str,
    only: Sequence[str] | None,
    sandbox: str | None,
    manifest: Path | None,
    settings: Path | None,
    seed: int | None,
) -> list[str]:
    flag = "--repo" if student.kind == "repo" else "--submission"
    command = [sys.executable, "-m", "autograder", "grade", flag, str(student.path)]
    command += ["--results", str(results), "--device", device, "--quiet"]
    if only:
        command += ["--only", *only]
    if sandbox is not None:
        command += ["--sandbox", sandbox]
    if manifest is not None and student.kind == "repo":
        command += ["--manifest", str(manifest)]
    if settings is not None:
        command += ["--settings", str(settings)]
    if seed is not None:
        command += ["--seed", str(seed)]
    return command


def _child_env() -> dict[str, str]:
    """The grader that runs is this one: never a copy in the working folder or a student's."""
    env = dict(os.environ)
    env["PYTHONSAFEPATH"] = "1"
    env["PYTHONPATH"] = os.pathsep.join([str(PACKAGE_ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def _start(student: Student, key: dict[str, Any], out_dir: Path, command_for) -> _Job:
    student_dir = out_dir / student.id
    temp = student_dir / TEMP_NAME
    shutil.rmtree(temp, ignore_errors=True)
    (temp / SUBMISSION_FOLDER).mkdir(parents=True)
    source = _source_folder(student)
    for name in MODULE_FILES.values():  # all four: grade scans all four for integrity findings
        if (source / name).is_file():
            shutil.copyfile(source / name, temp / SUBMISSION_FOLDER / name)
    log = (temp / "grade.log").open("wb")
    process = subprocess.Popen(
        command_for(student, results=temp / RESULTS_NAME),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=temp,
        env=_child_env(),
        start_new_session=True,  # its own process group: killed as one, no terminal Ctrl-C
    )
    return _Job(student, key, process, time.monotonic(), temp, log)


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    text = next((line.strip() for line in reversed(lines) if line.strip()), "")
    return text if len(text) <= 300 else text[:297] + "..."


def _finish(job: _Job, out_dir: Path) -> Outcome:
    """Move a finished grading into place, or say why it failed."""
    job.log.close()
    seconds = time.monotonic() - job.started
    student_dir = out_dir / job.student.id
    code = job.process.returncode
    results = job.temp / RESULTS_NAME
    reason = ""
    if code != 0:
        said = _last_line(job.temp / "grade.log")
        if code < 0:
            reason = f"the grader was killed by {signal.Signals(-code).name}"
        elif code == 2:
            reason = "grade exited with status 2 (a usage error)"
        else:
            reason = f"the grader exited with status {code}"
        reason += f": {said}" if said else ""
    else:
        try:
            document = json.loads(results.read_text(encoding="utf-8"))
            if not isinstance(document, dict) or "tests" not in document:
                reason = "the grader wrote no valid results file"
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            reason = f"the grader wrote no valid results file ({type(error).__name__})"
    if reason:
        _keep_log(job, student_dir, reason)
        return Outcome(job.student.id, "failed", reason, seconds)
    plot = job.temp / PLOT_NAME
    if plot.is_file():
        os.replace(plot, student_dir / PLOT_NAME)
    else:
        with contextlib.suppress(FileNotFoundError):
            (student_dir / PLOT_NAME).unlink()
    old = job.temp / "old-submission"
    with contextlib.suppress(FileNotFoundError):
        os.replace(student_dir / SUBMISSION_FOLDER, old)
    os.replace(job.temp / SUBMISSION_FOLDER, student_dir / SUBMISSION_FOLDER)
    os.replace(results, student_dir / RESULTS_NAME)
    state = dict(job.key)
    state["graded_at"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    state["seconds"] = round(seconds, 2)
    state_temp = job.temp / STATE_NAME
    state_temp.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    os.replace(state_temp, student_dir / STATE_NAME)
    shutil.rmtree(job.temp, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        (student_dir / LOG_NAME).unlink()
    return Outcome(job.student.id, "graded", "", seconds)


def _note_failure(student_dir: Path, reason: str, *, append: bool = False) -> None:
    """The reason in DIR/<student>/regrade.log, so ``collect`` lists the student too."""
    with contextlib.suppress(OSError):
        student_dir.mkdir(parents=True, exist_ok=True)
        with (student_dir / LOG_NAME).open("a" if append else "w", encoding="utf-8") as log:
            log.write(f"\nregrade: could not be graded: {reason}\n")


def _keep_log(job: _Job, student_dir: Path, reason: str) -> None:
    """The grader's output as DIR/<student>/regrade.log, the reason at its end."""
    with contextlib.suppress(OSError):
        os.replace(job.temp / "grade.log", student_dir / LOG_NAME)
    shutil.rmtree(job.temp, ignore_errors=True)
    _note_failure(student_dir, reason, append=True)


def _stop(job: _Job) -> None:
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


def _become_subreaper() -> bool:
    """Orphans of a killed grading are reparented here, so :func:`_kill_orphans` finds them."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _kill_orphans() -> None:
    """Kill every remaining child of this process (only called once no grading is running)."""
    me = os.getpid()
    for _ in range(5):  # a killed process's own children are reparented here in turn
        found = []
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
                    found.append(int(entry.name))
        for pid in found:
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, 0)
        if not found:
            return


# --------------------------------------------------------------------------- progress


class Progress:
    """done/total, failures and ETA on stderr: one updating line on a TTY, else plain lines."""

    def __init__(self, *, total: int, jobs: int, stream: IO[str] | None = None) -> None:
        self.total, self.jobs = total, jobs
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.done = self.failed = 0
        self.graded_seconds: list[float] = []
        self.shown = False

    def eta(self) -> str:
        left = self.total - self.done
        if not left:
            return "0:00"
        if not self.graded_seconds:
            return "?"
        mean = sum(self.graded_seconds) / len(self.graded_seconds)
        seconds = int(mean * -(-left // self.jobs))
        return f"{seconds // 60}:{seconds % 60:02d}"

    def line(self, running: int) -> str:
        return (
            f"regrade: {self.done}/{self.total} done, {self.failed} failed, {running} running, "
            f"ETA {self.eta()}"
        )

    def record(self, outcome: Outcome, running: int) -> None:
        self.done += 1
        self.failed += outcome.status == "failed"
        if outcome.status == "graded":
            self.graded_seconds.append(outcome.seconds)
        what = {"graded": f"graded in {outcome.seconds:.1f} s", "skipped": "up to date"}.get(
            outcome.status, f"FAILED: {outcome.reason}"
        )
        if self.tty:
            if outcome.status == "failed":
                self._write(f"\r\x1b[K{outcome.student}: {what}\n")
            self.show(running)
        else:
            self._write(
                f"[{self.done}/{self.total}] {outcome.student}: {what} ({self.line(running)})\n"
            )

    def show(self, running: int) -> None:
        if self.tty:
            self._write(f"\r\x1b[K{self.line(running)}")
            self.shown = True

    def close(self) -> None:
        if self.tty and self.shown:
            self._write("\n")

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


# --------------------------------------------------------------------------- entry points


def regrade(
    *,
    sources: Sequence[Path],
    out_dir: Path,
    jobs: int = DEFAULT_JOBS,
    device: str = "auto",
    only: Sequence[str] | None = None,
    sandbox: str | None = None,
    manifest: Path | None = None,
    shard: tuple[int, int] | None = None,
    force: bool = False,
    settings: Path | None = None,
    seed: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    progress: Progress | None = None,
    reap_orphans: bool = False,
) -> RegradeSummary:
    """Grade every student under ``sources`` into ``out_dir`` (see the module docstring).

    Raises RegradeUsageError for bad arguments. ``KeyboardInterrupt`` (and SIGTERM, when the
    CLI installed its handler) stops the gradings in flight and returns the summary with
    ``interrupted_by`` set. ``reap_orphans`` makes this process a child subreaper and kills
    what a stopped grading left behind: the CLI sets it; a library caller (a test run) whose
    other children must live does not.
    """
    started = time.monotonic()
    if jobs < 1:
        raise RegradeUsageError(f"--jobs {jobs}: must be at least 1")
    if timeout_s <= 0:
        raise RegradeUsageError(f"--timeout {timeout_s:g}: must be positive")
    unknown = [name for name in only or () if name not in EXERCISES]
    if unknown:
        raise RegradeUsageError(
            f"unknown exercise {', '.join(unknown)}: choose from {', '.join(EXERCISES)}"
        )
    for flag, path in (("--manifest", manifest), ("--settings", settings)):
        if path is not None and not Path(path).is_file():
            raise RegradeUsageError(f"{flag}: file not found: {path}")
    out_dir = Path(out_dir).resolve()
    students = select_shard(find_students(sources), shard)
    for source in map(Path, sources):
        if _kind(source) is None and out_dir.is_relative_to(source.resolve()):
            raise RegradeUsageError(f"--out {out_dir} lies inside the class folder {source}")
    for student in students:  # results inside a repository would show up as added files
        if out_dir.is_relative_to(student.path):
            raise RegradeUsageError(f"--out {out_dir} lies inside {student.id}'s folder")
    manifest = Path(manifest).resolve() if manifest is not None else None
    settings = Path(settings).resolve() if settings is not None else None
    options = {
        "only": [e for e in EXERCISES if e in only] if only else None,
        "device": device,
        "seed": seed,
        "sandbox": sandbox,
    }
    grader = grader_digest(settings)
    summary = RegradeSummary(out_dir=out_dir, total=len(students))
    progress = progress or Progress(total=len(students), jobs=jobs)

    def command_for(student: Student, *, results: Path) -> list[str]:
        return _grade_command(
            student,
            results=results,
            device=device,
            only=options["only"],
            sandbox=sandbox,
            manifest=manifest,
            settings=settings,
            seed=seed,
        )

    def record(outcome: Outcome, running: int) -> None:
        summary.outcomes.append(outcome)
        progress.record(outcome, running)

    out_dir.mkdir(parents=True, exist_ok=True)
    queue: deque[tuple[Student, dict[str, Any]]] = deque()
    running: list[_Job] = []
    previous_handler = signal.getsignal(signal.SIGTERM)
    if reap_orphans:
        _become_subreaper()
        signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        for student in students:
            outcome, key = _up_to_date(student, out_dir, options, grader, force, manifest)
            if outcome is not None:
                if outcome.status == "failed":
                    _note_failure(out_dir / student.id, outcome.reason)
                record(outcome, 0)
            else:
                queue.append((student, key))
        while queue or running:
            while queue and len(running) < jobs:
                student, key = queue.popleft()
                try:
                    running.append(_start(student, key, out_dir, command_for))
                except OSError as error:
                    reason = f"cannot start grading: {error}"
                    _note_failure(out_dir / student.id, reason)
                    record(Outcome(student.id, "failed", reason), 0)
            progress.show(len(running))
            time.sleep(POLL_S)
            for job in list(running):
                if job.process.poll() is None:
                    if time.monotonic() - job.started > timeout_s:
                        _stop(job)
                        running.remove(job)
                        reason = f"timed out after {timeout_s:g} s (killed; --timeout)"
                        _keep_log(job, out_dir / job.student.id, reason)
                        record(Outcome(job.student.id, "failed", reason, timeout_s), len(running))
                    continue
                running.remove(job)
                try:
                    outcome = _finish(job, out_dir)
                except OSError as error:
                    outcome = Outcome(job.student.id, "failed", f"cannot write results: {error}")
                    _note_failure(out_dir / job.student.id, outcome.reason, append=True)
                record(outcome, len(running))
    except KeyboardInterrupt as stop:
        summary.interrupted_by = getattr(stop, "signal_number", signal.SIGINT)
        for job in running:
            _stop(job)
            shutil.rmtree(job.temp, ignore_errors=True)
            summary.outcomes.append(Outcome(job.student.id, "interrupted", "stopped in flight"))
        running.clear()
    finally:
        if reap_orphans:
            signal.signal(signal.SIGTERM, previous_handler)
            _kill_orphans()
        progress.close()
    summary.seconds = time.monotonic() - started
    return summary


def _up_to_date(
    student: Student,
    out_dir: Path,
    options: dict[str, Any],
    grader: str,
    force: bool,
    manifest: Path | None,
) -> tuple[Outcome | None, dict[str, Any]]:
    """(an outcome when there is nothing to grade, the key the results will be recorded with)."""
    if student.kind == "unusable":
        return Outcome(student.id, "failed", student.problem), {}
    try:
        content = submission_digest(student, only=options["only"], manifest=manifest)
    except OSError as error:
        return Outcome(student.id, "failed", f"unreadable: {error}"), {}
    key = {
        "schema": STATE_SCHEMA,
        "student": student.id,
        "kind": student.kind,
        "submission_sha256": content,
        "grader_sha256": grader,
        "options": options,
    }
    state = None if force else _read_state(out_dir / student.id)
    if state is not None and all(state.get(k) == v for k, v in key.items()):
        return Outcome(student.id, "skipped"), key
    return None, key | {"source": str(student.path)}


class _Interrupted(KeyboardInterrupt):
    signal_number = signal.SIGTERM


def _raise_interrupt(signum: int, frame: object) -> None:
    raise _Interrupted()


def render_summary(summary: RegradeSummary) -> str:
    """The closing lines: counts, then each student who could not be graded and why."""
    graded, skipped = summary.having("graded"), summary.having("skipped")
    failed, stopped = summary.having("failed"), summary.having("interrupted")
    lines = [
        f"regrade: {summary.total} student(s) into {summary.out_dir} in {summary.seconds:.1f} s: "
        f"{len(graded)} graded, {len(skipped)} skipped as up to date, {len(failed)} failed"
    ]
    if failed:
        lines.append("could not be graded:")
        lines += [f"  {o.student}: {o.reason}" for o in failed]
    if summary.interrupted_by is not None:
        name = signal.Signals(summary.interrupted_by).name
        lines.append(
            f"interrupted ({name}): {len(stopped)} grading(s) in flight stopped "
            f"({', '.join(o.student for o in stopped) or 'none'}), "
            f"{summary.not_started} not started; run the same command again to resume"
        )
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    from autograder.cli import OneLineParser

    p = OneLineParser(
        prog="python -m autograder regrade",
        description="Grade a class (repository clones or submission folders) into DIR/<student>/.",
    )
    p.add_argument(
        "sources",
        nargs="+",
        type=Path,
        metavar="SOURCE",
        help="a student's repository clone or submission folder, or a folder of them",
    )
    p.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="writes DIR/<student>/results.json"
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=DEFAULT_JOBS,
        metavar="N",
        help=f"gradings at once ({DEFAULT_JOBS}; 2 on 2 cores cost a timing false failure)",
    )
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument(
        "--sandbox",
        default=None,
        choices=("auto", "bubblewrap", "none"),
        help="passed to grade (default: grade's own)",
    )
    p.add_argument(
        "--manifest",
        type=Path,
        default=None,
        metavar="FILE",
        help="the instructor's .release-manifest.json, for repository clones",
    )
    p.add_argument("--shard", default=None, metavar="K/N", help="grade the K-th of N slices")
    p.add_argument("--force", action="store_true", help="regrade students that are up to date")
    p.add_argument(
        "--settings", type=Path, default=None, metavar="FILE", help="grading settings TOML"
    )
    p.add_argument("--seed", type=int, default=None, metavar="N", help="the same inputs for all")
    p.add_argument(
        "--only", nargs="+", metavar="EXERCISE", help=f"grade only these: {', '.join(EXERCISES)}"
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help=f"wall-clock limit per student ({DEFAULT_TIMEOUT_S:g})",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    """``python -m autograder regrade``; see the module docstring for the exit statuses."""
    try:
        args = parser().parse_args(argv)
    except SystemExit as stop:  # --help, or a usage error already printed in one line
        return int(stop.code or 0)
    # Ctrl-C is how a TA stops a run, even when started from a shell that ignores SIGINT
    # (a non-interactive `cmd &`): it must stop the gradings and write the summary.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        summary = regrade(
            sources=args.sources,
            out_dir=args.out,
            jobs=args.jobs,
            device=args.device,
            only=args.only,
            sandbox=args.sandbox,
            manifest=args.manifest,
            shard=parse_shard(args.shard) if args.shard is not None else None,
            force=args.force,
            settings=args.settings,
            seed=args.seed,
            timeout_s=args.timeout,
            reap_orphans=True,
        )
    except RegradeUsageError as error:
        print(f"python -m autograder regrade: error: {error}", file=sys.stderr)
        return 2
    print(render_summary(summary))
    return summary.exit_status
