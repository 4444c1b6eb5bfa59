"""A student's repository as ``grade --repo`` reads it: its exercises and its tamper check.

``python -m autograder grade --repo DIR`` grades the exercise modules in ``DIR/exercises``
and compares every protected file with the release manifest
(:mod:`autograder.course.release.manifest`). Standard library only (no notebook library): grading a
repository must not pay for what ``release`` needs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from autograder.course.release import manifest as release_manifest
from autograder.spec import paths

__all__ = ["MANIFEST_VARIABLE", "repo_submission"]

MANIFEST_VARIABLE = "AUTOGRADER_RELEASE_MANIFEST"
"""Environment variable: path of the instructor's copy of the manifest for ``grade --repo``."""


def repo_submission(repo: Path, *, manifest_path: Path | None = None) -> tuple[Path, dict]:
    """The submission folder of a student's repository and its integrity findings.

    Only the exercise modules in ``repo/exercises`` are graded (the runner copies nothing
    else). Every protected file is compared with the release manifest. A student can edit
    the copy in their repository, so a trusted copy wins when there is one, in this order:
    ``manifest_path``, the file named by ``AUTOGRADER_RELEASE_MANIFEST``, the manifest beside
    the running grader (the student workflow runs the grader from a pinned checkout of the
    released template repository); the repository's own manifest is then compared with it
    like any protected file. A missing or unreadable manifest is reported as such and
    grading goes on.
    """
    repo = Path(repo)
    if not repo.is_dir():
        raise ValueError(f"repository folder not found: {repo}")
    repo = repo.resolve()
    trusted = _trusted_manifest(repo, manifest_path)
    in_repo = repo / release_manifest.MANIFEST_NAME
    document, state = release_manifest.read_manifest(trusted or in_repo)
    findings: dict[str, Any] = {
        "tamper": [],
        "manifest": state,
        "manifest_path": str(trusted or in_repo),
        "manifest_source": "instructor" if trusted else "repository",
    }
    if document is not None:
        changes = release_manifest.compare_with_manifest(repo=repo, manifest=document)
        if trusted is not None:
            own = release_manifest.MANIFEST_NAME
            if not in_repo.is_file():
                changes.append({"path": own, "change": "removed"})
            elif release_manifest.file_digest(in_repo) != release_manifest.file_digest(trusted):
                changes.append({"path": own, "change": "modified"})
        findings["tamper"] = sorted(changes, key=lambda c: (c["path"], c["change"]))
    return repo / paths.EXERCISES_FOLDER, findings


def _trusted_manifest(repo: Path, manifest_path: Path | None) -> Path | None:
    """The instructor's manifest, if one is known apart from the repository's own copy."""
    if manifest_path is not None:
        return Path(manifest_path)
    if os.environ.get(MANIFEST_VARIABLE):
        return Path(os.environ[MANIFEST_VARIABLE])
    beside_grader = paths.ROOT / release_manifest.MANIFEST_NAME
    if beside_grader.is_file() and repo != paths.ROOT:
        return beside_grader
    return None
