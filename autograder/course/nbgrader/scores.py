"""``nbgrader-regrade``: the command-line grader's scores become nbgrader's scores of record.

``nbgrader autograde`` scores a grade cell by whether it ran without an error in the
student's own kernel, so code in an earlier cell can make every grade cell pass (redefine
``run_check``, patch the checks' helpers, ...). After autograding, ::

    python -m autograder nbgrader-regrade --course release/nbgrader [--student ID ...]

regrades every submitted notebook with the grader itself, whose verdicts are decided in a
process that never runs the student's code:

1. each ``submitted/<student>/<assignment>/<module>.ipynb`` is read as a file (nbformat; no
   kernel runs) and turned back into the exercise module (:func:`notebook_module`): the
   source notebook's read-only cells (imports, constants, given functions) with the student's
   solution cells (``solution: true``) in their place, each written answer as its ``ANSWER`` /
   ``EXPLANATION`` string (the inverse of :func:`notebooks.exercise_notebook`);
2. the modules are graded by ``python -m autograder grade --device cpu`` in a subprocess;
3. each grade cell's ``auto_score`` in nbgrader's gradebook (``nbgrader.api.Gradebook``) is
   the registry's points when the check passed, else 0 (grade cell ids are check ids:
   :func:`autograder.course.nbgrader.notebooks.grade_id`). A TA's ``manual_score`` is kept
   (nbgrader counts it first), flagged when the automatic score under it changed.

A student who cannot be regraded keeps no kernel score: their automatic cells are set to 0,
with the reason, in the discrepancies. Notebooks are read without following links.

Every grade cell whose kernel score differs from the grader's is printed as a table and
written, with each student's totals, to ``<course>/autograder-regrade/discrepancies.json``;
each student's results file is ``<course>/autograder-regrade/<student>/results.json``
(``collect`` and ``report`` read it). formgrader, ``generate_feedback`` and ``export`` agree.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from autograder.course.grading_run import GradeOptions, grade_command, run_grading
from autograder.course.nbgrader.notebooks import (
    ASSIGNMENT,
    COURSE_ID,
    answer_name,
    grade_id,
    grader_cell_id,
)
from autograder.course.regrade.command import key_reachable_because
from autograder.grading import student_files
from autograder.grading.processes import supervisor
from autograder.results import provenance
from autograder.results.sinks import terminal_text
from autograder.results.write import write_json
from autograder.spec import paths
from autograder.spec.registry import CHECKS, EXERCISES
from reference.cli_support import UsageError

__all__ = [
    "REPORT_FOLDER",
    "Discrepancy",
    "RegradeReport",
    "format_table",
    "notebook_module",
    "regrade_course",
    "run",
]

COMMAND = "python -m autograder nbgrader-regrade"
REPORT_FOLDER = "autograder-regrade"
MAX_NOTEBOOK_BYTES = 50 << 20  # a submitted notebook larger than this is not read
GRADE_TIMEOUT_S = 1800  # one student's four notebooks; the grader bounds each check itself
CHECK_BY_GRADE_ID = {grade_id(check.id): check for check in CHECKS}
EXERCISE_BY_NOTEBOOK = {module: exercise for exercise, module in EXERCISES.items()}


@dataclass(frozen=True)
class Discrepancy:
    """A grade cell whose kernel score (nbgrader autograde) differs from the grader's."""

    student: str
    notebook: str
    grade_cell: str
    check: str
    kernel_score: float | None
    judge_score: float
    max_score: float
    judge_status: str
    manual_score: float | None
    why: str


@dataclass
class RegradeReport:
    """What ``regrade_course`` did, for the command line and the tests."""

    course: Path
    assignment: str
    students: dict[str, dict[str, Any]] = field(default_factory=dict)
    discrepancies: list[Discrepancy] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    report_path: Path | None = None


@dataclass
class _Submission:
    student: str
    notebooks: dict[str, Path]  # nbgrader notebook name -> submitted file
    modules: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# ---- a notebook back into its module ----


