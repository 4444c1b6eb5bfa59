"""``nbgrader-regrade``: notebooks back into modules, and the grader's scores in the gradebook.

The fast tests turn notebooks into exercise modules. The slow one is a course's real round
trip (as in test_nbgrader_roundtrip): release, ``nbgrader autograde`` in real kernels, then
the command; mallory's notebook patches ``run_check`` so that every grade cell passes in her
kernel, and a TA has already overridden one of her cells.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest

from autograder.course.nbgrader.notebooks import (
    ASSIGNMENT,
    COURSE_ID,
    exercise_notebook,
    nbgrader_command,
)
from autograder.course.nbgrader.notebooks import nbgrader_environment as course_environment
from autograder.course.nbgrader.scores import REPORT_FOLDER, notebook_module
from autograder.course.release.command import release
from autograder.results import provenance
from autograder.spec.registry import EXERCISES, checks_for

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
FAST_SETTINGS = ROOT / "tests" / "fixtures" / "fast-grading.toml"
MEDIUM = EXERCISES["medium"]
REGRADE = [sys.executable, "-m", "autograder", "nbgrader-regrade"]
COURSE_KEY = "nbgrader-course-key-0123456789"

PATCH = """\
import autograder.course.nbgrader.kernel_checks as _checks


def _every_check_passes(check_id, **options):
    print(f"passed: {check_id}")


_checks.run_check = _every_check_passes  # the grade cells import run_check from here

