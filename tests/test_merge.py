"""``merge``: a CPU run and a GPU run become one results file with every check exactly once.

Real files come from grading the reference solutions on CPU (one run for the module); the GPU
run is simulated from it the way the student workflow's GPU job would produce it: only the
hard exercise, ``extra_data.device.used == "cuda"``, the GPU checks graded. The hand-made
files in tests/fixtures/results/ cover integrity entries, plots and corrupt inputs.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml

from autograder import cli
from autograder.reports.markdown import render_markdown
from autograder.results.merge import MISSING, NO_GPU_RUN, MergeError, merge
from autograder.results.schema import normalise_results
from autograder.spec.registry import CHECKS, CHECKS_BY_ID, EXTRA_CREDIT


def main(argv: list[str]) -> int:
    """``python -m autograder merge ARGV``, in this process."""
    return cli.main(["merge", *argv])


ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "results"
FAST = ROOT / "tests" / "fixtures" / "fast-grading.toml"
GPU_IDS = [check.id for check in CHECKS if check.gpu]
REGISTRY_ORDER = [check.id for check in CHECKS]


def read(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def as_cuda_run(cpu: dict[str, Any], statuses: dict[str, str]) -> dict[str, Any]:
    """A GPU job's results from a CPU one: hard only, device cuda, GPU checks as given."""
    gpu = copy.deepcopy(cpu)
    gpu["tests"] = [t for t in gpu["tests"] if t["exercise"] == "hard"]
    gpu["extra_data"]["device"].update(used="cuda", cuda_available=True, name="Simulated GPU")
    for test in gpu["tests"]:
        if test["id"] in statuses:
            status = statuses[test["id"]]
            test.update(status=status, score=test["max_score"] if status == "passed" else 0.0)
            test["output"] = "" if status == "passed" else "expected ..., got ...\nHint: ..."
    return gpu


def expected_score(tests: list[dict[str, Any]]) -> float:
    return sum(t["max_score"] for t in tests if t["status"] == "passed")


