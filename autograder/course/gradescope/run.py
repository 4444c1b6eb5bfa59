"""Gradescope: grade ``/autograder/submission`` and write ``/autograder/results/results.json``.

Gradescope unpacks ``autograder.zip`` (written by ``python -m autograder release
--gradescope``) into ``/autograder/source``, runs ``setup.sh`` once to build the image, then
``run_autograder`` for every submission. ``run_autograder`` is a few lines of shell that start
:func:`main` (``python -m autograder.course.gradescope run``), which

1. finds the exercise modules in the submission
   (:func:`autograder.course.gradescope.submission.find_submission`): at its top, in a
   folder (``exercises/`` of a student repository), or inside an uploaded zip;
2. grades each exercise with the command-line grader in its own subprocess
   (``python -m autograder grade --device cpu --only EXERCISE``, run and its results file
   checked by :mod:`autograder.course.grading_run`), with one seed for the whole
   run, a time budget per exercise that keeps the run inside Gradescope's limit, and, when
   ``run_autograder`` runs as root and ``setup.sh`` created it, as the unprivileged user
   :data:`GRADING_USER`, so submission code cannot write to ``/autograder`` at all;
3. converts the grader's results into Gradescope's vocabulary
   (:func:`autograder.results.gradescope.gradescope_results`);
4. writes ``results.json`` last, after every process the submission started is gone, and
   always: a crash of anything becomes a failed test that says why, score 0.

Standard library and the grader's standard-library modules only (:mod:`autograder.spec.registry`,
:mod:`autograder.results.gradescope`, :mod:`autograder.grading.processes.supervisor`,
:mod:`autograder.course.grading_run`), so the run
reports a broken environment even where ``setup.sh`` failed to install the grader's
dependencies. ``python -m autograder.course.gradescope results IN OUT`` converts one results
file by hand, as ``python -m autograder gradescope-results IN OUT`` does. The command line's
arguments are :func:`autograder.arguments.add_gradescope_arguments`, parsed by
:func:`autograder.cli.gradescope_main`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from autograder.course.gradescope.submission import find_submission
from autograder.course.grading_run import GradeOptions, grade_command, run_grading
from autograder.grading.processes import supervisor
from autograder.results.gradescope import (
    convert_results_file,
    failure_results,
    gradescope_results,
)
from autograder.results.sinks import terminal_text
from autograder.results.write import write_json
from autograder.spec import paths
from autograder.spec.registry import EXERCISES

__all__ = [
    "GRADING_USER",
    "ROOT_VARIABLE",
    "USER_VARIABLE",
    "main",
    "run_autograder",
]

ROOT_VARIABLE = "AUTOGRADER_ROOT"
"""Environment variable: the ``/autograder`` folder (tests point it at a temporary copy)."""
DEFAULT_ROOT = Path("/autograder")
RESULTS_FILE = Path("results", paths.RESULTS_NAME)
"""Where Gradescope reads the results, in the ``/autograder`` folder (SPEC)."""
SUBMISSION_FILES = "submission"
"""Where Gradescope puts the student's files, in the ``/autograder`` folder."""
USER_VARIABLE = "AUTOGRADER_GRADING_USER"
"""Environment variable: the user grading runs as (empty: the user running run_autograder)."""
GRADING_USER = "wt-grader"
"""Unprivileged user ``setup.sh`` creates; grading runs as it when started as root."""
SETTINGS_NAME = "gradescope.toml"  # beside this module: limits that fit Gradescope's timeout
TIME_BUDGET_S = 540.0
"""Seconds the whole run may take: Gradescope's default timeout is 10 minutes; one is kept
for starting the container, unpacking and writing results."""
EXERCISE_CAP_S = 210.0
"""Seconds one exercise's grade subprocess may take before it is stopped: gradescope.toml's
exercise limit (120 s) plus the import limit (60 s) and a margin, so that one exercise that
hangs leaves time for the others."""


# ---- the run ----


def run_autograder(
    *,
    root: Path,
    python: Path,
    only: Sequence[str] | None = None,
    settings: Path | None = None,
    sandbox: str | None = None,
    budget_s: float = TIME_BUDGET_S,
) -> dict[str, Any]:
    """Grade ``root/submission`` with ``python`` and write ``root/results/results.json``.

    Returns what it wrote. Never raises: whatever fails becomes a failed test saying why.
    """
    root = Path(root)
    final = root / RESULTS_FILE
    final.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        final.unlink()  # anything there before grading is not ours
    exercises = [e for e in EXERCISES if not only or e in only]
    started = time.monotonic()
    settings = settings if settings is not None else paths.PACKAGE / SETTINGS_NAME
    work: Path | None = None
    user: tuple[str, int, int] | None = None
    try:
        unknown = sorted(set(only or ()) - set(EXERCISES))
        if unknown:
            raise ValueError(f"unknown exercise(s) {', '.join(unknown)}")
        if not Path(python).is_file() or not os.access(python, os.X_OK):
            raise RuntimeError(f"{python} is missing: setup.sh did not finish (see its log)")
        supervisor.become_subreaper()  # orphans of the gradings come here: none outlives us
        work = Path(tempfile.mkdtemp(prefix="gradescope-"))
        found = find_submission(root / SUBMISSION_FILES, work=work / SUBMISSION_FILES)
        user = _grading_user()
        _prepare_work(work, user)
        seed = secrets.randbits(31)
        documents, failures, sandboxes = [], {}, {}
        for exercise in exercises:
            remaining = budget_s - (time.monotonic() - started)
            document, failure = _grade_exercise(
                exercise,
                python=python,
                submission=found.folder,
                work=work,
                seed=seed,
                settings=settings,
                sandbox=sandbox,
                timeout_s=min(remaining, EXERCISE_CAP_S),
                user=user,
            )
            if document is not None:
                documents.append(document)
                kind = document.get("extra_data", {}).get("sandbox")
                if isinstance(kind, Mapping):
                    sandboxes[exercise] = {"kind": kind.get("kind"), "reason": kind.get("reason")}
            if failure is not None:
                failures[exercise] = failure
        graded = ", ".join(found.origins[e] for e in exercises if e in found.origins)
        missing = ", ".join(f"{EXERCISES[e]}.py" for e in exercises if e not in found.origins)
        notes = [f"Graded: {graded}." if graded else "Graded: no exercise module.", *found.notes]
        if missing and found.origins:
            notes.append(f"Not in your submission: {missing} (its checks fail).")
        converted = gradescope_results(
            documents,
            exercises=exercises,
            failures=failures,
            notes=notes,
            extra_data={
                "seed": seed,
                "origins": found.origins,
                "grading_user": user[0] if user else None,
                "sandbox": sandboxes,
                "wall_seconds": round(time.monotonic() - started, 1),
                "largest_process_rss_mib": _largest_child_rss_mib(),
            },
        )
    except Exception as error:  # whatever failed, Gradescope gets a results file saying so
        converted = failure_results(f"{type(error).__name__}: {error}", exercises=exercises)
    finally:
        _kill_leftovers(user)  # nothing the submission started outlives the run
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
    write_json(converted, final)
    return converted