def notebook_module(*, submitted: NotebookNode, source: NotebookNode, exercise: str) -> str:
    """The exercise module a submitted notebook defines, in the source notebook's cell order.

    Read-only module cells come from ``source`` (the instructor's), solution cells and
    written answers from ``submitted``, matched by nbgrader grade id. Grade cells and the
    ``run_check`` import are left out. A solution cell that is not valid Python is left out
    too, with a comment (in the kernel it failed alone; in a module it would fail them all),
    and IPython-only lines (``%timeit``, ``!pip``) become ``pass``.
    """
    theirs: dict[str, NotebookNode] = {}
    for cell in submitted.cells:
        cell_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell_id and cell_id not in theirs:
            theirs[cell_id] = cell
    answers = {grade_id(c.id): answer_name(c) for c in CHECKS if c.manual}
    parts = [f"# {exercise}: rebuilt by `{COMMAND}` from the submitted notebook's cells."]
    for cell in source.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        cell_id = meta.get("grade_id")
        if cell_id is None or cell_id == grader_cell_id(exercise):
            continue
        if cell.cell_type == "markdown":
            if meta.get("solution") and cell_id in answers:
                text = _source(theirs[cell_id]) if cell_id in theirs else ""
                parts.append(f"{answers[cell_id]} = {text!r}")
            continue
        if meta.get("grade") and not meta.get("solution"):
            continue  # a grade cell: run_check(...)
        if not meta.get("solution"):
            parts.append(_source(cell))
            continue
        if cell_id not in theirs:
            parts.append(f"# cell {cell_id}: missing from the submitted notebook")
            continue
        code = _without_magics(_source(theirs[cell_id]))
        try:
            ast.parse(code)
        except SyntaxError as error:
            why = f"{error.msg}, line {error.lineno}"
            parts.append(f"# cell {cell_id} left out: not valid Python ({why})")
            continue
        parts.append(code)
    return "\n\n\n".join(part.rstrip() for part in parts) + "\n"


def _source(cell: NotebookNode) -> str:
    """A cell's source as one string (the notebook format also allows a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _without_magics(code: str) -> str:
    """IPython's ``%magic`` / ``!shell`` lines are not Python: each becomes ``pass``."""
    lines = []
    for line in code.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            indent = line[: len(line) - len(stripped)]
            line = f"{indent}pass  # IPython only, not run by the grader: {stripped[:60]}"
        lines.append(line)
    return "\n".join(lines)


# ---- the course ----


def regrade_course(
    *,
    course: Path,
    assignment: str = ASSIGNMENT,
    students: Sequence[str] | None = None,
    settings: Path | None = None,
    sandbox: str | None = None,
    timeout_s: float = GRADE_TIMEOUT_S,
) -> RegradeReport:
    """Regrade every autograded submission of ``assignment``; see the module doc.

    Raises :class:`UsageError` for a course that cannot be read (no gradebook, no source
    notebooks, unknown assignment or student). A student who cannot be graded is listed in
    ``errors`` and their automatic grade cells are set to 0 (a notebook can forge the
    kernel's), each listed in the discrepancies with the reason. With a course key
    (:mod:`autograder.results.provenance`) every results file is signed.
    """
    from nbgrader.api import Gradebook, MissingEntry

    course = Path(course).resolve()
    try:  # read once, gone from the environment before any grading starts
        key = provenance.load_course_key(forget=True)
    except provenance.CourseKeyError as error:
        raise UsageError(str(error)) from None
    if key is not None:  # as regrade: the key out of reach of every grading
        supervisor.make_non_dumpable()
        if exposed := key_reachable_because(sandbox):
            raise UsageError(f"a course key is configured, but {exposed}")
    database = course / "gradebook.db"
    source_dir = course / "source" / assignment
    if not database.is_file():
        raise UsageError(f"no gradebook.db in {course}: run nbgrader autograde there first")
    if not source_dir.is_dir():
        raise UsageError(f"no source notebooks in {source_dir}")
    url = f"sqlite:///{database}"
    report = RegradeReport(course=course, assignment=assignment)
    with Gradebook(url, course_id=COURSE_ID) as gradebook:
        try:
            gradebook.find_assignment(assignment)
        except MissingEntry:
            raise UsageError(f"the gradebook has no assignment {assignment!r}") from None
        submitted = {s.student.id: s for s in gradebook.assignment_submissions(assignment)}
        unknown = sorted(set(students or ()) - set(submitted))
        if unknown:
            raise UsageError(f"no autograded submission of {assignment} for {', '.join(unknown)}")
        chosen = [s for s in sorted(submitted) if not students or s in students]
        plans = [
            _Submission(
                student=student,
                notebooks={
                    nb.name: course / "submitted" / student / assignment / f"{nb.name}.ipynb"
                    for nb in submitted[student].notebooks
                    if nb.name in EXERCISE_BY_NOTEBOOK
                },
            )
            for student in chosen
        ]
    out = course / REPORT_FOLDER
    out.mkdir(exist_ok=True)
    for plan in plans:
        try:
            if not plan.notebooks:
                raise ValueError("no exercise notebook in the gradebook for this submission")
            _build_modules(plan, source_dir)
            results_document = _grade(
                plan, out=out, settings=settings, sandbox=sandbox, timeout_s=timeout_s, key=key
            )
        except (OSError, ValueError, RuntimeError, subprocess.SubprocessError) as error:
            reason = f"{type(error).__name__}: {error}"
            report.errors[plan.student] = reason
            with Gradebook(url, course_id=COURSE_ID) as gradebook:
                _zero_kernel_scores(gradebook, plan, reason, assignment=assignment, report=report)
            continue
        with Gradebook(url, course_id=COURSE_ID) as gradebook:
            _record(gradebook, plan, results_document, assignment=assignment, report=report)
        report.students[plan.student]["results"] = str(out / plan.student / paths.RESULTS_NAME)
        report.students[plan.student]["notes"] = plan.notes
    report.report_path = out / "discrepancies.json"
    document = {
        "assignment": assignment,
        "regraded_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "students": report.students,
        "discrepancies": [asdict(d) for d in report.discrepancies],
        "errors": report.errors,
    }
    report.report_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return report


