"""``python -m autograder grade``: scores, exit codes, reports (SPEC's fixed CLI)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from autograder.spec.registry import CHECKS

ROOT = Path(__file__).resolve().parent.parent
FAST_SETTINGS = ROOT / "tests" / "fixtures" / "fast-grading.toml"


def grade(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autograder", "grade", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_reference_solutions_get_every_non_pending_point(solution_run):
    completed, out = solution_run
    assert completed.returncode == 0, completed.stderr
    results = json.loads((out / "results.json").read_text())
    for test in results["tests"]:
        check = next(c for c in CHECKS if c.id == test["id"])
        expected = "pending" if (check.manual or check.gpu) else "passed"
        assert test["status"] == expected, (test["id"], test["output"])
    assert results["max_score"] == 100  # challenge is extra credit
    assert results["score"] == 100 - 3 - 4 - 14 + 10
    assert results["extra_data"]["seed"] == 5
    assert all(t["exercise"] in ("easy", "medium", "hard", "challenge") for t in results["tests"])
    # the per-exercise table and the terminal summary
    assert "medium" in completed.stdout and "total" in completed.stdout
    assert "grading hard" in completed.stderr  # progress lines


def test_reports_are_written(solution_run):
    _, out = solution_run
    suites = ET.parse(out / "junit.xml").getroot()
    cases = suites.findall(".//testcase")
    assert len(cases) == len(CHECKS)
    assert len(suites.findall(".//failure")) == 0
    assert len(suites.findall(".//skipped")) == sum(1 for c in CHECKS if c.manual or c.gpu)
    summary = (out / "summary.md").read_text()
    assert "medium" in summary and "pending" in summary.lower()
    assert (out / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_stubs_get_zero_with_not_implemented(tmp_path):
    completed = grade(
        "--submission",
        "exercises",
        "--device",
        "cpu",
        "--results",
        str(tmp_path / "r.json"),
        "--settings",
        str(FAST_SETTINGS),
    )
    assert completed.returncode == 0
    results = json.loads((tmp_path / "r.json").read_text())
    assert results["score"] == 0
    assert not [t for t in results["tests"] if t["status"] == "passed"]
    code_checks = [t for t in results["tests"] if not ({"gpu", "manual"} & set(t["tags"]))]
    assert all("not implemented yet" in t["output"] for t in code_checks)
    assert "Traceback" not in json.dumps(results)
    printed = (completed.stderr + completed.stdout).splitlines()  # a terminal shows both
    sandbox_lines = [line for line in printed if line.startswith("sandbox:")]
    assert len(sandbox_lines) == 1, printed  # said once, at the top of the progress lines


def test_quiet_grading_still_names_the_sandbox_once(tmp_path):
    completed = grade(
        "--submission",
        "exercises",
        "--only",
        "easy",
        "--device",
        "cpu",
        "--quiet",
        "--results",
        str(tmp_path / "r.json"),
        "--settings",
        str(FAST_SETTINGS),
    )
    assert completed.returncode == 0, completed.stderr
    assert not [line for line in completed.stderr.splitlines() if line.startswith("sandbox:")]
    lines = completed.stdout.splitlines()
    assert [line for line in lines if line.startswith("sandbox:")] == [lines[-3]]
    assert lines[-2].startswith("results: ")
    assert lines[-1].startswith("full report: python -m autograder report ")


def test_fail_under_and_usage_errors(tmp_path):
    results = str(tmp_path / "r.json")
    low = grade(
        "--submission",
        "exercises",
        "--only",
        "medium",
        "--device",
        "cpu",
        "--results",
        results,
        "--fail-under",
        "50",
    )
    assert low.returncode == 1
    assert json.loads(Path(results).read_text())["score"] == 0  # results written anyway
    for args in (
        ["--submission", str(tmp_path / "missing")],
        ["--only", "impossible"],
        ["--device", "tpu"],
        ["--no-such-option"],
    ):
        completed = grade(*args, "--results", results)
        assert completed.returncode == 2, args
        assert len(completed.stderr.strip().splitlines()) == 1, completed.stderr


def test_help_lists_the_subcommands():
    completed = subprocess.run(
        [sys.executable, "-m", "autograder", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 0
    for command in ("grade", "stubs", "report", "collect", "merge", "release"):
        assert command in completed.stdout


def test_a_grader_error_still_writes_the_report(tmp_path, monkeypatch):
    """Even a bug in the grader's runner costs only that exercise's checks, never the report."""
    from autograder.grading import grade as grade_module

    def broken_runner(**kwargs):
        raise RuntimeError("simulated runner bug")

    monkeypatch.setattr(grade_module, "run_exercise", broken_runner)
    results_path = tmp_path / "r.json"
    document = grade_module.grade(
        submission=ROOT / "solutions", device="cpu", only=["challenge"], results_path=results_path
    )
    assert json.loads(results_path.read_text()) == document
    assert {t["status"] for t in document["tests"]} == {"failed"}
    assert "simulated runner bug" in document["tests"][0]["output"]
    assert document["extra_data"]["exercises"]["challenge"]["incidents"]


def _processes_inside(folder: Path) -> list[int]:
    """Pids whose working directory is under ``folder`` (a judge or worker still running)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cwd = Path(os.readlink(entry / "cwd"))
            except OSError:
                continue
            if cwd == folder or folder in cwd.parents:
                found.append(int(entry.name))
    return found


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_grading_leaves_no_copy_and_no_process_behind(tmp_path, stop):
    """Cancelled mid-exercise (a CI job cancelled, Ctrl-C): the submission's copy and the
    judge's work folder are removed and the judge and its workers are stopped."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    grading = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            "--submission",
            "solutions",
            "--only",
            "hard",
            "--device",
            "cpu",
            "--results",
            str(tmp_path / "results.json"),
            "--settings",
            str(FAST_SETTINGS),
        ],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(temporary)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # as from a terminal: a suite started in the background (CI) inherits SIGINT ignored,
        # and Python keeps an ignored SIGINT ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 120
        while not list(temporary.glob("grade-hard-*/judge.log")):
            assert grading.poll() is None, "grading ended before its judge started"
            assert time.monotonic() < deadline, "the judge never started"
            time.sleep(0.05)
        assert list(temporary.glob("grade-submission-*"))  # the copy being graded
        grading.send_signal(stop)
        assert grading.wait(timeout=60) == 128 + stop  # 130 after Ctrl-C, 143 after SIGTERM
    finally:
        if grading.poll() is None:
            grading.kill()
    assert sorted(p.name for p in temporary.iterdir()) == []
    assert _processes_inside(temporary) == []
