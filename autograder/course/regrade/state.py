"""``regrade``'s resumable state: what each student's results were graded from.

The sidecar ``DIR/<student>/.regrade.json`` records a sha256 of the four exercise modules
(``grade`` scans all four for integrity findings, whatever ``--only`` says; for a repository
also every file the manifest comparison reads, and the manifest itself), a sha256 of the
grader (the installed ``autograder`` and ``reference`` packages' source, plus the
``--settings`` file) and the options that change results (``--only``, ``--gpu-only``,
``--device``, ``--seed``, ``--sandbox``). A student whose three match, with a readable results
file, is up to date. The sidecar is written last, atomically, after the results are in place.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograder.course import grading_run
from autograder.course.regrade.students import MODULE_FILES, Outcome, Student, source_folder
from autograder.course.release import manifest as release_manifest
from autograder.course.release.student_repo import MANIFEST_VARIABLE
from autograder.spec import paths

__all__ = [
    "STATE_NAME",
    "STATE_SCHEMA",
    "grader_digest",
    "submission_digest",
    "up_to_date",
    "write_state",
]

STATE_NAME = ".regrade.json"
STATE_SCHEMA = "why-transformers-regrade/1"


def _hash_files(digest: Any, root: Path, relatives: Sequence[str]) -> None:
    for relative in sorted(set(relatives)):
        path = root / relative
        exists = path.is_file() or path.is_symlink()
        value = release_manifest.file_digest(path) if exists else "missing"
        digest.update(f"{relative}\0{value}\n".encode())


def _given_manifest(manifest: Path | None) -> Path | None:
    """The instructor's manifest when given: ``--manifest``, else $AUTOGRADER_RELEASE_MANIFEST.

    Unlike ``grade --repo`` (:mod:`autograder.course.release.student_repo`), a manifest beside the
    running grader is not looked for: the fingerprint has always been taken this way.
    """
    if manifest is not None:
        return manifest
    variable = os.environ.get(MANIFEST_VARIABLE)
    return Path(variable) if variable else None


def submission_digest(
    student: Student, *, only: Sequence[str] | None, manifest: Path | None
) -> str:
    """sha256 of what the grading reads: raises OSError when the folder cannot be read.

    All four exercise modules, whatever ``only`` says: ``grade`` scans every one of them for
    integrity findings. ``only`` is part of the options recorded beside this digest.
    """
    digest = hashlib.sha256(f"{student.kind}\n".encode())
    _hash_files(digest, source_folder(student), list(MODULE_FILES.values()))
    if student.kind == "repo":
        manifest_path = _given_manifest(manifest) or student.path / release_manifest.MANIFEST_NAME
        document, state = release_manifest.read_manifest(manifest_path)
        digest.update(f"manifest {state}\n".encode())
        if manifest_path.is_file():
            digest.update(release_manifest.file_digest(manifest_path).encode())
        protected = list(document["files"]) if document else []
        files = release_manifest.repo_files(student.path)
        _hash_files(digest, student.path, [*protected, *files, release_manifest.MANIFEST_NAME])
    return digest.hexdigest()


def grader_digest(settings: Path | None) -> str:
    """sha256 of the grader's source (autograder/ and reference/) and the settings file."""
    digest = hashlib.sha256()
    for package in ("autograder", "reference"):
        folder = paths.ROOT / package
        files = [
            path.relative_to(paths.ROOT).as_posix()
            for path in folder.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
        ]
        _hash_files(digest, paths.ROOT, files)
    if settings is not None:
        digest.update(b"settings\0" + Path(settings).read_bytes())
    return digest.hexdigest()


def _read_state(student_dir: Path) -> dict[str, Any] | None:
    """The sidecar of the student's last grading, None unless it and the results file it
    describes are usable (checked as a fresh grading's: :func:`grading_run.read_results`)."""
    try:
        state = json.loads((student_dir / STATE_NAME).read_text(encoding="utf-8"))
        grading_run.read_results(student_dir / paths.RESULTS_NAME)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, grading_run.ResultsFileError):
        return None
    return state if isinstance(state, dict) else None


def up_to_date(
    student: Student,
    out_dir: Path,
    options: dict[str, Any],
    grader: str,
    force: bool,
    manifest: Path | None,
) -> tuple[Outcome | None, dict[str, Any]]:
    """(an outcome when there is nothing to grade, the key the results will be recorded with)."""
    if student.kind == "unusable":
        return Outcome(student.id, "failed", student.problem), {}
    try:
        content = submission_digest(student, only=options["only"], manifest=manifest)
    except OSError as error:
        return Outcome(student.id, "failed", f"unreadable: {error}"), {}
    key = {
        "schema": STATE_SCHEMA,
        "student": student.id,
        "kind": student.kind,
        "submission_sha256": content,
        "grader_sha256": grader,
        "options": options,
    }
    state = None if force else _read_state(out_dir / student.id)
    if state is not None and all(state.get(k) == v for k, v in key.items()):
        return Outcome(student.id, "skipped"), key
    return None, key | {"source": str(student.path)}


def write_state(key: dict[str, Any], *, seconds: float, temp: Path, student_dir: Path) -> None:
    """The sidecar, written in ``temp`` and moved into ``student_dir`` in one ``os.replace``."""
    state = dict(key)
    state["graded_at"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    state["seconds"] = round(seconds, 2)
    state_temp = temp / STATE_NAME
    state_temp.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    os.replace(state_temp, student_dir / STATE_NAME)
