"""Exercises graded side by side (grading/exercises_at_once.py, grading/exercise.py): how many,
their progress in the exercises' order, results in that order whatever finishes first, a stop
that reaches every running exercise, and a finished exercise's stray-killing that spares the
other exercises' live judges."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from autograder.course.regrade import jobs as regrade_jobs
from autograder.grading import exercise as exercise_runner
from autograder.grading.exercises_at_once import (
    JUDGES_VARIABLE,
    OrderedProgress,
    graded_in_order,
    judges_at_once,
    judges_per_grading,
)
from autograder.grading.processes import supervisor
from autograder.grading.sandbox import Sandbox
from autograder.spec.settings import load_settings
from reference.cli_support import UsageError

ROOT = Path(__file__).resolve().parent.parent
WAIT_S = 60  # a hang guard only: every wait below ends on an event, far sooner


# ---------------------------------------------------------------- how many


def test_by_default_one_judge_per_usable_core_at_most_one_per_exercise():
    cores = len(os.sched_getaffinity(0))
    assert judges_at_once(4, {}) == min(cores, 4)
    assert judges_at_once(1, {}) == 1


@pytest.mark.parametrize(("text", "exercises", "expected"), [("1", 4, 1), ("3", 4, 3), ("9", 4, 4)])
def test_the_variable_sets_how_many_up_to_the_exercises(text, exercises, expected):
    assert judges_at_once(exercises, {JUDGES_VARIABLE: text}) == expected


@pytest.mark.parametrize("text", ["0", "-1", "two", "1.5"])
def test_a_bad_count_is_a_usage_error_naming_the_variable(text):
    with pytest.raises(UsageError, match=f"^{JUDGES_VARIABLE}='{text}': must be a positive"):
        judges_at_once(4, {JUDGES_VARIABLE: text})


@pytest.mark.parametrize(
    ("cores", "gradings", "each"), [(2, 1, 2), (2, 2, 1), (16, 4, 4), (2, 8, 1)]
)
def test_gradings_at_once_share_the_cores(monkeypatch, cores, gradings, each):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)))
    assert judges_per_grading(gradings) == each


def test_a_regrade_passes_each_grading_its_share_unless_the_ta_set_one(monkeypatch):
    monkeypatch.delenv(JUDGES_VARIABLE, raising=False)
    assert regrade_jobs._child_env(3)[JUDGES_VARIABLE] == "3"
    monkeypatch.setenv(JUDGES_VARIABLE, "1")
    assert regrade_jobs._child_env(3)[JUDGES_VARIABLE] == "1"


# ---------------------------------------------------------------- progress in order


def test_a_later_exercises_lines_wait_until_every_earlier_one_has_finished():
    shown: list[str] = []
    progress = OrderedProgress(["easy", "medium", "hard"], shown.append)
    progress.say("hard", "hard 1")
    progress.say("easy", "easy 1")
    progress.say("medium", "medium 1")
    assert shown == ["easy 1"]
    progress.finish("easy")
    assert shown == ["easy 1", "medium 1"]
    progress.say("medium", "medium 2")  # the one shown now: live
    progress.say("hard", "hard 2")
    assert shown == ["easy 1", "medium 1", "medium 2"]
    progress.finish("medium")
    assert shown == ["easy 1", "medium 1", "medium 2", "hard 1", "hard 2"]
    progress.say("hard", "hard 3")
    progress.finish("hard")
    assert shown[-1] == "hard 3"


def test_an_exercise_cannot_finish_before_the_one_shown():
    progress = OrderedProgress(["easy", "hard"], lambda line: None)
    with pytest.raises(ValueError, match="hard finished out of order"):
        progress.finish("hard")


# ---------------------------------------------------------------- results in order, stop


def test_results_come_in_the_exercises_order_when_a_later_one_finishes_first():
    later_done = threading.Event()
    finished: list[str] = []

    def grade_one(exercise: str, stop: threading.Event) -> str:
        if exercise == "easy":  # the first waits for the second to have finished
            assert later_done.wait(WAIT_S)
        finished.append(exercise)
        if exercise == "hard":
            later_done.set()
        return exercise.upper()

    got = list(graded_in_order(["easy", "hard"], grade_one, at_once=2))
    assert got == [("easy", "EASY"), ("hard", "HARD")]
    assert finished == ["hard", "easy"]


def test_one_at_a_time_runs_in_the_callers_thread():
    threads = []

    def grade_one(exercise: str, stop: threading.Event) -> str:
        threads.append(threading.current_thread())
        return exercise

    assert list(graded_in_order(["easy", "hard"], grade_one, at_once=1)) == [
        ("easy", "easy"),
        ("hard", "hard"),
    ]
    assert threads == [threading.main_thread(), threading.main_thread()]


def test_stopping_early_sets_stop_for_every_running_exercise_and_waits_for_them():
    running, stopped = threading.Barrier(3), []

    def grade_one(exercise: str, stop: threading.Event) -> str:
        if exercise != "easy":
            running.wait(WAIT_S)  # hard and challenge are both running...
            assert stop.wait(WAIT_S)  # ...until the grading stops them
            stopped.append(exercise)
        return exercise

    in_order = graded_in_order(["easy", "hard", "challenge"], grade_one, at_once=3)
    assert next(in_order) == ("easy", "easy")
    running.wait(WAIT_S)
    in_order.close()  # the caller unwinds (Ctrl-C, an error): returns once both have ended
    assert sorted(stopped) == ["challenge", "hard"]


# ---------------------------------------------------------------- the judges


@pytest.fixture
def work_dirs():
    """The exercises' work folders, removed after the test (as ``grade`` removes them)."""
    folders: list[Path] = []
    yield folders
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def _run(exercise: str, stop: threading.Event, work_dirs: list[Path]):
    return exercise_runner.run_exercise(
        exercise=exercise,
        check_ids=["hard.curve_shapes_cpu"] if exercise == "hard" else ["easy.answer"],
        submission_dir=ROOT / "solutions",
        device="cpu",
        seed=1,
        settings=load_settings(),
        sandbox=Sandbox("none", "test"),
        work_dirs=work_dirs,
        stop=stop,
    )


