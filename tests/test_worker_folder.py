"""The worker folder is the whole of the grader a worker gets: self-contained, copied whole.

``autograder/grading/worker/`` is copied into every worker's job folder
(:func:`autograder.grading.judge.spawn.prepare_job`), where nothing else of the grader is, so
each of its modules may import only the standard library, the libraries submissions use
(numpy, torch, matplotlib) and modules of the folder itself. The judge's reference
implementations (``judge/reference.py``) are loaded by a worker too, as its one module.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from autograder.grading.judge import spawn
from autograder.grading.judge.proxy import REFERENCE_MODULE

WORKER = "autograder.grading.worker"
LIBRARIES = frozenset({"numpy", "torch", "matplotlib"})  # what submissions import themselves


def outside_imports(path: Path, package: str | None = WORKER) -> list[str]:
    """Every import of ``path`` (lazy ones included) that is neither the standard library, a
    submission's library nor a module of the worker folder: ``line: module`` each. ``package``
    is the one ``path`` is in (None: a module loaded alone, where nothing is inside)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: inside the folder only if it stays in the package
                parts = (package or "").split(".")
                base = parts[: len(parts) - (node.level - 1)]
                modules = [".".join([*base, node.module or ""]).strip(".")]
            else:
                modules = [node.module or ""]
        else:
            continue
        for module in modules:
            top = module.split(".")[0]
            inside = package is not None and (module == WORKER or module.startswith(WORKER + "."))
            if not (inside or top in sys.stdlib_module_names or top in LIBRARIES):
                found.append(f"{node.lineno}: {module}")
    return found


def folder_files(folder: Path) -> set[str]:
    """The folder's regular files, relative, without ``__pycache__``."""
    return {
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.is_file() and not path.is_symlink() and "__pycache__" not in path.parts
    }


def package_of(module: Path) -> str:
    """The package a module of the worker folder is in (its relative imports start there)."""
    return ".".join([WORKER, *module.parent.relative_to(spawn.WORKER_FOLDER).parts])


def test_the_worker_folder_imports_nothing_outside_itself():
    modules = sorted(spawn.WORKER_FOLDER.rglob("*.py"))
    assert {m.name for m in modules} >= {"__init__.py", "main.py", "protocol.py"}
    found = {str(m): outside_imports(m, package_of(m)) for m in modules}
    assert found == {str(m): [] for m in modules}


def test_the_reference_a_worker_loads_imports_only_libraries():
    assert outside_imports(REFERENCE_MODULE, package=None) == []


@pytest.mark.parametrize(
    "line",
    [
        "from autograder.grading.judge import proxy",
        "import autograder.grading.processes.supervisor",
        "from autograder.spec import paths",
        "from .. import grade",
        "import pytest",
        "from reference import tracer",
    ],
)
def test_an_import_from_outside_the_folder_is_found(tmp_path, line):
    module = tmp_path / "x.py"
    module.write_text(f"import os\nimport numpy as np\n\n\ndef lazy():\n    {line}\n")
    assert len(outside_imports(module)) == 1


def test_a_worker_job_holds_exactly_the_worker_folder(tmp_path):
    spawn.prepare_job(tmp_path, None, "medium_parallel_scan")
    code = tmp_path / "code"
    copied = code / "autograder" / "grading" / "worker"
    folder = folder_files(spawn.WORKER_FOLDER)
    assert folder == {
        str(m.relative_to(spawn.WORKER_FOLDER)) for m in spawn.WORKER_FOLDER.rglob("*.py")
    }
    assert folder_files(copied) == folder
    for name in folder:
        assert (copied / name).read_bytes() == (spawn.WORKER_FOLDER / name).read_bytes()
    # above it only the empty packages that make it importable: nothing of the judge or host
    assert folder_files(code / "autograder") == {
        "__init__.py",
        "grading/__init__.py",
        *(f"grading/worker/{name}" for name in folder),
    }


def test_the_copy_follows_no_link_and_leaves_caches_out(tmp_path):
    source, target = tmp_path / "worker", tmp_path / "copy"
    (source / "__pycache__").mkdir(parents=True)
    (source / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\0")
    (source / "main.py").write_text("x = 1\n")
    (source / "part").mkdir()
    (source / "part" / "inner.py").write_text("y = 2\n")
    secret = tmp_path / "expected_values.py"
    secret.write_text("ANSWER = 42\n")
    (source / "linked.py").symlink_to(secret)
    (source / "linked_folder").symlink_to(tmp_path, target_is_directory=True)
    spawn.copy_regular_files(source, target)
    assert folder_files(target) == {"main.py", "part/inner.py"}
    assert not any(path.is_symlink() for path in target.rglob("*"))
