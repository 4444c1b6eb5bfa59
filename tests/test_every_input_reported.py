"""Whatever a submission or a student repository holds, grading writes a valid, small results
file, summary and JUnit file, and exits as SPEC says; the static scan cannot fail grading."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from autograder.grading import static_scan
from autograder.grading.grade import grade
from autograder.spec.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
FAST_SETTINGS = ROOT / "tests" / "fixtures" / "fast-grading.toml"
SUMMARY_LIMIT = 1 << 20  # GitHub's step-summary limit

# appended to the medium solution: a failing function whose message holds a lone surrogate,
# control characters and a terminal escape, and never-called code the scan must survive
HOSTILE_MEDIUM = """

def scan_depth(n):
    raise ValueError("lone \\ud800 surrogate \\x1b[31m red \\x00 nul \\r\\n| pipe `")


def _never_called_deep(x):
    return x{deep}.__dict__

{flood}

import ctypes  # the one real finding, last in the file


def _never_called_gc():
    import gc

    return gc.get_objects()
"""


def hostile_medium_source() -> str:
    flood = "\n".join(f"def _flood_{i}(o):\n    return o.__dict__, setattr\n" for i in range(5000))
    extra = HOSTILE_MEDIUM.format(deep=".a" * 600, flood=flood)
    return (ROOT / "solutions" / "medium_parallel_scan.py").read_text() + extra


def strict_json(path: Path) -> dict:
    def refuse(token):
        raise AssertionError(f"bare {token} in {path.name}")

    raw = path.read_bytes()
    return json.loads(raw.decode("utf-8"), parse_constant=refuse)


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autograder", "grade", *args],
        cwd=cwd,
        capture_output=True,
        timeout=600,
        check=False,
    )


def outputs_args(out: Path) -> list[str]:
    return [
        "--results",
        str(out / "results.json"),
        "--junit",
        str(out / "junit.xml"),
        "--summary",
        str(out / "summary.md"),
        "--device",
        "cpu",
        "--settings",
        str(FAST_SETTINGS),
        "--seed",
        "7",
    ]


def check_outputs(out: Path) -> tuple[dict, str]:
    document = strict_json(out / "results.json")
    ET.parse(out / "junit.xml")  # well-formed XML
    summary = (out / "summary.md").read_bytes()
    assert len(summary) < SUMMARY_LIMIT // 8
    return document, summary.decode("utf-8")


@pytest.mark.slow
def test_hostile_text_and_a_flood_of_findings_leave_small_valid_reports(tmp_path):
    submission = tmp_path / "submission"
    shutil.copytree(ROOT / "solutions", submission)
    (submission / "medium_parallel_scan.py").write_text(hostile_medium_source())
    out = tmp_path / "out"
    completed = run_cli("--submission", str(submission), "--only", "medium", *outputs_args(out))
    assert completed.returncode == 0, completed.stderr[-2000:]
    document, summary = check_outputs(out)
    failed = {t["id"] for t in document["tests"] if t["status"] == "failed"}
    # scan_work of the solution calls scan_depth: both formulas fail, nothing else
    assert failed == {"medium.scan_depth_formula", "medium.scan_work_formula"}
    message = next(t["output"] for t in document["tests"] if t["id"] == "medium.scan_depth_formula")
    assert "lone \\ud800 surrogate" in message
    findings = document["extra_data"]["integrity"]["findings"]
    assert len(findings) < 40, len(findings)
    constructs = [f["construct"] for f in findings]
    assert constructs[:3] == ["import ctypes", "import gc", "gc.get_objects"]
    assert any(c.startswith("4996 more of .__dict__") for c in constructs), constructs
    assert (out / "results.json").stat().st_size < 100_000
    assert (
        summary.index("**Score:")
        < summary.index("## Failed checks")
        < summary.index("## Integrity")
    )
    assert "\x1b" not in summary


@pytest.mark.slow
def test_a_repository_with_unreadable_names_fifos_and_folders_for_modules(tmp_path):
    from autograder.course.release import manifest

    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "solutions", repo / "exercises")
    document = manifest.build_manifest(repo=repo, grader_version="test")
    (repo / manifest.MANIFEST_NAME).write_text(json.dumps(document))
    os.mkfifo(bytes(repo) + b"/\xff\xfe-fifo")
    (Path(os.fsdecode(bytes(repo) + b"/notes-\xff.txt"))).write_text("not UTF-8 name")
    (Path(os.fsdecode(bytes(repo) + b"/ctl-\x1b[2J-\x07.txt"))).write_text("control name")
    exercises = repo / "exercises"
    (exercises / "challenge_linear_recurrence.py").unlink()
    (exercises / "challenge_linear_recurrence.py").mkdir()  # a folder named like the module
    (exercises / "easy_vector_state.py").unlink()
    os.mkfifo(exercises / "easy_vector_state.py")  # reading it would block forever
    out = tmp_path / "out"
    completed = run_cli(
        "--repo",
        str(repo),
        "--manifest",
        str(repo / manifest.MANIFEST_NAME),
        "--only",
        "easy",
        "medium",
        "challenge",
        *outputs_args(out),
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    document, _ = check_outputs(out)
    scores = {ex: info["score"] for ex, info in document["extra_data"]["exercises"].items()}
    assert scores == {"easy": 0.0, "medium": 40.0, "challenge": 0.0}
    added = {t["path"] for t in document["extra_data"]["integrity"]["tamper"]}
    assert {"\\udcff\\udcfe-fifo", "notes-\\udcff.txt"} <= added


def test_the_static_scan_never_fails_and_says_what_it_could_not_read(tmp_path):
    (tmp_path / "medium_parallel_scan.py").write_text("x = " + "-" * 200_000 + "1\n")
    (tmp_path / "easy_vector_state.py").write_text("import gc\n" + "#" * (2 << 20))
    (tmp_path / "hard_gpu_sweep.py").mkdir()
    os.mkfifo(tmp_path / "challenge_linear_recurrence.py")
    findings = static_scan.scan_submission(tmp_path)
    by_file = {f["file"]: f for f in findings}
    assert set(by_file) == {"medium_parallel_scan.py", "easy_vector_state.py"}
    assert all(f["construct"] == "not scanned" for f in findings)
    assert "MemoryError" in by_file["medium_parallel_scan.py"]["why"]
    assert "over the scan's limit" in by_file["easy_vector_state.py"]["why"]


def test_deep_expressions_are_scanned_not_fatal():
    source = "def f(x):\n    return x" + ".a" * 600 + ".__code__\n"
    (finding,) = static_scan.scan_source(source, exercise="medium", filename="m.py")
    assert finding["construct"] == "<an expression nested too deep to show>"
    assert "code" in finding["why"]


def test_findings_are_capped_per_kind_and_real_ones_come_first():
    source = hostile_medium_source()
    findings = static_scan.scan_source(source, exercise="medium", filename="m.py")
    constructs = [f["construct"] for f in findings]
    assert constructs[:3] == ["import ctypes", "import gc", "gc.get_objects"]
    listed = [c for c in constructs if c == "o.__dict__" or "too deep" in c]
    assert len(listed) == static_scan.MAX_PER_KIND
    assert constructs.count("setattr") == static_scan.MAX_PER_KIND
    text = " ".join(constructs)
    assert "4996 more of .__dict__" in text and "4995 more of setattr" in text
    assert len(findings) < 20


def test_a_failure_to_build_the_report_still_leaves_a_results_file(tmp_path, monkeypatch):
    """The last-resort writer: the verdicts and the grader's error reach the files."""

    def broken(*args, **kwargs):
        raise RuntimeError("template exploded")

    out = tmp_path / "out"
    document = grade(
        submission=ROOT / "solutions",
        only=["medium"],
        device="cpu",
        results_path=out / "results.json",
        junit_path=out / "junit.xml",
        summary_path=out / "summary.md",
        render_summary=broken,
        settings=load_settings(FAST_SETTINGS),
        seed=3,
    )
    written, summary = check_outputs(out)
    assert written == document
    assert written["score"] == 40.0 and len(written["tests"]) == 9
    assert "RuntimeError: template exploded" in written["extra_data"]["grader_error"]
    assert "Tell your TA" in written["output"]
    assert "**Score: 40 / 40**" in summary


