"""``grade``: run every selected exercise in isolation and write the reports.

This process never imports submission code: it copies files, starts one judge
per exercise (which starts the sandboxed workers that run submission code), reads
the judges' verdicts and writes results JSON, JUnit XML and a Markdown summary.
Whatever a submission does, a results file is written.
"""

from __future__ import annotations

import datetime
import os
import platform
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from autograder.grading import sandbox as sandboxes
from autograder.grading import static_scan, student_files
from autograder.grading.exercise import GradedExercise, run_exercise
from autograder.grading.processes import supervisor
from autograder.results import build
from autograder.results.last_resort import write_last_resort
from autograder.results.rescore import exercise_totals
from autograder.results.schema import DEFAULT_RESULTS_PATH
from autograder.results.write import writable, write_outputs
from autograder.spec import paths
from autograder.spec.registry import DEVICES, EXERCISES, Check, checks_for, gpu_exercises
from autograder.spec.settings import Settings, load_settings
from reference.cli_support import UsageError


def resolve_device(requested: str) -> tuple[str, dict[str, Any]]:
    """``auto`` means CUDA when a device is really there; ``cuda`` without one is an error."""
    if requested not in DEVICES:
        raise UsageError(f"unknown device {requested!r}: use auto, cpu or cuda")
    info: dict[str, Any] = {"requested": requested, "cuda_available": False, "name": "cpu"}
    if requested == "cpu":
        return "cpu", info | {"used": "cpu"}
    available = False
    if Path("/dev/nvidiactl").exists() or requested == "cuda":
        import torch  # the grader's own torch; no submission code is involved

        available = torch.cuda.is_available()
        if available:
            info["name"] = torch.cuda.get_device_name(0)
    info["cuda_available"] = available
    if requested == "cuda" and not available:
        raise UsageError("--device cuda: no CUDA device is available on this machine")
    used = "cuda" if available else "cpu"
    return used, info | {"used": used}


def select_exercises(only: Sequence[str] | None, *, gpu_only: bool = False) -> list[str]:
    """The exercises to grade: ``--only``'s (all by default); with ``--gpu-only``, of those
    only the ones with a check that needs CUDA (a usage error when none has one)."""
    exercises = list(only) if only else list(EXERCISES)
    unknown = [name for name in exercises if name not in EXERCISES]
    if unknown:
        raise UsageError(
            f"unknown exercise {', '.join(unknown)}: choose from {', '.join(EXERCISES)}"
        )
    if gpu_only:
        with_gpu = gpu_exercises()
        chosen = [name for name in exercises if name in with_gpu]
        if not chosen:
            raise UsageError(
                f"--gpu-only: {', '.join(exercises)} has no check that needs CUDA "
                f"(only {', '.join(with_gpu)} has)"
            )
        exercises = chosen
    return exercises


def select_checks(exercise: str, *, gpu_only: bool = False) -> list[Check]:
    """The checks of ``exercise`` that this run reports: with ``--gpu-only`` the GPU ones
    alone (the CPU job grades the others; ``merge`` combines the two files)."""
    return [check for check in checks_for(exercise) if check.gpu or not gpu_only]


def runnable_checks(checks: Sequence[Check], device: str) -> list[str]:
    """The ids the judge runs: a check that needs CUDA only on a CUDA device (else pending)."""
    return [check.id for check in checks if device == "cuda" or not check.gpu]


