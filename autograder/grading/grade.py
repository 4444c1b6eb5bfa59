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
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from autograder.grading import sandbox as sandboxes
from autograder.grading import static_scan, supervisor
from autograder.grading.judge_runner import GradedExercise, run_exercise
from autograder.reports.markdown import render_markdown
from autograder.results import build as results
from autograder.results.last_resort import write_last_resort
from autograder.results.schema import DEFAULT_RESULTS_PATH
from autograder.results.write import writable, write_outputs
from autograder.spec.registry import EXERCISES, checks_for
from autograder.spec.settings import Settings, load_settings


class UsageError(ValueError):
    """Bad command-line input: reported in one line, exit status 2."""


def resolve_device(requested: str) -> tuple[str, dict[str, Any]]:
    """``auto`` means CUDA when a device is really there; ``cuda`` without one is an error."""
    if requested not in ("auto", "cpu", "cuda"):
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
    seed: int | None = None,
    settings: Settings | None = None,
    tamper_check: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
    sandbox: str = "auto",
) -> dict[str, Any]:
    """Grade a submission folder; returns the results document it wrote.

    ``tamper_check`` is a student repository's comparison with the release manifest
    (``tamper`` and the manifest's state, from ``course.release.repo_submission``); it joins
    the static scan's findings in ``extra_data.integrity``.
    """
    started = time.monotonic()
    submission = Path(submission)
    if not submission.is_dir():
        raise UsageError(f"submission folder not found: {submission}")
    exercises = list(only) if only else list(EXERCISES)
    unknown = [name for name in exercises if name not in EXERCISES]
    if unknown:
        raise UsageError(
            f"unknown exercise {', '.join(unknown)}: choose from {', '.join(EXERCISES)}"
        )
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
    findings = static_scan.scan_submission(submission)
    tests: list[dict[str, Any]] = []
    exercise_data: dict[str, Any] = {}
    timings: dict[str, Any] = {}
    manual: list[dict[str, Any]] = []
    artifacts: dict[str, str] = {}
    results_dir = Path(results_path).parent
    results_dir.mkdir(parents=True, exist_ok=True)

    for exercise in exercises:
        checks = checks_for(exercise)
        runnable = [c.id for c in checks if not (c.gpu and used_device != "cuda")]
        say(f"grading {exercise} ({len(runnable)} checks on {used_device}) ...")
        try:
            graded = run_exercise(
                exercise=exercise,
                check_ids=runnable,
                submission_dir=submission.resolve(),
                device=used_device,
                seed=seed,
                settings=settings,
                sandbox=confinement,
                progress=say,
            )
        except Exception as error:  # a grader bug must not cost the report
            graded = GradedExercise(exercise=exercise)
            reason = f"the grader failed to run this check ({type(error).__name__}: {error}); "
            reason += "tell your TA, this is not your code's fault"
            graded.verdicts = {
                check_id: {"status": "failed", "output": reason} for check_id in runnable
            }
            graded.incidents.append(f"internal grader error: {type(error).__name__}: {error}")
        for check in checks:
            if check.id in graded.verdicts:
                verdict = graded.verdicts[check.id]
            else:
                verdict = {
                    "status": "pending",
                    "output": "needs a CUDA device: this run had none (graded on cpu); "
                    "the GPU job grades it",
                }
            result = results.test_entry(check, verdict, output_limit)
            tests.append(result)
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
            if artifact.name == "sweep.png":
                shutil.copyfile(artifact, results_dir / "sweep.png")
                artifacts["sweep_plot"] = "sweep.png"
        if graded.work_dir is not None:
            shutil.rmtree(graded.work_dir, ignore_errors=True)
        exercise_data[exercise] = {
            "wall_seconds": round(graded.wall_seconds, 3),
            "runs": graded.runs,
            "worker_starts": graded.worker_starts,
            "incidents": graded.incidents,
            "output_tail": graded.output_tail[-output_limit:],
        }
        done = results.exercise_totals([t for t in tests if t["exercise"] == exercise])[exercise]
        say(f"  {exercise}: {done['score']:g}/{done['max_score']:g} in {graded.wall_seconds:.1f} s")

    extra = {
        "grader_version": _version(),
        "graded_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "submission": str(submission.resolve()),
        "seed": seed,
        "device": device_info,
        "sandbox": confinement.to_json(),
        "environment": environment(),
        "exercises": exercise_data,
        "integrity": {"tamper": [], "findings": findings, **bounded_tamper(tamper_check or {})},
        "timings": timings,
        "manual": manual,
        "artifacts": artifacts,
        "settings": {"tolerances": used_device},
    }
    try:
        document = results.assemble(
            results.registry_order(tests),
            execution_time=time.monotonic() - started,
            extra_data=extra,
        )
        document = writable(document)  # what the files hold is what the terminal shows
        write_reports(
            document, results_path=results_path, junit_path=junit_path, summary_path=summary_path
        )
    except Exception as error:  # a grader bug: the verdicts still reach a results file
        document = write_last_resort(
            error,
            tests,
            execution_time=time.monotonic() - started,
            results_path=Path(results_path),
            junit_path=junit_path,
            summary_path=summary_path,
        )
    return document


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


def write_reports(
    document: dict[str, Any],
    *,
    results_path: Path,
    junit_path: Path | None,
    summary_path: Path | None,
) -> None:
    """Results JSON always; JUnit XML and the Markdown summary when asked for (the files
    ``merge`` writes too, by the same :func:`autograder.results.write.write_outputs`)."""
    write_outputs(
        document,
        results_path=Path(results_path),
        junit_path=junit_path,
        summary_path=summary_path,
        render_summary=render_markdown,
    )


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("why-transformers-exercises")
    except metadata.PackageNotFoundError:
        return "unknown"


def print_progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
