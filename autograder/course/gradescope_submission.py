"""The exercise modules of a Gradescope upload: at its top, in a folder, or inside a zip.

Students upload the modules themselves, a folder (``exercises/`` of a student repository,
from GitHub or a download) or a zip of one. :func:`find_submission` copies the modules it
chooses into one folder the grader reads, and says where each came from. Standard library
and :mod:`autograder.spec.registry` only, like the rest of what ``run_autograder`` starts.
"""

from __future__ import annotations

import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from autograder.spec.registry import EXERCISES

__all__ = ["MODULE_FILES", "FoundSubmission", "find_submission"]

MAX_MODULE_BYTES = 1 << 20  # a larger "exercise module" is not one
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
    elsewhere. Hidden folders, ``__MACOSX`` and symbolic links are ignored, and zips are
    read, never unpacked: only the modules' bytes are copied out.
    """
    work.mkdir(parents=True, exist_ok=True)
    candidates = _candidates(Path(submission))
    by_folder: dict[str, set[str]] = {}
    depth_of: dict[str, int] = {}
    for candidate in candidates:
        by_folder.setdefault(candidate.folder, set()).add(candidate.name)
        depth_of[candidate.folder] = min(depth_of.get(candidate.folder, 99), candidate.depth)
    notes: list[str] = []
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
        (work / name).write_bytes(chosen.read())
        origins[exercise] = f"{chosen.folder}/{name}" if chosen.folder else name
        others = len(copies) - 1
        if others:
            notes.append(f"{name}: {others} other copies in your submission were not graded.")
    return FoundSubmission(folder=work, origins=origins, notes=notes)


def _candidates(submission: Path) -> list[_Candidate]:
    found: list[_Candidate] = []
    zips: list[tuple[Path, int]] = []
    if not submission.is_dir():
        return found
    for folder, subfolders, files in os.walk(submission, followlinks=False):
        here = Path(folder)
        relative = here.relative_to(submission).as_posix()
        relative = "" if relative == "." else relative
        depth = 0 if not relative else relative.count("/") + 1
        subfolders[:] = sorted(
            name
            for name in subfolders
            if not name.startswith(".") and name not in SKIPPED_FOLDERS and depth < MAX_DEPTH
        )
        for name in sorted(files):
            path = here / name
            if path.is_symlink() or not path.is_file():
                continue
            if name in MODULE_FILES and path.stat().st_size <= MAX_MODULE_BYTES:
                found.append(_Candidate(name, relative, depth, path.read_bytes))
            elif name.lower().endswith(".zip") and len(zips) < MAX_ZIPS:
                zips.append((path, depth))
    for path, depth in zips:
        label = path.relative_to(submission).as_posix()
        found.extend(_zip_candidates(path, label=label, depth=depth))
    return found


def _zip_candidates(path: Path, *, label: str, depth: int) -> list[_Candidate]:
    """Exercise modules inside one zip, read lazily; an unreadable zip holds none."""
    found = []
    try:
        archive = zipfile.ZipFile(path)
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return found
    for member in members[:MAX_ZIP_MEMBERS]:
        parts = PurePosixPath(member.filename.replace("\\", "/")).parts
        if not parts or parts[-1] not in MODULE_FILES or member.is_dir():
            continue
        if stat.S_ISLNK(member.external_attr >> 16) or member.file_size > MAX_MODULE_BYTES:
            continue
        folders = parts[:-1]
        if any(p.startswith(".") or p in SKIPPED_FOLDERS or p in ("..", "/") for p in folders):
            continue
        inside = "/".join(folders)

        def read(member: zipfile.ZipInfo = member) -> bytes:
            with archive.open(member) as handle:
                return handle.read(MAX_MODULE_BYTES + 1)[:MAX_MODULE_BYTES]

        folder = f"{label}!{inside}" if inside else f"{label}!"
        found.append(_Candidate(parts[-1], folder, depth + 1 + len(folders), read))
    return found
