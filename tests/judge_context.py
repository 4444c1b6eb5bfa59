"""A judge's grading context with no worker behind it, for tests that drive a check's own code
with injected replies and measurements (test_cuda_logic.py, test_cpu_remeasure.py,
test_easy_logic.py, test_timing_logic.py...). Checks take the context as an argument, as in a
judge, so a test builds one and passes it: nothing global to set or restore."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from autograder.grading.judge.checks import support
from autograder.grading.judge.checks.support import CheckFailed, call_check
from autograder.grading.judge.spawn import WorkerSpec
from autograder.grading.sandbox import Sandbox
from autograder.spec.settings import load_settings

__all__ = ["FakeJudgeTime", "call_check", "failure", "judge_context", "unconfined_spec"]


class FakeJudgeTime:
    """The judge's clock in judge/waits.py (patched over its ``time``): a sleep moves it
    exactly that far, at once, and is recorded."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def perf_counter(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def unconfined_spec(source: Path | None, name: str, tmp_path: Path) -> WorkerSpec:
    """An unconfined worker on the CPU loading ``source`` as ``name`` (the sandbox has its
    own tests)."""
    return WorkerSpec(
        module_source=source,
        module_name=name,
        device="cpu",
        log_path=tmp_path / "out.log",
        memory_mib=4096,
        file_size_mib=16,
        import_timeout_s=60,
        sandbox=Sandbox("none", "test"),
    )


def judge_context(work_dir: Path, *, exercise: str, device: str) -> support.GradingContext:
    """A grading context for one test: the packaged settings, a fresh artifacts folder."""
    (work_dir / "artifacts").mkdir(parents=True)
    return support.GradingContext(
        exercise=exercise,
        module_source=None,
        work_dir=work_dir,
        seed=7,
        device=device,
        settings=load_settings(),
        sandbox=Sandbox(kind="none", reason="not used: no worker starts"),
    )


def failure(
    check: Callable[..., None],
    sub: Any,
    ctx: support.GradingContext,
    made: dict[str, Any] | None = None,
) -> CheckFailed:
    """The verdict a check function gives ``sub`` when it must fail: its ``CheckFailed``
    (the check called as a judge calls it, :func:`call_check`)."""
    with pytest.raises(CheckFailed) as failed:
        call_check(check, sub, ctx, made)
    return failed.value