def _grade_exercise(
    exercise: str,
    *,
    python: Path,
    submission: Path,
    work: Path,
    seed: int,
    settings: Path,
    sandbox: str | None,
    timeout_s: float,
    user: tuple[str, int, int] | None,
) -> tuple[dict[str, Any] | None, str | None]:
    """One exercise graded by ``python -m autograder grade``: (its results, why it failed)."""
    if timeout_s < 20:
        return None, "the run's time limit was used up by the exercises before it"
    results = work / "out" / f"{exercise}.json"
    options = GradeOptions(only=[exercise], sandbox=sandbox or None, settings=settings, seed=seed)
    command = grade_command(submission=submission, results=results, options=options, python=python)
    environment = {
        **os.environ,
        "HOME": str(work / "home"),
        "MPLCONFIGDIR": str(work / "home"),
        "TMPDIR": str(work / "tmp"),
    }
    log = work / "log" / f"{exercise}.txt"
    graded = run_grading(
        command,
        results=results,
        env=environment,
        log_path=log,
        timeout_s=timeout_s,
        user=user[1:] if user is not None else None,
        preexec_fn=_prefer_oom_kill,
        # before its results are read: nothing of the submission rewrites them
        after_exit=lambda: _kill_leftovers(user),
    )
    _print_log(exercise, log)
    if graded.returncode is None:
        return None, f"grading did not finish within the run's time limit ({timeout_s:.0f} s)"
    if graded.returncode != 0:
        return None, f"the grader stopped with exit status {graded.returncode}"
    if graded.document is None:
        return None, graded.reason
    return graded.document, None


def _print_log(exercise: str, log: Path) -> None:
    """The grader's terminal output, for Gradescope's stdout (hidden from students)."""
    with contextlib.suppress(OSError):
        text = log.read_text(encoding="utf-8", errors="replace")
        print(f"==== {exercise} ====\n{terminal_text(text[-20000:])}")


def _prefer_oom_kill() -> None:
    """In the grade process before exec: when the container runs out of memory, the kernel
    kills a grading process (the largest: the worker hoarding it), not run_autograder."""
    with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as handle:
        handle.write("500")


def _grading_user() -> tuple[str, int, int] | None:
    """(name, uid, gid) of the user grading runs as, when this process may switch to it."""
    name = os.environ.get(USER_VARIABLE, GRADING_USER)
    if not name or os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return name, entry.pw_uid, entry.pw_gid


def _prepare_work(work: Path, user: tuple[str, int, int] | None) -> None:
    for name in ("out", "home", "tmp", "log"):
        (work / name).mkdir(exist_ok=True)
    if user is None:
        return
    for path in (work, *work.rglob("*")):
        os.chown(path, user[1], user[2], follow_symlinks=False)


def _kill_leftovers(user: tuple[str, int, int] | None) -> None:
    """Kill what the submission left running, before results.json is written."""
    if user is not None:  # every process of the grading user: it runs nothing else
        script = "import os, signal\ntry: os.kill(-1, signal.SIGKILL)\nexcept OSError: pass"
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                [sys.executable, "-I", "-c", script],
                user=user[1],
                group=user[2],
                extra_groups=[],
                timeout=30,
                check=False,
            )
    for _ in range(5):
        if not supervisor.kill_strays():
            return


def _largest_child_rss_mib() -> float:
    """Peak resident memory of the largest process this run waited for (Linux: KiB)."""
    return round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)


# ---- command line (its arguments: autograder.arguments; its parser: autograder.cli) ----


def main(args: argparse.Namespace) -> int:
    """``run`` (what run_autograder starts) or ``results IN OUT`` (convert one file)."""
    if args.command == "results":
        return convert_results_file(args.input, args.output)
    root = args.root or Path(os.environ.get(ROOT_VARIABLE) or DEFAULT_ROOT)
    document = run_autograder(
        root=root,
        python=args.python or root / "venv" / "bin" / "python",
        only=args.only,
        settings=args.settings,
        sandbox=args.sandbox,
        budget_s=args.budget,
    )
    print(f"score {document['score']:g}: {root / RESULTS_FILE}")
    return 0
