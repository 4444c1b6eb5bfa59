"""The nbgrader version: generated notebooks, the grade cells' runner, and a real round trip.

The fast tests check the notebooks' nbgrader metadata against the registry and run
``autograder.course.nbgrader.kernel_checks.run_check`` in this
process. The slow one does what a course
does: release, collect two students' notebooks (alice hands in the solutions, bob the
untouched release), ``nbgrader autograde`` in real kernels, ``nbgrader export``, and compares
alice's points with the command-line grader's on the same code.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import time
import types
from pathlib import Path

import nbformat
import pytest
from traitlets.config import Config

from autograder.course.nbgrader.kernel_checks import NotebookCheckFailed, run_check, time_limit
from autograder.course.nbgrader.notebooks import (
    ASSIGNMENT,
    COURSE_ID,
    exercise_notebook,
    grade_id,
    nbgrader_command,
    nbgrader_config_text,
    nbgrader_environment,
)
from autograder.course.release.command import release
from autograder.spec.registry import CHECKS_BY_ID, EXERCISES, checks_for

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"


def registry_points(exercise: str) -> dict[str, float]:
    checks = checks_for(exercise)
    return {
        "auto": sum(c.points for c in checks if not c.gpu and not c.manual),
        "manual": sum(c.points for c in checks if c.manual and not c.gpu),
    }


def solution_notebook(exercise: str) -> nbformat.NotebookNode:
    path = SOLUTIONS / f"{EXERCISES[exercise]}.py"
    return exercise_notebook(
        exercise=exercise, source=path.read_text(encoding="utf-8"), filename=str(path)
    )


def load_solution(exercise: str) -> types.ModuleType:
    """A solution module whose functions' globals are the module's own ``__dict__``."""
    path = SOLUTIONS / f"{EXERCISES[exercise]}.py"
    module = types.ModuleType(f"notebook_{exercise}")
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), module.__dict__)
    return module


# ---- the generated notebooks ----


@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_notebook_points_are_the_registry_non_gpu_points(exercise: str) -> None:
    notebook = solution_notebook(exercise)
    nbformat.validate(notebook)
    graded = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]
    auto = [c for c in graded if not c.metadata.nbgrader.solution]
    manual = [c for c in graded if c.metadata.nbgrader.solution]
    assert sum(c.metadata.nbgrader.points for c in auto) == registry_points(exercise)["auto"]
    assert sum(c.metadata.nbgrader.points for c in manual) == registry_points(exercise)["manual"]
    expected_auto = [c for c in checks_for(exercise) if not c.gpu and not c.manual]
    assert [c.metadata.nbgrader.grade_id for c in auto] == [grade_id(c.id) for c in expected_auto]
    for cell, check in zip(auto, expected_auto, strict=True):
        assert cell.cell_type == "code" and cell.metadata.nbgrader.locked
        assert cell.metadata.nbgrader.points == check.points
        assert f'run_check("{check.id}")' in cell.source
    for cell in manual:
        assert cell.cell_type == "markdown" and not cell.metadata.nbgrader.locked
    gpu_ids = {grade_id(c.id) for c in checks_for(exercise) if c.gpu}
    all_ids = [c.metadata.nbgrader.grade_id for c in notebook.cells if "nbgrader" in c.metadata]
    assert not gpu_ids & set(all_ids)
    assert len(all_ids) == len(set(all_ids))
    for cell in notebook.cells:
        if "nbgrader" in cell.metadata:
            assert cell.metadata.nbgrader.schema_version == 3


@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_solution_cells_hold_markers_and_the_grader_import_comes_first(exercise: str) -> None:
    notebook = solution_notebook(exercise)
    solutions = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")]
    code = [c for c in solutions if c.cell_type == "code"]
    assert code and all("### BEGIN SOLUTION" in c.source for c in code)
    first_code = next(c for c in notebook.cells if c.cell_type == "code")
    grader = next(c for c in notebook.cells if c.id == f"{exercise}-grader")
    student = next(iter(code))
    assert notebook.cells.index(first_code) < notebook.cells.index(grader)
    assert notebook.cells.index(grader) < notebook.cells.index(student)


def test_nbgrader_config(tmp_path: Path) -> None:
    text = nbgrader_config_text()
    config = Config()
    path = tmp_path / "nbgrader_config.py"
    path.write_text(text, encoding="utf-8")
    exec(compile(text, str(path), "exec"), {"get_config": lambda: config, "__file__": str(path)})
    assert config.CourseDirectory.course_id == COURSE_ID
    assert config.CourseDirectory.root == str(tmp_path)
    assert config.CourseDirectory.db_url == f"sqlite:///{tmp_path}/gradebook.db"
    assert config.ClearSolutions.code_stub == {
        "python": "# YOUR CODE HERE\nraise NotImplementedError()"
    }
    longest = max(c.timeout for c in CHECKS_BY_ID.values() if not c.gpu)
    assert config.Execute.timeout > longest
    assert config.Exchange.root.startswith(str(tmp_path))


# ---- run_check, in this process ----


@pytest.fixture(autouse=True)
def check_marker(pytestconfig: pytest.Config) -> None:
    """Register the check modules' ``check`` marker here (strict markers): run_check imports
    them in this process, while the grader registers it in autograder/pytest-grader.ini."""
    if not any(line.startswith("check(") for line in pytestconfig.getini("markers")):
        pytestconfig.addinivalue_line("markers", "check(id): binds a test to a registry check")


def test_run_check_takes_a_module_or_its_namespace(capsys) -> None:
    """The kernel's checks go through an in-process worker, with the judge's timing."""
    easy, hard = load_solution("easy"), load_solution("hard")
    run_check("easy.serial_overhead_consistent", submission=easy)  # the module itself
    run_check("easy.serial_overhead_consistent", submission=vars(easy))  # its namespace dict
    run_check("hard.sweep_rows_cpu", submission=hard)
    # the judge's waits, answered in this process (one thread: its figure is the judge's wait)
    run_check("hard.time_fn_accurate_cpu", submission=hard)
    assert capsys.readouterr().out.count("passed: ") == 4
    made_up = types.SimpleNamespace(**vars(easy))
    made_up.serial_overhead = lambda **kwargs: {4: 1e-9, 64: 1e-9}  # no call takes 1 ns a step
    with pytest.raises(NotebookCheckFailed, match="serial_overhead_consistent failed"):
        run_check("easy.serial_overhead_consistent", submission=made_up)


def test_run_check_defaults_to_the_callers_namespace(capsys) -> None:
    namespace = vars(load_solution("medium"))
    exec('run_check("medium.depth_measured")', {**namespace, "run_check": run_check})
    assert "passed: medium.depth_measured" in capsys.readouterr().out
    # this test module defines no scan: the depth measured on the other namespace is not
    # reused (a measurement is kept per submission module)
    with pytest.raises(NotebookCheckFailed, match="does not define hillis_steele_scan"):
        run_check("medium.depth_measured")


def test_run_check_failures_name_the_check_and_hint() -> None:
    stub = types.ModuleType("stub")
    source = (ROOT / "exercises" / "medium_parallel_scan.py").read_text(encoding="utf-8")
    exec(compile(source, "stub.py", "exec"), stub.__dict__)
    with pytest.raises(NotebookCheckFailed) as failure:
        run_check("medium.edge_lengths", submission=stub, seed=7)
    message = str(failure.value)
    assert message.startswith("medium.edge_lengths failed (5 points): not implemented yet")
    assert CHECKS_BY_ID["medium.edge_lengths"].hint in message
    assert "seed 7" in message
    rendered = failure.value._render_traceback_()
    assert rendered[0].startswith("NotebookCheckFailed: medium.edge_lengths failed")
    empty = types.ModuleType("empty")
    exec("def serial_scan(xs, op=None):\n    raise NotImplementedError()\n", empty.__dict__)
    with pytest.raises(NotebookCheckFailed, match="serial_scan still raises NotImplementedError"):
        run_check("medium.serial_scan_correct", submission=empty)
    for not_automatic in ("hard.correct_cuda", "easy.answer"):
        with pytest.raises(NotebookCheckFailed, match="not an automatic notebook check"):
            run_check(not_automatic, submission=stub)


def test_run_check_moves_stderr_to_stdout(capfd) -> None:
    """nbgrader zeroes a grade cell that shows stderr: output of correct code must not.

    (pytest records ``warnings.warn`` itself, so warnings are covered by the round trip.)
    """
    medium = load_solution("medium")
    correct = medium.serial_scan

    def noisy_scan(xs, op=None):
        print("serial_scan: a progress line on stderr", file=sys.stderr)
        import os

        os.write(2, b"serial_scan: written to file descriptor 2\n")
        return correct(xs) if op is None else correct(xs, op)

    medium.serial_scan = noisy_scan
    run_check("medium.serial_scan_correct", submission=medium)
    captured = capfd.readouterr()
    assert captured.err == ""
    assert "a progress line on stderr" in captured.out
    assert "written to file descriptor 2" in captured.out


def test_time_limit_stops_a_runaway_check() -> None:
    started = time.monotonic()
    with pytest.raises(Exception, match=r"timed out after 0\.2 s"), time_limit(0.2):
        while True:
            pass
    assert time.monotonic() - started < 5


# ---- the round trip, with nbgrader's own commands and gradebook ----


def nbgrader(course: Path, *arguments: str) -> subprocess.CompletedProcess:
    """An nbgrader command in the course, as an instructor runs it (outside pytest).

    ipykernel captures output written to file descriptors 1 and 2 only when it does not see
    PYTEST_CURRENT_TEST, so the variable is dropped to test the capture students get.
    """
    environment = nbgrader_environment()
    environment.pop("PYTEST_CURRENT_TEST", None)
    completed = subprocess.run(
        [*nbgrader_command(), *arguments],
        cwd=course,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed


NOISY_LINES = """\
    import os, sys, warnings
    warnings.warn("serial_scan: a warning from correct code")
    print("serial_scan: a progress line on stderr", file=sys.stderr)
    os.write(2, b"serial_scan: written to file descriptor 2\\n")
