"""``regrade``: a class graded in parallel, skipped when unchanged, resumed after Ctrl-C.

The class has five students: ``correct`` (a copy of solutions/), ``model_copy`` (a second
copy), ``other`` (complete modules in the other_styles code), ``disguised`` (``other`` with
its locals renamed and its functions reordered) and ``stub`` (exercises/). To stay fast,
gradings run ``--only medium challenge`` with tests/fixtures/fast-grading.toml (about 1 s a
student); grading itself is tested elsewhere, these tests are about the class loop.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import cli
from autograder.course.collect.command import collect
from autograder.course.regrade.command import regrade
from autograder.course.regrade.jobs import grade_command
from autograder.course.regrade.progress import Progress
from autograder.course.regrade.students import (
    Outcome,
    Student,
    find_students,
    select_shard,
)
from benchmarks.variants import disguised_student, other_style_student
from reference.cli_support import UsageError

ROOT = Path(__file__).resolve().parents[1]
FAST = ROOT / "tests" / "fixtures" / "fast-grading.toml"
ONLY = ["medium", "challenge"]
STUDENTS = ["correct", "disguised", "model_copy", "other", "stub"]
MODULES = {  # all four are copied (and hashed): grade scans all four whatever --only says
    "easy_vector_state.py",
    "medium_parallel_scan.py",
    "hard_gpu_sweep.py",
    "challenge_linear_recurrence.py",
}
EXERCISES = ("easy", "medium", "hard", "challenge")


def make_class(folder: Path) -> Path:
    folder.mkdir(parents=True)
    shutil.copytree(ROOT / "solutions", folder / "correct")
    shutil.copytree(ROOT / "solutions", folder / "model_copy")
    shutil.copytree(ROOT / "exercises", folder / "stub")
    other = other_style_student(folder / "other")
    disguised_student(other, folder / "disguised", seed=14)
    return folder


def quiet() -> Progress:
    return Progress(total=0, jobs=1, stream=io.StringIO())


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "autograder", "regrade", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """The class regraded once at --jobs 2 (the first test's run, shared by the others)."""
    base = tmp_path_factory.mktemp("regrade")
    klass = make_class(base / "class")
    out = base / "out"
    done = run_cli(
        str(klass), "--out", str(out), "--jobs", "2", "--only", *ONLY, "--settings", str(FAST)
    )
    return klass, out, done.stdout + done.stderr + f"\nexit status {done.returncode}"


@pytest.mark.slow
def test_jobs_2_grades_every_student_and_writes_their_folder(graded) -> None:
    _, out, log = graded
    assert log.endswith("exit status 0"), log
    assert "5 graded, 0 skipped as up to date, 0 failed" in log
    assert sorted(p.name for p in out.iterdir()) == STUDENTS
    scores = {}
    for student in STUDENTS:
        folder = out / student
        results = json.loads((folder / "results.json").read_text())
        scores[student] = results["score"]
        assert {t["exercise"] for t in results["tests"]} == set(ONLY)
        state = json.loads((folder / ".regrade.json").read_text())
        assert state["student"] == student and state["options"]["only"] == ONLY
        assert {p.name for p in (folder / "submission").iterdir()} == MODULES
        assert not (folder / ".regrade-tmp").exists() and not (folder / "regrade.log").exists()
    assert scores == {"correct": 50, "model_copy": 50, "other": 50, "disguised": 50, "stub": 0}
    assert "[5/5]" in log and "ETA" in log  # plain progress lines when stderr is not a TTY


@pytest.mark.slow
def test_second_run_skips_everyone_and_a_change_regrades_only_that_student(
    graded, tmp_path: Path
) -> None:
    klass, out, _ = graded
    before = {s: (out / s / "results.json").stat().st_mtime_ns for s in STUDENTS}
    summary = regrade(
        sources=[klass], out_dir=out, only=ONLY, settings=FAST, jobs=2, progress=quiet()
    )
    assert [o.status for o in summary.outcomes] == ["skipped"] * 5 and summary.exit_status == 0
    assert before == {s: (out / s / "results.json").stat().st_mtime_ns for s in STUDENTS}

    # Another copy of the class: the stub student now implements serial_scan.
    changed = tmp_path / "class"
    shutil.copytree(klass, changed)
    medium = changed / "stub" / "medium_parallel_scan.py"
    text = medium.read_text()
    medium.write_text(text + "\n\ndef serial_scan(xs, op=operator.add):\n    return []\n")
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    summary = regrade(sources=[changed], out_dir=copy, only=ONLY, settings=FAST, progress=quiet())
    statuses = {o.student: o.status for o in summary.outcomes}
    assert statuses == dict.fromkeys(STUDENTS, "skipped") | {"stub": "graded"}
    # A grading option that changes results (here --only) is a change too; --force regrades.
    summary = regrade(
        sources=[changed / "correct"],
        out_dir=copy,
        only=["challenge"],
        settings=FAST,
        progress=quiet(),
    )
    assert [o.status for o in summary.outcomes] == ["graded"]
    summary = regrade(
        sources=[changed / "correct"],
        out_dir=copy,
        only=["challenge"],
        settings=FAST,
        force=True,
        progress=quiet(),
    )
    assert [o.status for o in summary.outcomes] == ["graded"]


@pytest.mark.slow
def test_similarity_over_the_regraded_class(graded, tmp_path: Path) -> None:
    """regrade's submission/ copies are what collect --similarity compares."""
    _, out, _ = graded
    summary = collect(
        inputs=[out], out_dir=tmp_path / "report", compare_code=True, reference=ROOT / "solutions"
    )
    report = summary.similarity
    assert report is not None and not report.without_code
    flagged = {(p.exercise, p.student_a, p.student_b) for p in report.flagged()}
    assert flagged == {
        (exercise, a, b)
        for exercise in EXERCISES
        for a, b in (("correct", "model_copy"), ("disguised", "other"))
    }
    matches = {(s, e) for s, e, _ in report.model_matches()}
    assert matches == {(s, e) for s in ("correct", "model_copy") for e in EXERCISES}
    assert "similarity.html" in (tmp_path / "report" / "class-summary.md").read_text()


@pytest.mark.slow
def test_ctrl_c_loses_only_the_grading_in_flight_and_a_rerun_resumes(tmp_path: Path) -> None:
    klass = make_class(tmp_path / "class")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "autograder", "regrade", str(klass), "--out", str(out)]
    command += ["--only", *ONLY, "--settings", str(FAST)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not list(out.glob("*/results.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr.decode()[-2000:]
    assert "interrupted (SIGINT)" in stdout.decode(), stdout.decode()
    done = sorted(p.parent.name for p in out.glob("*/results.json"))
    assert 1 <= len(done) < len(STUDENTS)
    assert not list(out.glob("*/.regrade-tmp")), "nothing half-written is left"
    assert not _processes_mentioning(str(out)), "no grading outlives regrade"

    summary = regrade(sources=[klass], out_dir=out, only=ONLY, settings=FAST, progress=quiet())
    statuses = {o.student: o.status for o in summary.outcomes}
    assert sorted(s for s, status in statuses.items() if status == "skipped") == done
    assert sorted(s for s, status in statuses.items() if status == "graded") == sorted(
        set(STUDENTS) - set(done)
    )


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                cmdline = Path(entry.path, "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if text in cmdline:
                found.append(int(entry.name))
    return found


@pytest.mark.slow
def test_failures_are_listed_and_never_stop_the_others(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    (klass / "empty_clone").mkdir(parents=True)
    shutil.copytree(ROOT / "exercises", klass / "slow")
    done = run_cli(str(klass), "--out", str(tmp_path / "out"), "--timeout", "0.3")
    assert done.returncode == 1, done.stderr
    assert "0 graded, 0 skipped as up to date, 2 failed" in done.stdout
    assert "empty_clone: no exercises/ folder and no exercise modules" in done.stdout
    assert "slow: timed out after 0.3 s" in done.stdout
    log = (tmp_path / "out" / "slow" / "regrade.log").read_text()
    assert log.endswith("regrade: could not be graded: timed out after 0.3 s (killed; --timeout)\n")
    assert "no exercise modules" in (tmp_path / "out" / "empty_clone" / "regrade.log").read_text()
    assert not (tmp_path / "out" / "slow" / "results.json").exists()
    summary = collect(inputs=[tmp_path / "out"], out_dir=tmp_path / "report")
    assert sorted(p.name for p in summary.without_results) == ["empty_clone", "slow"]
    assert not _processes_mentioning(str(tmp_path / "out"))


def test_a_grade_usage_error_is_each_students_failure_with_grades_own_line(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    for student in ("a", "b"):
        shutil.copytree(ROOT / "exercises", klass / student)
    settings = tmp_path / "bad.toml"
    settings.write_text("[limits]\nmemory_gib = 4\n")
    done = run_cli(str(klass), "--out", str(tmp_path / "out"), "--settings", str(settings))
    assert done.returncode == 1
    for student in ("a", "b"):
        assert f"  {student}: grade exited with status 2 (a usage error): " in done.stdout
    assert done.stdout.count("unknown setting(s) memory_gib") == 2, done.stdout


def test_grade_options_are_passed_through(tmp_path: Path) -> None:
    repo = Student("alice", tmp_path / "alice", "repo")
    folder = Student("bob", tmp_path / "bob", "submission")
    options = dict(
        results=tmp_path / "r.json",
        device="cuda",
        only=["hard"],
        sandbox="bubblewrap",
        manifest=tmp_path / "m.json",
        settings=tmp_path / "s.toml",
        seed=7,
    )
    command = grade_command(repo, **options)
    assert command[1:] == [
        "-m", "autograder", "grade", "--repo", str(tmp_path / "alice"),
        "--results", str(tmp_path / "r.json"), "--device", "cuda", "--quiet",
        "--only", "hard", "--sandbox", "bubblewrap", "--manifest", str(tmp_path / "m.json"),
        "--settings", str(tmp_path / "s.toml"), "--seed", "7",
    ]  # fmt: skip
    command = grade_command(folder, **options)
    assert "--submission" in command and "--manifest" not in command  # folders have none
    plain = grade_command(
        folder, **options | dict(sandbox=None, only=None, settings=None, seed=None)
    )
    assert "--sandbox" not in plain and "--only" not in plain and "--seed" not in plain


@pytest.mark.slow
def test_repository_clones_are_graded_with_the_manifest(tmp_path: Path) -> None:
    from autograder.course.release.command import release

    released = release(out=tmp_path / "release", with_nbgrader=False)
    repo = tmp_path / "clones" / "alice"
    shutil.copytree(released.student_dir, repo)
    shutil.copy(ROOT / "solutions" / "medium_parallel_scan.py", repo / "exercises")
    args = dict(out_dir=tmp_path / "out", only=["medium"], settings=FAST, progress=quiet())
    summary = regrade(sources=[repo], manifest=released.manifest_path, **args)
    assert [o.status for o in summary.outcomes] == ["graded"]
    results = json.loads((tmp_path / "out" / "alice" / "results.json").read_text())
    assert results["score"] == 40 and results["extra_data"]["integrity"]["tamper"] == []
    # A protected file changed: the repository is graded again, and the change reported.
    with (repo / "Makefile").open("a") as makefile:
        makefile.write("# edited\n")
    summary = regrade(sources=[repo], manifest=released.manifest_path, **args)
    assert [o.status for o in summary.outcomes] == ["graded"]
    results = json.loads((tmp_path / "out" / "alice" / "results.json").read_text())
    assert results["extra_data"]["integrity"]["tamper"] == [
        {"path": "Makefile", "change": "modified"}
    ]
    assert [
        o.status for o in regrade(sources=[repo], manifest=released.manifest_path, **args).outcomes
    ] == ["skipped"]


# --------------------------------------------------------------------------- no grading


def test_students_are_found_by_kind_and_duplicates_refused(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    (klass / "repo" / "exercises").mkdir(parents=True)
    (klass / "folder").mkdir()
    (klass / "folder" / "medium_parallel_scan.py").write_text("")
    (klass / "clone_failed").mkdir()
    (klass / ".git").mkdir()
    found = {s.id: s.kind for s in find_students([klass])}
    assert found == {"clone_failed": "unusable", "folder": "submission", "repo": "repo"}
    assert [s.kind for s in find_students([klass / "repo"])] == ["repo"]
    (tmp_path / "other" / "folder").mkdir(parents=True)
    with pytest.raises(UsageError, match="student id 'folder' twice"):
        find_students([klass, tmp_path / "other"])


def test_shards_are_disjoint_and_cover_the_class(tmp_path: Path) -> None:
    students = [Student(f"s{i:02d}", tmp_path, "submission") for i in range(11)]
    slices = [select_shard(students[::-1], (k, 3)) for k in (1, 2, 3)]
    ids = [[s.id for s in part] for part in slices]
    assert ids[0] == ["s00", "s03", "s06", "s09"] and ids[2] == ["s02", "s05", "s08"]
    assert sorted(i for part in ids for i in part) == [s.id for s in students]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shard", "0/2"], "K must be between 1 and N"),
        (["--shard", "3/2"], "K must be between 1 and N"),
        (["--shard", "two"], "use K/N"),
        (["--jobs", "0"], "--jobs 0: must be at least 1"),
        (["--only", "hardest"], "unknown exercise hardest"),
        (["--settings", "nowhere.toml"], "--settings: file not found"),
        (["--device", "tpu"], "invalid choice"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    tmp_path: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "class" / "a").mkdir(parents=True)
    code = cli.main(["regrade", str(tmp_path / "class"), "--out", str(tmp_path / "o"), *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1, err


def test_missing_source_and_out_inside_the_class_are_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "class" / "a").mkdir(parents=True)
    with pytest.raises(UsageError, match="not a folder"):
        regrade(sources=[tmp_path / "nowhere"], out_dir=tmp_path / "o", progress=quiet())
    with pytest.raises(UsageError, match="lies inside the class folder"):
        regrade(sources=[tmp_path / "class"], out_dir=tmp_path / "class" / "o", progress=quiet())
    (tmp_path / "class" / "a" / "exercises").mkdir()
    with pytest.raises(UsageError, match="lies inside a's folder"):
        regrade(sources=[tmp_path / "class" / "a"], out_dir=tmp_path / "class" / "a" / "o")


def test_progress_is_one_updating_line_on_a_tty() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    progress = Progress(total=3, jobs=2, stream=stream)
    progress.record(Outcome("a", "graded", seconds=4.0), running=2)
    progress.record(Outcome("b", "failed", "timed out"), running=1)
    progress.close()
    text = stream.getvalue()
    assert "\rb: FAILED: timed out\n" in text.replace("\x1b[K", "")
    assert text.count("\n") == 2 and "2/3 done, 1 failed, 1 running, ETA 0:04" in text


# --------------------------------------------------------------------------- the workflow's scripts


def workflow_script(job: str, step: str) -> str:
    import yaml

    data = yaml.safe_load((ROOT / ".github" / "workflows" / "regrade.yml").read_text())
    return next(s["run"] for s in data["jobs"][job]["steps"] if s.get("name") == step)


FAKE_GIT = """#!/bin/bash
printf '%s\\n' "$*" >> "$FAKE_GIT_LOG"
env | grep '^GIT_CONFIG' >> "$FAKE_GIT_ENV" || true
if [ "$1" = "clone" ]; then
  repo="${@: -2:1}"; dest="${@: -1}"
  case "$repo" in *missing*) exit 128 ;; esac
  mkdir -p "$dest/exercises" "$dest/.git"
  echo "# $repo" > "$dest/exercises/medium_parallel_scan.py"
elif [ "$1" = "-C" ] || [ "$1" = "rev-parse" ]; then
  echo 0123456789abcdef0123456789abcdef01234567
fi
"""


def run_clone_step(
    tmp_path: Path, students: str, *, event: str = "workflow_dispatch", deadlines: str = ""
) -> subprocess.CompletedProcess[str]:
    """The clone step as written, with a fake git; ``python -m autograder fetch`` is this
    checkout's (PYTHONPATH), ``deadlines`` the course's deadline file when given."""
    work = tmp_path / "work"
    (work / "bin").mkdir(parents=True)
    (work / "bin" / "git").write_text(FAKE_GIT)
    (work / "bin" / "git").chmod(0o755)
    (work / "students.txt").write_text(students)
    if deadlines:
        (work / "course-deadline.toml").write_text(deadlines)
    env = {
        "PATH": f"{work / 'bin'}:{Path(sys.executable).parent}:/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "HOME": str(tmp_path),
        "CLASSROOM_TOKEN": "tok-secret-123",
        "STUDENTS_FILE": "students.txt",
        "EVENT": event,
        "DEADLINES_FILE": "course-deadline.toml",
        "GITHUB_OUTPUT": str(work / "github-output"),
        "GIT_TERMINAL_PROMPT": "0",
        "FAKE_GIT_LOG": str(work / "git.log"),
        "FAKE_GIT_ENV": str(work / "git.env"),
    }
    script = work / "step.sh"
    script.write_text(workflow_script("clone", "Clone the student repositories"))
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_workflow_clone_step_keeps_the_token_off_command_lines(tmp_path: Path) -> None:
    import base64

    done = run_clone_step(
        tmp_path,
        "# the class\norg/alice-repo\norg/bob-repo   # a comment\n\norg/missing-repo\n",
    )
    work = tmp_path / "work"
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in (work / "class").iterdir() if p.is_dir()) == [
        "alice-repo",
        "bob-repo",
        "missing-repo",
    ]
    assert not list((work / "class").glob("*/.git")), "no .git travels in the artifact"
    assert not list((work / "class" / "missing-repo").iterdir()), "a failed clone: empty"
    assert "::warning title=Clone failed::org/missing-repo" in done.stdout
    commits = (work / "class-commits.txt").read_text().splitlines()
    assert [line.split()[:2] for line in commits] == [
        ["alice-repo", "org/alice-repo"],
        ["bob-repo", "org/bob-repo"],
    ]
    assert (work / "class.tar").is_file()
    assert "fetched=3" in (work / "github-output").read_text()
    for student in ("alice-repo", "bob-repo"):  # the fetch record, beside each clone
        record = json.loads((work / "class" / f"{student}.fetch.json").read_text())
        assert record["commit"] == "0123456789abcdef0123456789abcdef01234567"
        assert record["source"] == f"https://github.com/org/{student}.git"
    basic = base64.b64encode(b"x-access-token:tok-secret-123").decode()
    assert f"::add-mask::{basic}" in done.stdout
    assert f"GIT_CONFIG_VALUE_0=AUTHORIZATION: basic {basic}" in (work / "git.env").read_text()
    argv = (work / "git.log").read_text()
    assert "tok-secret" not in argv and basic not in argv
    assert "tok-secret" not in done.stdout + done.stderr
    # The token is not in the environment of git either (only the header built from it).
    assert "CLASSROOM_TOKEN" not in (work / "git.env").read_text()


def test_scheduled_clone_step_fetches_only_the_students_due_now(tmp_path: Path) -> None:
    """A scheduled run at the deadline: alice's deadline has just passed (grace not yet),
    bob has an extension to tomorrow: only alice is fetched, with her fetch record; the
    margins are an hour, so the real clock the step runs with decides nothing here."""
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    (tmp_path / "extensions.csv").write_text(f"student,deadline\nbob,{now + timedelta(days=1)}\n")
    deadlines = (
        f"deadline = {(now - timedelta(minutes=1)).isoformat()}\ngrace_minutes = 60\n"
        f'extensions = "{tmp_path / "extensions.csv"}"\n'
    )
    done = run_clone_step(tmp_path, "org/alice\norg/bob\n", event="schedule", deadlines=deadlines)
    work = tmp_path / "work"
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in (work / "class").iterdir()) == ["alice", "alice.fetch.json"]
    assert "bob: not due now" in done.stdout
    assert "fetched=1" in (work / "github-output").read_text()
    fetched_at = json.loads((work / "class" / "alice.fetch.json").read_text())["fetched_at"]
    assert now <= datetime.fromisoformat(fetched_at) <= now + timedelta(minutes=60)


def test_scheduled_clone_step_without_a_deadline_file_fetches_nobody(tmp_path: Path) -> None:
    done = run_clone_step(tmp_path, "org/alice\n", event="schedule")
    work = tmp_path / "work"
    assert done.returncode == 0, done.stdout + done.stderr
    assert "::warning title=No deadline file::" in done.stdout
    assert not list((work / "class").iterdir()) and not (work / "git.log").exists()
    assert "fetched=0" in (work / "github-output").read_text()  # the grading jobs are skipped


def test_workflow_clone_step_fails_on_a_bad_list(tmp_path: Path) -> None:
    done = run_clone_step(tmp_path, "org/alice\nnot a repo\norg/../x\nother/alice\n")
    assert done.returncode == 1
    assert "::error title=Not owner/name::notarepo" in done.stdout
    assert "::error title=Not owner/name::org/../x" in done.stdout
    assert "::error title=Duplicate student id::two repositories named alice" in done.stdout


def test_workflow_collect_step_merges_gpu_into_cpu_results(tmp_path: Path) -> None:
    fixtures = ROOT / "tests" / "fixtures" / "results"
    temp = tmp_path / "runner"
    for side, student, fixture in (
        ("cpu", "alice", "gpu_pending"),
        ("gpu", "alice", "full_marks"),
        ("cpu", "bob", "stub"),
        ("gpu", "dave", "failures"),
    ):
        shutil.copytree(fixtures / fixture, temp / side / student)
    (temp / "cpu" / "carol").mkdir(parents=True)
    (temp / "cpu" / "carol" / "regrade.log").write_text("regrade: could not be graded: x\n")
    summary = tmp_path / "summary.md"
    script = tmp_path / "step.sh"
    script.write_text(workflow_script("collect", "Merge GPU into CPU results, then collect"))
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = dict(os.environ, PATH=path, RUNNER_TEMP=str(temp), GITHUB_STEP_SUMMARY=str(summary))
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=ROOT,
        env=env | {"GPU_RESULT": "success"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    results = temp / "class-report" / "results"
    merged = json.loads((results / "alice" / "results.json").read_text())
    assert "merge" in merged["extra_data"]
    assert (results / "bob" / "results.json").is_file() and (results / "dave").is_dir()
    report = temp / "class-report" / "report"
    rows = (report / "gradebook.csv").read_text()
    assert [line.split(",")[3] for line in rows.splitlines()[1:]] == ["alice", "bob", "dave"]
    assert "no results file" in (report / "class-summary.md").read_text()
    assert (report / "similarity.csv").is_file()
    assert summary.read_text().startswith("## Class regrade (GPU job: success)")
