"""``python -m autograder fetch SOURCE... --out DIR``: take each student's repository as it is now.

The time a state of a repository was handed in is the time the instructor fetched it, never a
commit date (a student sets those). For each SOURCE (a git URL or path; the student id is its
last component without ``.git``, or give ``student=SOURCE``) this clones the repository into
``DIR/<student>/`` and writes ``DIR/<student>.fetch.json``: the student, the source, the
commit fetched and ``fetched_at`` (the clock when the clone had finished: the state holds
nothing pushed later). ``regrade DIR --out GRADED`` carries the record into each student's
signed results (``extra_data.fetch``) and ``collect --deadlines`` applies the late policy.

Run it from the instructor's schedule at each deadline (plus grace), into one folder per fetch
(``fetched/due``, ``fetched/late-1``, ...). ``--due FILE`` (the course's deadline file) is the
scheduled fetch: it takes only the students whose deadline (their extension's, if any) has
passed and whose grace has not, so a schedule run at each deadline fetches each student once,
on time. The clock is a parameter so tests use a fake one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from autograder.course.collect.deadlines import Deadlines, DeadlinesError, load_deadlines
from autograder.results.sinks import terminal_text
from reference.cli_support import UsageError

__all__ = [
    "FETCH_SUFFIX",
    "due_now",
    "fetch_repository",
    "read_fetch_record",
    "run",
]

FETCH_SUFFIX = ".fetch.json"
_STUDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"}


def _git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **_GIT_ENV},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {args[0]} failed: {done.stderr.strip()[-300:]}")
    return done.stdout.strip()


def fetch_repository(
    source: str, student: str, out_dir: Path, *, clock: Callable[[], datetime]
) -> dict[str, str]:
    """Clone ``source`` into ``out_dir/<student>`` (replacing an earlier clone) and write the
    fetch record beside it; returns the record."""
    if not _STUDENT.match(student):
        raise ValueError(f"not a usable student id: {student!r}")
    dest = out_dir / student
    if dest.exists() or dest.is_symlink():
        shutil.rmtree(dest) if dest.is_dir() and not dest.is_symlink() else dest.unlink()
    _git("clone", "--quiet", "--no-hardlinks", "--", source, str(dest))
    fetched_at = clock()
    commit = _git("rev-parse", "HEAD", cwd=dest)
    record = {
        "student": student,
        "source": source,
        "commit": commit,
        "fetched_at": fetched_at.astimezone(UTC).isoformat(),
    }
    (out_dir / f"{student}{FETCH_SUFFIX}").write_text(json.dumps(record, indent=2) + "\n", "utf-8")
    return record


def read_fetch_record(source_folder: Path) -> dict[str, str] | None:
    """The fetch record beside a student's folder (``<student>.fetch.json``), checked, or None.
    It is the instructor's file, outside the clone; a link or a malformed one is not used."""
    path = source_folder.parent / f"{source_folder.name}{FETCH_SUFFIX}"
    if path.is_symlink() or not path.is_file() or path.stat().st_size > 4096:
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        fetched_at = datetime.fromisoformat(record["fetched_at"])
        commit = record["commit"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        return None
    if fetched_at.tzinfo is None or not isinstance(commit, str) or not _COMMIT.match(commit):
        return None
    return {"fetched_at": fetched_at.isoformat(), "commit": commit}


def due_now(deadlines: Deadlines, student: str, now: datetime) -> bool:
    """Whether the scheduled fetch takes ``student`` at ``now``: their deadline has passed and
    their grace has not, so the state fetched counts as on time and holds nothing pushed
    after the grace."""
    due = deadlines.due(student)
    return due <= now <= due + deadlines.grace


def run(args: argparse.Namespace, *, clock: Callable[[], datetime] | None = None) -> int:
    """0 when every repository asked for was fetched, 1 when any failed (each listed), 2 for
    a deadline file that cannot be used."""
    clock = clock or _now
    deadlines = None
    if args.due is not None:
        try:
            deadlines = load_deadlines(args.due)
        except DeadlinesError as error:
            raise UsageError(str(error)) from None
    args.out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for given in args.sources:
        named, _, rest = given.partition("=")
        student, source = (named, rest) if rest and _STUDENT.match(named) else ("", given)
        student = student or Path(source.rstrip("/")).name.removesuffix(".git")
        if deadlines is not None and not due_now(deadlines, student, clock()):
            due = deadlines.due(student).isoformat()
            print(terminal_text(f"{student}: not due now (deadline {due}), not fetched"))
            continue
        try:
            record = fetch_repository(source, student, args.out, clock=clock)
            print(terminal_text(f"{student}: {record['commit'][:12]} at {record['fetched_at']}"))
        except (ValueError, RuntimeError, OSError, subprocess.TimeoutExpired) as error:
            failed += 1
            print(terminal_text(f"fetch: {student}: {error}"), file=sys.stderr)
    return 1 if failed else 0


def _now() -> datetime:
    return datetime.now(UTC)
