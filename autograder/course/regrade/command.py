"""``regrade``: grade a whole class, N students at a time, resumably.

``python -m autograder regrade SOURCE... --out DIR [--jobs N] [--device auto|cpu|cuda]
[--sandbox auto|bubblewrap|none] [--manifest FILE] [--shard K/N] [--force] [--settings FILE]
[--seed N] [--only EXERCISE...] [--gpu-only] [--timeout SECONDS]``

Students (:mod:`~autograder.course.regrade.students`). Each SOURCE is one student, named after
its folder: a repository clone (it has ``exercises/``: graded with ``grade --repo``, so
tampered protected files are reported) or a submission folder (exercise modules at its top:
``grade --submission``). Any other folder is a class folder: each of its sub-folders not
starting with "." is one student, and one that is neither kind (an empty or failed clone) is
listed as not gradable. The same student id twice is a usage error.

Gradings (:mod:`~autograder.course.regrade.jobs`): one ``python -m autograder grade ...
--quiet`` process per student, in its own process group, at most ``--jobs`` at once, each
moved into ``DIR/<student>/`` only once it finished with a valid results file. A crash or
Ctrl-C therefore loses only the gradings in flight. A student who could not be graded gets
``DIR/<student>/regrade.log`` (the grader's output, if any, and the reason), so ``collect``
lists them; earlier results are kept.

Resuming (:mod:`~autograder.course.regrade.state`). The sidecar ``.regrade.json`` records what
the results were graded from: the submission, the grader and the options that change
results. A student whose three match, with a readable results file, is skipped as up to
date; ``--force`` regrades everyone.

Sharding. ``--shard K/N`` grades the students at positions K-1, K-1+N, K-1+2N, ... of the
list sorted by student id (index modulo N): N machines given the same sources grade disjoint
slices that together cover the class, balanced to within one student.

Exit status: 0 when every selected student has results (graded now or up to date), 1 when
any could not be graded (each is listed with the reason), 2 for a usage error (one line on
stderr), 128 + the signal number (130 for Ctrl-C) when interrupted, after the summary.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.course.regrade.jobs import (
    Grading,
    finish_grading,
    grade_command,
    keep_log,
    kill_orphans,
    note_failure,
    signed_results,
    start_grading,
    stop_grading,
)
from autograder.course.regrade.progress import Progress
from autograder.course.regrade.state import grader_digest, up_to_date
from autograder.course.regrade.students import (
    Outcome,
    Student,
    find_students,
    parse_shard,
    select_shard,
    student_kind,
)
from autograder.grading import sandbox as sandboxes
from autograder.grading.processes import supervisor
from autograder.grading.sandbox.nobody import unconfined_user
from autograder.results import provenance
from autograder.results.sinks import terminal_text
from autograder.spec.registry import EXERCISES
from reference.cli_support import UsageError

__all__ = [
    "DEFAULT_JOBS",
    "DEFAULT_TIMEOUT_S",
    "RegradeSummary",
    "regrade",
    "render_summary",
    "run",
]

DEFAULT_TIMEOUT_S = 1200.0
"""Wall-clock limit of one student's grading: 20 min is ~200 times a normal CPU grading."""

DEFAULT_JOBS = len(os.sched_getaffinity(0))
"""Gradings at once: one per core this process may use. Every timed window holds the
machine's device lease (grading/processes/device_lease.py), so gradings overlap only in untimed work
(before the lease, 2 jobs on 2 cores cost a false timing failure in 72: docs/benchmarks.md)."""

POLL_S = 0.1


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


def key_reachable_because(sandbox: str | None) -> str:
    """Why student code graded with this ``--sandbox`` could reach the course key ("" when
    it cannot): then no grading may start while a key is configured.

    Without a sandbox, and not root (whose workers run as uid 65534), a worker is this user:
    it can read a key file, the key in ``/proc/PID/environ`` of whatever started this
    process with it (a shell, make: removing it here does not remove it there), and rewrite
    its results before they are signed. A stolen key signs any score, for good.
    """
    try:
        confinement = sandboxes.resolve(sandbox or "auto")
    except (sandboxes.SandboxUnavailable, ValueError):
        return ""  # no grading can start then: nothing runs
    if confinement.kind == "none" and unconfined_user()[0] is None:
        return (
            f"student code would run as you ({confinement.reason}), who can read the course "
            "key (its file, or the environment of the process that started this one) and "
            "rewrite results before they are signed: grade with --sandbox bubblewrap, or "
            f"without ${provenance.KEY_VARIABLE} / ${provenance.KEY_FILE_VARIABLE} (unsigned)"
        )
    return ""


