"""The grading bench works, and the CPU analogue of a no-wait time_fn fails its timing checks.

The bench itself (``make bench``) takes minutes; here it runs on a tiny configuration and its
figure extraction is checked against the grader's real record and message formats. No
timing figure is asserted: only that the machinery reads, summarises and reports them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.registry import CHECKS
from autograder.settings import load_settings
from benchmarks import validity
from benchmarks.grading_time import (
    GradeRun,
    Spread,
    breakdown,
    grade_once,
    render_grading_time,
)
from benchmarks.submissions import build_submission

ROOT = Path(__file__).resolve().parent.parent
CPU_TOLERANCES = load_settings().tolerances["cpu"]

FAST_SETTINGS = ROOT / "tests" / "fixtures" / "fast-grading.toml"


def grade(submission: Path, out: Path, *only: str) -> dict:
    """Grade on CPU through the CLI, as students and CI do, with the tests' short timeouts."""
    run = grade_once(
        submission, results_path=out / "results.json", seed=4321, only=only, settings=FAST_SETTINGS
    )
    return run.document


@pytest.fixture(scope="module")
def async_time_fn_results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The reference solution with time_fn_async_cpu's time_fn, graded once for the module."""
    folder = tmp_path_factory.mktemp("time_fn_async_cpu")
    submission = build_submission("time_fn_async_cpu", folder / "submission")
    return grade(submission, folder, "hard")


def test_time_fn_async_cpu_fails_only_its_timing_checks(async_time_fn_results: dict) -> None:
    """Timing only the thread's start is the CPU twin of a CUDA time_fn with no synchronize."""
    tests = {test["id"]: test for test in async_time_fn_results["tests"]}
    timed = tests["hard.time_fn_accurate_cpu"]
    assert timed["status"] == "failed", timed["output"]
    assert "% off" in timed["output"], timed["output"]
    changed = {
        check.id: tests[check.id]["status"]
        for check in CHECKS
        if check.exercise == "hard"
        and "timing" not in check.tags
        and tests[check.id]["status"] != validity.baseline_status(check)
    }
    assert not changed, changed


def test_broken_summary_reads_why_it_failed(async_time_fn_results: dict) -> None:
    run = GradeRun("time_fn_async_cpu", 4321, 1.0, async_time_fn_results)
    summary = validity.summarise_broken("time_fn_async_cpu", [run])
    assert summary.failed["hard.time_fn_accurate_cpu"] == 1
    errors = summary.readings["hard.time_fn_accurate_cpu"]["time_fn relative error"]
    assert errors and errors[0] > CPU_TOLERANCES.time_fn_rel_error
    table = validity.render_broken([summary], CPU_TOLERANCES)
    assert "| `time_fn_async_cpu` | `hard.time_fn_accurate_cpu` | fail | 1/1 |" in table
    assert "Non-timing checks of these submissions that lost the reference's status: 0." in (table)


def test_bench_tiny_run_writes_every_section(tmp_path: Path) -> None:
    """One run of each phase on the smallest exercise: the report has all its parts."""
    out, raw = tmp_path / "bench.md", tmp_path / "bench.json"
    command = [sys.executable, "-m", "benchmarks", "--wall-runs", "1", "--wall-only", "easy"]
    command += ["--runs", "1", "--timing-only", "easy", "--cases", "--busy", "1"]
    command += ["--out", str(out), "--json", str(raw)]
    completed = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = out.read_text()
    for heading in (
        "# Grading benchmarks (CPU)",
        "| CPU |",
        "**A shared machine.**",
        "## 1. Grading wall time",
        "### Where the time goes",
        "## 2. Timing checks of honest submissions under load",
        "| `easy.numpy_vectorised_over_d` |",
        "| numpy per-step time, d=256 over d=1 |",
        "## 4. GPU",
        "docs/gpu-validation.md",
    ):
        assert heading in report, heading
    assert "## 3." not in report  # no broken case was asked for
    figures = json.loads(raw.read_text())
    assert len(figures["loaded"]["solutions"]) == 1
    assert set(figures["wall"]) == {"solutions", "exercises"}


def test_busy_cores_spin_and_are_killed() -> None:
    with validity.busy_cores(1) as spinners:
        time.sleep(0.5)
        assert spinners[0].poll() is None
        assert (validity.cpu_seconds(spinners[0].pid) or 0.0) > 0.1
    assert spinners[0].poll() is not None


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


def test_busy_loop_stops_when_its_parent_dies() -> None:
    """Even a bench killed with SIGKILL (no cleanup runs) leaves no spinning process."""
    parent = (
        "from benchmarks.validity import start_busy_loop\n"
        "print(start_busy_loop().pid, flush=True)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", parent],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    pid = int(completed.stdout)
    deadline = time.monotonic() + 10
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    stopped = _gone(pid)
    if not stopped:
        os.kill(pid, 9)
    assert stopped, f"busy loop {pid} outlived its parent"


def _document(timings: dict, outputs: dict[str, str] | None = None) -> dict:
    """A results document holding only what the bench reads: statuses, records, messages."""
    outputs = outputs or {}
    tests = [
        {
            "id": check.id,
            "exercise": check.exercise,
            "status": "failed" if check.id in outputs else validity.baseline_status(check),
            "output": outputs.get(check.id, ""),
            "duration": 0.5,
        }
        for check in CHECKS
        if check.exercise in ("easy", "hard")
    ]
    exercises = {"easy": {"wall_seconds": 1.0}, "hard": {"wall_seconds": 4.0}}
    return {"tests": tests, "extra_data": {"timings": timings, "exercises": exercises}}


