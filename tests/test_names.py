"""Each file or folder name that several modules use is spelt once, in ``autograder/spec/paths.py``
(docs/architecture.md, glossary: *file and folder names*): no other module of the grader or the
benchmarks writes it as a string literal again. A file name is refused wherever it appears as a
literal; a folder name only where it builds a path (``x / "exercises"``, ``Path("exercises")``),
because the same words are also JSON keys ("exercises") and worker labels ("submission")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from autograder.spec import paths

ROOT = Path(__file__).resolve().parent.parent
PATHS_MODULE = ROOT / "autograder" / "spec" / "paths.py"

NAMES = {
    value
    for name, value in vars(paths).items()
    if name.isupper() and isinstance(value, str) and name not in ("REGRADE_FAILURE_MARK",)
}


def is_file_name(name: str) -> bool:
    return "." in name


def spellings(source: str) -> list[tuple[int, str]]:
    """(line, name) of every literal that spells one of ``NAMES`` as a path, as the module
    docstring says; docstrings are text and may name a file."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    in_paths = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            in_paths.update((id(node.left), id(node.right)))
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Path":
            in_paths.update(id(arg) for arg in node.args)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and node.value in NAMES):
            continue
        if id(node) in docstrings:
            continue
        if is_file_name(node.value) or id(node) in in_paths:
            found.append((node.lineno, node.value))
    return found


def test_the_check_finds_a_spelling():
    """A planted second spelling is found; text in a docstring or a JSON key is not."""
    planted = (
        'from pathlib import Path\nout = Path("x") / "results.json"\nhome = Path("exercises")\n'
    )
    assert spellings(planted) == [(2, "results.json"), (3, "exercises")]
    allowed = (
        '"""Writes ``results.json``."""\ntotal = document["exercises"]\nlabel = "submission"\n'
    )
    assert spellings(allowed) == []


@pytest.mark.parametrize(
    "path",
    sorted(
        path
        for folder in ("autograder", "benchmarks")
        for path in (ROOT / folder).rglob("*.py")
        if path != PATHS_MODULE and "__pycache__" not in path.parts
    ),
    ids=lambda path: str(path.relative_to(ROOT)),
)
def test_names_are_spelt_once(path: Path):
    found = spellings(path.read_text(encoding="utf-8"))
    assert not found, f"use autograder.spec.paths instead of spelling {found} again"
