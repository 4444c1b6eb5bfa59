"""The machine-wide device lease: timed windows of concurrent gradings never overlap.

Orderings are asserted from timestamps written inside the critical sections (one clock,
CLOCK_MONOTONIC, shared by every process of the machine), never from absolute durations.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from autograder.grading.processes import device_lease
from autograder.grading.processes.device_lease import LeaseConfig
from autograder.grading.processes.device_lease import device_lease as lease
from autograder.spec.registry import CHECKS_BY_ID
from autograder.spec.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
FAST_SETTINGS = ROOT / "tests" / "fixtures" / "fast-grading.toml"

CONTENDER = """
import json, sys, time
from pathlib import Path
from autograder.grading.processes import device_lease
directory, go, out = sys.argv[1:4]
device_lease.configure(device_lease.LeaseConfig(directory=directory, wait_max_s=60))
while not Path(go).exists():
    time.sleep(0.001)
sections = []
for _ in range(3):
    with device_lease.device_lease("cpu"):
        entered = time.monotonic()
        time.sleep(0.15)  # the timed window
        sections.append((entered, time.monotonic()))
Path(out).write_text(json.dumps({"sections": sections, "waited": device_lease.waited_seconds()}))
"""


@pytest.fixture(autouse=True)
def _leasing_off_afterwards():
    yield
    device_lease.configure(LeaseConfig(directory=device_lease.OFF))


def test_two_processes_contending_for_the_lease_take_turns(tmp_path):
    go = tmp_path / "go"
    outs = [tmp_path / f"out{i}.json" for i in range(2)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", CONTENDER, str(tmp_path), str(go), str(out)], cwd=ROOT
        )
        for out in outs
    ]
    go.touch()  # both start their windows together
    for process in processes:
        assert process.wait(timeout=120) == 0
    reports = [json.loads(out.read_text()) for out in outs]
    sections = sorted(
        (entered, left, who) for who, r in enumerate(reports) for entered, left in r["sections"]
    )
    assert len(sections) == 6 and {who for *_, who in sections} == {0, 1}
    for (_, left, _), (entered, _, _) in itertools.pairwise(sections):
        assert entered >= left, "two timed windows overlapped"
    assert sum(r["waited"] for r in reports) > 0, "they really contended"
    assert (tmp_path / "autograder-lease-cpu.lock").is_file()


def _held_elsewhere(path: Path) -> int:
    """A second open file description holding the lease, as another grading would."""
    fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def test_the_lease_is_reentrant_and_released_when_the_outer_block_ends(tmp_path):
    device_lease.configure(LeaseConfig(directory=str(tmp_path), wait_max_s=60))
    path = device_lease.lease_path("cpu")
    with lease("cpu"), lease("cpu"), pytest.raises(BlockingIOError):  # nested: still held
        _held_elsewhere(path)
    os.close(_held_elsewhere(path))  # free again
    with lease("cuda"):  # another device, another file: the CPU lease is not taken
        os.close(_held_elsewhere(path))


def test_a_wait_is_reported_so_the_judge_can_move_its_time_limits(tmp_path):
    waits: list[float] = []
    device_lease.configure(LeaseConfig(directory=str(tmp_path), wait_max_s=60), waits.append)
    other = _held_elsewhere(device_lease.lease_path("cpu"))
    threading.Timer(0.2, os.close, args=(other,)).start()
    with lease("cpu"):
        pass
    assert len(waits) == 1 and waits[0] > 0
    assert device_lease.waited_seconds() == waits[0]
    assert device_lease.incidents() == []


def test_a_wait_is_announced_as_it_begins_and_a_free_lease_announces_nothing(tmp_path):
    events: list = []
    device_lease.configure(
        LeaseConfig(directory=str(tmp_path), wait_max_s=60),
        lambda seconds: events.append(("ended", seconds)),
        on_wait_start=lambda: events.append(("started",)),
    )
    with lease("cpu"):
        pass
    assert events == []
    other = _held_elsewhere(device_lease.lease_path("cpu"))
    seen: list = []
    threading.Timer(0.2, lambda: (seen.append(list(events)), os.close(other))).start()
    with lease("cpu"):
        pass
    assert seen == [[("started",)]], "announced while still waiting"
    assert [e[0] for e in events] == ["started", "ended"] and events[1][1] > 0


def test_the_judge_stops_its_alarm_for_a_wait_and_moves_the_checks_deadline():
    """pytest-timeout's alarm (ITIMER_REAL) cannot fire during a wait, however long."""
    import signal
    from types import SimpleNamespace

    from autograder.grading.judge.main import _Waits

    ctx = SimpleNamespace(check_deadline=100.0)
    sent: list = []
    waits = _Waits(ctx, sent.append)
    previous = signal.signal(signal.SIGALRM, lambda *_: sent.append("alarm"))
    try:
        signal.setitimer(signal.ITIMER_REAL, 50.0)
        waits.started()
        assert signal.getitimer(signal.ITIMER_REAL)[0] == 0, "stopped while waiting"
        assert sent == [{"event": "waiting"}]
        waits.ended(2.5)
        left = signal.getitimer(signal.ITIMER_REAL)[0]
        assert 49 < left <= 50, "the alarm goes on with what it had left"
        assert ctx.check_deadline == 102.5
        assert sent[-1] == {"event": "lease_wait", "seconds": 2.5}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    waits.started()  # no alarm set: none is set afterwards either
    waits.ended(1.0)
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0


