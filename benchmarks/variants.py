"""Synthetic students for the TA-loop tests and benchmarks: complete modules and disguised copies.

``tests/submissions/other_styles/`` holds other-style *overrides*, appended to the reference
solution when the grader is benchmarked (benchmarks/submissions.py). A class needs complete
modules that share nothing with the model answer but the released stub, so
:func:`complete_module` splices each override's function bodies into the stub (the stub's
signatures, docstrings and layout stay; a function the override lacks keeps the solution's
body). :func:`disguise` is what a student hiding a copy does: rename the local variables
(never parameters: callers pass some by keyword) and reorder the functions, reformatted by
``ast.unparse`` as a code formatter would.
"""

from __future__ import annotations

import ast
import builtins
import random
from pathlib import Path

from autograder.spec import paths
from autograder.spec.registry import EXERCISES
from benchmarks.submissions import CASES_DIR, ROOT, SOLUTIONS_DIR

STUBS_DIR = ROOT / paths.EXERCISES_FOLDER
OTHER_STYLES = CASES_DIR / "other_styles"
MODULES = tuple(f"{module}.py" for module in EXERCISES.values())


def _top_functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def _body_lines(function: ast.FunctionDef) -> tuple[int, int]:
    """(first, last) 1-based line of the body after any docstring."""
    body = function.body
    if (
        len(body) > 1
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]
    return body[0].lineno, function.end_lineno or body[-1].lineno


def complete_module(stub: str, override: str, fallback: str) -> str:
    """The stub with each function's body taken from ``override``, else from ``fallback``."""
    stub_lines = stub.splitlines()
    stub_tree = ast.parse(stub)
    sources = []
    for text in (override, fallback):
        tree = ast.parse(text)
        sources.append((text.splitlines(), _top_functions(tree), tree))
    replacements = []
    for name, function in _top_functions(stub_tree).items():
        for lines, functions, _ in sources:
            if name in functions:
                start, end = _body_lines(functions[name])
                replacements.append((_body_lines(function), lines[start - 1 : end]))
                break
    for (start, end), body in sorted(replacements, reverse=True):
        stub_lines[start - 1 : end] = body
    imports = [
        node
        for node in sources[0][2].body
        if isinstance(node, ast.Import | ast.ImportFrom)
        and getattr(node, "module", None) != "__future__"
    ]
    if imports:
        last = max(
            node.end_lineno or node.lineno
            for node in stub_tree.body
            if isinstance(node, ast.Import | ast.ImportFrom)
        )
        added = [ast.get_source_segment(override, node) or "" for node in imports]
        stub_lines[last:last] = added
    return "\n".join(stub_lines) + "\n"


def other_style_student(destination: Path) -> Path:
    """All four exercises as complete modules in the other_styles code (see module doc)."""
    destination.mkdir(parents=True)
    for name in MODULES:
        stub = (STUBS_DIR / name).read_text(encoding="utf-8")
        fallback = (SOLUTIONS_DIR / name).read_text(encoding="utf-8")
        path = OTHER_STYLES / name
        override = path.read_text(encoding="utf-8") if path.is_file() else ""
        (destination / name).write_text(complete_module(stub, override, fallback), "utf-8")
    return destination


class _Renamer(ast.NodeTransformer):
    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self.names.get(node.id, node.id)
        return node


def _locals(function: ast.FunctionDef) -> set[str]:
    """Names a function assigns that are neither its parameters nor declared global."""
    arguments = function.args
    parameters = {
        a.arg
        for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
        + [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
    }
    declared = {
        name
        for node in ast.walk(function)
        if isinstance(node, ast.Global | ast.Nonlocal)
        for name in node.names
    }
    stored = {
        node.id
        for node in ast.walk(function)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
    }
    return stored - parameters - declared - set(dir(builtins))


def disguise(source: str, *, seed: int) -> str:
    """``source`` with its locals renamed and its top-level functions in another order."""
    rng = random.Random(seed)
    tree = ast.parse(source)
    words = ["acc", "tmp", "val", "buf", "cur", "nxt", "res", "item", "part", "step", "w", "z"]
    for function in _top_functions(tree).values():
        names = sorted(_locals(function))
        fresh = rng.sample(words, len(names)) if len(names) <= len(words) else []
        mapping = {
            name: f"{fresh[i] if fresh else 'v'}_{rng.randrange(100)}{i}"
            for i, name in enumerate(names)
        }
        _Renamer(mapping).visit(function)
    slots = [i for i, node in enumerate(tree.body) if isinstance(node, ast.FunctionDef)]
    functions = [tree.body[i] for i in slots]
    order = functions[:]
    while len(order) > 1 and order == functions:
        rng.shuffle(order)
    for slot, function in zip(slots, order, strict=True):
        tree.body[slot] = function
    return ast.unparse(tree) + "\n"


def disguised_student(source: Path, destination: Path, *, seed: int) -> Path:
    """A copy of every exercise module in ``source``, disguised."""
    destination.mkdir(parents=True)
    for offset, path in enumerate(sorted(source.glob("*.py"))):
        text = path.read_text(encoding="utf-8")
        (destination / path.name).write_text(disguise(text, seed=seed + offset), "utf-8")
    return destination
