"""Paths a student controls are read without following a link anywhere in them (issue 20).

Each attack is a variant of one class: a symbolic link (to a solution, to a TA-side file) at
the module, at ``exercises/`` or deeper; a hard link; a special file; links, ``..`` and
absolute names inside zips; zip bombs. Every one must cost only the student's own points and
never copy a TA-side file anywhere.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
import types
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.course.gradescope.submission import find_submission
from autograder.course.nbgrader import scores as nbgrader_scores
from autograder.course.regrade.command import regrade
from autograder.course.regrade.progress import Progress
from autograder.course.regrade.students import find_students
from autograder.grading import student_files
from autograder.grading.student_files import Refused, copy_modules, read_regular

ROOT = Path(__file__).resolve().parents[1]
FAST = ROOT / "tests" / "fixtures" / "fast-grading.toml"
MEDIUM = "medium_parallel_scan.py"
SECRET = "TA-SIDE SECRET: the solution key\n"


@pytest.fixture
def ta_file(tmp_path: Path) -> Path:
    """A file on the TA's machine that no student may read through the grader."""
    secret = tmp_path / "ta" / "secret.py"
    secret.parent.mkdir()
    secret.write_text(SECRET)
    return secret


# ---- read_regular: every component, every kind ----


def test_a_plain_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "s" / "exercises").mkdir(parents=True)
    (tmp_path / "s" / "exercises" / MEDIUM).write_text("x = 1\n")
    assert read_regular(tmp_path / "s", f"exercises/{MEDIUM}", limit=100) == b"x = 1\n"


@pytest.mark.parametrize(
    ("link", "relative"),
    [
        ("a/b/" + MEDIUM, "a/b/" + MEDIUM),  # the module itself
        ("a", "a/" + MEDIUM),  # exercises/ -> ../../solutions
        ("a/b", "a/b/" + MEDIUM),  # a folder two deep
        ("a/b/c", "a/b/c/" + MEDIUM),  # three deep
    ],
)
def test_a_link_anywhere_in_the_path_is_refused(
    tmp_path: Path, ta_file: Path, link: str, relative: str
) -> None:
    student = tmp_path / "student"
    shutil.copyfile(ta_file, ta_file.parent / MEDIUM)
    (student / link).parent.mkdir(parents=True, exist_ok=True)
    (student / link).symlink_to(ta_file if link.endswith(".py") else ta_file.parent)
    with pytest.raises(Refused, match=f"{link} is a symbolic link"):
        read_regular(student, relative, limit=1 << 20)


def test_a_link_that_stays_inside_the_students_tree_is_refused_too(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / MEDIUM).write_text("fine = True\n")
    (tmp_path / "a").symlink_to("real")
    (tmp_path / "real" / "same.py").symlink_to(MEDIUM)
    with pytest.raises(Refused, match="a is a symbolic link"):
        read_regular(tmp_path, f"a/{MEDIUM}", limit=100)
    with pytest.raises(Refused, match=r"real/same\.py is a symbolic link"):
        read_regular(tmp_path, "real/same.py", limit=100)


def test_a_hard_link_is_refused(tmp_path: Path, ta_file: Path) -> None:
    student = tmp_path / "student"
    student.mkdir()
    os.link(ta_file, student / MEDIUM)
    with pytest.raises(Refused, match="hard link"):
        read_regular(student, MEDIUM, limit=1 << 20)


def test_special_files_and_big_files_are_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.py")
    with pytest.raises(Refused, match="named pipe"):
        read_regular(tmp_path, "pipe.py", limit=100)
    (tmp_path / "folder.py").mkdir()
    with pytest.raises(Refused, match="a folder"):
        read_regular(tmp_path, "folder.py", limit=100)
    (tmp_path / "big.py").write_bytes(b"#" * 101)
    with pytest.raises(Refused, match="larger than 100 bytes"):
        read_regular(tmp_path, "big.py", limit=100)
    with pytest.raises(FileNotFoundError):
        read_regular(tmp_path, "absent.py", limit=100)
    for escape in ("../x.py", "/etc/passwd", "a/../../x.py"):
        with pytest.raises(Refused, match="not a plain relative path"):
            read_regular(tmp_path, escape, limit=100)


