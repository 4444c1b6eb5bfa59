"""The exercise modules of a Gradescope upload: at its top, in a folder, or inside a zip.

Students upload the modules themselves, a folder (``exercises/`` of a student repository,
from GitHub or a download) or a zip of one. :func:`find_submission` copies the modules it
chooses into one folder the grader reads, and says where each came from. Standard library
and :mod:`autograder.spec.registry` only, like the rest of what ``run_autograder`` starts.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from autograder.grading import student_files
from autograder.spec.registry import EXERCISES

__all__ = ["MODULE_FILES", "FoundSubmission", "find_submission"]

MAX_MODULE_BYTES = student_files.MAX_MODULE_BYTES  # a larger "exercise module" is not one
MAX_ZIP_BYTES = 100 << 20  # a larger upload is not read as a zip
MAX_REFUSED_NOTES = 10  # files not read that the output names one by one
MAX_ZIPS = 5  # zips looked into, in a submission
MAX_ZIP_MEMBERS = 20_000
MAX_DEPTH = 8  # folders below the submission's top that are searched
SKIPPED_FOLDERS = frozenset({"__MACOSX", "__pycache__", "node_modules", "site-packages"})
MODULE_FILES: dict[str, str] = {f"{module}.py": exercise for exercise, module in EXERCISES.items()}


@dataclass(frozen=True)
class FoundSubmission:
    """The exercise modules of a submission, copied into one folder the grader reads."""

    folder: Path
    origins: dict[str, str]  # exercise -> where its module came from, relative to the submission
    notes: list[str] = field(default_factory=list)


@dataclass
class _Candidate:
    name: str  # module file name
    folder: str  # where it lies: "exercises", "repo.zip!why-transformers/exercises", ""
    depth: int
    read: Any  # () -> bytes


def find_submission(submission: Path, *, work: Path) -> FoundSubmission:
    """Copy the exercise modules found in ``submission`` into ``work`` (created).

    Students upload the modules themselves, a folder (a student repository, from GitHub or
    a download) or a zip of one. The folder holding the most exercise modules wins, the
    shallowest on a tie; a module missing there is taken from its shallowest copy
    elsewhere. Hidden folders and ``__MACOSX`` are skipped; links, special files and unsafe
    zip members are refused (:mod:`autograder.grading.student_files`, each named in the
    notes); zips are read, never unpacked: only the modules' bytes are copied out.
    """
    work.mkdir(parents=True, exist_ok=True)
    refused: list[str] = []
    candidates = _candidates(Path(submission), refused)
    by_folder: dict[str, set[str]] = {}
    depth_of: dict[str, int] = {}
    for candidate in candidates:
        by_folder.setdefault(candidate.folder, set()).add(candidate.name)
        depth_of[candidate.folder] = min(depth_of.get(candidate.folder, 99), candidate.depth)
    notes = [f"Not read: {why}." for why in refused[:MAX_REFUSED_NOTES]]
    if len(refused) > MAX_REFUSED_NOTES:
        notes.append(f"... and {len(refused) - MAX_REFUSED_NOTES} more files not read.")
    origins: dict[str, str] = {}
    if not candidates:
        wanted = ", ".join(MODULE_FILES)
        notes.append(f"No exercise module found in your submission (looked for {wanted}).")
        return FoundSubmission(folder=work, origins=origins, notes=notes)
    best = max(by_folder, key=lambda folder: (len(by_folder[folder]), -depth_of[folder]))
    for name, exercise in MODULE_FILES.items():
        copies = [c for c in candidates if c.name == name]
        if not copies:
            continue
        chosen = next((c for c in copies if c.folder == best), None)
        if chosen is None:
            chosen = min(copies, key=lambda c: (c.depth, c.folder))
        try:
            (work / name).write_bytes(chosen.read())
        except (OSError, zipfile.BadZipFile, ValueError) as error:
            notes.append(f"{name} could not be read: {error}")
            continue
        origins[exercise] = f"{chosen.folder}/{name}" if chosen.folder else name
        others = len(copies) - 1
        if others:
            notes.append(f"{name}: {others} other copies in your submission were not graded.")
    return FoundSubmission(folder=work, origins=origins, notes=notes)


def _candidates(submission: Path, refused: list[str]) -> list[_Candidate]:
    """Every exercise module under ``submission`` and in its zips; what was refused (a link,
    a special file, an unsafe zip member) is added to ``refused`` with the reason."""
    found: list[_Candidate] = []
    zips: list[tuple[str, int]] = []
    if not submission.is_dir() or submission.is_symlink():
        return found
    for folder, subfolders, files in os.walk(submission, followlinks=False):
        here = Path(folder)
        relative = here.relative_to(submission).as_posix()
        relative = "" if relative == "." else relative
        depth = 0 if not relative else relative.count("/") + 1
        kept = []
        for name in sorted(subfolders):
            if name.startswith(".") or name in SKIPPED_FOLDERS or depth >= MAX_DEPTH:
                continue
            if (here / name).is_symlink():  # os.walk would not enter it: say so
                refused.append(f"{_join(relative, name)} is a symbolic link")
            else:
                kept.append(name)
        subfolders[:] = kept
        for name in sorted(files):
            path = _join(relative, name)
            wanted = name in MODULE_FILES or name.lower().endswith(".zip")
            if not wanted or (name not in MODULE_FILES and len(zips) >= MAX_ZIPS):
                continue
            try:  # opened without following links: what is checked is what is read
                data = student_files.read_regular(
                    submission,
                    path,
                    limit=MAX_ZIP_BYTES if name not in MODULE_FILES else MAX_MODULE_BYTES,
                )
            except student_files.Refused as why:
                refused.append(str(why))
                continue
            except OSError:
                continue
            if name in MODULE_FILES:
                found.append(_Candidate(name, relative, depth, lambda data=data: data))
            else:
                zips.append((path, depth))
                found.extend(_zip_candidates(data, label=path, depth=depth, refused=refused))
    return found


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def _zip_candidates(data: bytes, *, label: str, depth: int, refused: list[str]) -> list[_Candidate]:
    """Exercise modules inside one zip, read lazily; an unreadable zip holds none."""
    found = []
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members, problems = student_files.safe_zip_members(
            archive, max_members=MAX_ZIP_MEMBERS, max_total=student_files.MAX_ZIP_TOTAL_BYTES
        )
    except (zipfile.BadZipFile, OSError, ValueError):
        return found
    refused.extend(f"{label}: {problem}" for problem in problems)
    for member in members:
        parts = PurePosixPath(member.filename.replace("\\", "/")).parts
        if not parts or parts[-1] not in MODULE_FILES or member.is_dir():
            continue
        folders = parts[:-1]
        if any(p.startswith(".") or p in SKIPPED_FOLDERS for p in folders):
            continue
        inside = "/".join(folders)

        def read(member: zipfile.ZipInfo = member) -> bytes:
            return student_files.read_zip_member(archive, member, limit=MAX_MODULE_BYTES)

        folder = f"{label}!{inside}" if inside else f"{label}!"
        found.append(_Candidate(parts[-1], folder, depth + 1 + len(folders), read))
    return found