def test_a_stopped_exercise_starts_no_judge(work_dirs):
    stop = threading.Event()
    stop.set()
    graded = _run("hard", stop, work_dirs)
    assert graded.runs == 0
    assert graded.verdicts == {
        "hard.curve_shapes_cpu": {"status": "failed", "output": "not run: the grading was stopped"}
    }


@pytest.mark.slow
def test_stop_kills_the_running_judge_and_names_its_check(work_dirs):
    stop, result = threading.Event(), {}
    thread = threading.Thread(target=lambda: result.update(graded=_run("hard", stop, work_dirs)))
    thread.start()
    deadline = time.monotonic() + WAIT_S
    while not exercise_runner._LIVE_JUDGES:  # its judge has started
        assert time.monotonic() < deadline and thread.is_alive()
        time.sleep(0.01)
    stop.set()
    thread.join(WAIT_S)
    assert not thread.is_alive()
    verdict = result["graded"].verdicts["hard.curve_shapes_cpu"]
    assert verdict["status"] == "failed"
    assert verdict["output"].startswith("the grading was stopped while this check ran")
    assert set() == exercise_runner._LIVE_JUDGES


def test_an_exercise_ending_kills_strays_but_not_another_exercises_live_judge(work_dirs):
    """A stray here is a child of the grading no exercise is waiting on (an orphan of a
    killed judge's tree); a live judge of an exercise graded beside it is not one."""
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    stray = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        with exercise_runner._JUDGES_LOCK:
            exercise_runner._LIVE_JUDGES.add(live.pid)
        stop = threading.Event()
        stop.set()  # no judge of its own: only its ending runs
        _run("easy", stop, work_dirs)
        assert not Path(f"/proc/{stray.pid}").exists()  # killed and reaped
        assert live.poll() is None
    finally:
        with exercise_runner._JUDGES_LOCK:
            exercise_runner._LIVE_JUDGES.discard(live.pid)
        for process in (live, stray):
            process.kill()
            process.wait()
    assert supervisor.kill_strays() == []
