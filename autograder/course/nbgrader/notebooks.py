"""The nbgrader version of the exercises: one notebook per solution module, and the course.

Each ``solutions/<module>.py`` becomes ``source/why-transformers/<module>.ipynb`` in an nbgrader
course folder, cell by cell:

* the module docstring (the exercise's prompt) as Markdown, and a note on how it is graded;
* the module's imports and constants as a read-only cell, then a read-only cell importing
  :func:`autograder.course.nbgrader.kernel_checks.run_check` (before any student code runs,
  so the grader's clock and tracer are bound first, as in the grading child);
* one solution cell per function, with the solution between nbgrader's own
  ``### BEGIN SOLUTION`` / ``### END SOLUTION`` markers (nbgrader's ``ClearSolutions``
  replaces it by ``# YOUR CODE HERE`` / ``raise NotImplementedError()``);
* each written answer (``ANSWER``, ``EXPLANATION``) as a manually graded Markdown cell, with
  the registry's points for the TA;
* one read-only grade cell per automatic check of the registry that runs on a CPU, worth the
  registry's points, calling ``run_check("<check id>")``.

Checks tagged ``gpu`` have no grade cell: a cell that could only skip without CUDA would give
the points away, and one that fails without CUDA would take them from every student graded
on a CPU. The notebook version grades the CPU checks and the written answers; the GPU checks
are graded by the GPU job of the GitHub version. A notebook's points therefore equal the
registry's non-GPU points of its exercise (:func:`notebook_points`).

nbgrader has no extra credit: the challenge notebook's points count toward the assignment's
``max_score`` there; subtract them (the registry's challenge points) when exporting grades.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from autograder.course.release.stubs import (
    BEGIN_MARKER,
    END_MARKER,
    WRITTEN_ANSWER_NAMES,
    find_regions,
)
from autograder.spec.registry import ASSIGNMENT, EXERCISES, EXTRA_CREDIT, Check, checks_for

__all__ = [
    "ASSIGNMENT",
    "COURSE_ID",
    "NotebookSummary",
    "answer_name",
    "exercise_notebook",
    "generate_assignment",
    "grade_id",
    "grader_cell_id",
    "nbgrader_command",
    "nbgrader_config_text",
    "nbgrader_environment",
    "notebook_points",
    "write_course",
]

COURSE_ID = ASSIGNMENT  # one assignment, one course
NBGRADER_SCHEMA_VERSION = 3
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
GENERATE_TIMEOUT_S = 300  # nbgrader generate_assignment on four notebooks takes a few seconds


@dataclass(frozen=True)
class NotebookSummary:
    """What one generated notebook holds, for the release summary and the tests."""

    exercise: str
    path: Path
    auto_points: float  # grade cells (automatic checks that run on a CPU)
    manual_points: float  # written answers, graded by a TA in formgrader
    gpu_points_left_out: float  # graded only by the GPU job of the GitHub version
    grade_ids: tuple[str, ...]


@dataclass(frozen=True)
class _Block:
    """A run of top-level statements of a solution module that becomes one cell."""

    kind: str  # "setup", "function" or "answer"
    name: str | None
    text: str  # code for setup and functions; the answer itself for answers
    comment: str  # comment lines right above an answer: the question it answers
    solution: bool


def grade_id(check_id: str) -> str:
    """nbgrader's grade id for a registry check: dots are not allowed there."""
    return check_id.replace(".", "-")


def grader_cell_id(exercise: str) -> str:
    """The read-only cell importing ``run_check``: not part of the exercise module."""
    return f"{exercise}-grader"


def notebook_points(exercise: str) -> tuple[float, float, float]:
    """(automatic, manual, GPU left out) points of one exercise's notebook, from the registry."""
    checks = checks_for(exercise)
    auto = sum(c.points for c in checks if not c.gpu and not c.manual)
    manual = sum(c.points for c in checks if c.manual and not c.gpu)
    gpu = sum(c.points for c in checks if c.gpu)
    return auto, manual, gpu