"""


@pytest.mark.slow
def test_round_trip_with_nbgrader(tmp_path: Path, solution_run) -> None:
    from nbgrader.api import Gradebook

    summary = release(out=tmp_path / "release", source_root=ROOT)
    course = summary.nbgrader_dir
    alice = course / "submitted" / "alice" / ASSIGNMENT
    bob = course / "submitted" / "bob" / ASSIGNMENT
    alice.mkdir(parents=True)
    shutil.copytree(course / "release" / ASSIGNMENT, bob)
    for source in summary.source_notebooks:
        notebook = nbformat.read(source, as_version=4)
        for cell in notebook.cells:
            if cell.id == "medium-serial_scan":  # correct code that writes to stderr
                cell.source = cell.source.replace(
                    "### BEGIN SOLUTION\n", "### BEGIN SOLUTION\n" + NOISY_LINES, 1
                )
        nbformat.write(notebook, alice / source.name)

    nbgrader(course, "autograde", ASSIGNMENT, "--create")
    nbgrader(course, "export", "--to", "grades.csv")
    completed, graded_by_cli = solution_run  # the same solutions through the CLI's judge
    assert completed.returncode == 0, completed.stderr
    results = graded_by_cli / "results.json"

    with (course / "grades.csv").open(newline="", encoding="utf-8") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    auto_total = sum(registry_points(e)["auto"] for e in EXERCISES)
    max_total = sum(sum(registry_points(e).values()) for e in EXERCISES)
    assert float(rows["alice"]["score"]) == auto_total
    assert float(rows["bob"]["score"]) == 0
    assert float(rows["alice"]["max_score"]) == max_total

    document = json.loads(results.read_text(encoding="utf-8"))
    pytest_points = {exercise: 0.0 for exercise in EXERCISES}
    for test in document["tests"]:
        if test["status"] == "passed" and not {"gpu", "manual"} & set(test["tags"]):
            pytest_points[test["exercise"]] += test["score"]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for exercise, module in EXERCISES.items():
            mine = gradebook.find_submission_notebook(module, ASSIGNMENT, "alice")
            auto = sum(g.auto_score or 0 for g in mine.grades if g.cell_type == "code")
            assert auto == registry_points(exercise)["auto"] == pytest_points[exercise], exercise
            written = [g for g in mine.grades if g.cell_type == "markdown"]
            assert all(g.needs_manual_grade for g in written)  # a TA grades alice's answers
            assert mine.needs_manual_grade == bool(written)
            theirs = gradebook.find_submission_notebook(module, ASSIGNMENT, "bob")
            assert theirs.score == 0 and not theirs.needs_manual_grade  # blank answers: 0

    graded = nbformat.read(
        course / "autograded" / "alice" / ASSIGNMENT / "medium_parallel_scan.ipynb", as_version=4
    )
    cell = next(c for c in graded.cells if c.id == grade_id("medium.serial_scan_correct"))
    assert not [o for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"]
    shown = "".join(o.get("text", "") for o in cell.outputs)
    assert "a warning from correct code" in shown and "written to file descriptor 2" in shown
    assert "passed: medium.serial_scan_correct" in shown


def test_stderr_written_to_the_descriptor_is_shown_in_the_cell_and_bounded(capfd) -> None:
    """File-descriptor writes reach the cell's stdout when the check ends (not later, through
    a reader thread), cut at FD_OUTPUT_SHOWN bytes with a note of the rest."""
    import os

    from autograder.course.nbgrader import kernel_checks

    with kernel_checks._stderr_to_stdout():
        os.write(2, b"from C: a warning\n")
        os.write(2, b"x" * (kernel_checks.FD_OUTPUT_SHOWN + 10))
    captured = capfd.readouterr()
    assert captured.err == ""
    assert captured.out.startswith("from C: a warning\n")
    assert captured.out.count("x") == kernel_checks.FD_OUTPUT_SHOWN - len("from C: a warning\n")
    assert captured.out.endswith(
        f"[... {10 + len('from C: a warning') + 1} more bytes of stderr not shown]\n"
    )