def environment() -> dict[str, Any]:
    versions: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }
    from importlib import metadata

    for package in ("torch", "numpy", "matplotlib", "pytest"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def grade(
    *,
    submission: Path,
    device: str = "auto",
    only: Sequence[str] | None = None,
    results_path: Path = DEFAULT_RESULTS_PATH,
    junit_path: Path | None = None,
    summary_path: Path | None = None,
    render_summary: Callable[[dict[str, Any]], str] | None = None,
    seed: int | None = None,
    settings: Settings | None = None,
    tamper_check: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
    sandbox: str = "auto",
    gpu_only: bool = False,
) -> dict[str, Any]:
    """Grade a submission folder; returns the results document it wrote.

    ``gpu_only`` grades only the checks that need CUDA (the GPU job's run): the results
    list just those, pending without a CUDA device, and no judge starts for nothing.

    ``tamper_check`` is a student repository's comparison with the release manifest
    (``tamper`` and the manifest's state, from ``course.release.repo_submission``); it joins
    the static scan's findings in ``extra_data.integrity``.

    ``render_summary`` renders the Markdown summary written to ``summary_path`` (the command
    passes :func:`autograder.reports.markdown.render_markdown`: grading imports no report).
    """
    if summary_path is not None and render_summary is None:
        raise ValueError("a summary_path needs its render_summary")
    started = time.monotonic()
    submission = Path(submission)
    if not submission.is_dir():
        raise UsageError(f"submission folder not found: {submission}")
    exercises = select_exercises(only, gpu_only=gpu_only)
    settings = settings or load_settings()
    used_device, device_info = resolve_device(device)
    try:
        confinement = sandboxes.resolve(sandbox)
    except sandboxes.SandboxUnavailable as error:
        raise UsageError(str(error)) from None
    seed = seed if seed is not None else secrets.randbits(31)
    say = progress or (lambda line: None)
    supervisor.make_non_dumpable()
    supervisor.become_subreaper()
    say(f"sandbox: {confinement.kind} ({confinement.reason})")

    output_limit = settings.limits.output_limit_kib * 1024
    # One copy of the modules, read without following links (student_files): what is graded
    # and scanned is what was read once, and a link costs only its own exercise's points.
    snapshot = Path(tempfile.mkdtemp(prefix="grade-submission-"))
    work_dirs: list[Path] = []  # removed on every way out (an error, Ctrl-C, SIGTERM)
    try:
        refused = student_files.copy_modules(
            submission.parent,
            submission.name,
            [f"{module}.py" for module in EXERCISES.values()],
            snapshot,
            limit=student_files.MAX_MODULE_BYTES,
        )
        findings = static_scan.scan_submission(snapshot)
        results: list[dict[str, Any]] = []
        exercise_data: dict[str, Any] = {}
        timings: dict[str, Any] = {}
        manual: list[dict[str, Any]] = []
        artifacts: dict[str, str] = {}
        results_dir = Path(results_path).parent
        results_dir.mkdir(parents=True, exist_ok=True)

        for exercise in exercises:
            checks = select_checks(exercise, gpu_only=gpu_only)
            runnable = runnable_checks(checks, used_device)
            say(f"grading {exercise} ({len(runnable)} checks on {used_device}) ...")
            try:
                if not runnable:  # --gpu-only without CUDA: every check pending, no judge
                    graded = GradedExercise(exercise=exercise)
                else:
                    graded = run_exercise(
                        exercise=exercise,
                        check_ids=runnable,
                        submission_dir=snapshot,
                        device=used_device,
                        seed=seed,
                        settings=settings,
                        sandbox=confinement,
                        progress=say,
                        work_dirs=work_dirs,
                    )
            except Exception as error:  # a grader bug must not cost the report
                graded = GradedExercise(exercise=exercise)
                reason = f"the grader failed to run this check ({type(error).__name__}: {error}); "
                reason += "tell your TA, this is not your code's fault"
                graded.verdicts = {
                    check_id: {"status": "failed", "output": reason} for check_id in runnable
                }
                graded.incidents.append(f"internal grader error: {type(error).__name__}: {error}")
            module_name = f"{EXERCISES[exercise]}.py"
            if module_name in refused:
                graded.incidents.append(f"{module_name} not graded: {refused[module_name]}")
            for check in checks:
                if check.id in graded.verdicts:
                    verdict = graded.verdicts[check.id]
                    if module_name in refused and verdict.get("status") == "failed":
                        verdict = {
                            **verdict,
                            "output": f"{module_name} was not graded: {refused[module_name]}",
                        }
                else:
                    verdict = {
                        "status": "pending",
                        "output": "needs a CUDA device: this run had none (graded on cpu); "
                        "the GPU job grades it",
                    }
                result = build.result_from(check, verdict, output_limit)
                results.append(result)
                records = verdict.get("records", {})
                if "timing" in records or "measured" in records or "measured_depth" in records:
                    timings[check.id] = {
                        k: v
                        for k, v in records.items()
                        if k in ("timing", "measured", "measured_depth")
                    }
                if check.manual:
                    manual.append(
                        {
                            "check": check.id,
                            "exercise": exercise,
                            "points": float(check.points),
                            "question": check.title,
                            "answer": records.get("answer", ""),
                            "status": result["status"],
                            "rubric": list(check.rubric),
                        }
                    )
            for artifact in graded.artifacts:
                if artifact.name == paths.SWEEP_PLOT:
                    shutil.copyfile(artifact, results_dir / paths.SWEEP_PLOT)
                    artifacts["sweep_plot"] = paths.SWEEP_PLOT
            if graded.work_dir is not None:
                shutil.rmtree(graded.work_dir, ignore_errors=True)
            exercise_data[exercise] = {
                "wall_seconds": round(graded.wall_seconds, 3),
                "runs": graded.runs,
                "worker_starts": graded.worker_starts,
                "lease_wait_seconds": round(graded.lease_wait_seconds, 3),
                "incidents": graded.incidents,
                "output_tail": graded.output_tail[-output_limit:],
            }
            mine = [result for result in results if result["exercise"] == exercise]
            done = exercise_totals(mine)[exercise]
            seconds = graded.wall_seconds
            say(f"  {exercise}: {done['score']:g}/{done['max_score']:g} in {seconds:.1f} s")

        extra = {
            "grader_version": _version(),
            "graded_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "submission": str(submission.resolve()),
            "seed": seed,
            "device": device_info,
            "sandbox": confinement.to_json(),
            "environment": environment(),
            "exercises": exercise_data,
            "integrity": _integrity(
                findings, bounded_tamper(tamper_check or {}), refused, folder=submission.name
            ),
            "timings": timings,
            "manual": manual,
            "artifacts": artifacts,
            "settings": {"tolerances": used_device},
            "gpu_only": gpu_only,
        }
    finally:
        shutil.rmtree(snapshot, ignore_errors=True)
        for work_dir in work_dirs:
            shutil.rmtree(work_dir, ignore_errors=True)
    try:
        document = build.assemble(
            build.registry_order(results),
            execution_time=time.monotonic() - started,
            extra_data=extra,
        )
        document = writable(document)  # what the files hold is what the terminal shows
        write_outputs(
            document,
            results_path=Path(results_path),
            junit_path=junit_path,
            summary_path=summary_path,
            render_summary=render_summary,
        )
    except Exception as error:  # a grader bug: the verdicts still reach a results file
        document = write_last_resort(
            error,
            results,
            execution_time=time.monotonic() - started,
            results_path=Path(results_path),
            junit_path=junit_path,
            summary_path=summary_path,
        )
    return document


def _integrity(
    findings: list[dict[str, Any]],
    tamper_check: dict[str, Any] | None,
    refused: dict[str, str],
    *,
    folder: str,
) -> dict[str, Any]:
    """``extra_data.integrity``: a module that was refused (a link, a special file) is a
    tamper entry too, so the TA sees it among the flags whatever the manifest says."""
    integrity: dict[str, Any] = {"tamper": [], "findings": findings, **(tamper_check or {})}
    for name, reason in sorted(refused.items()):
        path = f"{folder}/{name}" if folder else name
        integrity["tamper"] = [
            *integrity["tamper"],
            {"path": path, "change": f"refused ({reason})"},
        ]
    return integrity


MAX_TAMPER_LISTED = 200  # a repository with thousands of added files stays a small report


def bounded_tamper(tamper_check: dict[str, Any]) -> dict[str, Any]:
    """The tamper check with at most MAX_TAMPER_LISTED changes listed, modified and removed
    protected files first, then one entry counting the rest."""
    changes = tamper_check.get("tamper")
    if not isinstance(changes, list) or len(changes) <= MAX_TAMPER_LISTED:
        return tamper_check
    ordered = sorted(changes, key=lambda c: isinstance(c, dict) and c.get("change") == "added")
    kept = ordered[:MAX_TAMPER_LISTED]
    rest = len(ordered) - len(kept)
    return tamper_check | {"tamper": [*kept, {"path": f"({rest} more)", "change": "more"}]}


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("why-transformers-exercises")
    except metadata.PackageNotFoundError:
        return "unknown"


def print_progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