def regrade(
    *,
    sources: Sequence[Path],
    out_dir: Path,
    jobs: int = DEFAULT_JOBS,
    device: str = "auto",
    only: Sequence[str] | None = None,
    gpu_only: bool = False,
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

    Raises UsageError for bad arguments. ``KeyboardInterrupt`` (and SIGTERM, when the
    CLI installed its handler) stops the gradings in flight and returns the summary with
    ``interrupted_by`` set. ``reap_orphans`` makes this process a child subreaper and kills
    what a stopped grading left behind: the CLI sets it; a library caller (a test run) whose
    other children must live does not.
    """
    started = time.monotonic()
    if jobs < 1:
        raise UsageError(f"--jobs {jobs}: must be at least 1")
    if timeout_s <= 0:
        raise UsageError(f"--timeout {timeout_s:g}: must be positive")
    unknown = [name for name in only or () if name not in EXERCISES]
    if unknown:
        raise UsageError(
            f"unknown exercise {', '.join(unknown)}: choose from {', '.join(EXERCISES)}"
        )
    for flag, path in (("--manifest", manifest), ("--settings", settings)):
        if path is not None and not Path(path).is_file():
            raise UsageError(f"{flag}: file not found: {path}")
    out_dir = Path(out_dir).resolve()
    students = select_shard(find_students(sources), shard)
    for source in map(Path, sources):
        if student_kind(source) is None and out_dir.is_relative_to(source.resolve()):
            raise UsageError(f"--out {out_dir} lies inside the class folder {source}")
    for student in students:  # results inside a repository would show up as added files
        if out_dir.is_relative_to(student.path):
            raise UsageError(f"--out {out_dir} lies inside {student.id}'s folder")
    manifest = Path(manifest).resolve() if manifest is not None else None
    settings = Path(settings).resolve() if settings is not None else None
    try:  # read once and removed from the environment: no grading started below inherits it
        course_key = provenance.load_course_key(forget=True)
    except provenance.CourseKeyError as error:
        raise UsageError(str(error)) from None
    if course_key is not None:
        supervisor.make_non_dumpable()  # nothing of the same user reads the key from memory
        if exposed := key_reachable_because(sandbox):
            raise UsageError(f"a course key is configured, but {exposed}")
    options = {
        "only": [e for e in EXERCISES if e in only] if only else None,
        "device": device,
        "gpu_only": gpu_only,
        "seed": seed,
        "sandbox": sandbox,
    }
    grader = grader_digest(settings)
    summary = RegradeSummary(out_dir=out_dir, total=len(students))
    progress = progress or Progress(total=len(students), jobs=jobs)

    def command_for(student: Student, *, results: Path) -> list[str]:
        return grade_command(
            student,
            results=results,
            device=device,
            only=options["only"],
            gpu_only=gpu_only,
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
    running: list[Grading] = []
    previous_handler = signal.getsignal(signal.SIGTERM)
    if reap_orphans:
        supervisor.become_subreaper()  # orphans of a killed grading come here: kill_orphans
        signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        for student in students:
            outcome, state = up_to_date(student, out_dir, options, grader, force, manifest)
            skipped = outcome is not None and outcome.status == "skipped"
            if (
                skipped
                and course_key is not None
                and not signed_results(out_dir / student.id, key=course_key)
            ):
                outcome, state = None, state | {"source": str(student.path)}  # sign it now
            if outcome is not None:
                if outcome.status == "failed":
                    note_failure(out_dir / student.id, outcome.reason)
                record(outcome, 0)
            else:
                queue.append((student, state))
        while queue or running:
            while queue and len(running) < jobs:
                student, key = queue.popleft()
                try:
                    running.append(start_grading(student, key, out_dir, command_for))
                except OSError as error:
                    reason = f"cannot start grading: {error}"
                    note_failure(out_dir / student.id, reason)
                    record(Outcome(student.id, "failed", reason), 0)
            progress.show(len(running))
            time.sleep(POLL_S)
            for job in list(running):
                if job.process.poll() is None:
                    if time.monotonic() - job.started > timeout_s:
                        stop_grading(job)
                        running.remove(job)
                        reason = f"timed out after {timeout_s:g} s (killed; --timeout)"
                        keep_log(job, out_dir / job.student.id, reason)
                        record(Outcome(job.student.id, "failed", reason, timeout_s), len(running))
                    continue
                try:  # still in `running` until finished: a Ctrl-C now clears its folder
                    outcome = finish_grading(job, out_dir, key=course_key)
                except OSError as error:
                    outcome = Outcome(job.student.id, "failed", f"cannot write results: {error}")
                    note_failure(out_dir / job.student.id, outcome.reason, append=True)
                running.remove(job)
                record(outcome, len(running))
    except KeyboardInterrupt as stop:
        summary.interrupted_by = getattr(stop, "signal_number", signal.SIGINT)
        for job in running:
            stop_grading(job)
            shutil.rmtree(job.temp, ignore_errors=True)
            summary.outcomes.append(Outcome(job.student.id, "interrupted", "stopped in flight"))
        running.clear()
    finally:
        if reap_orphans:
            signal.signal(signal.SIGTERM, previous_handler)
            kill_orphans()
        progress.close()
    summary.seconds = time.monotonic() - started
    return summary


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
        lines += [f"  {terminal_text(o.student)}: {terminal_text(o.reason)}" for o in failed]
    if summary.interrupted_by is not None:
        name = signal.Signals(summary.interrupted_by).name
        lines.append(
            f"interrupted ({name}): {len(stopped)} grading(s) in flight stopped "
            f"({terminal_text(', '.join(o.student for o in stopped)) or 'none'}), "
            f"{summary.not_started} not started; run the same command again to resume"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """``python -m autograder regrade``; see the module docstring for the exit statuses."""
    # Ctrl-C is how a TA stops a run, even when started from a shell that ignores SIGINT
    # (a non-interactive `cmd &`): it must stop the gradings and write the summary.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    summary = regrade(
        sources=args.sources,
        out_dir=args.out,
        jobs=args.jobs,
        device=args.device,
        only=args.only,
        gpu_only=args.gpu_only,
        sandbox=args.sandbox,
        manifest=args.manifest,
        shard=parse_shard(args.shard) if args.shard is not None else None,
        force=args.force,
        settings=args.settings,
        seed=args.seed,
        timeout_s=args.timeout,
        reap_orphans=True,
    )
    print(render_summary(summary))
    return summary.exit_status
