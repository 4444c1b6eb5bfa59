"""A grading's turn and schedule: the next exercise works while the others wait for a lease.

Orderings are asserted from events and lock states, never from durations.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from autograder.grading.processes import device_lease, grading_turn
from autograder.grading.processes.device_lease import LeaseConfig
from autograder.grading.processes.device_lease import device_lease as lease
from autograder.grading.schedule import run_exercises

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _leasing_off_afterwards():
    yield
    device_lease.configure(LeaseConfig(directory=device_lease.OFF))


def _free(path: Path) -> bool:
    """Whether another open file description could take the lock on ``path`` now."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def _hold(path: Path) -> int:
    fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


@contextlib.contextmanager
def _no_wait():
    raise AssertionError("this take should not have waited")
    yield  # pragma: no cover


def test_a_turn_is_one_holder_at_a_time_and_a_blocked_take_waits_inside_waiting(tmp_path):
    path = Path(grading_turn.create_turn_file(str(tmp_path)))
    assert path.stat().st_mode & 0o777 == 0o600
    first, second = grading_turn.Turn(str(path)), grading_turn.Turn(str(path))
    first.take(_no_wait)
    assert first.held and not _free(path)
    waited = []

    @contextlib.contextmanager
    def waiting():
        waited.append("start")
        yield
        waited.append("end")

    threading.Timer(0.2, first.hand_over).start()
    second.take(waiting)  # blocks until the first hands it over
    assert waited == ["start", "end"] and second.held and not first.held
    second.close()
    assert _free(path)
    first.close()


def test_a_turn_file_is_never_a_link(tmp_path):
    (tmp_path / "elsewhere").write_text("")
    (tmp_path / "turn").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OSError):
        grading_turn.Turn(str(tmp_path / "turn"))
    with pytest.raises(FileExistsError):  # a planted file or link is never taken over
        grading_turn.create_turn_file(str(tmp_path))


def _configured(tmp_path: Path, events: list) -> grading_turn.Turn:
    turn = grading_turn.Turn(grading_turn.create_turn_file(str(tmp_path)))
    device_lease.configure(
        LeaseConfig(directory=str(tmp_path), wait_max_s=60),
        on_wait=lambda seconds: events.append(("ended", seconds)),
        on_wait_start=lambda: events.append(("started",)),
        turn=turn,
    )
    turn.take(device_lease.waiting)
    return turn


def test_a_judge_waiting_for_the_lease_hands_its_turn_over_and_takes_it_back(tmp_path):
    events: list = []
    turn = _configured(tmp_path, events)
    turn_path = tmp_path / grading_turn.TURN_FILE
    other = _hold(device_lease.lease_path("cpu"))  # another grading's timed window
    seen_during_wait = []

    def release_later():
        time.sleep(0.2)
        seen_during_wait.append(_free(turn_path))  # a sibling could work meanwhile
        os.close(other)

    threading.Thread(target=release_later).start()
    with lease("cpu"):
        assert events[0] == ("started",) and events[1][0] == "ended"
        assert not turn.held  # the timed window needs no turn
    assert seen_during_wait == [True]
    assert turn.held and not _free(turn_path), "back to untimed work in the grading's turn"
    assert len(events) == 2


def test_a_lease_taken_at_once_keeps_the_turn_and_announces_no_wait(tmp_path):
    events: list = []
    turn = _configured(tmp_path, events)
    with lease("cpu"):
        assert turn.held and not _free(tmp_path / grading_turn.TURN_FILE)
    assert turn.held and events == []


def test_taking_the_turn_back_waits_for_the_sibling_and_is_reported(tmp_path):
    events: list = []
    turn = _configured(tmp_path, events)
    turn_path = tmp_path / grading_turn.TURN_FILE
    other = _hold(device_lease.lease_path("cpu"))
    sibling: list[int] = []

    def sibling_takes_the_turn_then_the_lease_frees():
        while not _free(turn_path):
            time.sleep(0.01)
        sibling.append(_hold(turn_path))  # the sibling exercise now works
        os.close(other)
        time.sleep(0.3)
        os.close(sibling[0])  # ... and ends (or waits)

    threading.Thread(target=sibling_takes_the_turn_then_the_lease_frees).start()
    with lease("cpu"):
        pass
    assert turn.held
    starts = [e for e in events if e[0] == "started"]
    ends = [e for e in events if e[0] == "ended"]
    assert len(starts) == len(ends) == 2, events  # the lease's wait, then the turn's
    assert ends[1][1] > 0


def test_a_wait_that_runs_out_still_takes_the_turn_back(tmp_path):
    events: list = []
    turn = _configured(tmp_path, events)
    device_lease.configure(
        LeaseConfig(directory=str(tmp_path), wait_max_s=0.1),
        on_wait=lambda seconds: events.append(("ended", seconds)),
        on_wait_start=lambda: events.append(("started",)),
        turn=turn,
    )
    other = _hold(device_lease.lease_path("cpu"))
    try:
        with lease("cpu"):
            assert turn.held, "measured without the lease, in the grading's turn"
    finally:
        os.close(other)
    assert "still held by another grading" in device_lease.incidents()[0]


