"""``merge``'s choice per check, rule by rule, on documents in memory (no grading).

test_merge.py shows the rules on real gradings (slow); these pin each rule of
autograder/results/merge.py on its own, fast enough to run once per mutant (``make mutate``):
a result that ran beats a pending one; when both ran, the check's own device wins; otherwise
the earlier input; a GPU check no CUDA run graded stays pending and says why.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from autograder.results.merge import NO_GPU_RUN, MergeError, merge
from autograder.spec.registry import CHECKS_BY_ID

ROOT = Path(__file__).resolve().parent.parent
CPU_RUN = json.loads(
    (ROOT / "tests" / "fixtures" / "results" / "gpu_pending" / "results.json").read_text()
)
GPU_CHECK = "hard.correct_cuda"
CPU_CHECK = "hard.rnn_correct_cpu"


def cpu_run(**statuses: str) -> dict[str, Any]:
    """The fixture's CPU run, with some checks' statuses changed (``a__b`` for ``a.b``)."""
    return _with(copy.deepcopy(CPU_RUN), statuses)


def cuda_run(**statuses: str) -> dict[str, Any]:
    """A GPU job's results: the hard exercise only, on a CUDA device."""
    document = copy.deepcopy(CPU_RUN)
    document["tests"] = [t for t in document["tests"] if t["exercise"] == "hard"]
    document["extra_data"]["device"].update(used="cuda", cuda_available=True, name="H200")
    document["extra_data"]["exercises"] = {"hard": {"wall_seconds": 1.25, "runs": 2}}
    return _with(document, statuses)


def _with(document: dict[str, Any], statuses: dict[str, str]) -> dict[str, Any]:
    for test in document["tests"]:
        status = statuses.get(test["id"].replace(".", "__"))
        if status:
            test["status"] = status
            test["score"] = test["max_score"] if status == "passed" else 0.0
            test["output"] = f"{status} here"
    return document


def chosen(merged: dict[str, Any], check_id: str) -> tuple[str, int, str]:
    """(status, input index, device) of one merged check."""
    test = next(t for t in merged["tests"] if t["id"] == check_id)
    return test["status"], merged["extra_data"]["merge"]["sources"][check_id], test["device"]


def test_a_result_that_ran_beats_a_pending_one_in_either_order() -> None:
    cpu, gpu = cpu_run(), cuda_run(hard__correct_cuda="passed")
    assert chosen(merge(inputs=[cpu, gpu]), GPU_CHECK) == ("passed", 1, "cuda")
    assert chosen(merge(inputs=[gpu, cpu]), GPU_CHECK) == ("passed", 0, "cuda")
    failed = cuda_run(hard__correct_cuda="failed")
    assert chosen(merge(inputs=[cpu, failed]), GPU_CHECK) == ("failed", 1, "cuda")


def test_when_both_ran_the_checks_own_device_wins_not_the_pass() -> None:
    # a CPU check: the CPU run's failure stands against a pass on CUDA, in either order
    cpu, gpu = cpu_run(hard__rnn_correct_cpu="failed"), cuda_run(hard__rnn_correct_cpu="passed")
    assert chosen(merge(inputs=[cpu, gpu]), CPU_CHECK) == ("failed", 0, "cpu")
    assert chosen(merge(inputs=[gpu, cpu]), CPU_CHECK) == ("failed", 1, "cpu")
    # a GPU check: the CUDA run's failure stands against a pass on the CPU
    cpu, gpu = cpu_run(hard__correct_cuda="passed"), cuda_run(hard__correct_cuda="failed")
    assert chosen(merge(inputs=[cpu, gpu]), GPU_CHECK) == ("failed", 1, "cuda")
    assert chosen(merge(inputs=[gpu, cpu]), GPU_CHECK) == ("failed", 0, "cuda")


def test_otherwise_the_earlier_input_wins() -> None:
    first, second = cpu_run(medium__edge_lengths="failed"), cpu_run(medium__edge_lengths="passed")
    assert chosen(merge(inputs=[first, second]), "medium.edge_lengths") == ("failed", 0, "cpu")
    assert chosen(merge(inputs=[second, first]), "medium.edge_lengths") == ("passed", 0, "cpu")


def test_a_gpu_check_no_cuda_run_graded_stays_pending_and_says_why() -> None:
    merged = merge(inputs=[cpu_run()])
    test = next(t for t in merged["tests"] if t["id"] == GPU_CHECK)
    assert (test["status"], test["score"], test["output"]) == ("pending", 0.0, NO_GPU_RUN)
    assert merged["extra_data"]["merge"]["gpu_results"] is False
    # with a CUDA run that left it pending too, its own message stays
    merged = merge(inputs=[cpu_run(), cuda_run(hard__correct_cuda="pending")])
    test = next(t for t in merged["tests"] if t["id"] == GPU_CHECK)
    assert test["status"] == "pending" and test["output"] == "pending here"
    assert merged["extra_data"]["merge"]["gpu_results"] is True
    # a CPU check left pending is never given the GPU message
    merged = merge(inputs=[cpu_run(medium__edge_lengths="pending")])
    test = next(t for t in merged["tests"] if t["id"] == "medium.edge_lengths")
    assert test["output"] == "pending here"


