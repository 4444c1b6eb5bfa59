"""``release``: the student repository and the nbgrader course, from one command.

``python -m autograder release --out DIR`` (``make release`` writes ``release/``) writes

* ``DIR/student/``: the template repository students get (distribute it as a GitHub template
  repository): the stubs generated from ``solutions/`` as ``exercises/``, ``reference/``, the
  grader (``autograder/``, which holds no solution), the student workflow
  ``.github/workflows/grade.yml`` (and the local actions it uses), ``pyproject.toml``, the
  ``Makefile``, ``outputs/skill-architecture-picker.md``, a ``.gitignore``, a student README
  built from ``autograder/templates/student-README.md`` and the registry, and
  ``.release-manifest.json`` (:mod:`autograder.course.release.manifest`). Never
  ``solutions/``, ``tests/`` or anything else of the instructor repository. A ``.git``
  folder already in ``DIR/student`` is kept, so the folder can be a clone of the template
  repository;
  everything else there is replaced.
* ``DIR/nbgrader/``: an nbgrader course (:mod:`autograder.course.nbgrader.notebooks`):
  ``nbgrader_config.py``,
  ``source/why-transformers/`` (one notebook per exercise, solutions included: instructors
  only) and ``release/why-transformers/`` written by ``nbgrader generate_assignment``. The
  gradebook and any ``submitted/``, ``autograded/`` or ``feedback/`` folders are kept.
* with ``--gradescope``, ``DIR/gradescope/``: Gradescope's ``autograder.zip`` and the rubric
  of its manual questions (:mod:`autograder.course.gradescope.release`).

Before anything is reported done, every generated file students get (stubs, released
notebooks, README, every file of the Gradescope zip) is searched for the solutions' lines
(:func:`autograder.course.release.solution_leaks.find_solution_text`).

The other half, ``python -m autograder grade --repo DIR`` (grading a student's repository and
reporting the protected files that changed), is :mod:`autograder.course.release.student_repo`.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path

from autograder.course.gradescope.release import GRADESCOPE, GradescopeSummary, write_gradescope
from autograder.course.nbgrader import notebooks
from autograder.course.release import manifest as release_manifest
from autograder.course.release.solution_leaks import find_solution_text
from autograder.course.release.stubs import generate_stubs
from autograder.spec import paths
from autograder.spec.registry import EXERCISES, EXTRA_CREDIT, checks_for, exercise_points
from reference.cli_support import UsageError

__all__ = [
    "ReleaseSummary",
    "release",
    "run",
    "student_readme",
    "write_student_repo",
]

COMMAND = "python -m autograder release"
STUDENT = "student"
NBGRADER = "nbgrader"
COPIED_FOLDERS = ("autograder", "reference")  # packages the student repository installs
COPIED_FILES = (
    paths.PYPROJECT,
    "Makefile",
    "tools/find-python",  # the Makefile finds a Python >= 3.11 with it
    "tools/torch_source.py",  # and picks the torch build with it
    "outputs/skill-architecture-picker.md",
)
STUDENT_WORKFLOWS = (".github/workflows/grade.yml",)
NOT_COPIED = ("__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints")

_LOCAL_ACTION = re.compile(r"^\s*-?\s*uses:\s*['\"]?(\./[^\s'\"#]+)", re.MULTILINE)


@dataclass(frozen=True)
class ReleaseSummary:
    """What ``release`` wrote, for the command line and the tests."""

    student_dir: Path
    manifest_path: Path
    protected_files: int
    exercises: tuple[Path, ...]
    nbgrader_dir: Path | None
    source_notebooks: tuple[Path, ...]
    released_notebooks: tuple[Path, ...]
    notebook_points: dict[str, dict[str, float]] = field(default_factory=dict)
    gradescope: GradescopeSummary | None = None
    warnings: tuple[str, ...] = ()


def release(
    *,
    out: Path,
    source_root: Path = paths.ROOT,
    with_nbgrader: bool = True,
    with_gradescope: bool = False,
) -> ReleaseSummary:
    """Write ``out/student``, ``out/nbgrader`` and ``out/gradescope`` (each when asked for).

    ``source_root`` is the instructor repository (the one holding ``solutions/``). Raises
    ``ValueError`` for unusable folders and ``RuntimeError`` when nbgrader fails or solution
    text would reach students.
    """
    out = Path(out).resolve()
    source_root = Path(source_root).resolve()
    solutions_dir = source_root / paths.SOLUTIONS_FOLDER
    if not solutions_dir.is_dir():
        raise ValueError(f"no solutions/ folder in {source_root}: release from the instructor repo")
    for target in (out / STUDENT, out / NBGRADER, out / GRADESCOPE):
        if source_root.is_relative_to(target):
            raise ValueError(f"--out {out} would overwrite the instructor repository {source_root}")
    for folder in (*COPIED_FOLDERS, paths.SOLUTIONS_FOLDER, paths.EXERCISES_FOLDER):
        if out.is_relative_to(source_root / folder):
            raise ValueError(f"--out {out} lies inside {folder}/, which the release reads")

    warnings = write_student_repo(student_dir=out / STUDENT, source_root=source_root)
    student_dir = out / STUDENT
    exercises = tuple(sorted((student_dir / paths.EXERCISES_FOLDER).glob("*.py")))
    generated = [*exercises, student_dir / paths.README]

    nbgrader_dir = None
    sources: tuple[Path, ...] = ()
    released: tuple[Path, ...] = ()
    points: dict[str, dict[str, float]] = {}
    if with_nbgrader:
        nbgrader_dir = out / NBGRADER
        summaries = notebooks.write_course(course_dir=nbgrader_dir, solutions_dir=solutions_dir)
        released_dir = notebooks.generate_assignment(course_dir=nbgrader_dir)
        sources = tuple(summary.path for summary in summaries)
        released = tuple(sorted(released_dir.glob("*.ipynb")))
        generated.extend(released)
        points = {
            summary.exercise: {
                "auto": summary.auto_points,
                "manual": summary.manual_points,
                "gpu_left_out": summary.gpu_points_left_out,
            }
            for summary in summaries
        }

    gradescope = None
    if with_gradescope:
        gradescope = write_gradescope(out=out, source_root=source_root)
        generated.append(gradescope.zip_path)
        warnings.extend(gradescope.warnings)

    leaks = find_solution_text(generated, solutions_dir=solutions_dir, copied_from=source_root)
    if leaks:
        _clear_except_git(student_dir)  # nothing that leaks stays on disk to be pushed
        if nbgrader_dir is not None:
            shutil.rmtree(nbgrader_dir / "release" / notebooks.ASSIGNMENT, ignore_errors=True)
        if gradescope is not None:
            shutil.rmtree(gradescope.zip_path.parent, ignore_errors=True)
        shown = "; ".join(f"{path}: {line!r}" for path, line in leaks[:5])
        raise RuntimeError(f"solution text in files students get ({len(leaks)}): {shown}")
    manifest_path = student_dir / release_manifest.MANIFEST_NAME
    protected = json.loads(manifest_path.read_text(encoding="utf-8"))["files"]
    return ReleaseSummary(
        student_dir=student_dir,
        manifest_path=manifest_path,
        protected_files=len(protected),
        exercises=exercises,
        nbgrader_dir=nbgrader_dir,
        source_notebooks=sources,
        released_notebooks=released,
        notebook_points=points,
        gradescope=gradescope,
        warnings=tuple(warnings),
    )


def write_student_repo(*, student_dir: Path, source_root: Path) -> list[str]:
    """Write the student template repository and its manifest; returns warnings."""
    warnings: list[str] = []
    _clear_except_git(student_dir)
    ignore = shutil.ignore_patterns(*NOT_COPIED)
    for folder in COPIED_FOLDERS:
        shutil.copytree(source_root / folder, student_dir / folder, ignore=ignore)
    for name in COPIED_FILES:
        _copy_file(source_root / name, student_dir / name)
    warnings.extend(_copy_workflows(source_root=source_root, student_dir=student_dir))

    solutions_dir = source_root / paths.SOLUTIONS_FOLDER
    generate_stubs(solutions_dir=solutions_dir, exercises_dir=student_dir / paths.EXERCISES_FOLDER)
    stale = generate_stubs(
        solutions_dir=solutions_dir, exercises_dir=source_root / paths.EXERCISES_FOLDER, check=True
    )
    if stale:
        names = ", ".join(path.name for path in stale)
        warnings.append(
            f"exercises/ of the instructor repository is out of sync with solutions/ ({names}); "
            "the release uses freshly generated stubs (run `python -m autograder stubs`)"
        )
    template = resources.files("autograder").joinpath("templates", "student-gitignore")
    (student_dir / ".gitignore").write_text(template.read_text(encoding="utf-8"), encoding="utf-8")
    (student_dir / paths.README).write_text(student_readme(), encoding="utf-8")

    document = release_manifest.build_manifest(repo=student_dir, grader_version=_version())
    (student_dir / release_manifest.MANIFEST_NAME).write_text(
        json.dumps(document, indent=2) + "\n", encoding="utf-8"
    )
    return warnings


def student_readme() -> str:
    """The student README: the template with the registry's points filled in."""
    template = resources.files("autograder").joinpath("templates", "student-README.md")
    text = template.read_text(encoding="utf-8")
    filled = text.replace("{{points_table}}", _points_table()).replace(
        "{{checks_section}}", _checks_section()
    )
    left = re.findall(r"\{\{\w+\}\}", filled)
    if left:
        raise ValueError(f"student-README.md: unknown placeholders {left}")
    return filled