def exercise_notebook(*, exercise: str, source: str, filename: str) -> NotebookNode:
    """The nbgrader source notebook (solutions included) of one exercise's solution module."""
    blocks = _split_module(source, filename=filename)
    checks = checks_for(exercise)
    manual_checks = {answer_name(c): c for c in checks if c.manual}
    auto_checks = [c for c in checks if not c.gpu and not c.manual]
    gpu_checks = [c for c in checks if c.gpu]
    docstring = ast.get_docstring(ast.parse(source), clean=True) or exercise
    cells: list[NotebookNode] = [
        _markdown(f"{exercise}-prompt", _rst_to_markdown(docstring)),
        _markdown(f"{exercise}-how", _how_graded(exercise, auto_checks, gpu_checks)),
    ]
    answered = set()
    setup_done = False
    for index, block in enumerate(blocks):
        if block.kind == "setup":
            cells.append(_code(f"{exercise}-setup-{index}", block.text, locked=True))
            if not setup_done:
                cells.append(_code(grader_cell_id(exercise), _GRADER_IMPORT, locked=True))
                setup_done = True
        elif block.kind == "function":
            cell_id = f"{exercise}-{block.name}"
            cells.append(_code(cell_id, block.text, solution=block.solution, locked=True))
        else:
            check = manual_checks.get(block.name or "")
            if check is None:
                raise ValueError(f"{filename}: no manual check of {exercise} for {block.name}")
            answered.add(check.id)
            question = block.comment or check.title
            cells.append(_markdown(f"{exercise}-{block.name}-question", _question(check, question)))
            cells.append(_answer(grade_id(check.id), block.text, points=check.points))
    missing = sorted(set(c.id for c in manual_checks.values()) - answered)
    if missing:
        raise ValueError(f"{filename}: no written answer for the manual check(s) {missing}")
    if not setup_done:
        cells.insert(2, _code(grader_cell_id(exercise), _GRADER_IMPORT, locked=True))
    cells.append(_markdown(f"{exercise}-checks", _CHECKS_INTRO))
    for check in auto_checks:
        cells.append(_grade_cell(check))
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    notebook.metadata["language_info"] = {"name": "python"}
    ids = [cell.metadata["nbgrader"]["grade_id"] for cell in cells if "nbgrader" in cell.metadata]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{filename}: duplicate nbgrader grade ids {sorted(ids)}")
    nbformat.validate(notebook)
    return notebook


def write_course(*, course_dir: Path, solutions_dir: Path) -> list[NotebookSummary]:
    """Write ``nbgrader_config.py`` and every source notebook; returns what each holds.

    Only the configuration and ``source/<assignment>/`` are written: a gradebook, submissions
    and feedback already in ``course_dir`` are left alone.
    """
    source_dir = course_dir / "source" / ASSIGNMENT
    source_dir.mkdir(parents=True, exist_ok=True)
    (course_dir / "nbgrader_config.py").write_text(nbgrader_config_text(), encoding="utf-8")
    summaries = []
    wanted = set()
    for exercise, module in EXERCISES.items():
        solution = solutions_dir / f"{module}.py"
        notebook = exercise_notebook(
            exercise=exercise,
            source=solution.read_text(encoding="utf-8"),
            filename=str(solution),
        )
        path = source_dir / f"{module}.ipynb"
        wanted.add(path.name)
        nbformat.write(notebook, path)
        auto, manual, gpu = notebook_points(exercise)
        ids = tuple(
            cell.metadata["nbgrader"]["grade_id"]
            for cell in notebook.cells
            if cell.metadata.get("nbgrader", {}).get("grade")
        )
        summaries.append(NotebookSummary(exercise, path, auto, manual, gpu, ids))
    for stale in source_dir.glob("*.ipynb"):
        if stale.name not in wanted:
            stale.unlink()
    return summaries


def nbgrader_command() -> list[str]:
    """nbgrader of this Python environment (not whichever ``nbgrader`` is first on PATH)."""
    return [sys.executable, "-m", "nbgrader"]


def nbgrader_environment() -> dict[str, str]:
    """The environment to run nbgrader in: this environment's scripts first on PATH.

    nbgrader starts ``alembic`` by name to create the gradebook, and kernels run
    ``python``: both must be this environment's, activated or not.
    """
    scripts = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    return {**os.environ, "PATH": os.pathsep.join([scripts, path]) if path else scripts}


def generate_assignment(*, course_dir: Path) -> Path:
    """Run ``nbgrader generate_assignment`` in the course; returns the released folder.

    nbgrader clears the solutions, locks and checksums the cells and records the assignment
    in the course's gradebook (``gradebook.db``, created when missing).
    """
    command = [*nbgrader_command(), "generate_assignment", ASSIGNMENT, "--force"]
    completed = subprocess.run(
        command,
        cwd=course_dir,
        env=nbgrader_environment(),
        capture_output=True,
        text=True,
        timeout=GENERATE_TIMEOUT_S,
        check=False,
    )
    released = course_dir / "release" / ASSIGNMENT
    if completed.returncode != 0 or not released.is_dir():
        tail = (completed.stderr or completed.stdout).strip().splitlines()[-15:]
        raise RuntimeError(
            f"`nbgrader generate_assignment {ASSIGNMENT}` failed in {course_dir} "
            f"(exit status {completed.returncode}):\n" + "\n".join(tail)
        )
    return released