def test_a_stuck_holder_costs_one_bounded_wait_then_leasing_stops(tmp_path):
    waits: list[float] = []
    device_lease.configure(LeaseConfig(directory=str(tmp_path), wait_max_s=0.1), waits.append)
    other = _held_elsewhere(device_lease.lease_path("cpu"))
    try:
        ran = []
        with lease("cpu"):
            ran.append(1)
        with lease("cpu"):  # no second wait: leasing is off for the rest of this judge
            ran.append(2)
    finally:
        os.close(other)
    assert ran == [1, 2] and len(waits) == 1 and waits[0] >= 0.1  # it moves the limits too
    (incident,) = device_lease.incidents()
    assert "still held by another grading" in incident and "measured without it" in incident


def test_off_and_the_environment_variable(tmp_path, monkeypatch):
    assert device_lease.resolve_directory("/tmp", {}) == "/tmp"
    assert device_lease.resolve_directory("/tmp", {"AUTOGRADER_LEASE_DIR": "/x"}) == "/x"
    device_lease.configure(LeaseConfig(directory="off"))
    with lease("cpu"):
        assert not list(tmp_path.iterdir())
    link = tmp_path / "autograder-lease-cpu.lock"
    link.symlink_to(tmp_path / "elsewhere")
    device_lease.configure(LeaseConfig(directory=str(tmp_path), wait_max_s=1))
    with lease("cpu"):  # a planted link is never followed: measured without, and said so
        pass
    assert not (tmp_path / "elsewhere").exists()
    assert "cannot be opened" in device_lease.incidents()[0]


