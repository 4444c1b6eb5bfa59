"""How long grading takes on CPU, and where that time goes.

Each run is the real command line in its own process (``python -m autograder grade``), as
CI and students run it, so the figure includes interpreter start-up, the isolated children
and their imports. The results file then says where the time went: ``wall_seconds`` per
exercise (``extra_data.exercises``) and ``duration`` per check.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.spec import paths
from benchmarks.submissions import ROOT


@dataclass(frozen=True)
class Spread:
    """min / median / max of repeated measurements: the range is the point, not the mean."""

    count: int
    low: float
    median: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            raise ValueError("no values to summarise")
        return cls(len(values), min(values), statistics.median(values), max(values))

    def cells(self, digits: int = 2) -> list[str]:
        """The three figures as Markdown table cells."""
        return [_fmt(value, digits) for value in (self.low, self.median, self.high)]


def _fmt(value: float, digits: int) -> str:
    if value != 0 and (abs(value) < 10 ** (-digits) or abs(value) >= 1e5):
        return f"{value:.{digits}g}"
    return f"{value:.{digits}f}"


@dataclass(frozen=True)
class GradeRun:
    """One grading run: wall seconds seen from outside, and the results document it wrote."""

    label: str
    seed: int
    wall_seconds: float
    document: dict[str, Any]


def grade_once(
    submission: Path,
    *,
    results_path: Path,
    seed: int,
    only: Sequence[str] | None = None,
    settings: Path | None = None,
    label: str = "",
    timeout_s: float = 900.0,
    device: str = "cpu",
    extra_args: Sequence[str] = (),
    cwd: Path = ROOT,
    env: Mapping[str, str] | None = None,
) -> GradeRun:
    """Grade ``submission`` through the CLI, as students and CI do (the tests use it too).

    The wall time includes process start-up. ``cwd`` and ``env`` choose which grader
    ``python -m autograder`` finds (benchmarks/old_grader.py runs the old one this way).
    """
    command = [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        "--submission",
        str(Path(submission).resolve()),
        "--device",
        device,
        "--seed",
        str(seed),
        "--results",
        str(Path(results_path).resolve()),
        "--quiet",
    ]
    if only:
        command += ["--only", *only]
    if settings is not None:
        command += ["--settings", str(Path(settings).resolve())]
    command += list(extra_args)
    start = time.perf_counter()
    completed = subprocess.run(
        command,
        cwd=cwd,
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    wall = time.perf_counter() - start
    if completed.returncode != 0:
        raise RuntimeError(
            f"grading {submission} exited {completed.returncode}: {completed.stderr[-2000:]}"
        )
    document = json.loads(results_path.read_text(encoding="utf-8"))
    return GradeRun(label=label or submission.name, seed=seed, wall_seconds=wall, document=document)


def time_grading(
    submission: Path,
    *,
    runs: int,
    work_dir: Path,
    first_seed: int,
    only: Sequence[str] | None = None,
    settings: Path | None = None,
    label: str = "",
) -> list[GradeRun]:
    """``runs`` gradings of one submission, each with its own seed (inputs differ per run)."""
    graded = []
    for index in range(runs):
        out = work_dir / f"{label or submission.name}-{index}" / paths.RESULTS_NAME
        graded.append(
            grade_once(
                submission,
                results_path=out,
                seed=first_seed + index,
                only=only,
                settings=settings,
                label=label,
            )
        )
    return graded


@dataclass(frozen=True)
class TimeBreakdown:
    """Where one submission's grading time goes, over repeated runs."""

    total: Spread
    exercises: dict[str, Spread]  # exercise -> wall_seconds of its child
    checks_sum: dict[str, Spread]  # exercise -> sum of its checks' durations
    slowest_checks: list[tuple[str, Spread]]  # check id -> duration, slowest first


def breakdown(runs: Sequence[GradeRun], *, slowest: int = 6) -> TimeBreakdown:
    """Per-exercise wall time, the part spent inside checks, and the slowest checks."""
    exercises: dict[str, list[float]] = {}
    checks_sum: dict[str, list[float]] = {}
    durations: dict[str, list[float]] = {}
    for run in runs:
        for exercise, data in run.document["extra_data"]["exercises"].items():
            exercises.setdefault(exercise, []).append(float(data["wall_seconds"]))
            checks_sum.setdefault(exercise, []).append(
                sum(
                    float(test.get("duration", 0.0))
                    for test in run.document["tests"]
                    if test["exercise"] == exercise
                )
            )
        for test in run.document["tests"]:
            if "duration" in test:
                durations.setdefault(test["id"], []).append(float(test["duration"]))
    by_check = sorted(
        ((check, Spread.of(values)) for check, values in durations.items()),
        key=lambda item: item[1].median,
        reverse=True,
    )
    return TimeBreakdown(
        total=Spread.of([run.wall_seconds for run in runs]),
        exercises={name: Spread.of(values) for name, values in exercises.items()},
        checks_sum={name: Spread.of(values) for name, values in checks_sum.items()},
        slowest_checks=by_check[:slowest],
    )


def render_grading_time(
    results: dict[str, TimeBreakdown], *, what: dict[str, str], totals: bool = True
) -> str:
    """Markdown: total wall time per submission (unless ``totals`` is false, where the caller
    shows them), then per exercise and the slowest checks."""
    lines = []
    if totals:
        lines += [
            "| submission | runs | min (s) | median (s) | max (s) |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, data in results.items():
            lines.append(
                f"| {what.get(name, name)} | {data.total.count} | "
                + " | ".join(data.total.cells())
                + " |"
            )
        lines += ["", "### Where the time goes", ""]
    lines += [
        "Per exercise: the wall time of its grading child (`extra_data.exercises[*]."
        "wall_seconds`: process start, imports, test collection and the checks; in the old "
        "grader the one child that imports the submission, in the new one the judge, which "
        "starts the submission's and the reference's workers), the part spent inside the "
        "checks themselves (sum of their `duration`), and the rest: start-up, mostly "
        "importing pytest, numpy and torch in a fresh process (and, in the new grader, "
        "starting the workers before the first check). Medians over the runs. A "
        "check's duration includes the imports and first-use costs it triggers: in the hard "
        "exercise the first check to touch torch and the plot check (matplotlib) carry them, "
        "which is why they are among the slowest even where the submission is a stub.",
        "",
        "| submission | exercise | child wall, median (min-max) s | inside checks, median s "
        "| start-up, median s |",
        "|---|---|---:|---:|---:|",
    ]
    for name, data in results.items():
        for exercise, spread in data.exercises.items():
            low, median, high = spread.cells()
            inside = data.checks_sum[exercise].median
            lines.append(
                f"| {what.get(name, name)} | {exercise} | {median} ({low}-{high}) | "
                f"{_fmt(inside, 2)} | {_fmt(spread.median - inside, 2)} |"
            )
    lines += ["", "Slowest checks (by median `duration`):", ""]
    lines += ["| submission | check | median (s) | max (s) |", "|---|---|---:|---:|"]
    for name, data in results.items():
        for check, spread in data.slowest_checks:
            cells = spread.cells(3)
            lines.append(f"| {what.get(name, name)} | `{check}` | {cells[1]} | {cells[2]} |")
    return "\n".join(lines) + "\n"