@pytest.fixture(scope="module")
def cpu_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real results: the reference solutions graded on CPU by the grader's CLI."""
    folder = tmp_path_factory.mktemp("cpu")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            "--submission",
            str(ROOT / "solutions"),
            "--device",
            "cpu",
            "--settings",
            str(FAST),
            "--seed",
            "7",
            "--quiet",
            "--results",
            str(folder / "results.json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return folder / "results.json"


@pytest.fixture
def gpu_run(cpu_run: Path, tmp_path: Path) -> Path:
    """A simulated GPU job: three GPU checks pass, hard.time_fn_synchronises_cuda fails."""
    statuses = dict.fromkeys(GPU_IDS, "passed") | {"hard.time_fn_synchronises_cuda": "failed"}
    gpu = as_cuda_run(read(cpu_run), statuses)
    path = write(tmp_path / "gpu" / "results.json", gpu)
    shutil.copyfile(cpu_run.parent / "sweep.png", path.parent / "sweep.png")
    return path


# --------------------------------------------------------------------------- real files


@pytest.mark.slow
def test_cpu_and_gpu_runs_merge_into_every_check_exactly_once(cpu_run: Path, gpu_run: Path) -> None:
    cpu, gpu = read(cpu_run), read(gpu_run)
    merged = merge(inputs=[cpu_run, gpu_run])
    ids = [t["id"] for t in merged["tests"]]
    assert ids == REGISTRY_ORDER
    by_id = {t["id"]: t for t in merged["tests"]}
    for check_id in GPU_IDS:  # graded on the GPU now, never pending
        assert by_id[check_id]["device"] == "cuda"
        assert by_id[check_id]["status"] == {t["id"]: t for t in gpu["tests"]}[check_id]["status"]
    assert by_id["hard.time_fn_synchronises_cuda"]["status"] == "failed"
    cpu_by_id = {t["id"]: t for t in cpu["tests"]}
    for check in CHECKS:
        if not check.gpu:  # every other check from the CPU run, hard's CPU checks included
            assert by_id[check.id]["device"] == "cpu"
            assert by_id[check.id]["status"] == cpu_by_id[check.id]["status"]
    assert merged["score"] == expected_score(merged["tests"])
    assert merged["score"] == cpu["score"] + sum(
        CHECKS_BY_ID[i].points for i in GPU_IDS if by_id[i]["status"] == "passed"
    )
    assert merged["max_score"] == sum(c.points for c in CHECKS if c.exercise not in EXTRA_CREDIT)
    assert merged["extra_data"]["merge"]["gpu_results"] is True
    assert merged["extra_data"]["device"]["used"] == "cpu+cuda"
    assert merged["output"].startswith(f"Score {merged['score']:g} / {merged['max_score']:g}")


@pytest.mark.slow
def test_input_order_does_not_change_the_grade(cpu_run: Path, gpu_run: Path) -> None:
    forward = merge(inputs=[cpu_run, gpu_run])
    backward = merge(inputs=[gpu_run, cpu_run])
    assert [(t["id"], t["status"], t["device"]) for t in forward["tests"]] == [
        (t["id"], t["status"], t["device"]) for t in backward["tests"]
    ]
    assert forward["score"] == backward["score"]


@pytest.mark.slow
def test_a_cpu_run_alone_leaves_gpu_checks_pending_and_says_why(cpu_run: Path) -> None:
    merged = merge(inputs=[cpu_run])
    gpu = [t for t in merged["tests"] if t["id"] in GPU_IDS]
    assert {t["status"] for t in gpu} == {"pending"}
    assert {t["score"] for t in gpu} == {0.0}
    assert all(t["output"] == NO_GPU_RUN for t in gpu)
    assert merged["score"] == read(cpu_run)["score"]
    assert merged["extra_data"]["merge"]["gpu_results"] is False


@pytest.mark.slow
def test_a_run_on_the_checks_device_beats_a_pass_elsewhere(cpu_run: Path, tmp_path: Path) -> None:
    """Both ran: the CUDA run decides a GPU check, the CPU run any other, pass or fail."""
    cpu = read(cpu_run)
    claims = copy.deepcopy(cpu)
    for test in claims["tests"]:
        if test["id"] in GPU_IDS:  # a CPU file claiming GPU passes
            test.update(status="passed", score=test["max_score"])
    gpu = as_cuda_run(cpu, dict.fromkeys(GPU_IDS, "failed"))
    for test in gpu["tests"]:
        if test["id"] == "hard.attention_correct_cpu":
            test.update(status="failed", score=0.0)
    merged = merge(inputs=[write(tmp_path / "a.json", claims), write(tmp_path / "b.json", gpu)])
    by_id = {t["id"]: t for t in merged["tests"]}
    assert {by_id[i]["status"] for i in GPU_IDS} == {"failed"}
    assert by_id["hard.attention_correct_cpu"]["status"] == "passed"


@pytest.mark.slow
def test_cli_writes_merged_files_and_copies_the_plots(
    cpu_run: Path, gpu_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "final" / "results.json"
    code = main(
        [
            str(cpu_run),
            str(gpu_run),
            "--out",
            str(out),
            "--summary",
            str(out.parent / "summary.md"),
            "--junit",
            str(out.parent / "junit.xml"),
        ]
    )
    assert code == 0
    assert "with GPU results" in capsys.readouterr().out
    merged = read(out)
    artifacts = merged["extra_data"]["artifacts"]
    assert artifacts["sweep_plot"] == "cuda-sweep.png"
    assert (out.parent / "cuda-sweep.png").read_bytes() == (
        gpu_run.parent / "sweep.png"
    ).read_bytes()
    assert (out.parent / "cpu-sweep.png").is_file()
    assert [run["artifacts"] for run in merged["extra_data"]["runs"]] == [
        {"sweep_plot": "cpu-sweep.png"},
        {"sweep_plot": "cuda-sweep.png"},
    ]
    summary = (out.parent / "summary.md").read_text(encoding="utf-8")
    assert "![sweep plot](cuda-sweep.png)" in summary
    junit = (out.parent / "junit.xml").read_text(encoding="utf-8")
    assert all(junit.count(f'name="{check.id}"') == 1 for check in CHECKS)


@pytest.mark.slow
def test_merging_a_merged_file_again_changes_nothing(cpu_run: Path, gpu_run: Path) -> None:
    """The workflow's pass-mark step re-merges the final file alone."""
    once = merge(inputs=[cpu_run, gpu_run])
    again = merge(inputs=[once])
    assert again["tests"] == once["tests"]
    assert again["extra_data"]["device"]["used"] == "cpu+cuda"
    assert (again["score"], again["max_score"]) == (once["score"], once["max_score"])


@pytest.mark.slow
def test_fail_under_uses_the_merged_score(
    cpu_run: Path, gpu_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    merged = merge(inputs=[cpu_run, gpu_run])
    percent = 100 * merged["score"] / merged["max_score"]
    args = [str(cpu_run), str(gpu_run), "--out", str(tmp_path / "m.json")]
    assert main([*args, "--fail-under", f"{percent - 1:.2f}"]) == 0
    assert main([*args, "--fail-under", f"{percent + 1:.2f}"]) == 1
    assert "is below --fail-under" in capsys.readouterr().out


# --------------------------------------------------------------------------- extra_data


def fixture_pair(tmp_path: Path) -> tuple[Path, Path]:
    """The 'failures' student (CPU, integrity findings, a plot under plots/) and a GPU run."""
    cpu = tmp_path / "cpu"
    shutil.copytree(FIXTURES / "failures", cpu)
    gpu = tmp_path / "gpu"
    shutil.copytree(FIXTURES / "full_marks", gpu)
    document = read(gpu / "results.json")
    document["extra_data"]["integrity"] = {
        "tamper": [
            {"path": ".github/workflows/grade.yml", "change": "modified"},
            {"path": "sitecustomize.py", "change": "added"},
        ],
        "findings": [],
    }
    write(gpu / "results.json", document)
    return cpu / "results.json", gpu / "results.json"


def test_integrity_manual_timings_and_runs_are_merged_without_duplicates(tmp_path: Path) -> None:
    cpu_path, gpu_path = fixture_pair(tmp_path)
    cpu = read(cpu_path)
    merged = merge(inputs=[cpu_path, gpu_path], out_dir=tmp_path / "out")
    extra = merged["extra_data"]
    assert extra["integrity"]["tamper"] == [
        {"path": ".github/workflows/grade.yml", "change": "modified"},
        {"path": "autograder/checks/conftest.py", "change": "added"},
        {"path": "sitecustomize.py", "change": "added"},
    ]
    assert extra["integrity"]["findings"] == cpu["extra_data"]["integrity"]["findings"]
    manual_checks = [entry["check"] for entry in extra["manual"]]
    assert sorted(manual_checks) == sorted(c.id for c in CHECKS if c.manual)
    assert [run["source"] for run in extra["runs"]] == [str(cpu_path), str(gpu_path)]
    assert extra["runs"][1]["device"]["used"] == "cuda"
    sources = extra["merge"]["sources"]
    for check_id, timing in extra["timings"].items():
        run = read([cpu_path, gpu_path][sources[check_id]])
        assert run["extra_data"]["timings"][check_id] == timing
    assert extra["seed"] == cpu["extra_data"]["seed"]  # the CPU run is the primary one
    assert extra["exercises"]["hard"]["runs"] == (
        cpu["extra_data"]["exercises"]["hard"]["runs"]
        + read(gpu_path)["extra_data"]["exercises"]["hard"]["runs"]
    )


def test_plot_paths_are_rewritten_and_a_forged_path_is_not_copied(tmp_path: Path) -> None:
    cpu_path, gpu_path = fixture_pair(tmp_path)
    out = tmp_path / "out"
    merged = merge(inputs=[cpu_path, gpu_path], out_dir=out)
    assert (out / merged["extra_data"]["artifacts"]["sweep_plot"]).is_file()
    report = render_markdown(normalise_results(merged), results_dir=out)
    assert f"![sweep plot]({merged['extra_data']['artifacts']['sweep_plot']})" in report

    secret = tmp_path / "secret.png"
    secret.write_bytes(b"not yours")
    forged = read(cpu_path)
    forged["extra_data"]["artifacts"] = {"sweep_plot": "../secret.png"}
    merged = merge(inputs=[write(tmp_path / "cpu" / "results.json", forged)], out_dir=out / "x")
    assert merged["extra_data"]["artifacts"] == {}
    assert not (out / "x").exists() or not any((out / "x").iterdir())
    assert any("skipped" in note for note in merged["extra_data"]["merge"]["notes"])


def test_in_memory_documents_and_a_missing_check(tmp_path: Path) -> None:
    document = read(FIXTURES / "gpu_pending" / "results.json")
    dropped = "medium.edge_lengths"
    document["tests"] = [t for t in document["tests"] if t["id"] != dropped]
    merged = merge(inputs=[document])
    by_id = {t["id"]: t for t in merged["tests"]}
    assert [t["id"] for t in merged["tests"]] == REGISTRY_ORDER
    assert by_id[dropped]["status"] == "failed" and MISSING in by_id[dropped]["output"]
    assert merged["max_score"] == 100


# --------------------------------------------------------------------------- usage errors


def test_unusable_inputs_are_usage_errors_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = FIXTURES / "gpu_pending" / "results.json"
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text('{"score": 1', encoding="utf-8")
    twice = read(good)
    twice["tests"].append(dict(twice["tests"][0]))
    duplicate = write(tmp_path / "twice.json", twice)
    cases = {
        "missing": [str(tmp_path / "nope.json")],
        "corrupt JSON": [str(corrupt)],
        "appears twice": [str(duplicate)],
    }
    for expected, inputs in cases.items():
        assert main([str(good), *inputs, "--out", str(tmp_path / "m.json")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("python -m autograder merge: error:")
        assert expected in err or expected == "missing"
    assert main([str(good)]) == 2  # --out is required
    assert "--out" in capsys.readouterr().err
    with pytest.raises(MergeError):
        merge(inputs=[])


# --------------------------------------------------------------------------- the report job

ALLOWED_THIRD_PARTY = {"autograder", "reference", "jinja2", "markupsafe"}
"""What the workflow's report job installs (the grader with --no-deps, Jinja2, MarkupSafe)."""

ONLY_ALLOWED = f"""
import sys
allowed = {sorted(ALLOWED_THIRD_PARTY)!r}

class Refuse:
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top not in sys.stdlib_module_names and top not in allowed:
            raise ImportError(f"the report job does not install {{top}}")
        return None

sys.meta_path.insert(0, Refuse())
from autograder.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_merge_with_summary_needs_only_what_the_report_job_installs(tmp_path: Path) -> None:
    """``merge --summary --junit`` runs with no torch, numpy or anything else not installed by
    the report job's install step, whose pins are the versions these tests run with."""
    out = tmp_path / "merged"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            ONLY_ALLOWED,
            "merge",
            str(FIXTURES / "failures" / "results.json"),
            "--out",
            str(out / "results.json"),
            "--summary",
            str(out / "summary.md"),
            "--junit",
            str(out / "junit.xml"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (out / "summary.md").read_text("utf-8").startswith("# Grading report")
    assert (out / "junit.xml").is_file()

    grade = yaml.safe_load((ROOT / ".github" / "workflows" / "grade.yml").read_text("utf-8"))
    [install] = [s for s in grade["jobs"]["report"]["steps"] if s.get("id") == "install"]
    assert "--no-deps ./grader" in install["run"]
    for package in ("jinja2", "markupsafe"):
        assert f'"{package}=={metadata.version(package)}"' in install["run"]
