"""The package's layers (docs/architecture.md, "Layers"): every import points down or stays
in its own subpackage; grading and reports, side by side, never import each other. Inside
grading, one folder per process: the worker imports neither the judge nor the host side, the
judge never the host side."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# rank: a module may import modules of a lower rank, or of its own unit (same subpackage)
LAYERS = (
    (
        "commands",
        5,
        ("autograder.__main__", "autograder.cli", "autograder.arguments", "autograder.commands"),
    ),
    ("course", 4, ("autograder.course",)),
    ("grading", 3, ("autograder.grading",)),
    ("reports", 3, ("autograder.reports",)),
    ("results", 2, ("autograder.results",)),
    ("spec", 1, ("autograder.spec", "autograder")),
    ("reference", 0, ("reference",)),
)

# inside grading (docs/architecture.md, "Processes"): the host side (grading's own modules)
# starts judges; a judge starts workers in the sandbox; the folders at the bottom import none
# of the others (the worker's also nothing outside itself: tests/test_worker_folder.py)
PROCESSES = (
    ("host", 3, ("autograder.grading",)),
    ("judge", 2, ("autograder.grading.judge",)),
    ("sandbox", 1, ("autograder.grading.sandbox",)),
    ("processes", 1, ("autograder.grading.processes",)),
    ("worker", 1, ("autograder.grading.worker",)),
)


def unit_of(module: str, layers: tuple = LAYERS) -> tuple[str, int] | None:
    """The layer a module belongs to (the longest matching prefix); None outside them."""
    best = None
    for name, rank, prefixes in layers:
        for prefix in prefixes:
            inside = module == prefix or module.startswith(prefix + ".")
            if inside and (best is None or len(prefix) > best[2]):
                best = (name, rank, len(prefix))
    return None if best is None else best[:2]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute and relative import in a file, lazy ones included."""
    found = []
    package = module_name(path).rsplit(".", 0 if path.name == "__init__.py" else 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # ``from autograder import cli`` imports the module autograder.cli
            found += [(node.lineno, f"{target}.{alias.name}".strip(".")) for alias in node.names]
    return found


def violations(files: list[Path], layers: tuple = LAYERS) -> list[str]:
    found = []
    for path in files:
        name = module_name(path)
        own = unit_of(name, layers)
        if own is None:
            continue
        entry_point = path.name == "__main__.py"  # ``python -m``: may start any command
        for line, target in imports(path):
            other = unit_of(target, layers)
            if other is None or other[0] == own[0] or other[1] < own[1] or entry_point:
                continue
            found.append(
                f"{path.relative_to(ROOT)}:{line} ({own[0]}) imports {target} ({other[0]})"
            )
    return found


GRADER_FILES = sorted((ROOT / "autograder").rglob("*.py")) + sorted(
    (ROOT / "reference").rglob("*.py")
)


def test_every_import_points_down_the_layers():
    assert violations(GRADER_FILES) == []


def test_each_process_folder_imports_only_down():
    assert violations(GRADER_FILES, PROCESSES) == []


@pytest.mark.parametrize(
    ("source", "line", "why"),
    [
        ("autograder/results/x.py", "from autograder.reports.markdown import render", "up"),
        ("autograder/grading/x.py", "import autograder.reports.view", "across"),
        ("autograder/reports/x.py", "from autograder.grading import grade", "across"),
        ("autograder/spec/x.py", "from autograder.results import schema", "up"),
        ("reference/x.py", "from autograder.spec import paths", "up"),
        ("autograder/course/x.py", "from autograder import cli", "up"),
        ("autograder/results/x.py", "from ..reports import markdown", "up, relative"),
    ],
)
def test_an_import_up_or_across_is_found(tmp_path, monkeypatch, source, line, why):
    path = tmp_path / source
    path.parent.mkdir(parents=True)
    path.write_text(f"def lazy():\n    {line}\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    assert len(violations([path])) == 1, why


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ("autograder/course/x.py", "from autograder.grading import grade"),
        ("autograder/reports/x.py", "from autograder.results import schema"),
        ("autograder/grading/judge/checks/x.py", "from autograder.grading.worker import protocol"),
        ("autograder/course/gradescope/__main__.py", "from autograder import cli"),
        ("autograder/results/x.py", "from reference.cli_support import UsageError"),
        ("autograder/cli.py", "from autograder.course.regrade import command"),
    ],
)
def test_an_import_down_or_within_is_allowed(tmp_path, monkeypatch, source, line):
    path = tmp_path / source
    path.parent.mkdir(parents=True)
    path.write_text(f"{line}\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    assert violations([path]) == []


@pytest.mark.parametrize(
    ("source", "line", "why"),
    [
        ("autograder/grading/worker/x.py", "from autograder.grading.judge import proxy", "judge"),
        ("autograder/grading/worker/x.py", "from autograder.grading import grade", "host"),
        ("autograder/grading/worker/x.py", "import autograder.grading.exercise", "host"),
        ("autograder/grading/worker/x.py", "from ..sandbox import bwrap", "across, relative"),
        ("autograder/grading/judge/x.py", "from autograder.grading.exercise import run", "host"),
        (
            "autograder/grading/judge/checks/x.py",
            "from autograder.grading import static_scan",
            "host",
        ),
        ("autograder/grading/judge/checks/x.py", "from ...grade import grade", "host, relative"),
        (
            "autograder/grading/sandbox/x.py",
            "from autograder.grading.processes import supervisor",
            "across",
        ),
        (
            "autograder/grading/processes/x.py",
            "from autograder.grading.worker import protocol",
            "across",
        ),
    ],
)
def test_an_import_up_or_across_the_processes_is_found(tmp_path, monkeypatch, source, line, why):
    path = tmp_path / source
    path.parent.mkdir(parents=True)
    path.write_text(f"def lazy():\n    {line}\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    assert len(violations([path], PROCESSES)) == 1, why


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ("autograder/grading/judge/checks/x.py", "from autograder.grading.worker import protocol"),
        ("autograder/grading/judge/x.py", "from autograder.grading.processes import supervisor"),
        ("autograder/grading/judge/x.py", "from autograder.grading.sandbox import Sandbox"),
        ("autograder/grading/worker/x.py", "from autograder.grading.worker import protocol"),
        ("autograder/grading/grade.py", "from autograder.grading.judge import spawn"),
        ("autograder/grading/sandbox/x.py", "from . import bwrap"),
    ],
)
def test_an_import_down_or_within_the_processes_is_allowed(tmp_path, monkeypatch, source, line):
    path = tmp_path / source
    path.parent.mkdir(parents=True)
    path.write_text(f"{line}\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    assert violations([path], PROCESSES) == []


MAX_MODULE_LINES = 500  # docs/architecture.md: one module per concern, each readable at once


def long_modules(files: list[Path], limit: int = MAX_MODULE_LINES) -> list[str]:
    """The modules over ``limit`` lines, with their length."""
    found = []
    for path in files:
        lines = path.read_text(encoding="utf-8").count("\n")
        if lines > limit:
            found.append(f"{path.relative_to(ROOT)}: {lines} lines")
    return found


def test_every_grader_module_stays_under_the_line_limit():
    assert long_modules(GRADER_FILES) == []


def test_a_module_over_the_line_limit_is_found():
    long = ROOT / "autograder" / "spec" / "paths.py"
    lines = long.read_text(encoding="utf-8").count("\n")
    assert long_modules([long], limit=lines) == []
    assert long_modules([long], limit=lines - 1) == [f"autograder/spec/paths.py: {lines} lines"]