def nbgrader_config_text() -> str:
    """The course's ``nbgrader_config.py``: everything nbgrader needs, in one file."""
    longest = max(c.timeout for c in _all_checks() if not c.gpu)
    return _CONFIG_TEMPLATE.format(
        course_id=COURSE_ID,
        assignment=ASSIGNMENT,
        cell_timeout=int(2 * longest + 60),
        longest=f"{longest:g}",
    )


# ---- building blocks ----

_GRADER_IMPORT = """\
# The autograder's checks for the test cells at the end (read-only). Imported before your
# code runs; needs the course package installed in this kernel's environment.
from autograder.course.nbgrader.kernel_checks import run_check"""

_CHECKS_INTRO = """\
## Checks

Each cell below runs one check of the autograder (the same test the command-line grader
`python -m autograder grade` runs) on the functions you wrote above. A check that passes
prints `passed: ...`; one that fails raises `NotebookCheckFailed` with what was expected,
what came back and a hint. These cells are read-only, and nbgrader runs them again when it
grades your notebook, with freshly drawn inputs."""

_CONFIG_TEMPLATE = '''\
"""nbgrader configuration of the course (written by `python -m autograder release`).

Run every nbgrader command from this folder, with the Python environment in which the
course package is installed (its notebooks import `autograder.course.nbgrader.kernel_checks`):

    nbgrader generate_assignment {assignment} --force   # source/ -> release/
    nbgrader autograde {assignment} --create            # submitted/ -> autograded/
    nbgrader formgrader / nbgrader generate_feedback {assignment} / nbgrader export

Regenerate it with `python -m autograder release --out DIR` rather than editing it.
"""

import os

c = get_config()  # noqa: F821 (defined by traitlets when it loads this file)

c.CourseDirectory.course_id = "{course_id}"
# The course folder is the folder of this file, wherever it is moved to.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
# The gradebook: an SQLite file inside the course folder.
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")

# What a student sees in place of a solution (as in the command-line stubs).
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Autograding: seconds per cell. Each check also stops itself at its own limit
# (autograder/spec/registry.py, the longest {longest} s); this bound catches anything else.
c.Execute.timeout = {cell_timeout}
c.Execute.interrupt_on_timeout = True

# The exchange is not used: notebooks go out and come back as files (the course's LMS, a
# shared drive, or a repository in the course's GitHub organisation), placed under
# submitted/<student>/{assignment}/.
# Kept inside the course folder so nothing is ever written to /srv/nbgrader.
c.Exchange.root = os.path.join(c.CourseDirectory.root, "exchange")
'''


def _all_checks() -> list[Check]:
    return [check for exercise in EXERCISES for check in checks_for(exercise)]


def answer_name(check: Check) -> str:
    """The module-level name a manual check reads: its title starts with ``NAME:``."""
    name = check.title.split(":", 1)[0].strip()
    if name not in WRITTEN_ANSWER_NAMES:
        raise ValueError(f"manual check {check.id}: its title should start with the answer's name")
    return name


def _nbgrader_metadata(
    cell_id: str,
    *,
    solution: bool = False,
    grade: bool = False,
    locked: bool = False,
    points: float | None = None,
) -> dict:
    metadata: dict = {
        "grade": grade,
        "grade_id": cell_id,
        "locked": locked,
        "schema_version": NBGRADER_SCHEMA_VERSION,
        "solution": solution,
    }
    if points is not None:
        metadata["points"] = points
    return metadata


def _markdown(cell_id: str, text: str) -> NotebookNode:
    return nbformat.v4.new_markdown_cell(text, id=cell_id)


def _code(cell_id: str, text: str, *, solution: bool = False, locked: bool = False) -> NotebookNode:
    """A code cell; a solution cell is editable, anything else read-only."""
    cell = nbformat.v4.new_code_cell(text, id=cell_id)
    cell.metadata["nbgrader"] = _nbgrader_metadata(
        cell_id, solution=solution, locked=locked and not solution
    )
    return cell


def _answer(cell_id: str, text: str, *, points: float) -> NotebookNode:
    """A manually graded Markdown answer (nbgrader replaces it by ``YOUR ANSWER HERE``)."""
    cell = nbformat.v4.new_markdown_cell(text.strip(), id=cell_id)
    cell.metadata["nbgrader"] = _nbgrader_metadata(
        cell_id, solution=True, grade=True, points=points
    )
    return cell


def _grade_cell(check: Check) -> NotebookNode:
    """A read-only cell worth the check's points: nbgrader gives them when it runs cleanly."""
    tags = f" [{', '.join(check.tags)}]" if check.tags else ""
    text = (
        f"# {check.id} ({_points(check.points)}{tags}): {check.title}\n"
        "from autograder.course.nbgrader.kernel_checks import run_check\n\n"
        f'run_check("{check.id}")'
    )
    cell_id = grade_id(check.id)
    cell = nbformat.v4.new_code_cell(text, id=cell_id)
    cell.metadata["nbgrader"] = _nbgrader_metadata(
        cell_id, grade=True, locked=True, points=check.points
    )
    return cell


