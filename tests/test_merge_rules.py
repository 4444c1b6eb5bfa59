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


# ---- rules the first mutation run showed unpinned (docs/testing.md)


def runtime(text: str) -> str:
    """An equal string that is not the literal's object (as read from a file)."""
    return "".join(list(text))


def test_devices_and_statuses_read_from_files_are_compared_by_value() -> None:
    gpu = cuda_run(hard__correct_cuda="passed")
    gpu["extra_data"]["device"]["used"] = runtime("cuda")
    for test in gpu["tests"]:
        test["device"] = runtime("cuda")
    cpu = cpu_run(hard__rnn_correct_cpu="failed")
    for test in cpu["tests"]:
        test["status"] = runtime(test["status"])
    merged = merge(inputs=[cpu, gpu])
    assert chosen(merged, GPU_CHECK) == ("passed", 1, "cuda")
    assert chosen(merged, CPU_CHECK) == ("failed", 0, "cpu")
    gpu = cuda_run(hard__rnn_correct_cpu="passed")
    for test in gpu["tests"]:
        test["device"] = runtime("cuda")  # as a merged file records it
    assert chosen(merge(inputs=[gpu, cpu]), CPU_CHECK) == ("failed", 1, "cpu")
    alone = merge(inputs=[cpu])
    test = next(t for t in alone["tests"] if t["id"] == GPU_CHECK)
    assert test["output"] == NO_GPU_RUN


@pytest.mark.parametrize("status", ["passed", "failed"])
def test_a_gpu_check_that_ran_without_cuda_keeps_its_own_output(status: str) -> None:
    merged = merge(inputs=[cpu_run(hard__correct_cuda=status)])
    test = next(t for t in merged["tests"] if t["id"] == GPU_CHECK)
    assert (test["status"], test["output"]) == (status, f"{status} here")


def test_integrity_lists_are_united_across_runs_whatever_the_key_order() -> None:
    cpu, gpu = cpu_run(), cuda_run()
    cpu["extra_data"].pop("integrity", None)
    gpu["extra_data"]["integrity"] = {"tamper": [{"path": "a", "change": "modified"}]}
    third = cuda_run()
    third["extra_data"]["integrity"] = {
        "tamper": [{"change": "modified", "path": "a"}, {"path": "b", "change": "added"}],
        "manifest_source": "instructor",
    }
    integrity = merge(inputs=[cpu, gpu, third])["extra_data"]["integrity"]
    assert integrity["tamper"] == [
        {"path": "a", "change": "modified"},
        {"path": "b", "change": "added"},
    ]
    assert integrity["manifest_source"] == "instructor"


def test_a_sandbox_known_only_by_its_kind_still_counts() -> None:
    cpu, gpu = cpu_run(), cuda_run()
    cpu["extra_data"]["sandbox"] = {"kind": "bubblewrap", "reason": ""}
    gpu["extra_data"]["sandbox"] = {"kind": "bubblewrap", "reason": "bwrap 0.9"}
    assert merge(inputs=[cpu, gpu])["extra_data"]["sandbox"]["kind"] == "bubblewrap"


def test_exercise_times_are_summed_to_milliseconds_and_incidents_say_which_run() -> None:
    cpu, gpu = cpu_run(), cuda_run()
    cpu["extra_data"]["exercises"]["hard"].update(wall_seconds=1.0006, incidents=["timeout"])
    gpu["extra_data"]["exercises"]["hard"].update(wall_seconds=1.0006, incidents=["crash"])
    hard = merge(inputs=[cpu, gpu])["extra_data"]["exercises"]["hard"]
    assert hard["wall_seconds"] == 2.002  # rounded to ms after each run
    assert hard["incidents"] == ["cpu run: timeout", "cuda run: crash"]
    alone = merge(inputs=[cpu])["extra_data"]["exercises"]["hard"]
    assert alone["incidents"] == ["timeout"] and alone["wall_seconds"] == 1.001


def test_outputs_are_cut_at_8_kib_by_default() -> None:
    cpu = cpu_run()
    cpu["tests"][0]["output"] = "x" * 9000
    cpu["tests"][1]["output"] = "y" * 8192
    by_id = {t["id"]: t for t in merge(inputs=[cpu])["tests"]}
    assert by_id[cpu["tests"][0]["id"]]["output"] == "x" * 8192 + "\n[... cut at 8192 characters]"
    assert by_id[cpu["tests"][1]["id"]]["output"] == "y" * 8192


def test_without_a_cpu_run_the_first_input_is_primary() -> None:
    first, second = cuda_run(), cuda_run()
    first["extra_data"]["seed"], second["extra_data"]["seed"] = 1, 2
    assert merge(inputs=[first, second])["extra_data"]["seed"] == 1


def test_a_checks_answer_is_copied_once_and_times_summed_when_known() -> None:
    cpu = cpu_run()
    answer = next(e for e in cpu["extra_data"]["manual"] if e["check"] == "easy.answer")
    cpu["extra_data"]["manual"].append(dict(answer, answer="a second copy"))
    gpu = cuda_run()
    cpu["execution_time"], gpu["execution_time"] = 2.5, None
    merged = merge(inputs=[cpu, gpu])
    copies = [e for e in merged["extra_data"]["manual"] if e["check"] == "easy.answer"]
    assert copies == [answer]
    assert merged["execution_time"] == 2.5


