"""The suite's skip policy: in CI (``CI=true``) only a missing CUDA device may skip a test.

Anywhere else a skip (a missing tool, a stale path, a shallow clone) is reported as a
failure in CI, so a check that never runs cannot pass unnoticed. Only tests marked
``gpu`` (tests/test_gpu.py) may skip there; CI has no GPU and the course's GPU runner runs
them before a release (docs/gpu-runner.md), with ``GPU_REQUIRED=true``: there no test
may skip at all. Locally skips stay skips.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

ALLOWED_IN_CI = "gpu"  # the marker of the only tests CI may skip: they need a CUDA device


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def gpu_required() -> bool:
    """The GPU runner's run: a GPU test that skips there never checked the device."""
    return os.environ.get("GPU_REQUIRED") == "true"


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def _fail_skip(report: pytest.TestReport | pytest.CollectReport, where: str) -> None:
    reason = _skip_reason(report)
    report.outcome = "failed"
    report.longrepr = (
        f"{where} was skipped under CI=true ({reason}); in CI only tests marked "
        f"'{ALLOWED_IN_CI}' may skip, none with GPU_REQUIRED=true (tests/conftest.py): "
        "install what it needs or fix its guard"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    report = outcome.get_result()
    may_skip = item.get_closest_marker(ALLOWED_IN_CI) is not None and not gpu_required()
    if (in_ci() or gpu_required()) and report.skipped and not hasattr(report, "wasxfail"):
        if may_skip:
            return
        _fail_skip(report, item.nodeid)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    outcome = yield
    report = outcome.get_result()
    if (in_ci() or gpu_required()) and report.skipped:
        _fail_skip(report, f"collecting {collector.nodeid or 'the suite'}")


@pytest.fixture
def judge_time(monkeypatch):
    """judge/waits.py on a fake clock (tests/judge_context.py ``FakeJudgeTime``)."""
    from judge_context import FakeJudgeTime

    from autograder.grading.judge import waits

    fake = FakeJudgeTime()
    monkeypatch.setattr(waits, "time", fake)
    return fake


@pytest.fixture(scope="session")
def solution_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """The model solutions graded once through the CLI on the CPU (seed 5, the tests' fast
    settings, results, JUnit and summary in the folder returned): the grading every test that
    needs a correct submission's results reads (test_grade_cli, the nbgrader round trip)."""
    out = tmp_path_factory.mktemp("solutions")
    settings = ROOT / "tests" / "fixtures" / "fast-grading.toml"
    command = [sys.executable, "-m", "autograder", "grade", "--submission", "solutions"]
    completed = subprocess.run(
        [
            *command,
            *("--device", "cpu", "--seed", "5", "--results", str(out / "results.json")),
            *("--junit", str(out / "junit.xml"), "--summary", str(out / "summary.md")),
            *("--settings", str(settings)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return completed, out