def run(args: argparse.Namespace) -> int:
    """``python -m autograder release``: exit 0 when done, 1 when it failed, 2 on bad input."""
    try:
        summary = release(
            out=args.out,
            source_root=args.source,
            with_nbgrader=not args.no_nbgrader,
            with_gradescope=args.gradescope,
        )
    except ValueError as error:
        raise UsageError(str(error)) from None
    except (RuntimeError, OSError) as error:
        print(f"{COMMAND}: failed: {error}", file=sys.stderr)
        return 1
    for warning in summary.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"student repository: {summary.student_dir}")
    print(
        f"  {len(summary.exercises)} exercise stubs, {summary.protected_files} protected files "
        f"in {summary.manifest_path.name}"
    )
    if summary.nbgrader_dir is not None:
        print(f"nbgrader course: {summary.nbgrader_dir}")
        print(f"  released notebooks: {summary.released_notebooks[0].parent}")
        for exercise, points in summary.notebook_points.items():
            print(
                f"  {exercise:<10} {points['auto']:g} automatic + {points['manual']:g} manual "
                f"points ({points['gpu_left_out']:g} GPU points graded only on GitHub)"
            )
    if summary.gradescope is not None:
        zipped = summary.gradescope
        print(f"Gradescope autograder: {zipped.zip_path}")
        print(
            f"  {zipped.automatic_points:g} automatic points (+{zipped.extra_credit_points:g} "
            f"extra credit); {zipped.manual_points:g} points of manual questions, rubric in "
            f"{zipped.questions_path}; {zipped.gpu_points:g} GPU points not graded there"
        )
    return 0