def test_a_merged_files_own_per_check_devices_are_kept() -> None:
    merged = merge(inputs=[cpu_run(), cuda_run(hard__correct_cuda="passed")])
    again = merge(inputs=[merged])
    assert chosen(again, GPU_CHECK) == ("passed", 0, "cuda")
    assert chosen(again, CPU_CHECK)[2] == "cpu"
    assert again["score"] == merged["score"]
    assert again["extra_data"]["device"]["used"] == "cpu+cuda"


def test_an_unknown_check_is_a_gpu_check_by_its_tags() -> None:
    gpu = cuda_run()
    extra = dict(gpu["tests"][0], id="old.gpu_check", tags=["gpu"], status="passed")
    gpu["tests"].append(extra)
    cpu = cpu_run()
    cpu["tests"].append(dict(extra, status="failed", output="on cpu"))
    assert chosen(merge(inputs=[cpu, gpu]), "old.gpu_check") == ("passed", 1, "cuda")
    untagged = dict(extra, tags=[])
    gpu["tests"][-1], cpu["tests"][-1] = untagged, dict(untagged, status="failed")
    assert chosen(merge(inputs=[cpu, gpu]), "old.gpu_check") == ("failed", 0, "cpu")


def test_scores_devices_sandbox_and_exercises_are_merged() -> None:
    cpu = cpu_run()
    cpu["extra_data"]["sandbox"] = {"kind": "bubblewrap", "reason": "bwrap 0.11"}
    gpu = cuda_run(hard__correct_cuda="passed")
    gpu["extra_data"]["sandbox"] = {"kind": "bubblewrap", "reason": "bwrap 0.9"}
    merged = merge(inputs=[cpu, gpu])
    extra = merged["extra_data"]
    assert merged["score"] == CPU_RUN["score"] + CHECKS_BY_ID[GPU_CHECK].points
    assert extra["device"] == {
        "requested": "merge",
        "used": "cpu+cuda",
        "cuda_available": True,
        "name": "cpu + H200",
    }
    assert extra["sandbox"] == {
        "kind": "bubblewrap",
        "reason": "cpu run: bubblewrap (bwrap 0.11); cuda run: bubblewrap (bwrap 0.9)",
    }
    hard = extra["exercises"]["hard"]
    assert (hard["wall_seconds"], hard["runs"]) == (2.5 + 1.25, 1 + 2)
    gpu["extra_data"]["sandbox"] = {"kind": "none", "reason": "no bwrap"}
    assert merge(inputs=[cpu, gpu])["extra_data"]["sandbox"]["kind"] == "none"
    del gpu["extra_data"]["sandbox"]
    weakest = merge(inputs=[cpu, gpu])["extra_data"]["sandbox"]
    assert weakest == {"kind": "none", "reason": "bwrap 0.11"}  # one run did not say: not proven
    del cpu["extra_data"]["sandbox"]
    assert merge(inputs=[cpu, gpu])["extra_data"]["sandbox"]["kind"] == "none"


def test_the_cpu_run_is_primary_and_grader_versions_are_compared() -> None:
    cpu, gpu = cpu_run(), cuda_run()
    cpu["extra_data"]["seed"], gpu["extra_data"]["seed"] = 11, 22
    gpu["extra_data"]["grader_version"] = "0.9.0"
    merged = merge(inputs=[gpu, cpu])
    assert merged["extra_data"]["seed"] == 11
    assert merged["extra_data"]["merge"]["notes"] == [
        "inputs come from different grader versions: ['0.9.0', '1.0.0']"
    ]
    assert merge(inputs=[cpu_run(), cuda_run()])["extra_data"]["merge"]["notes"] == []


def test_long_outputs_are_cut_at_the_limit() -> None:
    cpu = cpu_run()
    cpu["tests"][0]["output"] = "x" * 50
    cpu["tests"][1]["output"] = "y" * 10
    merged = merge(inputs=[cpu], output_limit=10)
    by_id = {t["id"]: t for t in merged["tests"]}
    assert by_id[cpu["tests"][0]["id"]]["output"] == "x" * 10 + "\n[... cut at 10 characters]"
    assert by_id[cpu["tests"][1]["id"]]["output"] == "y" * 10


def test_an_input_with_a_check_twice_is_refused() -> None:
    cpu = cpu_run()
    cpu["tests"].append(dict(cpu["tests"][0]))
    with pytest.raises(MergeError, match=f"input 0: check '{cpu['tests'][0]['id']}' appears"):
        merge(inputs=[cpu])
    with pytest.raises(MergeError, match="no results files to merge"):
        merge(inputs=[])