def _points(points: float) -> str:
    return f"{points:g} point" + ("" if points == 1 else "s")


def _question(check: Check, question: str) -> str:
    return (
        f"### Written answer: `{answer_name(check)}` ({_points(check.points)}, graded by a TA)"
        f"\n\n{question}\n\nWrite your answer in the cell below (Markdown)."
    )


def _how_graded(exercise: str, auto_checks: list[Check], gpu_checks: list[Check]) -> str:
    auto, manual, gpu = notebook_points(exercise)
    lines = [
        "## In this notebook",
        "",
        "Replace each `# YOUR CODE HERE` and the `raise NotImplementedError()` under it with "
        "your code; keep the names, signatures and docstrings, the checks call them. "
        "Write each written answer in the Markdown cell that says YOUR ANSWER HERE.",
        "",
        f"Points here: {auto:g} from the {len(auto_checks)} checks at the end (automatic)"
        + (f" and {manual:g} for the written answer (a TA grades it)." if manual else "."),
    ]
    if exercise in EXTRA_CREDIT:
        lines += ["", "This exercise is extra credit."]
    if gpu_checks:
        names = ", ".join(f"`{c.id}`" for c in gpu_checks)
        lines += [
            "",
            f"The {gpu:g} points of the checks that need a CUDA device ({names}) are not part "
            "of the notebook version: the GPU job of the GitHub version grades them.",
        ]
    return "\n".join(lines)


def _rst_to_markdown(docstring: str) -> str:
    """The module docstring as Markdown: a heading, inline code, literal blocks."""
    text = docstring.replace("``", "`")
    text = re.sub(r"::$", ":", text, flags=re.MULTILINE)
    title, _, rest = text.partition("\n")
    return f"# {title.strip()}\n{rest}"


def _split_module(source: str, *, filename: str) -> list[_Block]:
    """Top-level statements in order: setup runs, functions, written answers."""
    regions = find_regions(source, filename=filename)
    lines = source.splitlines()
    tree = ast.parse(source, filename=filename)
    body = list(tree.body)
    previous_end = body.pop(0).end_lineno if ast.get_docstring(tree) is not None else 0
    blocks: list[_Block] = []
    setup: list[str] = []

    def flush_setup() -> None:
        text = "\n".join(setup).strip("\n")
        if text:
            blocks.append(_Block("setup", None, text, "", solution=False))
        setup.clear()

    for statement in body:
        first = min(
            [statement.lineno] + [d.lineno for d in getattr(statement, "decorator_list", [])]
        )
        gap = lines[previous_end : first - 1]
        span = lines[first - 1 : statement.end_lineno]
        previous_end = statement.end_lineno
        answer_region = next(
            (r for r in regions if r.function is None and r.begin < first < r.end), None
        )
        if answer_region is not None:
            flush_setup()
            blocks.append(_answer_block(statement, gap, filename))
        elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            flush_setup()
            inside = [
                r for r in regions if r.function and r.function.split(".")[0] == statement.name
            ]
            last = max([statement.end_lineno, *(r.end for r in inside)])
            previous_end = last  # the END marker may follow the function's last statement
            text = "\n".join([*_leading_comments(gap), *lines[first - 1 : last]])
            blocks.append(_Block("function", statement.name, text, "", solution=bool(inside)))
        else:
            setup.extend(gap if setup else _leading_comments(gap))
            setup.extend(span)
    flush_setup()
    return blocks


def _leading_comments(gap: list[str]) -> list[str]:
    """The comment lines right above a statement (no markers, no blank line in between)."""
    comments: list[str] = []
    for line in reversed(gap):
        stripped = line.strip()
        if stripped in (BEGIN_MARKER, END_MARKER):
            continue
        if not stripped.startswith("#"):
            break
        comments.insert(0, line)
    return comments


def _answer_block(statement: ast.stmt, gap: list[str], filename: str) -> _Block:
    """A written answer: its name, its text and the question in the comment above it."""
    target = statement.targets[0] if isinstance(statement, ast.Assign) else statement.target
    name = target.id if isinstance(target, ast.Name) else ast.unparse(target)
    try:
        text = ast.literal_eval(statement.value)
    except ValueError:
        raise ValueError(f"{filename}: the written answer {name} is not a string literal") from None
    comments = [line.strip().lstrip("#").strip() for line in _leading_comments(gap)]
    return _Block("answer", name, str(text), " ".join(comments), solution=True)
