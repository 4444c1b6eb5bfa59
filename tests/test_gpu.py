"""GPU grading on a real CUDA device; skipped (reported as skipped, never passed) without one.

CI has no GPU: there these tests show as skipped and the GPU checks are graded
as `pending` (tests/test_grade_cli.py). On a GPU machine they grade the reference
solutions and a time_fn that does not synchronise on CUDA.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.spec.registry import CHECKS
from benchmarks.grading_time import grade_once
from benchmarks.submissions import build_submission

ROOT = Path(__file__).resolve().parent.parent


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not cuda_available(), reason="no CUDA device: GPU checks stay pending"),
]


def grade_hard_on_cuda(submission: Path, out: Path) -> dict:
    run = grade_once(
        submission, results_path=out / "results.json", seed=7, only=["hard"], device="cuda"
    )
    return {t["id"]: t for t in run.document["tests"]}


def test_reference_passes_every_gpu_check(tmp_path):
    tests = grade_hard_on_cuda(ROOT / "solutions", tmp_path)
    for check in CHECKS:
        if check.gpu:
            assert tests[check.id]["status"] == "passed", tests[check.id]["output"]


def test_time_fn_without_synchronisation_fails(tmp_path):
    submission = build_submission("time_fn_no_sync", tmp_path / "s")
    tests = grade_hard_on_cuda(submission, tmp_path)
    assert tests["hard.time_fn_synchronises_cuda"]["status"] == "failed"
    assert tests["hard.correct_cuda"]["status"] == "passed"
