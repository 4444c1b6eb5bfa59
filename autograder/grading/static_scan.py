"""The static scan: findings for TAs, constructs in a submission that can tamper with grading.

A finding is not a penalty: the checks themselves decide points. It tells a
TA where to look (file, line, construct, why it matters). The scan reads the
source with :mod:`ast`; it never imports the submission. Runs in ``grade``; the
findings go to ``extra_data.integrity.findings`` (the report's integrity section).

The scan cannot fail grading and its output is bounded: a file it cannot read or
parse safely (too large, nested too deep for the parser, any error) is one "not
scanned" finding with the reason; each kind of construct is listed at most
``MAX_PER_KIND`` times per file, then one line counts the rest; the kinds that reach
the grader's memory or code (``ctypes``, ``gc.get_objects``, patched clocks...) come first.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from autograder.spec.registry import EXERCISES

MAX_SCAN_BYTES = 1 * 2**20  # a larger module is not scanned (its checks still run)
MAX_PER_KIND = 5  # findings of one kind listed per file; the rest are counted
MAX_CONSTRUCT_CHARS = 120

SUSPICIOUS_MODULES: dict[str, str] = {
    "gc": "can reach the grader's objects in memory",
    "ctypes": "can rewrite memory and call C directly",
    "inspect": "can read the grader's frames and code",
    "autograder": "imports the grader's own package",
    "pytest": "imports the test runner that grades the submission",
    "_pytest": "imports the test runner that grades the submission",
    "signal": "can disable the per-check timeout",
    "subprocess": "starts other processes",
    "multiprocessing": "starts other processes",
    "importlib": "can load or replace modules by name",
    "builtins": "can replace Python's built-in functions",
    "solutions": "tries to import the hidden reference solutions",
}
SUSPICIOUS_ATTRIBUTES: dict[tuple[str, str], str] = {
    ("sys", "modules"): "can replace modules the grader uses",
    ("sys", "_getframe"): "can read the grader's frames",
    ("sys", "settrace"): "can watch or alter the grader's execution",
    ("sys", "setprofile"): "can watch or alter the grader's execution",
    ("sys", "exit"): "ends the grading process",
    ("os", "_exit"): "ends the grading process",
    ("os", "kill"): "sends signals to processes",
    ("os", "fork"): "starts other processes",
    ("os", "setsid"): "detaches a process from grading",
    ("os", "system"): "runs shell commands",
    ("gc", "get_objects"): "walks every object in memory, the grader's included",
    ("gc", "get_referrers"): "finds the objects that hold a value, the grader's included",
}
PATCHED_MODULES = {"time", "torch", "numpy", "reference", "statistics", "timeit", "sys", "os"}
"""Assigning to an attribute of these (``time.perf_counter = ...``) is monkey-patching."""
SUSPICIOUS_NAMES = {
    "__builtins__": "can replace Python's built-in functions",
    "__import__": "imports modules by computed name",
    "exec": "runs code built at run time",
    "eval": "runs code built at run time",
    "globals": "reads or rewrites module namespaces",
    "setattr": "sets attributes by name (monkey-patching)",
    "Traced": "builds traced values by hand (the grader measures depth on its own ones)",
    "Tape": "builds a tape of its own (fine for local checks; flagged for a look)",
}
SUSPICIOUS_PRIVATE_ATTRIBUTES = {
    "_work": "touches the tracer's operation counter",
    "_made": "touches the tracer's record of the values it handed out",
    "__setattr__": "bypasses an object's own attribute rules",
    "__dict__": "reads or rewrites an object's namespace directly",
    "__code__": "replaces a function's code",
    "__globals__": "reaches another module's namespace through a function",
}
SEVERE = frozenset(
    {
        "import ctypes",
        "import gc",
        "import inspect",
        "import autograder",
        "import pytest",
        "import _pytest",
        "import builtins",
        "import solutions",
        "import signal",
        "gc.get_objects",
        "gc.get_referrers",
        "sys.modules",
        "sys._getframe",
        "sys.settrace",
        "sys.setprofile",
        "patch",
        "__builtins__",
        "__import__",
        "Traced",
        ".__code__",
        ".__globals__",
        "._work",
        "._made",
    }
)
"""Kinds listed first: they reach the grader's memory, code or clock, not just the module's."""
SUSPICIOUS_STRINGS = {
    "solutions": "names the hidden solutions folder",
    "autograder": "names the grader's package",
    "/proc/": "reads other processes' state",
}


def scan_source(source: str, *, exercise: str, filename: str) -> list[dict[str, Any]]:
    """Findings in one module's source (empty for a file that does not parse)."""
    try:
        tree = ast.parse(source, filename=filename)
    except (SyntaxError, ValueError):
        return []
    findings: list[dict[str, Any]] = []
    imported: dict[str, str] = {}  # local name -> module

    def add(node: ast.AST, construct: str, why: str, kind: str = "") -> None:
        if len(construct) > MAX_CONSTRUCT_CHARS:
            construct = construct[: MAX_CONSTRUCT_CHARS - 3] + "..."
        findings.append(
            {
                "exercise": exercise,
                "file": filename,
                "line": getattr(node, "lineno", 0),
                "construct": construct,
                "why": why,
                "kind": kind or construct,
            }
        )

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.split(".")[0]
                imported[alias.asname or root] = root
                if root in SUSPICIOUS_MODULES:
                    add(node, f"import {alias.name}", SUSPICIOUS_MODULES[root], f"import {root}")
        elif isinstance(node, ast.ImportFrom):
            root = (node.module or "").split(".")[0]
            for alias in node.names:
                imported[alias.asname or alias.name] = root
            if root in SUSPICIOUS_MODULES:
                add(
                    node,
                    f"from {node.module} import ...",
                    SUSPICIOUS_MODULES[root],
                    f"import {root}",
                )
        elif isinstance(node, ast.Attribute) and node.attr in SUSPICIOUS_PRIVATE_ATTRIBUTES:
            why = SUSPICIOUS_PRIVATE_ATTRIBUTES[node.attr]
            add(node, _unparse(node), why, f".{node.attr}")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module = imported.get(node.value.id, node.value.id)
            why = SUSPICIOUS_ATTRIBUTES.get((module, node.attr))
            if why:
                add(node, f"{node.value.id}.{node.attr}", why, f"{module}.{node.attr}")
        elif isinstance(node, ast.Name) and node.id in SUSPICIOUS_NAMES:
            add(node, node.id, SUSPICIOUS_NAMES[node.id])
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            for needle, why in SUSPICIOUS_STRINGS.items():
                if needle in node.value and len(node.value) < 500:
                    add(node, repr(node.value[:60]), why, f"string {needle}")
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute):
                    base = target.value
                    while isinstance(base, ast.Attribute):
                        base = base.value
                    if isinstance(base, ast.Name) and imported.get(base.id) in PATCHED_MODULES:
                        add(
                            node,
                            f"{_unparse(target)} = ...",
                            "replaces part of a library the grader relies on (clock, tracer...)",
                            "patch",
                        )
    return capped(findings)


