"""The grader before the judge/worker split, checked out beside this one, to time both.

``OLD_COMMIT`` is the last commit whose grader ran the checks in one isolated child per
exercise, importing the submission there (no judge, no workers, no sandbox). The bench
checks it out into a temporary detached git worktree, grades with its own command line
from there (cwd and ``PYTHONPATH`` both point at the worktree, so ``python -m autograder``
imports the old package, not this checkout's editable install), and removes the worktree
afterwards. In a shallow clone (``actions/checkout``'s default) the commit is not there:
it is fetched from ``origin`` by its full hash, one commit deep. :func:`old_grader` says
why when it cannot (no git, no such commit, nothing to fetch it from).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.submissions import ROOT

OLD_COMMIT = "99a44a6e8f78260e0fb74233a620e4206e0d4780"  # full: fetchable by hash


class OldGraderUnavailable(RuntimeError):
    """The old grader cannot be checked out or does not import from its worktree."""


@dataclass(frozen=True)
class OldGrader:
    """Where the old grader lives and how to run it so that it, not this checkout, is used."""

    commit: str  # the full hash
    tree: Path
    imports_from: Path  # autograder/__init__.py as the old command line imports it

    @property
    def env(self) -> dict[str, str]:
        return os.environ | {"PYTHONPATH": str(self.tree)}


def _git(*args: str, cwd: Path) -> str:
    if shutil.which("git") is None:
        raise OldGraderUnavailable("git is not installed")
    completed = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    if completed.returncode != 0:
        detail = (completed.stderr or completed.stdout).strip().splitlines()
        raise OldGraderUnavailable(
            f"git {' '.join(args)} failed: {detail[-1] if detail else completed.returncode}"
        )
    return completed.stdout.strip()


def imported_package(tree: Path, python: str = sys.executable) -> Path:
    """The ``autograder`` package file a command run as the old grader's would import."""
    completed = subprocess.run(
        [python, "-c", "import autograder; print(autograder.__file__)"],
        cwd=tree,
        env=os.environ | {"PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if completed.returncode != 0:
        raise OldGraderUnavailable(f"the old grader does not import: {completed.stderr[-300:]}")
    return Path(completed.stdout.strip()).resolve()


def _resolve(commit: str, repo: Path) -> str:
    """The full hash of ``commit``, fetched from ``origin`` when a shallow clone lacks it."""
    try:
        return _git("rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}", cwd=repo)
    except OldGraderUnavailable as missing:
        if len(commit) != 40 or _git("rev-parse", "--is-shallow-repository", cwd=repo) != "true":
            raise
        try:
            _git("fetch", "--quiet", "--no-tags", "--depth=1", "origin", commit, cwd=repo)
        except OldGraderUnavailable as error:
            raise OldGraderUnavailable(f"{missing}; fetching it: {error}") from error
        return _git("rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}", cwd=repo)


@contextmanager
def old_grader(
    commit: str = OLD_COMMIT, *, repo: Path = ROOT, parent: Path | None = None
) -> Iterator[OldGrader]:
    """A detached worktree of ``repo`` at ``commit``, removed on exit (also after errors)."""
    full = _resolve(commit, repo)
    holder = Path(tempfile.mkdtemp(prefix="bench-old-grader-", dir=parent))
    tree = holder / "tree"
    try:
        _git("worktree", "add", "--detach", str(tree), full, cwd=repo)
        try:
            found = imported_package(tree)
            if not found.is_relative_to(tree.resolve()):
                raise OldGraderUnavailable(
                    f"python -m autograder in the worktree imports {found}, not the old grader"
                )
            yield OldGrader(full, tree, found)
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(tree)],
                cwd=repo,
                capture_output=True,
                timeout=120,
                check=False,
            )
            subprocess.run(
                ["git", "worktree", "prune"], cwd=repo, capture_output=True, timeout=60, check=False
            )
    finally:
        shutil.rmtree(holder, ignore_errors=True)
