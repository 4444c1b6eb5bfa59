"""``release``: the student repository holds no solution, its manifest catches tampering.

One release is written per module run (the nbgrader course included, so its released
notebooks are searched too); tests that change files work on copies of it. ``grade --repo``
runs for real, as a subprocess, on an untouched and on a tampered copy.
"""

from __future__ import annotations

import hashlib
import json
import keyword
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import cli
from autograder.course.release.command import COPIED_FILES, ReleaseSummary, release
from autograder.course.release.manifest import (
    IGNORED_WHEN_ADDED,
    MANIFEST_NAME,
    compare_with_manifest,
    editable_paths,
)
from autograder.course.release.solution_leaks import find_solution_text
from autograder.course.release.stubs import WRITTEN_ANSWER_NAMES, find_regions, render_stub
from autograder.course.release.student_repo import repo_submission
from autograder.spec.registry import EXERCISES, checks_for, exercise_points


def main(argv: list[str]) -> int:
    """``python -m autograder release ARGV``, in this process."""
    return cli.main(["release", *argv])


ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
WORKFLOW = ".github/workflows/grade.yml"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

SHARED_LINES: dict[str, str] = {
    # Lines of a solution that also occur, whole, in code the instructor repository publishes
    # on purpose (the grader, the lesson's reference code). Generic idioms, or values every
    # grader of the exercise must compute itself. Files generated from the solutions (stubs,
    # notebooks, README) get no exemption at all.
    "file=sys.stderr,": "a print argument",
    "rows.append(": "building a list of rows",
    "for x in xs:": "a loop header",
    "for n in lengths:": "a loop header",
    "for _ in range(repeats):": "the grader's own stopwatch loops (checks/timing.py)",
    "for _ in range(warmup):": "the grader's own stopwatch loops (checks/timing.py)",
    "start = time.perf_counter()": "reading the clock",
    "axes = figure.add_subplot()": "matplotlib: one axes on a Figure",
    "axes.legend()": "matplotlib",
    'axes.grid(True, which="both", alpha=0.3)': "matplotlib; the lesson's own table plot",
    'lengths = [row["n"] for row in rows]': "reading SPEC's sweep rows {'n', ...}",
    "return (n - 1).bit_length() if n > 1 else 0": (
        "ceil(log2 n), SPEC's depth formula: the grader computes its expected depths with it "
        "(checks/test_medium.py) and the lesson's depth table prints it; depth points are "
        "earned by measurement, never by this formula"
    ),
}


def is_trivial(line: str) -> bool:
    """Fewer than two names (keywords are not names): the rule of tests/test_stubs.py."""
    names = [word for word in _IDENTIFIER.findall(line) if not keyword.iskeyword(word)]
    return len(names) < 2


def solution_lines() -> dict[str, tuple[str, bool]]:
    """Every non-trivial stripped line of every solution region -> (where, in a written answer)."""
    lines: dict[str, tuple[str, bool]] = {}
    for path in sorted(SOLUTIONS.glob("*.py")):
        for region in find_regions(path.read_text(encoding="utf-8"), filename=str(path)):
            text = "\n".join(region.lines)
            is_answer = region.function is None and any(
                re.match(rf"\s*{name}\b", text) for name in WRITTEN_ANSWER_NAMES
            )
            for offset, line in enumerate(region.lines, start=1):
                if line.strip() and not is_trivial(line):
                    where = f"solutions/{path.name}:{region.begin + offset}"
                    lines.setdefault(line.strip(), (where, is_answer))
    return lines