# ---- "the grader failed; tell your TA" is kept for faults the submission cannot cause ----


def test_a_judge_that_cannot_start_is_blamed_on_the_grader(tmp_path, monkeypatch):
    import autograder.grading.grade as grading

    def no_judge(**kwargs):
        raise OSError("no judge for you")

    monkeypatch.setattr(grading, "run_exercise", no_judge)
    out = tmp_path / "out"
    document = grade(
        submission=ROOT / "solutions",
        only=["medium"],
        device="cpu",
        results_path=out / "results.json",
        settings=load_settings(FAST_SETTINGS),
        seed=3,
    )
    assert strict_json(out / "results.json") == document
    for test in document["tests"]:
        assert test["status"] == "failed"
        assert "the grader failed to run this check (OSError: no judge for you)" in test["output"]
        assert "tell your TA" in test["output"]


class _Report:
    def __init__(self, error: BaseException) -> None:
        class ExcInfo:
            value = error

        self._grader_excinfo = ExcInfo()
        self.longrepr = f"{type(error).__name__}: {error}"


def test_a_check_that_crashes_in_the_judge_is_blamed_on_the_grader():
    from autograder.grading.judge.main import VerdictPlugin
    from autograder.grading.judge.verdicts import CheckFailed, SubmissionError

    crashed = VerdictPlugin._failed_phase(_Report(KeyError("rows")))
    assert crashed["status"] == "failed"
    assert crashed["output"].startswith("the grader failed to run this check (KeyError")
    assert "tell your TA" in crashed["output"]
    for error in (CheckFailed("wrong value"), SubmissionError("the worker's reply broke")):
        verdict = VerdictPlugin._failed_phase(_Report(error))
        assert (verdict["status"], verdict["output"]) == ("failed", str(error))
        assert "TA" not in verdict.get("hint", "")  # the submission's, never the grader's fault