"""


def source_notebook(exercise: str) -> nbformat.NotebookNode:
    path = SOLUTIONS / f"{EXERCISES[exercise]}.py"
    return exercise_notebook(
        exercise=exercise, source=path.read_text(encoding="utf-8"), filename=str(path)
    )


def cell(notebook: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    return next(
        c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
    )


def load(text: str) -> types.ModuleType:
    module = types.ModuleType("rebuilt")
    exec(compile(text, "rebuilt.py", "exec"), module.__dict__)
    return module


# ---- a notebook back into its module ----


@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_the_solution_notebook_rebuilds_the_solution_module(exercise: str) -> None:
    source = source_notebook(exercise)
    text = notebook_module(submitted=source, source=source, exercise=exercise)
    assert "run_check" not in text  # neither the grade cells nor the grader's import
    solution = load((SOLUTIONS / f"{EXERCISES[exercise]}.py").read_text(encoding="utf-8"))
    rebuilt = load(text)
    public = {name for name in vars(solution) if not name.startswith("_")}
    assert public <= set(vars(rebuilt))
    for check in checks_for(exercise):
        if check.manual:  # the written answer, as a string
            name = check.title.split(":", 1)[0]
            assert getattr(rebuilt, name).strip() == getattr(solution, name).strip()


def test_solution_cells_come_from_the_student_and_the_rest_from_the_source() -> None:
    source = source_notebook("medium")
    submitted = nbformat.reads(nbformat.writes(source), as_version=4)
    cell(submitted, "medium-setup-0").source = "import os\nos.system('echo edited a locked cell')"
    cell(
        submitted, "medium-serial_scan"
    ).source = "%timeit -n1 pass\ndef serial_scan(xs, op=None):\n    return ['mine']"
    cell(submitted, "medium-scan_depth").source = "def scan_depth(n:\n    return 0"
    submitted.cells.remove(cell(submitted, "medium-scan_work"))
    submitted.cells.append(nbformat.v4.new_code_cell("raise SystemExit('scratch')"))
    text = notebook_module(submitted=submitted, source=source, exercise="medium")
    assert "edited a locked cell" not in text and "scratch" not in text
    assert "pass  # IPython only, not run by the grader: %timeit -n1 pass" in text
    assert "# cell medium-scan_depth left out: not valid Python" in text
    assert "# cell medium-scan_work: missing from the submitted notebook" in text
    module = load(text)
    assert module.serial_scan([1, 2]) == ["mine"]
    assert module.hillis_steele_scan([1, 2, 3]) == [1, 3, 6]
    assert not hasattr(module, "scan_depth") and not hasattr(module, "scan_work")


def test_a_released_notebook_rebuilds_the_stubs() -> None:
    source = source_notebook("easy")
    released = nbformat.reads(nbformat.writes(source), as_version=4)
    for each in released.cells:
        meta = each.metadata.get("nbgrader", {})
        if meta.get("solution") and each.cell_type == "code":
            head = each.source.split("### BEGIN SOLUTION")[0]
            each.source = head + "# YOUR CODE HERE\n    raise NotImplementedError()"
        elif meta.get("solution"):
            each.source = "YOUR ANSWER HERE"
    module = load(notebook_module(submitted=released, source=source, exercise="easy"))
    assert module.ANSWER == "YOUR ANSWER HERE"
    with pytest.raises(NotImplementedError):
        module.rnn_style_vector([[1.0]])


# ---- the round trip, with nbgrader's own commands and gradebook ----


def nbgrader_environment() -> dict[str, str]:
    """The course's environment, with kernels importing this checkout's grader."""
    environment = course_environment()
    environment.pop("PYTEST_CURRENT_TEST", None)
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [environment.get("PYTHONPATH")])]
    )
    return environment


def nbgrader(course: Path, *arguments: str) -> None:
    completed = subprocess.run(
        [*nbgrader_command(), *arguments],
        cwd=course,
        env=nbgrader_environment(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]


def medium_points(gradebook, student: str) -> dict[str, tuple[float | None, float | None]]:
    notebook = gradebook.find_submission_notebook(MEDIUM, ASSIGNMENT, student)
    return {
        g.name: (g.auto_score, g.manual_score) for g in notebook.grades if g.cell_type == "code"
    }


@pytest.mark.slow
def test_the_grader_replaces_kernel_scores_a_notebook_forged(tmp_path: Path) -> None:
    from nbgrader.api import Gradebook

    summary = release(out=tmp_path / "release", source_root=ROOT)
    course = summary.nbgrader_dir
    alice = course / "submitted" / "alice" / ASSIGNMENT
    mallory = course / "submitted" / "mallory" / ASSIGNMENT
    alice.mkdir(parents=True)
    mallory.mkdir(parents=True)
    shutil.copyfile(course / "source" / ASSIGNMENT / f"{MEDIUM}.ipynb", alice / f"{MEDIUM}.ipynb")
    stubs = nbformat.read(course / "release" / ASSIGNMENT / f"{MEDIUM}.ipynb", as_version=4)
    first = cell(stubs, "medium-serial_scan")
    first.source = PATCH + first.source  # in a solution cell: part of the rebuilt module too
    nbformat.write(stubs, mallory / f"{MEDIUM}.ipynb")
    nbgrader(course, "autograde", ASSIGNMENT, "--create")

    medium_total = sum(c.points for c in checks_for("medium"))
    database = f"sqlite:///{course / 'gradebook.db'}"
    with Gradebook(database, course_id=COURSE_ID) as gradebook:
        kernel = medium_points(gradebook, "mallory")
        assert sum(auto for auto, _ in kernel.values()) == medium_total  # the patch worked
        override = gradebook.find_grade("medium-depth_measured", MEDIUM, ASSIGNMENT, "mallory")
        override.manual_score = 2.0  # a TA's score, entered before the regrade
        gradebook.db.commit()

    completed = subprocess.run(
        [*REGRADE, "--course", str(course), "--settings", str(FAST_SETTINGS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=os.environ | {"AUTOGRADER_COURSE_KEY": COURSE_KEY},  # its results are signed
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "mallory  medium_parallel_scan  medium-depth_measured" in completed.stdout
    assert "(TA score 2 kept)" in completed.stdout

    with Gradebook(database, course_id=COURSE_ID) as gradebook:
        after = medium_points(gradebook, "mallory")
        assert {auto for auto, _ in after.values()} == {0.0}
        assert after["medium-depth_measured"] == (0.0, 2.0)
        kept = gradebook.find_grade("medium-depth_measured", MEDIUM, ASSIGNMENT, "mallory")
        assert kept.score == 2.0 and kept.needs_manual_grade  # the TA's basis changed
        notebook = gradebook.find_submission_notebook(MEDIUM, ASSIGNMENT, "mallory")
        assert notebook.score == 2.0
        assert sum(auto for auto, _ in medium_points(gradebook, "alice").values()) == medium_total

    report = json.loads((course / REPORT_FOLDER / "discrepancies.json").read_text())
    rows = report["discrepancies"]
    assert {row["student"] for row in rows} == {"mallory"}
    assert sorted(row["check"] for row in rows) == sorted(c.id for c in checks_for("medium"))
    assert all(row["judge_score"] == 0 and row["kernel_score"] > 0 for row in rows)
    assert report["students"]["mallory"]["kernel"] == medium_total
    assert report["students"]["mallory"]["judge"] == 0
    assert report["students"]["alice"]["judge"] == medium_total
    for student in ("alice", "mallory"):
        path = Path(report["students"][student]["results"])
        results = json.loads(path.read_text())
        assert results["tests"]  # the grader's own results file, for report and collect
        submission = provenance.submission_sha256(path.parent / "submission")
        key = COURSE_KEY.encode()
        assert provenance.verify(results, key=key, student=student, submission=submission).verified

    nbgrader(course, "export", "--to", "grades.csv")
    with (course / "grades.csv").open(newline="", encoding="utf-8") as handle:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert scores == {"alice": medium_total, "mallory": 2.0}


def test_a_kernels_check_folders_are_removed_when_the_kernel_ends(tmp_path):
    """The in-kernel feedback keeps one work folder per exercise while the kernel runs; none is
    left in the temporary folder once it exits."""
    script = (
        "from autograder.course.nbgrader import kernel_checks\n"
        "for exercise in ('easy', 'hard'):\n"
        "    print(kernel_checks._context(exercise, 1).work_dir)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    folders = [Path(line) for line in done.stdout.split()]
    assert len(folders) == 2 and all(tmp_path in folder.parents for folder in folders)
    assert list(tmp_path.iterdir()) == []