def file_lines(path: Path) -> set[str]:
    """Stripped lines of a file; of every cell for a notebook (JSON escapes undone)."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    if path.suffix == ".ipynb":
        text = "\n".join(
            "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            for cell in json.loads(text)["cells"]
        )
    return {line.strip() for line in text.splitlines()}


def all_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def instructor_copy(folder: Path, *, workflow: str | None) -> Path:
    """The parts of the instructor repository a release reads, with ``workflow`` as grade.yml."""
    for name in ("autograder", "reference", "solutions", "exercises"):
        shutil.copytree(ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in COPIED_FILES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, folder / name)
    if workflow is not None:
        (folder / WORKFLOW).parent.mkdir(parents=True)
        (folder / WORKFLOW).write_text(workflow, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def source_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The instructor repository; a copy with a stand-in workflow while the real one is missing."""
    if (ROOT / WORKFLOW).is_file():
        return ROOT
    stand_in = "name: grade\non: push\njobs: {}\n"
    return instructor_copy(tmp_path_factory.mktemp("instructor"), workflow=stand_in)


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory, source_root: Path) -> ReleaseSummary:
    return release(out=tmp_path_factory.mktemp("release"), source_root=source_root)


@pytest.fixture
def student_copy(released: ReleaseSummary, tmp_path: Path) -> Path:
    """A copy of the released student repository to change."""
    copy = tmp_path / "student"
    shutil.copytree(released.student_dir, copy, symlinks=True)
    return copy


