"""``regrade``'s students: who is in the sources given, and which of them this shard grades.

Each SOURCE is one student, named after its folder: a repository clone (it has
``exercises/``) or a submission folder (exercise modules at its top). Any other folder is a
class folder: each of its sub-folders not starting with "." is one student, and one that is
neither kind (an empty or failed clone) is listed as not gradable. The same student id twice
is a usage error. ``--shard K/N`` keeps positions K-1, K-1+N, ... of the id-sorted list.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from autograder.spec import paths
from autograder.spec.registry import EXERCISES
from reference.cli_support import UsageError

__all__ = [
    "MODULE_FILES",
    "Outcome",
    "Student",
    "find_students",
    "parse_shard",
    "select_shard",
    "source_folder",
    "student_kind",
]

MODULE_FILES = {exercise: f"{module}.py" for exercise, module in EXERCISES.items()}


@dataclass(frozen=True)
class Student:
    """One student to grade: ``kind`` is 'repo', 'submission' or 'unusable' (see problem)."""

    id: str
    path: Path
    kind: str
    problem: str = ""


@dataclass
class Outcome:
    """What happened to one student: graded, skipped (up to date), failed or interrupted."""

    student: str
    status: str
    reason: str = ""
    seconds: float = 0.0


_LINKED_FOLDER = "the student's folder is a symbolic link: only real folders are graded"


def student_kind(folder: Path) -> str | None:
    """'repo', 'submission', or None for a folder that is neither (a class folder)."""
    if (folder / paths.EXERCISES_FOLDER).is_dir():
        return "repo"
    if any((folder / name).is_file() for name in MODULE_FILES.values()):
        return "submission"
    return None


def source_folder(student: Student) -> Path:
    """The folder holding the student's exercise modules."""
    return student.path / paths.EXERCISES_FOLDER if student.kind == "repo" else student.path


def find_students(sources: Sequence[Path]) -> list[Student]:
    """Every student under ``sources``, sorted by id; raises UsageError on bad input."""
    found: dict[str, Student] = {}
    for source in map(Path, sources):
        if not source.is_dir():
            raise UsageError(f"not a folder: {source}")
        kind = student_kind(source)
        if kind is not None:
            students = [Student(source.resolve().name, source.resolve(), kind)]
        else:
            try:
                folders = sorted(p for p in source.iterdir() if p.is_dir() and p.name[0] != ".")
            except OSError as error:
                raise UsageError(f"cannot list {source}: {error.strerror}") from error
            if not folders:
                raise UsageError(
                    f"no students in {source}: it has no exercises/, no exercise modules "
                    "and no student folders"
                )
            students = []
            for folder in folders:
                if folder.is_symlink():  # a student folder is the clone itself, never a link
                    students.append(
                        Student(folder.name, folder.absolute(), "unusable", _LINKED_FOLDER)
                    )
                    continue
                try:
                    kind = student_kind(folder)
                except OSError as error:
                    kind, problem = None, f"unreadable: {error.strerror or error}"
                else:
                    problem = "no exercises/ folder and no exercise modules (an empty clone?)"
                students.append(
                    Student(
                        folder.name, folder.resolve(), kind or "unusable", "" if kind else problem
                    )
                )
        for student in students:
            if student.id in found:
                raise UsageError(
                    f"student id {student.id!r} twice: {found[student.id].path} and {student.path}"
                )
            found[student.id] = student
    return [found[key] for key in sorted(found)]


def parse_shard(text: str) -> tuple[int, int]:
    """``K/N`` with 1 <= K <= N, else UsageError."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match:
        raise UsageError(f"--shard {text!r}: use K/N, e.g. 2/4")
    k, n = int(match[1]), int(match[2])
    if not 1 <= k <= n:
        raise UsageError(f"--shard {text!r}: K must be between 1 and N")
    return k, n


def select_shard(students: Sequence[Student], shard: tuple[int, int] | None) -> list[Student]:
    """The K-th of N slices of the id-sorted list: positions K-1, K-1+N, ..."""
    ordered = sorted(students, key=lambda s: s.id)
    if shard is None:
        return ordered
    k, n = shard
    return ordered[k - 1 :: n]
