"""Deadlines that do not trust commit dates: fetch with a fake clock from local git
repositories, the fetch record carried inside signed results, the late policy applied by
collect --deadlines (penalty per day, cap, best or on-time, extensions)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from autograder import cli
from autograder.course.collect.command import collect
from autograder.course.collect.deadlines import (
    Attempt,
    Deadlines,
    DeadlinesError,
    LatePolicy,
    decide,
    load_deadlines,
)
from autograder.course.regrade.fetch import fetch_repository, read_fetch_record
from autograder.results import provenance
from reference.cli_support import UsageError

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "results"
KEY = b"course-key-0123456789abcdef"
DUE = datetime(2026, 12, 11, 23, 59, tzinfo=UTC)


def git(repo: Path, *args: str, date: str = "2020-01-01T00:00:00Z") -> str:
    env = {**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    env |= {"GIT_AUTHOR_NAME": "s", "GIT_AUTHOR_EMAIL": "s@x", "GIT_COMMITTER_NAME": "s"}
    env |= {"GIT_COMMITTER_EMAIL": "s@x"}
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def student_repo(tmp_path: Path, name: str) -> Path:
    repo = tmp_path / "remote" / name
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "answer.py").write_text("x = 1\n")
    git(repo, "add", ".")
    # a commit date long before the deadline: it must decide nothing
    git(repo, "commit", "-q", "-m", "first", date="2026-01-01T00:00:00Z")
    return repo


def test_fetch_records_the_clock_and_commit_not_commit_dates(tmp_path: Path) -> None:
    repo = student_repo(tmp_path, "ada")
    late = DUE + timedelta(days=2, hours=1)
    record = fetch_repository(str(repo), "ada", tmp_path / "late", clock=lambda: late)
    assert record["fetched_at"] == late.isoformat()
    assert record["commit"] == git(repo, "rev-parse", "HEAD")
    assert (tmp_path / "late" / "ada" / "answer.py").read_text() == "x = 1\n"
    assert read_fetch_record(tmp_path / "late" / "ada") == {
        "fetched_at": late.isoformat(),
        "commit": record["commit"],
    }
    # a student commit cannot plant the record: it lives beside the clone, not in it
    planted = tmp_path / "x.json"
    os.replace(tmp_path / "late" / "ada.fetch.json", planted)  # a valid record, linked to
    (tmp_path / "late" / "ada" / ".." / "ada.fetch.json").symlink_to(tmp_path / "x.json")
    assert read_fetch_record(tmp_path / "late" / "ada") is None
    with pytest.raises(ValueError):
        fetch_repository(str(repo), "../evil", tmp_path / "x", clock=lambda: late)


def graded_state(
    folder: Path, student: str, fixture: str, fetched_at: datetime, key: bytes
) -> None:
    """What regrade writes for one fetch: results with extra_data.fetch, signed."""
    document = json.loads((FIXTURES / fixture / "results.json").read_text())
    document["extra_data"]["fetch"] = {"fetched_at": fetched_at.isoformat(), "commit": "a" * 40}
    folder = folder / student
    (folder / "submission").mkdir(parents=True)
    (folder / "submission" / "easy_vector_state.py").write_text("x = 1\n")
    submission = provenance.submission_sha256(folder / "submission")
    signed = provenance.sign(document, key=key, student=student, submission=submission, by="test")
    (folder / "results.json").write_text(json.dumps(signed))


def write_course(tmp_path: Path, record: str = "best", extensions: str = "") -> Path:
    if extensions:
        (tmp_path / "extensions.csv").write_text("student,deadline\n" + extensions)
    path = tmp_path / "course.toml"
    path.write_text(
        'deadline = "2026-12-11T23:59:00Z"\ngrace_minutes = 15\n'
        + ('extensions = "extensions.csv"\n' if extensions else "")
        + f'[late]\npenalty_per_day = 10\ncap = 30\nrecord = "{record}"\n'
    )
    return path


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    with (out / "gradebook.csv").open(newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


@pytest.fixture
def fetches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Two fetches of the class: at the deadline (+ grace) and 2 days 1 hour later.
    ada: stub on time, full marks late; bob: full marks on time only; cy: late only."""
    monkeypatch.setenv(provenance.KEY_VARIABLE, KEY.decode())
    due, late = tmp_path / "graded" / "due", tmp_path / "graded" / "late"
    on_time_fetch, late_fetch = DUE + timedelta(minutes=10), DUE + timedelta(days=2, hours=1)
    graded_state(due, "ada", "stub", on_time_fetch, KEY)
    graded_state(late, "ada", "full_marks", late_fetch, KEY)
    graded_state(due, "bob", "full_marks", on_time_fetch, KEY)
    graded_state(late, "cy", "full_marks", late_fetch, KEY)
    return due, late