def test_copy_modules_copies_regular_files_and_says_why_others_were_not(
    tmp_path: Path, ta_file: Path
) -> None:
    student = tmp_path / "student" / "exercises"
    student.mkdir(parents=True)
    (student / "easy_vector_state.py").write_text("ok = 1\n")
    (student / MEDIUM).symlink_to(ta_file)
    os.link(ta_file, student / "hard_gpu_sweep.py")
    dest = tmp_path / "copy"
    refused = copy_modules(
        tmp_path / "student",
        "exercises",
        ["easy_vector_state.py", MEDIUM, "hard_gpu_sweep.py", "challenge_linear_recurrence.py"],
        dest,
        limit=1 << 20,
    )
    assert sorted(p.name for p in dest.iterdir()) == ["easy_vector_state.py"]
    assert set(refused) == {MEDIUM, "hard_gpu_sweep.py"}  # the absent one is not a refusal
    assert "symbolic link" in refused[MEDIUM] and "hard link" in refused["hard_gpu_sweep.py"]


# ---- zips ----


def _zip(members: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info, data in members:
            archive.writestr(info, data)
    return buffer.getvalue()


def _info(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = mode << 16
    return info


@pytest.mark.parametrize(
    ("member", "problem"),
    [
        ("/etc/" + MEDIUM, "absolute path"),
        ("C:/Users/x/" + MEDIUM, "absolute path"),
        ("../../" + MEDIUM, "leads out of the zip"),
        ("exercises/../../" + MEDIUM, "leads out of the zip"),
        ("exercises\\..\\..\\" + MEDIUM, "leads out of the zip"),
        (_info("exercises/" + MEDIUM, stat.S_IFLNK | 0o777), "symbolic link"),
        (_info("exercises/" + MEDIUM, stat.S_IFIFO | 0o644), "named pipe"),
        (_info("exercises/" + MEDIUM, stat.S_IFCHR | 0o644), "device"),
    ],
)
def test_unsafe_zip_members_are_refused_and_named(
    tmp_path: Path, member: zipfile.ZipInfo | str, problem: str
) -> None:
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "upload.zip").write_bytes(_zip([(member, b"x = 'from the zip'\n")]))
    found = find_submission(submission, work=tmp_path / "work")
    assert found.origins == {}
    assert not (tmp_path / "work" / MEDIUM).exists()
    assert any(problem in note and "upload.zip" in note for note in found.notes), found.notes


def test_zip_bombs_are_refused_by_count_and_by_size(tmp_path: Path) -> None:
    many = _zip([(f"f{i}.txt", b"") for i in range(50)] + [(MEDIUM, b"x = 1\n")])
    archive = zipfile.ZipFile(io.BytesIO(many))
    kept, problems = student_files.safe_zip_members(archive, max_members=20)
    assert kept == [] and "50" not in problems[0] and "51 members" in problems[0]
    big = _zip([(MEDIUM, b"0" * 10_000)])
    archive = zipfile.ZipFile(io.BytesIO(big))
    kept, problems = student_files.safe_zip_members(archive, max_total=1000)
    assert kept == [] and "unpack to 10,000 bytes" in problems[0]
    # A header that understates the size is caught while reading: the read is capped.
    with pytest.raises(Refused, match="larger than 100 bytes"):
        student_files.read_zip_member(archive, archive.infolist()[0], limit=100)


def test_a_gradescope_upload_with_linked_folders_and_hard_links_reads_none_of_them(
    tmp_path: Path, ta_file: Path
) -> None:
    submission = tmp_path / "submission"
    (submission / "repo").mkdir(parents=True)
    shutil.copyfile(ta_file, ta_file.parent / MEDIUM)
    (submission / "repo" / "exercises").symlink_to(ta_file.parent)
    os.link(ta_file, submission / "easy_vector_state.py")
    (submission / "hard_gpu_sweep.py").symlink_to(ta_file)
    found = find_submission(submission, work=tmp_path / "work")
    assert found.origins == {}
    assert list((tmp_path / "work").iterdir()) == []
    text = "\n".join(found.notes)
    assert "repo/exercises is a symbolic link" in text
    assert "easy_vector_state.py is a hard link" in text
    assert "hard_gpu_sweep.py is a symbolic link" in text
    assert SECRET.strip() not in text


# ---- grade, regrade, nbgrader-regrade ----


def _grade(submission: Path, results: Path, *extra: str) -> dict:
    completed = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", *extra, "--only", "medium"]
        + ["--settings", str(FAST), "--results", str(results), "--quiet"]
        + (["--submission", str(submission)] if "--repo" not in extra else []),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return json.loads(results.read_text())


@pytest.mark.parametrize("variant", ["exercises_to_solutions", "module_to_solution", "hard_link"])
def test_grade_scores_nothing_through_a_link(tmp_path: Path, variant: str) -> None:
    """A repository whose exercises/ (or module) links to the course's solutions gets 0 for
    the exercise, and the refusal is a tamper entry the TA sees."""
    course = tmp_path / "course"
    shutil.copytree(ROOT / "solutions", course / "solutions")
    repo = course / "class" / "alice"
    repo.mkdir(parents=True)
    if variant == "exercises_to_solutions":
        (repo / "exercises").symlink_to("../../solutions")
    else:
        (repo / "exercises").mkdir()
        if variant == "module_to_solution":
            (repo / "exercises" / MEDIUM).symlink_to(course / "solutions" / MEDIUM)
        else:
            os.link(course / "solutions" / MEDIUM, repo / "exercises" / MEDIUM)
    results = _grade(repo / "exercises", tmp_path / "results.json")
    assert results["score"] == 0
    tamper = results["extra_data"]["integrity"]["tamper"]
    assert {"path": f"exercises/{MEDIUM}"} in [{"path": t["path"]} for t in tamper]
    assert all(t["change"].startswith("refused (") for t in tamper)
    incidents = results["extra_data"]["exercises"]["medium"]["incidents"]
    assert any(f"{MEDIUM} not graded" in line for line in incidents)
    reason = "symbolic link" if variant != "hard_link" else "hard link"
    assert all(f"{MEDIUM} was not graded: " in t["output"] for t in results["tests"])
    assert all(reason in t["output"] for t in results["tests"])  # the student sees why


def test_grade_repo_with_a_linked_exercises_folder_scores_nothing(tmp_path: Path) -> None:
    repo = tmp_path / "alice"
    repo.mkdir()
    (repo / "exercises").symlink_to(ROOT / "solutions")
    results = _grade(repo, tmp_path / "results.json", "--repo", str(repo))
    assert results["score"] == 0
    assert any("exercises is a symbolic link" in t["change"] for t in _tamper(results))


def _tamper(results: dict) -> list[dict]:
    return results["extra_data"]["integrity"]["tamper"]


def test_regrade_copies_no_linked_file_into_the_class_folder(tmp_path: Path, ta_file: Path) -> None:
    klass = tmp_path / "class"
    alice = klass / "alice"
    alice.mkdir(parents=True)
    (alice / MEDIUM).symlink_to(ta_file)  # a submission folder: the module links out
    shutil.copyfile(ROOT / "exercises" / "easy_vector_state.py", alice / "easy_vector_state.py")
    bob = klass / "bob"
    (bob / "exercises").mkdir(parents=True)
    os.link(ta_file, bob / "exercises" / MEDIUM)  # a repository: a hard link to the TA file
    (klass / "mallory").symlink_to(ROOT / "solutions")  # a student folder that is a link
    students = {s.id: s for s in find_students([klass])}
    assert students["mallory"].kind == "unusable" and "symbolic link" in students["mallory"].problem
    out = tmp_path / "out"
    progress = Progress(total=0, jobs=1, stream=io.StringIO())
    summary = regrade(
        sources=[klass], out_dir=out, only=["medium"], settings=FAST, progress=progress
    )
    statuses = {o.student: o.status for o in summary.outcomes}
    assert statuses == {"alice": "graded", "bob": "graded", "mallory": "failed"}
    for student in ("alice", "bob"):
        copied = out / student / "submission"
        assert not (copied / MEDIUM).exists()
        for path in (out / student).rglob("*"):
            if path.is_file():
                assert SECRET.strip() not in path.read_text(errors="replace"), path
        results = json.loads((out / student / "results.json").read_text())
        assert results["score"] == 0 and any(MEDIUM in t["path"] for t in _tamper(results))
    assert (out / "alice" / "submission" / "easy_vector_state.py").is_file()


# ---- nbgrader-regrade ----


class _Grade(types.SimpleNamespace):
    pass


class _Gradebook:
    """The few parts of nbgrader's Gradebook that the regrade touches."""

    def __init__(self, grades: list[_Grade]) -> None:
        self.notebook = types.SimpleNamespace(grades=grades)
        self.db = types.SimpleNamespace(commit=lambda: None)

    def find_submission_notebook(self, name: str, assignment: str, student: str):
        return self.notebook


def test_a_student_who_cannot_be_regraded_keeps_no_kernel_score() -> None:
    """The forged 40/40 of a notebook that also crashes the judge's grading is not kept."""
    grades = [
        _Grade(name="medium-edge_lengths", cell_type="code", auto_score=4.0, manual_score=None),
        _Grade(name="medium-depth_measured", cell_type="code", auto_score=8.0, manual_score=2.0),
        _Grade(name="instructor-cell", cell_type="code", auto_score=1.0, manual_score=None),
    ]
    plan = nbgrader_scores._Submission(
        student="mallory", notebooks={"medium_parallel_scan": Path("x.ipynb")}
    )
    report = nbgrader_scores.RegradeReport(course=Path("."), assignment="a")
    nbgrader_scores._zero_kernel_scores(
        _Gradebook(grades),
        plan,
        "RuntimeError: grade exited with status 1",
        assignment="a",
        report=report,
    )
    assert [g.auto_score for g in grades] == [0.0, 0.0, 1.0]  # the instructor's cell is theirs
    assert all(g.needs_manual_grade for g in grades[:2])
    assert grades[1].manual_score == 2.0  # a TA's own score stays
    rows = report.discrepancies
    assert [(r.grade_cell, r.kernel_score, r.judge_score) for r in rows] == [
        ("medium-edge_lengths", 4.0, 0.0),
        ("medium-depth_measured", 8.0, 0.0),
    ]
    assert all("not regraded" in r.why and "status 1" in r.why for r in rows)
    assert report.students["mallory"]["judge"] == 0 and report.students["mallory"]["kernel"] == 12


def test_a_submitted_notebook_that_is_a_link_is_not_read(tmp_path: Path, ta_file: Path) -> None:
    from autograder.course.nbgrader.notebooks import exercise_notebook

    source_dir = tmp_path / "course" / "source" / "a"
    source_dir.mkdir(parents=True)
    solution = ROOT / "solutions" / MEDIUM
    notebook = exercise_notebook(
        exercise="medium", source=solution.read_text(), filename=str(solution)
    )
    nbformat.write(notebook, source_dir / "medium_parallel_scan.ipynb")
    submitted = tmp_path / "course" / "submitted" / "mallory" / "a"
    submitted.mkdir(parents=True)
    ta_notebook = ta_file.parent / "key.ipynb"
    nbformat.write(notebook, ta_notebook)
    for variant in ("symlink", "folder_link"):
        target = submitted / "medium_parallel_scan.ipynb"
        if variant == "symlink":
            target.symlink_to(ta_notebook)
            path = target
        else:
            target.unlink()
            (submitted.parent / "b").symlink_to(ta_notebook.parent)
            path = submitted.parent / "b" / "medium_parallel_scan.ipynb"
        plan = nbgrader_scores._Submission(
            student="mallory", notebooks={"medium_parallel_scan": path}
        )
        nbgrader_scores._build_modules(plan, source_dir)
        assert plan.modules == {"medium": ""}, variant
        assert "symbolic link" in plan.notes[0] and "its checks get 0" in plan.notes[0]


def test_collect_reads_no_results_file_through_a_link(tmp_path: Path, ta_file: Path) -> None:
    from autograder.course.collect.command import collect

    shutil.copytree(ROOT / "tests" / "fixtures" / "results" / "stub", tmp_path / "class" / "ann")
    (tmp_path / "class" / "bob").mkdir()
    secret = ta_file.parent / "results.json"
    shutil.copy(ROOT / "tests" / "fixtures" / "results" / "full_marks" / "results.json", secret)
    (tmp_path / "class" / "bob" / "results.json").symlink_to(secret)
    summary = collect(inputs=[tmp_path / "class"], out_dir=tmp_path / "out")
    assert [s.student_id for s in summary.students] == ["ann"]
    assert any("symbolic link" in s.why for s in summary.skipped)