def test_the_schedule_starts_the_next_exercise_only_while_every_started_one_waits():
    log: list[str] = []
    second_started, first_may_end = threading.Event(), threading.Event()

    def grade_one(exercise, slot):
        log.append(f"{exercise} starts")
        if exercise == "a":
            assert not second_started.wait(0.3), "b started while a worked"
            slot.pause()  # a waits for a lease
            log.append("a waits")
            assert second_started.wait(10)
            first_may_end.wait(10)
            slot.resume()
        elif exercise == "b":
            second_started.set()
            first_may_end.set()
        return exercise.upper()

    announced: list[str] = []
    futures = run_exercises(["a", "b", "c"], grade_one, announced.append)
    assert announced == ["a", "b", "c"]
    assert {name: f.result() for name, f in futures.items()} == {"a": "A", "b": "B", "c": "C"}
    assert log[:3] == ["a starts", "a waits", "b starts"]


def test_one_exercise_at_a_time_when_nothing_waits():
    working: list[int] = []

    def grade_one(exercise, slot):
        working.append(slot.schedule.working)
        time.sleep(0.05)
        return exercise

    run_exercises(["a", "b", "c", "d"], grade_one, lambda exercise: None)
    assert working == [1, 1, 1, 1]


def test_an_exercise_that_fails_still_lets_the_next_one_start():
    def grade_one(exercise, slot):
        if exercise == "a":
            raise RuntimeError("a grader bug")
        return exercise

    futures = run_exercises(["a", "b"], grade_one, lambda exercise: None)
    with pytest.raises(RuntimeError):
        futures["a"].result()
    assert futures["b"].result() == "b"


def test_an_interruption_stops_every_running_exercise_before_it_goes_on():
    stopped: list[bool] = []

    def grade_one(exercise, slot):
        slot.pause()  # waits: the next exercise starts, and its announcement is interrupted
        deadline = time.monotonic() + 30
        while not slot.schedule.stopped.is_set() and time.monotonic() < deadline:
            time.sleep(0.01)
        stopped.append(slot.schedule.stopped.is_set())
        return exercise

    def announce(exercise):
        if exercise == "b":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_exercises(["a", "b"], grade_one, announce)
    assert stopped == [True]  # a's thread saw the stop and ended before the interruption


STRAYS = """
import subprocess
from autograder.grading.schedule import JudgeSchedule
schedule = JudgeSchedule()
judge = schedule.start_judge(lambda: subprocess.Popen(["sleep", "30"]))
stray = subprocess.Popen(["sleep", "30"])
schedule.kill_strays()
print(judge.poll() is None, stray.poll() is not None)
schedule.judge_ended(judge.pid)
schedule.kill_strays()
print(judge.poll() is not None)
"""


def test_clearing_strays_spares_the_live_judges_of_sibling_exercises():
    """In a process of its own: the test process may have children of other tests."""
    done = subprocess.run(
        [sys.executable, "-c", STRAYS], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.stdout.split() == ["True", "True", "True"], done.stderr


def test_a_grading_works_on_its_next_exercise_while_another_grading_holds_the_lease(tmp_path):
    """``grade --only easy medium`` while "another grading" (this test) holds the CPU lease:
    easy's first timed check waits for it, and medium is graded meanwhile (the lease is let
    go only once medium's last check has started), and both exercises get every point; the
    exercises' own order stays when nothing waits (the second run)."""
    lease_dir = tmp_path / "leases"
    lease_dir.mkdir()
    other = _hold(lease_dir / "autograder-lease-cpu.lock")
    lines = _grade_lines(tmp_path / "held", lease_dir, release=other)
    assert "<released by medium>" in lines, lines
    text = "\n".join(lines)
    assert "  easy: 17/20" in text and "  medium: 40/40" in text, text

    lines = _grade_lines(tmp_path / "free", lease_dir, release=None)
    checks = [line.split()[0] for line in lines if line.startswith("  ") and line.endswith("...")]
    exercises = [check.split(".")[0] for check in checks]
    assert exercises == sorted(exercises, key=["easy", "medium"].index), checks
    assert "easy" in exercises and "medium" in exercises


LAST_MEDIUM_CHECK = "  medium.scan_work_formula ..."


def _grade_lines(out: Path, lease_dir: Path, *, release: int | None) -> list[str]:
    """The grade command's progress lines, with ``<released by medium>`` where the lease was
    let go because medium's last check started (after 120 s it is let go anyway)."""
    command = [sys.executable, "-m", "autograder", "grade", "--submission", "solutions"]
    command += ["--only", "easy", "medium", "--device", "cpu", "--seed", "5"]
    command += ["--results", str(out / "results.json")]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "AUTOGRADER_LEASE_DIR": str(lease_dir)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    held = [release] if release is not None else []
    lock = threading.Lock()

    def let_go() -> bool:
        with lock:
            if not held:
                return False
            os.close(held.pop())
            return True

    timer = threading.Timer(120, let_go)  # a grading that never moves on is not left hanging
    timer.start()
    lines = []
    try:
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.rstrip("\n") == LAST_MEDIUM_CHECK and let_go():
                lines.append("<released by medium>")
    finally:
        timer.cancel()
        let_go()
        process.wait(timeout=600)
    assert process.returncode == 0, lines
    return lines