def test_best_policy_takes_the_late_state_with_its_penalty(
    fetches: tuple[Path, Path], tmp_path: Path
) -> None:
    deadlines = load_deadlines(write_course(tmp_path))
    summary = collect(
        inputs=list(fetches),
        out_dir=tmp_path / "out",
        deadlines=deadlines,
        feedback_dir=tmp_path / "feedback",
    )
    rows = gradebook(tmp_path / "out")
    ada, bob, cy = rows["ada"], rows["bob"], rows["cy"]
    page = (tmp_path / "feedback" / "ada.md").read_text()
    assert (
        "**Score: 73 / 100**" in page and "Late policy: fetched 2026-12-14T00:59:00+00:00" in page
    )
    # 2 days 1 hour late = 3 started days x 10% = 30% (the cap) of 100: 103 - 30
    assert (ada["raw_score"], ada["late_submission_penalty"], ada["score"]) == ("103", "30", "73")
    assert ada["timestamp"] == (DUE + timedelta(days=2, hours=1)).isoformat()
    assert ada["duedate"] == DUE.isoformat()
    assert (bob["late_submission_penalty"], bob["score"]) == ("0", "103")
    assert bob["timestamp"] == (DUE + timedelta(minutes=10)).isoformat()  # within grace
    assert cy["score"] == "73"
    note = next(s for s in summary.students if s.student_id == "ada").late_note
    assert "-30%" in note and "best of 2 fetched states" in note


def test_on_time_policy_keeps_the_on_time_state(fetches: tuple[Path, Path], tmp_path: Path) -> None:
    deadlines = load_deadlines(write_course(tmp_path, record="on-time"))
    collect(inputs=list(fetches), out_dir=tmp_path / "out", deadlines=deadlines)
    rows = gradebook(tmp_path / "out")
    assert (rows["ada"]["score"], rows["ada"]["late_submission_penalty"]) == ("0", "0")
    assert rows["cy"]["score"] == "73"  # nothing on time: the late state, with its penalty


def test_an_extension_moves_the_deadline(fetches: tuple[Path, Path], tmp_path: Path) -> None:
    course = write_course(tmp_path, extensions="ada,2026-12-14T12:00:00+00:00\n")
    collect(inputs=list(fetches), out_dir=tmp_path / "out", deadlines=load_deadlines(course))
    rows = gradebook(tmp_path / "out")
    assert (rows["ada"]["score"], rows["ada"]["duedate"]) == ("103", "2026-12-14T12:00:00+00:00")
    assert rows["cy"]["score"] == "73"


def test_an_unsigned_fetch_record_is_not_trusted(tmp_path: Path, monkeypatch) -> None:
    """A hand-made results file claiming an on-time fetch: no fetch time, no decision on it."""
    monkeypatch.setenv(provenance.KEY_VARIABLE, KEY.decode())
    graded_state(tmp_path / "g", "eve", "full_marks", DUE, b"not-the-course-key-0123456789")
    summary = collect(
        inputs=[tmp_path / "g"],
        out_dir=tmp_path / "out",
        deadlines=load_deadlines(write_course(tmp_path)),
        count_unverified=False,
    )
    eve = summary.students[0]
    assert eve.fetched_at == "" and "lateness unknown" in eve.late_note
    assert gradebook(tmp_path / "out")["eve"]["score"] == ""  # unverified: left out anyway


def test_penalty_arithmetic_and_bad_files(tmp_path: Path) -> None:
    policy = LatePolicy(penalty_per_day=10, cap=25, record="best")
    assert policy.percent(timedelta(0)) == 0
    assert policy.percent(timedelta(seconds=1)) == 10
    assert policy.percent(timedelta(days=1, seconds=1)) == 20
    assert policy.percent(timedelta(days=9)) == 25
    deadlines = Deadlines(deadline=DUE, grace=timedelta(minutes=5), policy=policy)
    on_time = Attempt(Path("a"), DUE + timedelta(minutes=5), "", 50, 100)
    late = Attempt(Path("b"), DUE + timedelta(hours=1), "", 55, 100)
    assert decide([late, on_time], deadlines, "x").attempt is on_time  # 55 - 10 < 50
    later_better = Attempt(Path("c"), DUE + timedelta(hours=1), "", 90, 100)
    chosen = decide([on_time, later_better], deadlines, "x")
    assert (chosen.attempt, chosen.penalty) == (later_better, 10)
    tiny = Attempt(Path("d"), DUE + timedelta(days=5), "", 3, 100)
    assert decide([tiny], deadlines, "x").penalty == 3  # never below 0
    (tmp_path / "naive.toml").write_text('deadline = "2026-12-11T23:59:00"\n')
    with pytest.raises(DeadlinesError, match="time zone"):
        load_deadlines(tmp_path / "naive.toml")
    (tmp_path / "policy.toml").write_text('deadline = 2026-12-11T23:59:00Z\n[late]\nrecord = "x"\n')
    with pytest.raises(DeadlinesError, match=r"late\.record"):
        load_deadlines(tmp_path / "policy.toml")
    assert cli.main(["collect", str(tmp_path), "--deadlines", str(tmp_path / "naive.toml")]) == 2