def grade_repo(repo: Path, results: Path, *extra: str) -> dict:
    """``python -m autograder grade --repo`` as a student's CI runs it; the results JSON."""
    command = [sys.executable, "-m", "autograder", "grade", "--repo", str(repo)]
    command += ["--only", "medium", "--device", "cpu", "--results", str(results), "--quiet"]
    completed = subprocess.run(
        [*command, *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(results.read_text(encoding="utf-8"))


# ---- what the student repository holds ----


def test_student_repository_layout(released: ReleaseSummary, source_root: Path) -> None:
    student = released.student_dir
    for name in (
        "README.md",
        ".gitignore",
        MANIFEST_NAME,
        "pyproject.toml",
        "Makefile",
        "tools/find-python",
        "tools/torch_source.py",
        "outputs/skill-architecture-picker.md",
        "reference/tracer.py",
        "autograder/spec/registry.py",
        "autograder/grading/judge/checks/test_medium.py",
        "autograder/grading.toml",
        "autograder/templates/student-README.md",
        WORKFLOW,
    ):
        assert (student / name).is_file(), name
    assert sorted(p.name for p in (student / "exercises").iterdir()) == sorted(
        f"{module}.py" for module in EXERCISES.values()
    )
    top = {path.name for path in student.iterdir()}
    assert top == {
        ".github",
        ".gitignore",
        MANIFEST_NAME,
        "Makefile",
        "README.md",
        "autograder",
        "exercises",
        "outputs",
        "pyproject.toml",
        "reference",
        "tools",
    }
    assert (student / "pyproject.toml").read_bytes() == (
        source_root / "pyproject.toml"
    ).read_bytes()
    assert (student / WORKFLOW).read_bytes() == (source_root / WORKFLOW).read_bytes()


def test_no_instructor_material_anywhere(released: ReleaseSummary) -> None:
    release_dirs = [released.student_dir, released.nbgrader_dir / "release"]
    for folder in release_dirs:
        for path in folder.rglob("*"):
            assert path.name not in ("solutions", "tests", "benchmarks", "__pycache__"), path
            assert path.suffix != ".pyc", path


def test_exercises_are_the_generated_stubs(released: ReleaseSummary) -> None:
    for path in sorted(SOLUTIONS.glob("*.py")):
        stub = released.student_dir / "exercises" / path.name
        expected = render_stub(path.read_text(encoding="utf-8"), module_name=path.stem)
        assert stub.read_text(encoding="utf-8") == expected, path.name


def test_no_solution_text_in_any_released_file(released: ReleaseSummary) -> None:
    """Every non-trivial line of every solution region is absent from every file students get.

    Files generated from the solutions (stubs, notebooks, README, manifest, .gitignore) get
    no exemption; files copied from the instructor repository may share the generic lines
    of SHARED_LINES; no line of a written answer (the model answers) is anywhere.
    """
    lines = solution_lines()
    assert len(lines) > 50  # the search really has something to look for
    student = released.student_dir
    generated = {
        *(student / "exercises").glob("*.py"),
        student / "README.md",
        student / ".gitignore",
        student / MANIFEST_NAME,
        *(released.nbgrader_dir / "release").rglob("*"),
    }
    files = all_files(student) + all_files(released.nbgrader_dir / "release")
    assert len(released.released_notebooks) == len(EXERCISES)
    leaks = []
    for path in files:
        for line in sorted(file_lines(path) & set(lines)):
            where, is_answer = lines[line]
            if path in generated or is_answer or line not in SHARED_LINES:
                shown = path.relative_to(student.parent)
                leaks.append(f"{shown}: {line!r} (from {where})")
    assert leaks == [], "solution text in the release:\n" + "\n".join(leaks)


def test_readme_lists_every_check_with_registry_points(released: ReleaseSummary) -> None:
    readme = (released.student_dir / "README.md").read_text(encoding="utf-8")
    assert "{{" not in readme
    for exercise, module in EXERCISES.items():
        assert f"| {exercise} | `exercises/{module}.py` | {exercise_points(exercise):g}" in readme
        for check in checks_for(exercise):
            assert f"- {check.points:g}: {check.title}" in readme, check.id
    for command in ("make grade", "python -m autograder grade --only medium", "Actions"):
        assert command in readme


# ---- the manifest ----


def test_manifest_covers_every_protected_file(released: ReleaseSummary) -> None:
    student = released.student_dir
    manifest = json.loads((student / MANIFEST_NAME).read_text(encoding="utf-8"))
    protected = manifest["files"]
    expected = {
        path.relative_to(student).as_posix()
        for path in all_files(student)
        if path.relative_to(student).as_posix() not in {*editable_paths(), MANIFEST_NAME}
    }
    assert set(protected) == expected
    for relative in (
        WORKFLOW,
        "autograder/grading/judge/checks/test_medium.py",
        "pyproject.toml",
        "README.md",
    ):
        assert protected[relative] == sha256(student / relative), relative
    assert not set(editable_paths()) & set(protected)
    assert manifest["editable"] == sorted(editable_paths())
    assert released.protected_files == len(protected)


def test_compare_reports_removed_modified_added_and_ignores_work_files(
    released: ReleaseSummary, student_copy: Path
) -> None:
    manifest = json.loads((student_copy / MANIFEST_NAME).read_text(encoding="utf-8"))
    (student_copy / "reference" / "lesson.py").unlink()
    (student_copy / "outputs" / "skill-architecture-picker.md").write_text("mine\n")
    (student_copy / "sitecustomize.py").write_text("import os\n")
    (student_copy / "exercises" / "medium_parallel_scan.py").write_text("# my work\n")
    for work_file in (
        ".git/HEAD",
        ".venv/bin/python",
        ".venv/lib/site-packages/numpy/conftest.py",
        "outputs/grading/results.json",
        "exercises/__pycache__/medium_parallel_scan.cpython-311.pyc",
        "why_transformers_exercises.egg-info/PKG-INFO",
        ".pytest_cache/v/cache/nodeids",
    ):
        (student_copy / work_file).parent.mkdir(parents=True, exist_ok=True)
        (student_copy / work_file).write_text("x")
    assert compare_with_manifest(repo=student_copy, manifest=manifest) == [
        {"path": "outputs/skill-architecture-picker.md", "change": "modified"},
        {"path": "reference/lesson.py", "change": "removed"},
        {"path": "sitecustomize.py", "change": "added"},
    ]
    assert ".git/" in IGNORED_WHEN_ADDED and ".venv/" in IGNORED_WHEN_ADDED


def test_missing_or_unreadable_manifest_is_reported(student_copy: Path, tmp_path: Path) -> None:
    manifest = student_copy / MANIFEST_NAME
    manifest.write_text("{not json", encoding="utf-8")
    submission, findings = repo_submission(student_copy)
    assert submission == student_copy.resolve() / "exercises"
    assert findings["manifest"] == "invalid" and findings["tamper"] == []
    manifest.unlink()
    results = grade_repo(student_copy, tmp_path / "results.json")
    assert results["extra_data"]["integrity"]["manifest"] == "missing"
    assert results["max_score"] == exercise_points("medium")  # graded all the same


def test_the_instructors_manifest_wins_over_the_repositorys(
    released: ReleaseSummary, student_copy: Path
) -> None:
    """A student who edits a check and the manifest's checksum for it is still reported."""
    checks_file = student_copy / "autograder" / "grading" / "judge" / "checks" / "test_medium.py"
    checks_file.write_text("# every check passes\n", encoding="utf-8")
    manifest_path = student_copy / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["files"]["autograder/grading/judge/checks/test_medium.py"] = sha256(checks_file)
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    assert repo_submission(student_copy)[1]["tamper"] == []  # the forged copy alone is fooled
    _, findings = repo_submission(student_copy, manifest_path=released.manifest_path)
    assert findings["manifest_source"] == "instructor"
    assert findings["tamper"] == [
        {"path": MANIFEST_NAME, "change": "modified"},
        {"path": "autograder/grading/judge/checks/test_medium.py", "change": "modified"},
    ]


# ---- grade --repo, for real ----


def test_reading_a_student_repository_needs_no_notebook_library() -> None:
    """``grade --repo`` reads the repository with the standard library and the registry alone."""
    module = "autograder.course.release.student_repo"
    script = f"import sys; sys.path.insert(0, {str(ROOT)!r}); import {module}"
    done = subprocess.run(
        [sys.executable, "-S", "-I", "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_grade_repo_on_an_untouched_release_reports_nothing(
    released: ReleaseSummary, tmp_path: Path
) -> None:
    results = grade_repo(released.student_dir, tmp_path / "results.json")
    integrity = results["extra_data"]["integrity"]
    assert integrity["manifest"] == "ok"
    assert integrity["tamper"] == []
    assert results["score"] == 0  # the stubs raise NotImplementedError
    assert {test["exercise"] for test in results["tests"]} == {"medium"}


def test_grade_repo_lists_exactly_the_tampered_files(student_copy: Path, tmp_path: Path) -> None:
    with (student_copy / WORKFLOW).open("a", encoding="utf-8") as workflow:
        workflow.write("# grade: skipped\n")
    checks_file = student_copy / "autograder" / "grading" / "judge" / "checks" / "test_medium.py"
    checks_file.write_text(checks_file.read_text(encoding="utf-8") + "\n# harmless?\n")
    (student_copy / "exercises" / "conftest.py").write_text("import pytest\n", encoding="utf-8")
    # Working on the exercises is not tampering.
    solution = (SOLUTIONS / "medium_parallel_scan.py").read_text(encoding="utf-8")
    (student_copy / "exercises" / "medium_parallel_scan.py").write_text(solution)
    (student_copy / ".venv").mkdir()
    (student_copy / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (student_copy / "outputs" / "grading").mkdir(parents=True)
    (student_copy / "outputs" / "grading" / "old.json").write_text("{}")

    results = grade_repo(student_copy, tmp_path / "results.json")
    assert results["extra_data"]["integrity"]["tamper"] == [
        {"path": WORKFLOW, "change": "modified"},
        {"path": "autograder/grading/judge/checks/test_medium.py", "change": "modified"},
        {"path": "exercises/conftest.py", "change": "added"},
    ]
    assert results["score"] == exercise_points("medium")  # tamper findings cost no points


# ---- the command ----


def test_release_keeps_a_git_folder_and_replaces_the_rest(
    tmp_path: Path, source_root: Path
) -> None:
    student = tmp_path / "out" / "student"
    (student / ".git").mkdir(parents=True)
    (student / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (student / "solutions").mkdir()
    (student / "solutions" / "leftover.py").write_text("x = 1\n")
    summary = release(out=tmp_path / "out", source_root=source_root, with_nbgrader=False)
    assert (student / ".git" / "HEAD").is_file()
    assert not (student / "solutions").exists()
    assert summary.nbgrader_dir is None
    manifest = json.loads((student / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert not any(path.startswith(".git/") for path in manifest["files"])


def test_workflow_missing_is_a_warning_and_local_actions_travel(tmp_path: Path) -> None:
    bare = instructor_copy(tmp_path / "bare", workflow=None)
    summary = release(out=tmp_path / "out-bare", source_root=bare, with_nbgrader=False)
    assert any("grade.yml does not exist yet" in warning for warning in summary.warnings)
    assert not (summary.student_dir / ".github").exists()

    uses_actions = "jobs:\n  a:\n    steps:\n      - uses: ./.github/actions/setup\n"
    uses_actions += "      - uses: './.github/actions/gone'\n"
    with_action = instructor_copy(tmp_path / "actions", workflow=uses_actions)
    (with_action / ".github" / "actions" / "setup").mkdir(parents=True)
    (with_action / ".github" / "actions" / "setup" / "action.yml").write_text("name: setup\n")
    summary = release(out=tmp_path / "out-actions", source_root=with_action, with_nbgrader=False)
    assert (summary.student_dir / ".github" / "actions" / "setup" / "action.yml").is_file()
    assert summary.warnings == (f"{WORKFLOW} uses ./.github/actions/gone, which does not exist",)
    manifest = json.loads(summary.manifest_path.read_text(encoding="utf-8"))
    assert ".github/actions/setup/action.yml" in manifest["files"]


def test_find_solution_text_sees_lines_in_files_and_notebook_cells(tmp_path: Path) -> None:
    line = next(text for text, (_, is_answer) in solution_lines().items() if not is_answer)
    planted = tmp_path / "helper.py"
    planted.write_text(f"def helper():\n    {line}\n", encoding="utf-8")
    notebook = tmp_path / "n.ipynb"
    notebook.write_text(json.dumps({"cells": [{"source": ["x = 1\n", f"    {line}"]}]}))
    found = find_solution_text([planted, notebook], solutions_dir=SOLUTIONS)
    assert found == [(planted, line), (notebook, line)]


def test_a_leak_stops_the_release_and_leaves_nothing_to_push(
    tmp_path: Path, source_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import autograder.course.release.command

    line = next(text for text, (_, is_answer) in solution_lines().items() if not is_answer)
    monkeypatch.setattr(
        autograder.course.release.command, "student_readme", lambda: f"# README\n{line}\n"
    )
    with pytest.raises(RuntimeError, match="solution text in files students get"):
        release(out=tmp_path, source_root=source_root, with_nbgrader=False)
    assert list((tmp_path / "student").iterdir()) == []


def test_release_refuses_to_overwrite_the_instructor_repository(tmp_path: Path) -> None:
    inside = tmp_path / "out" / "student" / "course"
    (inside / "solutions").mkdir(parents=True)
    with pytest.raises(ValueError, match="would overwrite"):
        release(out=tmp_path / "out", source_root=inside, with_nbgrader=False)
    assert (inside / "solutions").is_dir()
    with pytest.raises(ValueError, match="inside autograder/"):
        release(out=ROOT / "autograder" / "x", source_root=ROOT, with_nbgrader=False)
    assert not (ROOT / "autograder" / "x").exists()
    with pytest.raises(ValueError, match="no solutions/"):
        release(out=tmp_path, source_root=tmp_path / "nowhere", with_nbgrader=False)


def test_command_line(tmp_path: Path, source_root: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    assert main(["--out", str(out), "--source", str(source_root), "--no-nbgrader"]) == 0
    printed = capsys.readouterr().out
    assert "student repository:" in printed and "protected files" in printed
    assert (out / "student" / MANIFEST_NAME).is_file()
    assert main(["--out", str(out), "--source", str(tmp_path / "missing")]) == 2
    assert "no solutions/ folder" in capsys.readouterr().err
