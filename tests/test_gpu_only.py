"""``grade --gpu-only``: the GPU job grades just the checks that need CUDA, ``merge`` adds them.

No test here needs a GPU: on CPU the checks stay pending and no judge starts; which checks a
CUDA run would hand the judge is tested with the runner replaced by a recorder.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from autograder.course.regrade.jobs import grade_command
from autograder.course.regrade.students import Student
from autograder.grading import grade as grade_module
from autograder.grading.exercise import GradedExercise
from autograder.results.merge import merge
from autograder.spec.registry import CHECKS

ROOT = Path(__file__).resolve().parent.parent
GPU_IDS = [c.id for c in CHECKS if c.gpu]
CPU_RUN = ROOT / "tests" / "fixtures" / "results" / "gpu_pending" / "results.json"


def grade_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autograder", "grade", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_gpu_only_without_cuda_lists_only_the_gpu_checks_pending_and_starts_no_judge(tmp_path):
    completed = grade_cli(
        "--submission", "solutions", "--gpu-only", "--device", "cpu", "--sandbox", "none",
        "--results", str(tmp_path / "results.json"), "--junit", str(tmp_path / "junit.xml"),
        "--summary", str(tmp_path / "summary.md"),
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    assert [t["id"] for t in results["tests"]] == GPU_IDS
    assert {t["status"] for t in results["tests"]} == {"pending"}
    assert all("needs a CUDA device" in t["output"] for t in results["tests"])
    assert results["score"] == 0
    assert results["max_score"] == sum(c.points for c in CHECKS if c.gpu)
    hard = results["extra_data"]["exercises"]["hard"]
    assert hard["runs"] == 0 and hard["worker_starts"] == {}, "nothing to run: no judge started"
    assert set(results["extra_data"]["exercises"]) == {"hard"}
    assert results["extra_data"]["gpu_only"] is True
    cases = ET.parse(tmp_path / "junit.xml").getroot().findall(".//testcase")
    assert len(cases) == len(GPU_IDS) and all(c.find("skipped") is not None for c in cases)
    assert "pending" in (tmp_path / "summary.md").read_text().lower()


def test_gpu_only_on_exercises_without_gpu_checks_is_a_usage_error(tmp_path):
    completed = grade_cli(
        "--only", "easy", "medium", "--gpu-only", "--results", str(tmp_path / "r.json")
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == [
        "python -m autograder grade: error: --gpu-only: easy, medium has no check that needs "
        "CUDA (only hard has)"
    ]


def _grade_as_if_on_cuda(monkeypatch, tmp_path, **options) -> tuple[dict, list[tuple]]:
    """``grade`` with a CUDA device pretended and the judge replaced: (document, judge calls)."""
    calls: list[tuple[str, list[str]]] = []

    def recording_runner(*, exercise, check_ids, **kwargs):
        calls.append((exercise, list(check_ids)))
        graded = GradedExercise(exercise=exercise)
        graded.verdicts = {i: {"status": "passed", "output": "graded on cuda"} for i in check_ids}
        return graded

    info = {"requested": "cuda", "cuda_available": True, "name": "pretend GPU", "used": "cuda"}
    monkeypatch.setattr(grade_module, "resolve_device", lambda requested: ("cuda", info))
    monkeypatch.setattr(grade_module, "run_exercise", recording_runner)
    document = grade_module.grade(
        submission=ROOT / "solutions",
        device="cuda",
        results_path=tmp_path / "results.json",
        sandbox="none",
        **options,
    )
    return document, calls


def test_gpu_only_hands_the_judge_exactly_the_cuda_checks(monkeypatch, tmp_path):
    document, calls = _grade_as_if_on_cuda(monkeypatch, tmp_path, gpu_only=True)
    assert calls == [("hard", GPU_IDS)], "one judge, for hard, with only its GPU checks"
    assert [t["id"] for t in document["tests"]] == GPU_IDS
    assert {t["status"] for t in document["tests"]} == {"passed"}
    # without --gpu-only the same CUDA run grades every check of every exercise
    _, every = _grade_as_if_on_cuda(monkeypatch, tmp_path / "all")
    assert [exercise for exercise, _ in every] == ["easy", "medium", "hard", "challenge"]
    assert sum(len(ids) for _, ids in every) == len(CHECKS)


def test_merge_takes_the_gpu_checks_from_the_gpu_only_run(monkeypatch, tmp_path):
    gpu_run, _ = _grade_as_if_on_cuda(monkeypatch, tmp_path, gpu_only=True)
    cpu_run = json.loads(CPU_RUN.read_text())
    merged = merge(inputs=[cpu_run, gpu_run])
    by_id = {t["id"]: t for t in merged["tests"]}
    assert sorted(by_id) == sorted(c.id for c in CHECKS), "every check exactly once"
    sources = merged["extra_data"]["merge"]["sources"]
    for check in CHECKS:
        assert sources[check.id] == (1 if check.gpu else 0), check.id
        if check.gpu:
            assert by_id[check.id]["status"] == "passed" and by_id[check.id]["device"] == "cuda"
    assert merged["score"] == cpu_run["score"] + sum(c.points for c in CHECKS if c.gpu)
    assert merged["extra_data"]["merge"]["notes"] == []


@pytest.mark.parametrize("gpu_only", [True, False])
def test_regrade_passes_gpu_only_to_each_grading(tmp_path, gpu_only):
    student = Student(id="ada", path=tmp_path, kind="submission")
    command = grade_command(
        student,
        results=tmp_path / "r.json",
        device="cuda",
        only=None,
        sandbox=None,
        manifest=None,
        settings=None,
        seed=None,
        gpu_only=gpu_only,
    )
    assert ("--gpu-only" in command) is gpu_only