def test_fetch_command_with_a_fake_clock(tmp_path: Path, capsys) -> None:
    from autograder.course.regrade import fetch

    repo = student_repo(tmp_path, "bob")
    args = cli_args(
        ["fetch", f"bob2={repo}", str(repo), str(tmp_path / "nope"), "--out", str(tmp_path / "f")]
    )
    assert fetch.run(args, clock=lambda: DUE) == 1  # the missing one is listed, others fetched
    assert (
        json.loads((tmp_path / "f" / "bob2.fetch.json").read_text())["fetched_at"]
        == DUE.isoformat()
    )
    assert (tmp_path / "f" / "bob.fetch.json").is_file()
    assert "fetch: nope:" in capsys.readouterr().err


def cli_args(argv: list[str]):
    return cli.parser_for("fetch").parse_args(argv)


@pytest.mark.slow
def test_regrade_carries_the_fetch_record_into_the_signed_results(tmp_path: Path) -> None:
    """fetch (fake clock) -> regrade -> the record inside the signed results -> collect."""
    root = Path(__file__).resolve().parents[1]
    repo = tmp_path / "remote" / "ada"
    shutil.copytree(root / "solutions", repo, ignore=shutil.ignore_patterns("__pycache__"))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "solutions", date="2030-01-01T00:00:00Z")  # a future date
    late = DUE + timedelta(hours=5)
    record = fetch_repository(str(repo), "ada", tmp_path / "fetched", clock=lambda: late)
    env = {**os.environ, provenance.KEY_VARIABLE: KEY.decode()}
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "regrade", str(tmp_path / "fetched"),
         "--out", str(tmp_path / "graded"), "--only", "medium",
         "--settings", str(root / "tests" / "fixtures" / "fast-grading.toml")],
        cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    written = json.loads((tmp_path / "graded" / "ada" / "results.json").read_text())
    assert written["extra_data"]["fetch"] == {
        "fetched_at": late.isoformat(),
        "commit": record["commit"],
    }
    os.environ[provenance.KEY_VARIABLE] = KEY.decode()
    try:
        collect(
            inputs=[tmp_path / "graded"],
            out_dir=tmp_path / "out",
            deadlines=load_deadlines(write_course(tmp_path)),
        )
    finally:
        del os.environ[provenance.KEY_VARIABLE]
    row = gradebook(tmp_path / "out")["ada"]
    assert row["provenance"] == "verified"
    # 5 hours late: one started day, 10% of medium's 40 points
    assert (row["timestamp"], row["late_submission_penalty"]) == (late.isoformat(), "4")
    assert (row["raw_score"], row["score"]) == ("40", "36")


def test_scheduled_fetch_takes_each_student_at_their_own_deadline(tmp_path: Path) -> None:
    """``fetch --due`` (the scheduled run): a student is fetched once their deadline (or
    extension) has passed and until their grace ends; before or after, not (fake clock)."""
    from autograder.course.regrade import fetch

    course = tmp_path / "course.toml"
    (tmp_path / "ext.csv").write_text("student,deadline\nbob,2026-12-13T12:00:00Z\n")
    course.write_text(
        'deadline = 2026-12-11T23:59:00Z\ngrace_minutes = 15\nextensions = "ext.csv"\n'
    )
    sources = [f"{name}={student_repo(tmp_path, name)}" for name in ("ada", "bob")]

    def fetched_at(clock: datetime) -> list[str]:
        out = tmp_path / clock.strftime("%d-%H%M")
        args = cli_args(["fetch", *sources, "--out", str(out), "--due", str(course)])
        assert fetch.run(args, clock=lambda: clock) == 0
        return sorted(p.name for p in out.iterdir() if p.is_dir())

    assert fetched_at(DUE - timedelta(minutes=1)) == []
    assert fetched_at(DUE) == ["ada"]
    assert fetched_at(DUE + timedelta(minutes=15)) == ["ada"]  # the grace's last minute
    assert fetched_at(DUE + timedelta(minutes=16)) == []  # past grace: a run by hand takes it
    bob_due = datetime(2026, 12, 13, 12, 0, tzinfo=UTC)
    assert fetched_at(bob_due + timedelta(minutes=3)) == ["bob"]
    args = cli_args(["fetch", *sources, "--out", str(tmp_path / "x"), "--due", str(tmp_path)])
    with pytest.raises(UsageError, match="cannot read"):  # an unusable deadline file: exit 2
        fetch.run(args, clock=lambda: DUE)


def test_merge_keeps_the_fetch_record_both_runs_carry() -> None:
    """regrade.yml merges each student's CPU and GPU results: the fetch time must survive, or
    collect --deadlines would find no record for anyone with GPU results."""
    from autograder.results.merge import merge

    record = {"fetched_at": DUE.isoformat(), "commit": "a" * 40}
    cpu = json.loads((FIXTURES / "gpu_pending" / "results.json").read_text())
    gpu = json.loads((FIXTURES / "full_marks" / "results.json").read_text())
    for document in (cpu, gpu):
        document["extra_data"]["fetch"] = dict(record)
    assert merge(inputs=[cpu, gpu])["extra_data"]["fetch"] == record
    gpu["extra_data"]["fetch"]["commit"] = "b" * 40  # graded from two different fetches
    merged = merge(inputs=[cpu, gpu])
    assert "fetch" not in merged["extra_data"]
    assert "not graded from one fetch" in " ".join(merged["extra_data"]["merge"]["notes"])
