"""One way for a course tool to run a grading, and one check of the results file it leaves.

``regrade`` (many students in parallel), the Gradescope run (one exercise at a time, as an
unprivileged user) and ``nbgrader-regrade`` all grade a submission the same way: the
command SPEC defines, ``python -m autograder grade ... --results PATH --quiet``, in its own
process group, never by importing the grader (a submission must not reach the tool's
memory, and a crash must not take the tool down). Each tool gets the command line from
:func:`grade_command`, starts it with :func:`start_grading` (``regrade`` polls its own jobs)
or runs it to the end within a time limit with :func:`run_grading`, and reads what it wrote
with :func:`read_results`, which accepts only a results file a grading of ours could have
written: a regular file (a link is not followed), at most :data:`MAX_RESULTS_BYTES`, strict
JSON that the schema's reader accepts, with this grader's ``extra_data.schema``. Anything
else is a one-line reason; each tool keeps its own fallback (``regrade.log``, a failed
Gradescope test, nbgrader scores set to 0).

Standard library, :mod:`autograder.results.schema` and :mod:`autograder.spec.paths` only:
the Gradescope container runs this with a Python that may lack every dependency.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.results.schema import SCHEMA, ResultsFileError, parse_results
from autograder.spec import paths

__all__ = [
    "MAX_RESULTS_BYTES",
    "GradeOptions",
    "GradingRun",
    "ResultsFileError",
    "exit_reason",
    "grade_command",
    "read_results",
    "run_grading",
    "start_grading",
]

MAX_RESULTS_BYTES = 20_000_000
"""A results file larger than this is refused unread: ``grade`` cuts every output it writes
(a full grading is ~100 kB), so a larger file is not one it wrote."""


@dataclass(frozen=True)
class GradeOptions:
    """The ``grade`` options a course tool passes through (SPEC's names; None: not given)."""

    device: str = "cpu"
    only: Sequence[str] | None = None
    gpu_only: bool = False
    sandbox: str | None = None
    manifest: Path | None = None  # only with ``repo``: a folder of modules has no manifest
    settings: Path | None = None
    seed: int | None = None


@dataclass(frozen=True)
class GradingRun:
    """How one grading ended: the results document as written, or why there is none."""

    document: dict[str, Any] | None
    reason: str  # "" when ``document`` is usable
    returncode: int | None  # None: stopped at the time limit


def grade_command(
    *,
    submission: Path,
    results: Path,
    options: GradeOptions,
    repo: bool = False,
    python: Path | str = sys.executable,
) -> list[str]:
    """The ``python -m autograder grade`` command line of one grading (``--repo`` for a
    student repository, else ``--submission`` for a folder of modules)."""
    flag = "--repo" if repo else "--submission"
    command = [str(python), "-m", "autograder", "grade", flag, str(submission)]
    command += ["--results", str(results), "--device", options.device, "--quiet"]
    if options.only:
        command += ["--only", *options.only]
    if options.gpu_only:
        command += ["--gpu-only"]
    if options.sandbox is not None:
        command += ["--sandbox", options.sandbox]
    if options.manifest is not None and repo:
        command += ["--manifest", str(options.manifest)]
    if options.settings is not None:
        command += ["--settings", str(options.settings)]
    if options.seed is not None:
        command += ["--seed", str(options.seed)]
    return command


def start_grading(
    command: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    log: Any,
    user: tuple[int, int] | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.Popen:
    """Start ``command`` in its own process group (stopped as one, no terminal Ctrl-C), its
    output into the open binary file ``log``, as ``user`` (uid, gid) when given."""
    demote: dict[str, Any] = {}
    if user is not None:
        demote = {"user": user[0], "group": user[1], "extra_groups": []}
    return subprocess.Popen(
        list(command),
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=preexec_fn,
        **demote,
    )


def stop_group(process: subprocess.Popen, *, first: signal.Signals = signal.SIGKILL) -> None:
    """Send ``first`` to the grading's process group (its children too) and reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, first)
    process.wait()


def exit_reason(returncode: int) -> str:
    """Why a grading that exited with ``returncode`` left no results to read (one line)."""
    if returncode < 0:
        return f"the grader was killed by {signal.Signals(-returncode).name}"
    if returncode == 2:
        return "grade exited with status 2 (a usage error)"
    return f"the grader exited with status {returncode}"


def run_grading(
    command: Sequence[str],
    *,
    results: Path,
    log_path: Path,
    timeout_s: float,
    cwd: Path = paths.ROOT,
    env: Mapping[str, str] | None = None,
    user: tuple[int, int] | None = None,
    preexec_fn: Callable[[], None] | None = None,
    after_exit: Callable[[], None] | None = None,
) -> GradingRun:
    """Run one grading to its end (or stop its whole group at ``timeout_s``) and read its
    results with :func:`read_results`. A results file left from before is removed first, so
    only this grading's can be read. It runs in ``cwd`` (default: the grader's own root) with
    ``env`` (default: this process's environment). ``after_exit`` runs once the grading has
    ended and before its results are read (the Gradescope run kills what the submission left
    running, so nothing rewrites them)."""
    results = Path(results)
    with contextlib.suppress(FileNotFoundError):
        results.unlink()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        environment = os.environ if env is None else env
        process = start_grading(
            command, cwd=cwd, env=environment, log=log, user=user, preexec_fn=preexec_fn
        )
        try:
            returncode: int | None = process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            stop_group(process)
            returncode = None
        except BaseException:  # Ctrl-C reaches only this process: its own group stops too
            stop_group(process)
            raise
    if after_exit is not None:
        after_exit()
    if returncode is None:
        return GradingRun(None, f"timed out after {timeout_s:.0f} s (stopped)", None)
    if returncode != 0:
        return GradingRun(None, exit_reason(returncode), returncode)
    try:
        return GradingRun(read_results(results), "", returncode)
    except ResultsFileError as error:
        return GradingRun(None, str(error), returncode)


def read_results(path: Path) -> dict[str, Any]:
    """The results document a grading wrote at ``path``, as written.

    Raises :class:`ResultsFileError` with one line naming what is wrong: no file, not a
    regular file (a link is never followed: the submission could have planted one), larger
    than :data:`MAX_RESULTS_BYTES`, not strict JSON, not a results document, or not this
    grader's schema.
    """
    path = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        mode = os.lstat(path).st_mode
        if not stat.S_ISREG(mode):
            kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
            raise ResultsFileError(f"the grader's results file is {kind}: not read")
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        raise ResultsFileError("the grader wrote no results file") from None
    except OSError as error:
        why = error.strerror or type(error).__name__
        raise ResultsFileError(f"the grader's results file is unreadable: {why}") from None
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):  # replaced since the lstat
            raise ResultsFileError("the grader's results file is not a regular file: not read")
        raw = handle.read(MAX_RESULTS_BYTES + 1)
    if len(raw) > MAX_RESULTS_BYTES:
        raise ResultsFileError(
            f"the grader's results file is larger than {MAX_RESULTS_BYTES} bytes: not read"
        )
    try:
        document = parse_results(raw)
    except ResultsFileError as error:
        raise ResultsFileError(f"the grader's results file is {error}") from None
    schema = document.get("extra_data", {}).get("schema")
    if schema != SCHEMA:
        raise ResultsFileError(
            f"the grader's results file is not of schema {SCHEMA} ({str(schema)[:40]!r})"
        )
    return document