def _unparse(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except RecursionError:  # ast.unparse recurses: 600 nested attributes are enough
        return "<an expression nested too deep to show>"


def capped(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Severe kinds first, then by line; at most MAX_PER_KIND of a kind per file, then one
    finding that counts the rest (``"kind"`` is dropped: the results keep SPEC's keys)."""
    ordered = sorted(findings, key=lambda f: (f["kind"] not in SEVERE, f["line"], f["construct"]))
    kept: list[dict[str, Any]] = []
    extra: dict[tuple[str, str], list[dict[str, Any]]] = {}
    shown: dict[tuple[str, str], int] = {}
    for finding in ordered:
        key = (finding["file"], finding.pop("kind"))
        shown[key] = shown.get(key, 0) + 1
        if shown[key] <= MAX_PER_KIND:
            kept.append(finding)
        else:
            extra.setdefault(key, []).append(finding)
    for (_, kind), rest in extra.items():
        first = rest[0]
        kept.append(
            first
            | {
                "construct": f"{len(rest)} more of {kind[:60]} (lines {first['line']} to "
                f"{rest[-1]['line']})",
            }
        )
    return kept


def scan_submission(submission_dir: Path) -> list[dict[str, Any]]:
    """Findings in every exercise module of a submission folder; never raises."""
    findings = []
    for exercise, module in EXERCISES.items():
        path = submission_dir / f"{module}.py"
        try:
            findings.extend(_scan_file(path, exercise))
        except Exception as error:  # RecursionError, MemoryError, an unreadable file...
            reason = f"{type(error).__name__}: {str(error)[:200]}"
            findings.append(_not_scanned(exercise, path.name, reason))
    return findings


def _scan_file(path: Path, exercise: str) -> list[dict[str, Any]]:
    if path.is_symlink() or not path.is_file():  # a link, a folder, a FIFO: nothing to read
        return []
    size = path.stat().st_size
    if size > MAX_SCAN_BYTES:
        reason = f"{size:,} bytes, over the scan's limit of {MAX_SCAN_BYTES:,}"
        return [_not_scanned(exercise, path.name, reason)]
    with path.open("rb") as handle:
        source = handle.read(MAX_SCAN_BYTES + 1).decode("utf-8", errors="replace")
    return scan_source(source, exercise=exercise, filename=path.name)


def _not_scanned(exercise: str, filename: str, reason: str) -> dict[str, Any]:
    return {
        "exercise": exercise,
        "file": filename,
        "line": 0,
        "construct": "not scanned",
        "why": f"the static scan could not read this file ({reason}); look at it by hand",
    }