RECORDS = {
    "easy.numpy_vectorised_over_d": {"timing": {"ratio": 2.0}},
    "easy.python_grows_with_d": {"timing": {"ratio": 16.0}},
    "easy.serial_overhead_consistent": {
        "timing": {"python:d=4": {"ratio": 1.1}, "numpy:d=4": {"ratio": 0.5}}
    },
    "hard.sweep_rows_cpu": {
        "timing": {
            "rows": [],
            "comparison": [
                {"curve": "rnn_seconds", "ratio": 1.5},
                {"curve": "attention_seconds", "ratio": 0.9},
            ],
        }
    },
    "hard.curve_shapes_cpu": {
        "timing": {"rnn_slope": 1.1, "reduction_ratio": {"64": 1.2, "65536": 2.0}}
    },
}


def test_quantities_and_margins_from_records_and_messages() -> None:
    """time_fn records nothing when it fails: its figure then comes from the message."""
    message = (
        "time_fn on a sleep of known duration 8.00 ms returned 12.000 ms (50% off, allowed 25%)"
    )
    document = _document(RECORDS, {"hard.time_fn_accurate_cpu": message})
    summary = validity.summarise_honest([GradeRun("s", 1, 5.0, document)], ("easy", "hard"))
    assert summary.false_failures["hard.time_fn_accurate_cpu"] == 1
    assert summary.false_failures["easy.numpy_vectorised_over_d"] == 0
    assert summary.values["hard.time_fn_error"] == [0.5]
    assert summary.values["hard.reduction_ratio"] == [1.2, 2.0]
    assert summary.values["easy.reported_numpy"] == [0.5]
    tol = dataclasses.replace(
        CPU_TOLERANCES, numpy_growth_max=4.0, rnn_slope_min=0.7, rnn_slope_max=1.3
    )
    by_key = {q.key: q for q in validity.QUANTITIES}
    assert by_key["easy.numpy_growth"].margin([2.0], tol) == (2.0, "upper")
    room, side = by_key["hard.rnn_slope"].margin([1.1], tol)
    assert side == "upper" and room == pytest.approx(0.2)
    room, side = by_key["hard.time_fn_error"].margin([0.5], tol)
    assert side == "upper" and room < 0  # outside the bound: shown as a negative margin
    report = validity.render_honest(summary, tol)
    assert "| `hard.time_fn_accurate_cpu` | 1/1 |" in report
    assert "False failures seen:" in report


@pytest.mark.parametrize(
    ("output", "reason", "figure"),
    [
        (
            "time_fn on a sleep of known duration 10.00 ms returned 0.100 ms (99% off, allowed "
            "25%)",
            "time_fn relative error",
            0.99,
        ),
        (
            "sweep reports rnn_seconds=1.26e-05 s at n=256; the grader timed the rnn_style_torch "
            "calls your sweep made at 0.0013 s (0.01x, allowed 0.33..3.0x)",
            "claimed / observed",
            0.01,
        ),
        (
            "attention_style_torch takes 119.0x the time of the reference reduction xs.mean() at "
            "n=65536 (allowed 4.0x): use one library reduction, not a loop",
            "reduction / xs.mean()",
            119.0,
        ),
        ("rnn_style_torch's time grows like n^0.41 over n=256..4096", "serial slope", 0.41),
        ("time.perf_counter was replaced: timings cannot be trusted", "clock replaced", None),
        ("sweep reports rnn_seconds for n=256, but it never called", "never ran", None),
    ],
)
def test_failure_reading_follows_the_grader_messages(output, reason, figure) -> None:
    got_reason, got_figure = validity.failure_reading(output)
    assert reason in got_reason
    assert got_figure == (None if figure is None else pytest.approx(figure))


def test_grading_time_breakdown_and_table() -> None:
    runs = [GradeRun("solutions", s, 5.0 + s, _document(RECORDS)) for s in range(3)]
    data = breakdown(runs, slowest=2)
    assert data.total == Spread(3, 5.0, 6.0, 7.0)
    assert data.exercises["hard"].median == 4.0
    assert len(data.slowest_checks) == 2
    table = render_grading_time({"solutions": data}, what={"solutions": "reference"})
    assert "| reference | 3 | 5.00 | 6.00 | 7.00 |" in table
    assert "| reference | hard | 4.00 (4.00-4.00) |" in table


def test_every_case_exists_and_names_registered_timing_checks(tmp_path: Path) -> None:
    """A renamed check or a deleted case must not leave the bench judging nothing."""
    timing = {check.id for check in CHECKS if "timing" in check.tags and not check.gpu}
    for name, case in validity.CASES.items():
        assert case.must_fail | case.may_fail <= timing, name
        assert {c.split(".")[0] for c in case.must_fail | case.may_fail} <= set(case.exercises)
        submission = build_submission(name, tmp_path / name)
        for module in submission.glob("*.py"):
            compile(module.read_text(), str(module), "exec")  # the override appends cleanly
        assert "# ---- override from" in "".join(
            module.read_text() for module in submission.glob("*.py")
        ), name