# ---- helpers ----


def _clear_except_git(folder: Path) -> None:
    """Empty ``folder`` (created if missing) but keep a ``.git`` inside it."""
    folder.mkdir(parents=True, exist_ok=True)
    for entry in folder.iterdir():
        if entry.name == ".git":
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _copy_file(source: Path, target: Path) -> None:
    if not source.is_file():
        raise ValueError(f"{source} is missing: the student repository needs it")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def _copy_workflows(*, source_root: Path, student_dir: Path) -> list[str]:
    """The student workflow(s) and the local actions they use; a warning for each missing."""
    warnings = []
    for relative in STUDENT_WORKFLOWS:
        source = source_root / relative
        if not source.is_file():
            warnings.append(
                f"{relative} does not exist yet: the student repository has no grading workflow"
            )
            continue
        _copy_file(source, student_dir / relative)
        for action in _LOCAL_ACTION.findall(source.read_text(encoding="utf-8")):
            action_path = source_root / action
            if action_path.is_dir():
                shutil.copytree(
                    action_path,
                    student_dir / action,
                    ignore=shutil.ignore_patterns(*NOT_COPIED),
                    dirs_exist_ok=True,
                )
            elif action_path.is_file():
                _copy_file(action_path, student_dir / action)
            else:
                warnings.append(f"{relative} uses {action}, which does not exist")
    return warnings


def _points_table() -> str:
    rows = [
        "| exercise | file | points | automatic | needs a GPU | written (TA) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for exercise, module in EXERCISES.items():
        checks = checks_for(exercise)
        gpu = sum(c.points for c in checks if c.gpu)
        manual = sum(c.points for c in checks if c.manual)
        auto = sum(c.points for c in checks if not c.gpu and not c.manual)
        total = f"{exercise_points(exercise):g}"
        if exercise in EXTRA_CREDIT:
            total += " (extra credit)"
        rows.append(
            f"| {exercise} | `exercises/{module}.py` | {total} | {auto:g} | {gpu:g} | {manual:g} |"
        )
    main_total = sum(exercise_points(e) for e in EXERCISES if e not in EXTRA_CREDIT)
    rows.append("")
    rows.append(
        f"The score is out of {main_total:g} points; extra credit adds to the score, not to "
        "the maximum."
    )
    return "\n".join(rows)


def _checks_section() -> str:
    parts = []
    for exercise, module in EXERCISES.items():
        parts.append(f"### {exercise}: `exercises/{module}.py` ({exercise_points(exercise):g})")
        parts.append("")
        for check in checks_for(exercise):
            marks = [label for tag, label in _TAG_LABELS.items() if tag in check.tags]
            suffix = f" *({', '.join(marks)})*" if marks else ""
            parts.append(f"- {check.points:g}: {check.title}{suffix}")
        parts.append("")
    return "\n".join(parts).rstrip()


_TAG_LABELS = {"gpu": "GPU", "manual": "TA", "timing": "timing"}


def _version() -> str:
    try:
        return metadata.version("why-transformers-exercises")
    except metadata.PackageNotFoundError:
        return "unknown"