def _build_modules(plan: _Submission, source_dir: Path) -> None:
    for name, path in plan.notebooks.items():
        exercise = EXERCISE_BY_NOTEBOOK[name]
        source = nbformat.read(source_dir / f"{name}.ipynb", as_version=4)
        submitted_dir = path.parents[2]  # <course>/submitted: below it is the student's
        try:  # no link followed anywhere below submitted/ (a link could name a TA's file)
            data = student_files.read_regular(
                submitted_dir, path.relative_to(submitted_dir).as_posix(), limit=MAX_NOTEBOOK_BYTES
            )
        except FileNotFoundError:
            plan.notes.append(f"{path.name} is not in submitted/: its checks get 0")
            plan.modules[exercise] = ""
            continue
        except OSError as error:
            plan.notes.append(f"{path.name} not read ({error}): its checks get 0")
            plan.modules[exercise] = ""
            continue
        try:
            submitted = nbformat.reads(data.decode("utf-8"), as_version=4)
        except Exception as error:  # nbformat raises several kinds for a damaged file
            plan.notes.append(f"{path.name} could not be read ({type(error).__name__}): 0")
            plan.modules[exercise] = ""
            continue
        plan.modules[exercise] = notebook_module(
            submitted=submitted, source=source, exercise=exercise
        )


def _grade(
    plan: _Submission,
    *,
    out: Path,
    settings: Path | None,
    sandbox: str | None,
    timeout_s: float,
    key: bytes | None = None,
) -> dict[str, Any]:
    """The results document of one student's modules, graded by the grade command; signed
    with the course ``key`` when there is one, after the grading ended. The rebuilt modules
    stay in ``submission/`` beside it (for ``collect``: the signature and ``--similarity``)."""
    results = out / plan.student / paths.RESULTS_NAME
    submission = results.parent / paths.SUBMISSION_FOLDER
    shutil.rmtree(submission, ignore_errors=True)
    submission.mkdir(parents=True)
    for exercise, text in plan.modules.items():
        if text:
            (submission / f"{EXERCISES[exercise]}.py").write_text(text, encoding="utf-8")
    options = GradeOptions(only=list(plan.modules), sandbox=sandbox, settings=settings)
    command = grade_command(submission=submission, results=results, options=options)
    with tempfile.TemporaryDirectory(prefix="nbgrader-grade-") as scratch:
        log = Path(scratch) / paths.GRADE_LOG
        graded = run_grading(command, results=results, log_path=log, timeout_s=timeout_s)
        said = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
    if graded.returncode is not None and graded.returncode != 0:
        raise RuntimeError(f"grade exited with status {graded.returncode}: {' '.join(said)}")
    if graded.document is None:
        raise RuntimeError(graded.reason)
    document = graded.document
    if key is not None:
        digest = provenance.submission_sha256(submission)
        document = provenance.sign(
            document, key=key, student=plan.student, submission=digest, by="nbgrader-regrade"
        )
        write_json(document, results)
    return document