def test_a_corrupt_input_names_its_first_three_problems() -> None:
    with pytest.raises(MergeError) as error:
        merge(inputs=[{"score": "x", "max_score": "y", "tests": [{"id": 1}], "output": 1}])
    message = str(error.value)
    assert message.startswith("input 0: not a results file: ")
    assert message.count("; ") == 2


def with_plot(folder: Path, document: dict[str, Any], size: int = 100) -> Path:
    folder.mkdir(parents=True)
    (folder / "sweep.png").write_bytes(b"\x89PNG" + b"x" * size)
    (folder / "other.png").write_bytes(b"\x89PNG")
    document["extra_data"]["artifacts"] = {
        "missing": "gone.png",
        "sweep_plot": "sweep.png",
        "other": "other.png",
    }
    path = folder / "results.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_plots_are_copied_per_run_and_the_cuda_one_is_shown(tmp_path: Path) -> None:
    first = with_plot(tmp_path / "a", cpu_run())
    second = with_plot(tmp_path / "b", cpu_run())
    gpu = with_plot(tmp_path / "c", cuda_run())
    out = tmp_path / "out" / "deeper"
    merged = merge(inputs=[first, second, gpu], out_dir=out)
    extra = merged["extra_data"]
    assert [run["artifacts"] for run in extra["runs"]] == [
        {"sweep_plot": f"{tag}-sweep.png", "other": f"{tag}-other.png"}
        for tag in ("cpu0", "cpu1", "cuda")
    ]
    assert extra["artifacts"] == {"sweep_plot": "cuda-sweep.png", "other": "cuda-other.png"}
    assert len(list(out.iterdir())) == 6
    assert sum("artifact missing (gone.png) skipped" in n for n in extra["merge"]["notes"]) == 3
    cpu_only = merge(inputs=[first, second], out_dir=tmp_path / "o2")
    assert cpu_only["extra_data"]["artifacts"]["sweep_plot"] == "cpu0-sweep.png"
    in_place = merge(inputs=[first])  # no out_dir: the originals' absolute paths
    assert in_place["extra_data"]["artifacts"] == {
        "sweep_plot": str(first.parent / "sweep.png"),
        "other": str(first.parent / "other.png"),
    }
    document = cpu_run()  # in memory: no folder to resolve against, kept as written
    document["extra_data"]["artifacts"] = {"a": "x.png", "b": "y.png"}
    assert merge(inputs=[document])["extra_data"]["artifacts"] == {"a": "x.png", "b": "y.png"}


def test_a_plot_over_the_size_limit_is_not_copied(tmp_path: Path) -> None:
    from autograder.results.merge import MAX_PLOT_BYTES

    big = with_plot(tmp_path / "big", cpu_run(), size=MAX_PLOT_BYTES)
    edge = with_plot(tmp_path / "edge", cuda_run(), size=MAX_PLOT_BYTES - 4)
    merged = merge(inputs=[big, edge], out_dir=tmp_path / "out")
    assert [run["artifacts"] for run in merged["extra_data"]["runs"]] == [
        {"other": "cpu-other.png"},
        {"sweep_plot": "cuda-sweep.png", "other": "cuda-other.png"},
    ]
    assert any(
        f"skipped: larger than {MAX_PLOT_BYTES}" in n
        for n in merged["extra_data"]["merge"]["notes"]
    )


def test_a_device_other_than_cuda_counts_as_cpu() -> None:
    gpu = cuda_run(hard__correct_cuda="passed")
    gpu["extra_data"]["device"]["used"] = "tpu"  # an edited file: not a CUDA run
    assert chosen(merge(inputs=[cpu_run(), gpu]), GPU_CHECK) == ("passed", 1, "cpu")


def test_the_merge_command_exits_0_1_or_2_and_says_what_it_merged(tmp_path: Path, capsys) -> None:
    from autograder import cli

    cpu = tmp_path / "cpu.json"
    cpu.write_text(json.dumps(cpu_run()), encoding="utf-8")
    gpu = tmp_path / "gpu.json"
    gpu.write_text(json.dumps(cuda_run(hard__correct_cuda="passed")), encoding="utf-8")
    out = tmp_path / "out" / "results.json"
    assert cli.main(["merge", str(cpu), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"merged 1 file(s) WITHOUT GPU results: {out}" in printed
    assert json.loads(out.read_text())["score"] == CPU_RUN["score"]
    versions = cuda_run()
    versions["extra_data"]["grader_version"] = "0.9.0"
    gpu.write_text(json.dumps(versions), encoding="utf-8")
    assert cli.main(["merge", str(cpu), str(gpu), "--out", str(out), "--fail-under", "1"]) == 0
    printed = capsys.readouterr().out
    assert f"merged 2 file(s) with GPU results: {out}" in printed
    assert "note: inputs come from different grader versions" in printed
    assert cli.main(["merge", str(cpu), "--out", str(out), "--fail-under", "99"]) == 1
    capsys.readouterr()
    assert cli.main(["merge", str(tmp_path / "missing.json"), "--out", str(out)]) == 2
    assert capsys.readouterr().err.startswith("python -m autograder merge: error: ")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert cli.main(["merge", str(cpu), "--out", str(blocker / "results.json")]) == 2
    error = capsys.readouterr().err
    assert error == "python -m autograder merge: error: cannot write: File exists\n"
    assert error.count("\n") == 1 and "Traceback" not in error
