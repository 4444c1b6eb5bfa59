"""The release manifest: which files of a student repository must stay as released.

``python -m autograder release`` writes ``.release-manifest.json`` at the root of the student
repository. It lists the sha256 of every file there except the exercise modules students
edit (``exercises/<module>.py``) and the manifest itself: the workflows, the grader, the
reference code, ``pyproject.toml``, the ``Makefile``, the README, ... Grading a student's
repository (``python -m autograder grade --repo DIR``) compares the repository with it and
reports, in ``extra_data.integrity``:

* ``tamper``: one ``{"path": ..., "change": "modified" | "removed" | "added"}`` per protected
  file changed or removed, and per file added anywhere (a new workflow, a ``conftest.py``,
  a ``sitecustomize.py``, ...) except the paths students naturally create while working,
  :data:`IGNORED_WHEN_ADDED`;
* ``manifest``: ``"ok"``, ``"missing"`` or ``"invalid"`` (then ``tamper`` is empty: nothing
  can be compared, and grading goes on all the same).

A finding is not a penalty: it tells a TA where to look. A student can edit the manifest in
their own repository too; give ``--manifest`` / ``AUTOGRADER_RELEASE_MANIFEST`` the
instructor's copy (``DIR/student/.release-manifest.json`` of the release) and the repository's
own manifest is then compared with it like any protected file.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from autograder.spec.registry import EXERCISES

__all__ = [
    "IGNORED_WHEN_ADDED",
    "MANIFEST_NAME",
    "MANIFEST_SCHEMA",
    "build_manifest",
    "compare_with_manifest",
    "editable_paths",
    "file_digest",
    "read_manifest",
    "repo_files",
]

MANIFEST_NAME = ".release-manifest.json"
MANIFEST_SCHEMA = "why-transformers-release-manifest/1"

IGNORED_WHEN_ADDED: tuple[str, ...] = (
    ".git/",  # the repository itself
    ".venv/",  # `make grade` creates the virtual environment here
    "venv/",
    "env/",
    "outputs/",  # grading reports and plots (the shipped skill file stays protected)
    "release/",  # `make release`
    "build/",
    "dist/",
    "*.egg-info/",  # `pip install -e .`
    "**/__pycache__/",
    "**/.pytest_cache/",
    "**/.ruff_cache/",
    "**/.mypy_cache/",
    "**/.ipynb_checkpoints/",
    "**/*.pyc",
    "**/.DS_Store",
)
"""Added paths that are never reported: what working on the exercises creates.

A pattern ending in ``/`` names a folder (everything below it is ignored); ``**/`` matches
at any depth, anything else only at the root. Files listed in the manifest are checked
wherever they are, so the shipped ``outputs/skill-architecture-picker.md`` is protected.
"""


def editable_paths() -> tuple[str, ...]:
    """The paths students change: the exercise modules, nothing else."""
    return tuple(f"exercises/{module}.py" for module in EXERCISES.values())


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes (of the link text for a symbolic link)."""
    if path.is_symlink():
        return "symlink:" + hashlib.sha256(os.readlink(path).encode()).hexdigest()
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def build_manifest(*, repo: Path, grader_version: str) -> dict[str, Any]:
    """The manifest of a freshly written student repository (nothing written)."""
    editable = set(editable_paths())
    files = {
        relative: file_digest(repo / relative)
        for relative in _walk(repo, ignore=(".git/",))
        if relative not in editable and relative != MANIFEST_NAME
    }
    return {
        "schema": MANIFEST_SCHEMA,
        "grader_version": grader_version,
        "algorithm": "sha256",
        "editable": sorted(editable),
        "ignored_when_added": list(IGNORED_WHEN_ADDED),
        "files": dict(sorted(files.items())),
    }


def read_manifest(path: Path) -> tuple[dict[str, Any] | None, str]:
    """``(manifest, "ok")``, or ``(None, "missing" | "invalid")`` when it cannot be used."""
    if not path.is_file():
        return None, "missing"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None, "invalid"
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in files.items()
    ):
        return None, "invalid"
    return manifest, "ok"


def compare_with_manifest(*, repo: Path, manifest: dict[str, Any]) -> list[dict[str, str]]:
    """Every protected file changed or removed, and every added file not ignored, by path."""
    protected: dict[str, str] = manifest["files"]
    editable = set(editable_paths())
    changes = []
    for relative, digest in protected.items():
        path = repo / relative
        if not (path.is_file() or path.is_symlink()):
            changes.append({"path": relative, "change": "removed"})
        elif file_digest(path) != digest:
            changes.append({"path": relative, "change": "modified"})
    for relative in _walk(repo, ignore=IGNORED_WHEN_ADDED):
        if relative in protected or relative in editable or relative == MANIFEST_NAME:
            continue
        changes.append({"path": relative, "change": "added"})
    return sorted(changes, key=lambda change: (change["path"], change["change"]))


def repo_files(repo: Path) -> list[str]:
    """Every file :func:`compare_with_manifest` would report as added if unlisted, by path.

    ``regrade`` hashes these (with the protected ones) to tell whether a repository changed.
    """
    return list(_walk(repo, ignore=IGNORED_WHEN_ADDED))


def _walk(repo: Path, *, ignore: tuple[str, ...]) -> Iterator[str]:
    """Relative POSIX paths of the files under ``repo`` (links not followed), minus ``ignore``."""
    for folder, subfolders, files in os.walk(repo):
        here = Path(folder).relative_to(repo)
        kept = []
        for name in sorted(subfolders):
            relative = (here / name).as_posix()
            if _ignored(relative + "/", ignore):
                continue
            if (Path(folder) / name).is_symlink():  # os.walk does not enter it: report it
                yield relative
            else:
                kept.append(name)
        subfolders[:] = kept
        for name in sorted(files):
            relative = (here / name).as_posix()
            if not _ignored(relative, ignore):
                yield relative


def _ignored(relative: str, patterns: tuple[str, ...]) -> bool:
    """Whether a path (folders end in ``/``) matches one of ``patterns``."""
    for pattern in patterns:
        anywhere = pattern.startswith("**/")
        body = pattern[3:] if anywhere else pattern
        if body.endswith("/"):
            if relative.endswith("/"):
                parts = relative.rstrip("/").split("/")
                if (anywhere or len(parts) == 1) and fnmatch.fnmatchcase(parts[-1], body[:-1]):
                    return True
            continue
        name = relative.rsplit("/", 1)[-1]
        if anywhere and fnmatch.fnmatchcase(name, body):
            return True
        if not anywhere and "/" not in relative and fnmatch.fnmatchcase(relative, body):
            return True
    return False
