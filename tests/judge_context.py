"""A judge's grading context with no worker behind it, for tests that drive a check's own code
with injected replies and measurements (test_cuda_logic.py, test_cpu_remeasure.py,
test_easy_logic.py, test_timing_logic.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from autograder.grading.judge.checks import support
from autograder.grading.judge.checks.support import CheckFailed
from autograder.grading.sandbox import Sandbox
from autograder.spec.settings import load_settings


@contextmanager
def judge_context(
    work_dir: Path, *, exercise: str, device: str
) -> Iterator[support.GradingContext]:
    """``support.CONTEXT`` for one test: the packaged settings, a fresh artifacts folder."""
    (work_dir / "artifacts").mkdir()
    ctx = support.GradingContext(
        exercise=exercise,
        module_source=None,
        work_dir=work_dir,
        seed=7,
        device=device,
        settings=load_settings(),
        sandbox=Sandbox(kind="none", reason="not used: no worker starts"),
    )
    previous, support.CONTEXT = support.CONTEXT, ctx
    try:
        yield ctx
    finally:
        support.CONTEXT = previous


def failure(check: Callable[[Any], None], sub: Any) -> CheckFailed:
    """The verdict a check function gives ``sub`` when it must fail: its ``CheckFailed``."""
    with pytest.raises(CheckFailed) as failed:
        check(sub)
    return failed.value
