"""The one driver course tools grade through: its command line, its run, and every way the
results file it reads back can be unusable (each refused with a one-line reason)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.course import grading_run
from autograder.course.grading_run import (
    GradeOptions,
    ResultsFileError,
    grade_command,
    read_results,
    run_grading,
)
from autograder.results.schema import SCHEMA

GOOD = {
    "score": 1.0,
    "max_score": 2.0,
    "output": "Score 1 / 2",
    "tests": [
        {"id": "easy.x", "exercise": "easy", "score": 1.0, "max_score": 2.0, "status": "failed"}
    ],
    "extra_data": {"schema": SCHEMA},
}


def _write(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_a_results_file_of_ours_is_returned_as_written(tmp_path: Path) -> None:
    assert read_results(_write(tmp_path / "r.json", GOOD)) == GOOD


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: None, "wrote no results file"),
        (lambda p: p.mkdir(), "not a regular file"),
        (lambda p: os.mkfifo(p), "not a regular file"),  # a reader would block on it
        (lambda p: p.symlink_to(_write(p.with_name("real.json"), GOOD)), "a symbolic link"),
        (lambda p: p.write_bytes(b'{"score": 1'), "corrupt JSON"),
        (lambda p: p.write_bytes(b"\xff\xfe not text"), "corrupt JSON"),
        (lambda p: p.write_text(json.dumps(GOOD).replace("1.0", "NaN", 1)), "NaN is not JSON"),
        (lambda p: _write(p, {"tests": []}), "not a results file: 'score' missing"),
        (lambda p: _write(p, [GOOD]), "not a results file"),
        (lambda p: _write(p, GOOD | {"extra_data": {}}), f"not of schema {SCHEMA}"),
        (lambda p: _write(p, GOOD | {"extra_data": {"schema": "x/0"}}), "not of schema"),
    ],
    ids=[
        "missing",
        "folder",
        "fifo",
        "link",
        "truncated",
        "not-utf8",
        "nan",
        "no-score",
        "list",
        "no-schema",
        "other-schema",
    ],
)
def test_each_unusable_results_file_is_refused_with_one_line(tmp_path: Path, make, reason) -> None:
    path = tmp_path / "results.json"
    make(path)
    with pytest.raises(ResultsFileError) as caught:
        read_results(path)
    assert reason in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_results_file_over_the_bound_is_not_read(tmp_path: Path, monkeypatch) -> None:
    path = _write(tmp_path / "results.json", GOOD)
    monkeypatch.setattr(grading_run, "MAX_RESULTS_BYTES", path.stat().st_size - 1)
    with pytest.raises(ResultsFileError, match="larger than"):
        read_results(path)
    monkeypatch.setattr(grading_run, "MAX_RESULTS_BYTES", path.stat().st_size)
    assert read_results(path) == GOOD


def test_grade_command_is_specs_cli_with_only_the_options_given(tmp_path: Path) -> None:
    options = GradeOptions(only=["easy", "hard"], seed=3, manifest=tmp_path / "m.json")
    command = grade_command(
        submission=tmp_path / "s", results=tmp_path / "r.json", options=options, python="py"
    )
    assert command == [
        "py", "-m", "autograder", "grade", "--submission", str(tmp_path / "s"),
        "--results", str(tmp_path / "r.json"), "--device", "cpu", "--quiet",
        "--only", "easy", "hard", "--seed", "3",
    ]  # fmt: skip
    repo = grade_command(submission=tmp_path, results=tmp_path / "r", options=options, repo=True)
    assert repo[4] == "--repo" and repo[-4:-2] == ["--manifest", str(tmp_path / "m.json")]


def _run(tmp_path: Path, script: str, *, timeout_s: float = 60.0) -> grading_run.GradingRun:
    """run_grading on a stand-in for the grader: ``script`` gets the results path as argv[1]."""
    results = tmp_path / "out" / "results.json"
    results.parent.mkdir(exist_ok=True)
    return run_grading(
        [sys.executable, "-c", script, str(results)],
        results=results,
        cwd=tmp_path,
        env=os.environ,
        log_path=tmp_path / "log" / "grade.log",
        timeout_s=timeout_s,
    )


def test_run_grading_returns_the_document_a_finished_grading_wrote(tmp_path: Path) -> None:
    script = f"import sys; open(sys.argv[1], 'w').write({json.dumps(GOOD)!r}); print('done')"
    graded = _run(tmp_path, script)
    assert (graded.document, graded.reason, graded.returncode) == (GOOD, "", 0)
    assert (tmp_path / "log" / "grade.log").read_text() == "done\n"  # output into the log


def test_run_grading_never_reads_a_results_file_left_from_before(tmp_path: Path) -> None:
    _write((tmp_path / "out").mkdir() or tmp_path / "out" / "results.json", GOOD)
    graded = _run(tmp_path, "pass")  # exits 0 and writes nothing
    assert graded.document is None and graded.reason == "the grader wrote no results file"


def test_run_grading_says_why_a_grading_failed(tmp_path: Path) -> None:
    script = f"import sys; open(sys.argv[1], 'w').write({json.dumps(GOOD)!r}); sys.exit(2)"
    graded = _run(tmp_path, script)
    assert graded.document is None and graded.returncode == 2  # its file is not trusted
    assert graded.reason == "grade exited with status 2 (a usage error)"
    killed = _run(tmp_path, "import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    assert killed.reason == "the grader was killed by SIGKILL"


def test_run_grading_stops_the_whole_group_at_its_time_limit(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    script = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(600)\n"
    )
    graded = _run(tmp_path, script, timeout_s=10)
    assert graded.returncode is None and graded.reason == "timed out after 10 s (stopped)"
    pid = int(pid_file.read_text())  # the grader's own child is stopped with it
    assert _gone(pid)


def _gone(pid: int) -> bool:
    """Whether ``pid`` has ended (gone, or a zombie not yet reaped); waits for the kill to land."""
    for _ in range(100):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def test_an_interrupted_tool_stops_the_grading_it_was_waiting_for(
    tmp_path: Path, monkeypatch
) -> None:
    """Ctrl-C reaches only the tool (the grading has its own group): the grading stops too."""
    pid_file = tmp_path / "grading.pid"
    script = (
        f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(600)"
    )
    real_wait = subprocess.Popen.wait

    def interrupted_wait(self, timeout=None):
        if timeout is None:
            return real_wait(self)
        for _ in range(600):  # until the grading has started for sure
            if pid_file.exists() and pid_file.read_text():
                break
            time.sleep(0.05)
        raise KeyboardInterrupt

    monkeypatch.setattr(subprocess.Popen, "wait", interrupted_wait)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, script)
    assert _gone(int(pid_file.read_text()))