def _record(
    gradebook: Any,
    plan: _Submission,
    document: dict[str, Any],
    *,
    assignment: str,
    report: RegradeReport,
) -> None:
    """Write the grader's scores (from the results ``document``) into the gradebook; note
    every cell that changed."""
    results = {result.get("id"): result for result in document.get("tests", [])}
    totals = {"kernel": 0.0, "judge": 0.0, "max": 0.0}
    for name in plan.notebooks:
        notebook = gradebook.find_submission_notebook(name, assignment, plan.student)
        for grade in notebook.grades:
            check = CHECK_BY_GRADE_ID.get(grade.name)
            if grade.cell_type != "code" or check is None or check.manual or check.gpu:
                continue  # written answers are the TAs'; unknown cells are the instructor's
            result = results.get(check.id, {"status": "failed", "output": "no verdict"})
            status = str(result.get("status", "failed"))
            judge = float(check.points) if status == "passed" else 0.0
            kernel = grade.auto_score
            totals["kernel"] += kernel or 0.0
            totals["judge"] += judge
            totals["max"] += float(check.points)
            if kernel is None or abs(kernel - judge) > 1e-9:
                first = (str(result.get("output", "")).strip().splitlines() or [""])[0]
                report.discrepancies.append(
                    Discrepancy(
                        student=plan.student,
                        notebook=name,
                        grade_cell=grade.name,
                        check=check.id,
                        kernel_score=kernel,
                        judge_score=judge,
                        max_score=float(check.points),
                        judge_status=status,
                        manual_score=grade.manual_score,
                        why=first[:200],
                    )
                )
                if grade.manual_score is not None:
                    grade.needs_manual_grade = True  # the TA's basis changed: review it
            if grade.manual_score is None:
                grade.needs_manual_grade = False
            grade.auto_score = judge
    gradebook.db.commit()
    report.students[plan.student] = {key: round(value, 4) for key, value in totals.items()}


def _zero_kernel_scores(
    gradebook: Any, plan: _Submission, reason: str, *, assignment: str, report: RegradeReport
) -> None:
    """A student who could not be regraded keeps no automatic score from their own kernel."""
    totals = {"kernel": 0.0, "judge": 0.0, "max": 0.0}
    why = f"not regraded, kernel score not kept: {reason}"[:200]
    for name in plan.notebooks:
        try:
            notebook = gradebook.find_submission_notebook(name, assignment, plan.student)
        except Exception:  # nbgrader's MissingEntry: nothing recorded for this notebook
            continue
        for grade in notebook.grades:
            check = CHECK_BY_GRADE_ID.get(grade.name)
            if grade.cell_type != "code" or check is None or check.manual or check.gpu:
                continue
            totals["kernel"] += grade.auto_score or 0.0
            totals["max"] += float(check.points)
            row = (plan.student, name, grade.name, check.id, grade.auto_score, 0.0)
            report.discrepancies.append(
                Discrepancy(*row, float(check.points), "not regraded", grade.manual_score, why)
            )
            grade.needs_manual_grade = True  # a TA looks at it, or reruns the regrade
            grade.auto_score = 0.0
    gradebook.db.commit()
    report.students[plan.student] = {k: round(v, 4) for k, v in totals.items()} | {
        "not_regraded": reason
    }


# ---- command line ----


def format_table(discrepancies: Sequence[Discrepancy]) -> str:
    """One line per grade cell whose kernel score differs from the grader's."""
    if not discrepancies:
        return "no grade cell's kernel score differs from the grader's"
    header = ("student", "notebook", "grade cell", "kernel", "grader", "max", "why (grader)")
    rows = [header]
    for d in discrepancies:
        kernel = "-" if d.kernel_score is None else f"{d.kernel_score:g}"
        manual = "" if d.manual_score is None else f" (TA score {d.manual_score:g} kept)"
        rows.append(  # the student id, cell names and the verdict's words are printed
            tuple(
                terminal_text(" ".join(str(value).split()))
                for value in (
                    d.student,
                    d.notebook,
                    d.grade_cell,
                    kernel,
                    f"{d.judge_score:g}",
                    f"{d.max_score:g}",
                    f"{d.judge_status}: {d.why[:60]}{manual}",
                )
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = []
    for row in rows:
        cells = [value.ljust(width) for value, width in zip(row[:-1], widths, strict=True)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Exit 0 when every student was regraded, 1 when any could not be, 2 on bad input."""
    report = regrade_course(
        course=args.course,
        assignment=args.assignment,
        students=args.student,
        settings=args.settings,
        sandbox=args.sandbox,
    )
    print(format_table(report.discrepancies))
    for student, totals in report.students.items():
        print(
            f"{terminal_text(student)}: {totals['judge']:g} / {totals['max']:g} automatic points "
            f"(kernel: {totals['kernel']:g})"
        )
    for student, error in report.errors.items():
        print(terminal_text(f"not regraded: {student}: {error}"), file=sys.stderr)
    print(f"report: {report.report_path}")
    return 1 if report.errors else 0
