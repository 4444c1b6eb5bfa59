"""The static scan: findings for TAs, constructs in a submission that can tamper with grading.

A finding is not a penalty: the checks themselves decide points. It tells a
TA where to look (file, line, construct, why it matters). The scan reads the
source with :mod:`ast`; it never imports the submission. Runs in ``grade``; the
findings go to ``extra_data.integrity.findings`` (the report's integrity section).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from autograder.spec.registry import EXERCISES

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

    def add(node: ast.AST, construct: str, why: str) -> None:
        findings.append(
            {
                "exercise": exercise,
                "file": filename,
                "line": getattr(node, "lineno", 0),
                "construct": construct,
                "why": why,
            }
        )

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.split(".")[0]
                imported[alias.asname or root] = root
                if root in SUSPICIOUS_MODULES:
                    add(node, f"import {alias.name}", SUSPICIOUS_MODULES[root])
        elif isinstance(node, ast.ImportFrom):
            root = (node.module or "").split(".")[0]
            for alias in node.names:
                imported[alias.asname or alias.name] = root
            if root in SUSPICIOUS_MODULES:
                add(node, f"from {node.module} import ...", SUSPICIOUS_MODULES[root])
        elif isinstance(node, ast.Attribute) and node.attr in SUSPICIOUS_PRIVATE_ATTRIBUTES:
            add(node, f"{ast.unparse(node)}", SUSPICIOUS_PRIVATE_ATTRIBUTES[node.attr])
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module = imported.get(node.value.id, node.value.id)
            why = SUSPICIOUS_ATTRIBUTES.get((module, node.attr))
            if why:
                add(node, f"{node.value.id}.{node.attr}", why)
        elif isinstance(node, ast.Name) and node.id in SUSPICIOUS_NAMES:
            add(node, node.id, SUSPICIOUS_NAMES[node.id])
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            for needle, why in SUSPICIOUS_STRINGS.items():
                if needle in node.value and len(node.value) < 500:
                    add(node, repr(node.value[:60]), why)
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
                            f"{ast.unparse(target)} = ...",
                            "replaces part of a library the grader relies on (clock, tracer...)",
                        )
    return sorted(findings, key=lambda f: (f["line"], f["construct"]))


def scan_submission(submission_dir: Path) -> list[dict[str, Any]]:
    """Findings in every exercise module of a submission folder."""
    findings = []
    for exercise, module in EXERCISES.items():
        path = submission_dir / f"{module}.py"
        if path.is_file() and not path.is_symlink():
            source = path.read_text(encoding="utf-8", errors="replace")
            findings.extend(scan_source(source, exercise=exercise, filename=path.name))
    return findings