def _grade_easy(tmp_path: Path, settings: Path, lease_dir: Path) -> subprocess.CompletedProcess:
    """``grade --only easy`` of the model solutions with the lease files in ``lease_dir``."""
    command = [sys.executable, "-m", "autograder", "grade", "--submission", "solutions"]
    command += ["--only", "easy", "--device", "cpu", "--seed", "3", "--quiet"]
    command += ["--settings", str(settings), "--results", str(tmp_path / "results.json")]
    return subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, "AUTOGRADER_LEASE_DIR": str(lease_dir)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_grading_takes_the_lease_in_its_timed_windows_and_survives_a_stuck_holder(tmp_path):
    """The judge's CPU timed windows ask for the lease (here held by this test all along):
    grading still finishes, after one bounded wait, and the incident is in the results."""
    settings = tmp_path / "settings.toml"
    settings.write_text(FAST_SETTINGS.read_text() + "\n[lease]\nwait_max_s = 1\n")
    lease_dir = tmp_path / "leases"
    lease_dir.mkdir()
    other = _held_elsewhere(lease_dir / "autograder-lease-cpu.lock")
    try:
        completed = _grade_easy(tmp_path, settings, lease_dir)
    finally:
        os.close(other)
    assert completed.returncode == 0, completed.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    incidents = results["extra_data"]["exercises"]["easy"]["incidents"]
    assert any("still held by another grading" in i for i in incidents), incidents
    timing = [t for t in results["tests"] if "timing" in t["tags"]]
    assert timing and all(t["status"] in ("passed", "failed") for t in timing)


def test_waiting_for_the_lease_costs_no_check_its_time_limit(tmp_path):
    """Another grading holds the lease longer than a timing check's own limit: the check
    waits, its limits move by the wait, and the correct solution still gets every point."""
    first_timed = CHECKS_BY_ID["easy.numpy_vectorised_over_d"]
    settings = tmp_path / "settings.toml"  # 15 s: 8x this check's time at a load of 7.7
    settings.write_text("[limits]\nimport_timeout_s = 30\ntimeout_scale = 0.25\n")
    own_limit = first_timed.timeout * load_settings(settings).limits.timeout_scale
    lease_dir = tmp_path / "leases"
    lease_dir.mkdir()
    other = _held_elsewhere(lease_dir / "autograder-lease-cpu.lock")
    threading.Timer(own_limit + 8, os.close, args=(other,)).start()
    completed = _grade_easy(tmp_path, settings, lease_dir)
    assert completed.returncode == 0, completed.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    easy = results["extra_data"]["exercises"]["easy"]
    assert easy["lease_wait_seconds"] > own_limit, "the wait outlasted the check's own limit"
    assert easy["incidents"] == []
    statuses = {t["id"]: t["status"] for t in results["tests"]}
    assert statuses[first_timed.id] == "passed", results["tests"]


def test_a_cuda_judge_waits_for_the_gpu_lease_before_starting_its_workers(tmp_path, monkeypatch):
    """On CUDA the judge holds the GPU's lease for its whole run, whichever checks it grades
    (here a CPU-only one; the machine's CUDA is pretended: only the lease's name needs it)."""
    from autograder.grading import sandbox as sandboxes
    from autograder.grading.exercise import run_exercise

    lease_dir = tmp_path / "leases"
    lease_dir.mkdir()
    names = {"cpu": "cpu", "cuda": "cuda-test"}
    monkeypatch.setattr(device_lease, "device_names", lambda device: names)
    monkeypatch.setenv("AUTOGRADER_LEASE_DIR", str(lease_dir))
    config = LeaseConfig(directory=str(lease_dir), names=names)
    other = _held_elsewhere(device_lease.lease_path("cuda", config))
    threading.Timer(1.0, os.close, args=(other,)).start()
    made: list[Path] = []  # the judge's work folder, removed here as grade() would
    try:
        graded = run_exercise(
            exercise="medium",
            check_ids=["medium.serial_scan_correct"],
            submission_dir=ROOT / "solutions",
            device="cuda",
            seed=1,
            settings=load_settings(FAST_SETTINGS),
            sandbox=sandboxes.resolve("none"),
            work_dirs=made,
        )
    finally:
        for folder in made:
            shutil.rmtree(folder, ignore_errors=True)
    assert graded.lease_wait_seconds > 0, "the judge waited for the GPU's lease"
    assert graded.verdicts["medium.serial_scan_correct"]["status"] == "passed", graded.verdicts
    assert not (lease_dir / "autograder-lease-cpu.lock").exists(), "no CPU window in this check"
    assert made and not any(folder.exists() for folder in made)
