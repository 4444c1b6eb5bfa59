"""Reading a tree a student controls without following a link anywhere in it.

Every path a student controls (a repository clone, a submission folder, a Gradescope upload
or its zips, an nbgrader ``submitted/`` folder) is read through this module, so a committed
symbolic link (``exercises -> ../../solutions``, a module pointing at a file on the TA's
machine) can neither add points nor copy a TA-side file into the class folder:

* :func:`read_regular` opens every folder on the way with ``O_NOFOLLOW | O_DIRECTORY``
  relative to the one before (``dir_fd``), and the file itself with ``O_NOFOLLOW``, so no
  component can be a link, even one swapped in while reading. Only a regular file with one
  link is read (a hard link could name a file the student cannot read), up to a size limit.
* :func:`copy_modules` copies named files that way and returns, per file, why one was
  refused; a file that is simply absent is not a refusal.
* :func:`zip_member_problem` / :func:`safe_zip_members` apply the same rules to a zip's
  members: no absolute path, no ``..``, no link or other special file (``external_attr``),
  bounded member count and total size (zip bombs), and reads are capped whatever a member's
  header claims.

Standard library only: Gradescope's ``run_autograder`` uses it before anything is installed.
"""

from __future__ import annotations

import errno
import os
import stat
import zipfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

__all__ = [
    "MAX_MODULE_BYTES",
    "MAX_ZIP_MEMBERS",
    "MAX_ZIP_TOTAL_BYTES",
    "Refused",
    "copy_modules",
    "read_regular",
    "read_zip_member",
    "safe_zip_members",
    "zip_member_problem",
]

MAX_MODULE_BYTES = 1 << 20
"""A larger "exercise module" is not one (the modules are ~10 kB)."""

MAX_ZIP_MEMBERS = 20_000
"""Members of one zip looked at; a zip with more is read no further (a bomb or a venv)."""

MAX_ZIP_TOTAL_BYTES = 200 * 1024 * 1024
"""Declared uncompressed bytes of one zip above which it is refused (the modules are ~10 kB)."""

_KINDS = {
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a named pipe",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
}


class Refused(OSError):
    """A student path that is not read; ``str()`` is the reason a student and a TA see."""


def _parts(relative: str | PurePosixPath) -> tuple[str, ...]:
    text = str(relative).replace("\\", "/")
    parts = PurePosixPath(text).parts
    if text.startswith("/") or not parts or any(p in ("..", ".", "") for p in parts):
        raise Refused(f"{text!r} is not a plain relative path")
    return parts


def _kind(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def read_regular(root: Path, relative: str | PurePosixPath, *, limit: int) -> bytes:
    """The bytes of ``root/relative``, read without following any link below ``root``.

    ``root`` itself is the caller's (a path a TA gave, or one this grader made). Raises
    :class:`FileNotFoundError` when a component is absent and :class:`Refused` (with the
    reason) when one is a link, a special file, a hard link, or larger than ``limit`` bytes.
    """
    parts = _parts(relative)
    shown = "/".join(parts)
    folder = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for depth, name in enumerate(parts[:-1], start=1):
            where = "/".join(parts[:depth])
            try:
                inner = os.open(
                    name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder
                )
            except OSError as error:
                if error.errno in (errno.ELOOP, errno.ENOTDIR):
                    mode = os.lstat(name, dir_fd=folder).st_mode
                    raise Refused(f"{where} is {_kind(mode)}: only real folders are read") from None
                raise
            os.close(folder)
            folder = inner
        try:
            handle = os.open(
                parts[-1],
                os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                dir_fd=folder,
            )
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise Refused(f"{shown} is a symbolic link: only regular files are read") from None
            raise
    finally:
        os.close(folder)
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise Refused(f"{shown} is {_kind(info.st_mode)}: only regular files are read")
        if info.st_nlink > 1:
            raise Refused(
                f"{shown} is a hard link ({info.st_nlink} names for one file): only files "
                "of their own are read"
            )
        with os.fdopen(handle, "rb", closefd=False) as file:
            data = file.read(limit + 1)
    finally:
        os.close(handle)
    if len(data) > limit:
        raise Refused(f"{shown} is larger than {limit:,} bytes")
    return data


def copy_modules(
    root: Path, folder: str, names: Iterable[str], dest: Path, *, limit: int
) -> dict[str, str]:
    """Copy ``root/folder/<name>`` to ``dest/<name>`` for each name that is a safe regular file.

    ``folder`` is "" for the top of ``root``. Returns name -> reason for every file refused
    (absent files are neither copied nor refused). ``dest`` is created.
    """
    dest.mkdir(parents=True, exist_ok=True)
    refused: dict[str, str] = {}
    for name in names:
        relative = f"{folder}/{name}" if folder else name
        try:
            data = read_regular(root, relative, limit=limit)
        except FileNotFoundError:
            continue
        except Refused as why:
            refused[name] = str(why)
            continue
        except OSError as error:
            refused[name] = f"{relative} could not be read ({error.strerror or error})"
            continue
        (dest / name).write_bytes(data)
    return refused


def zip_member_problem(member: zipfile.ZipInfo) -> str | None:
    """Why one zip member must not be read (None: a plain file or folder at a relative path)."""
    name = member.filename
    text = name.replace("\\", "/")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        return f"{name!r} is an absolute path"
    if ".." in text.split("/"):
        return f"{name!r} leads out of the zip (..)"
    mode = member.external_attr >> 16
    if mode and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        return f"{name!r} is {_kind(mode)}"
    return None


def safe_zip_members(
    archive: zipfile.ZipFile,
    *,
    max_members: int = MAX_ZIP_MEMBERS,
    max_total: int = MAX_ZIP_TOTAL_BYTES,
) -> tuple[list[zipfile.ZipInfo], list[str]]:
    """(the members that may be read, why others or the whole zip were refused)."""
    members = archive.infolist()
    if len(members) > max_members:
        return [], [f"the zip has {len(members):,} members (at most {max_members:,} are read)"]
    total = sum(max(0, m.file_size) for m in members)
    if total > max_total:
        return [], [f"the zip would unpack to {total:,} bytes (at most {max_total:,})"]
    kept, problems = [], []
    for member in members:
        problem = zip_member_problem(member)
        if problem is None:
            kept.append(member)
        else:
            problems.append(problem)
    return kept, problems


def read_zip_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, *, limit: int) -> bytes:
    """A member's bytes, at most ``limit`` whatever its header claims; Refused beyond that."""
    with archive.open(member) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise Refused(f"{member.filename!r} is larger than {limit:,} bytes")
    return data
