"""Gradescope: grade ``/autograder/submission`` and write ``/autograder/results/results.json``.

Gradescope unpacks ``autograder.zip`` (written by ``python -m autograder release
--gradescope``) into ``/autograder/source``, runs ``setup.sh`` once to build the image, then
``run_autograder`` for every submission. ``run_autograder`` is a few lines of shell that start
:func:`main` (``python -m autograder.course.gradescope run``), which

1. finds the exercise modules in the submission (:func:`find_submission`): at its top, in a
   folder (``exercises/`` of a student repository), or inside an uploaded zip;
2. grades each exercise with the command-line grader in its own subprocess
   (``python -m autograder grade --device cpu --only EXERCISE``), with one seed for the whole
   run, a time budget per exercise that keeps the run inside Gradescope's limit, and, when
   ``run_autograder`` runs as root and ``setup.sh`` created it, as the unprivileged user
   :data:`GRADING_USER`, so submission code cannot write to ``/autograder`` at all;
3. converts the grader's results into Gradescope's vocabulary (:func:`gradescope_results`):
   only the automatic CPU checks become tests (``passed`` or ``failed``, points, name,
   number and visibility from the registry, never from the file); the GPU checks and the
   written answers are listed in the top-level ``output`` with where they are graded;
4. writes ``results.json`` last, after every process the submission started is gone, and
   always: a crash of anything becomes a failed test that says why, score 0.

Standard library and :mod:`autograder.spec.registry` only, so the conversion runs (and reports a
broken environment) even where ``setup.sh`` failed to install the grader's dependencies.
``python -m autograder gradescope-results IN OUT`` converts one results file by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pwd
import re
import resource
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from autograder.spec.registry import CHECKS_BY_ID, EXERCISES, EXTRA_CREDIT, Check, checks_for

__all__ = [
    "GRADING_USER",
    "ROOT_VARIABLE",
    "FoundSubmission",
    "failure_results",
    "find_submission",
    "gradescope_results",
    "main",
    "run_autograder",
]

ROOT_VARIABLE = "AUTOGRADER_ROOT"
"""Environment variable: the ``/autograder`` folder (tests point it at a temporary copy)."""
DEFAULT_ROOT = Path("/autograder")
USER_VARIABLE = "AUTOGRADER_GRADING_USER"
"""Environment variable: the user grading runs as (empty: the user running run_autograder)."""
GRADING_USER = "wt-grader"
"""Unprivileged user ``setup.sh`` creates; grading runs as it when started as root."""
SETTINGS_NAME = "gradescope.toml"  # beside this module: limits that fit Gradescope's timeout
TIME_BUDGET_S = 540.0
"""Seconds the whole run may take: Gradescope's default timeout is 10 minutes; one is kept
for starting the container, unpacking and writing results."""
EXERCISE_CAP_S = 210.0
"""Seconds one exercise's grade subprocess may take before it is stopped: gradescope.toml's
exercise limit (120 s) plus the import limit (60 s) and a margin, so that one exercise that
hangs leaves time for the others."""
MAX_MODULE_BYTES = 1 << 20  # a larger "exercise module" is not one
MAX_ZIPS = 5  # zips looked into, in a submission
MAX_ZIP_MEMBERS = 20_000
MAX_DEPTH = 8  # folders below the submission's top that are searched
SKIPPED_FOLDERS = frozenset({"__MACOSX", "__pycache__", "node_modules", "site-packages"})
OUTPUT_LIMIT = 4000  # characters of a test's output shown on Gradescope
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
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


# ---- finding the modules ----


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


# ---- converting results ----


def gradescope_results(
    documents: Sequence[Mapping[str, Any]],
    *,
    exercises: Sequence[str] | None = None,
    failures: Mapping[str, str] | None = None,
    notes: Sequence[str] = (),
    extra_data: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Gradescope's ``results.json`` from the grader's results documents.

    One test per automatic CPU check of ``exercises`` (default: those the documents hold),
    in registry order: ``passed`` with the registry's points, or ``failed`` with 0. Only a
    test's ``id``, ``status`` and ``output`` are read from a document; a check the
    documents lack fails with the reason in ``failures`` (per exercise) or "no verdict".
    GPU checks and written answers are not tests there: the top-level ``output`` says
    what they are worth and where they are graded.
    """
    failures = dict(failures or {})
    verdicts: dict[str, Mapping[str, Any]] = {}
    for document in documents:
        tests = document.get("tests") if isinstance(document, Mapping) else None
        for test in tests if isinstance(tests, list) else []:
            if isinstance(test, Mapping) and test.get("id") in CHECKS_BY_ID:
                verdicts.setdefault(str(test["id"]), test)
    if exercises is None:
        exercises = [e for e in EXERCISES if any(CHECKS_BY_ID[i].exercise == e for i in verdicts)]
        exercises = exercises or list(EXERCISES)
    tests = []
    for exercise in EXERCISES:
        if exercise not in exercises:
            continue
        for number, check in enumerate(checks_for(exercise), start=1):
            if check.gpu or check.manual:
                continue
            verdict = verdicts.get(check.id)
            if verdict is None:
                reason = failures.get(exercise, "the grader gave no verdict for this check")
                verdict = {"status": "failed", "output": f"Not graded: {reason}"}
            tests.append(_test(check, verdict, number=f"{_exercise_number(exercise)}.{number}"))
    score = sum(test["score"] for test in tests)
    return {
        "score": round(score, 4),
        "execution_time": _execution_time(documents),
        "output": _summary(tests, exercises=exercises, notes=notes, failures=failures),
        "output_format": "md",
        "test_output_format": "md",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": dict(extra_data or {}),
    }


def failure_results(reason: str, *, exercises: Sequence[str] | None = None) -> dict[str, Any]:
    """The results of a run that could not grade at all: one failed test that says why."""
    chosen = [e for e in EXERCISES if exercises is None or e in exercises]
    points = sum(
        c.points
        for e in chosen
        if e not in EXTRA_CREDIT
        for c in checks_for(e)
        if not (c.gpu or c.manual)
    )
    text = f"The autograder could not grade this submission: {reason}"
    return {
        "score": 0.0,
        "output": f"**{text}**\n\nSubmit again; if this persists, tell your instructor.",
        "output_format": "md",
        "test_output_format": "md",
        "stdout_visibility": "hidden",
        "tests": [
            {
                "name": "grading",
                "number": "0",
                "score": 0.0,
                "max_score": float(points),
                "status": "failed",
                "output": _fenced(text),
                "output_format": "md",
                "visibility": "visible",
            }
        ],
    }


def _test(check: Check, verdict: Mapping[str, Any], *, number: str) -> dict[str, Any]:
    passed = verdict.get("status") == "passed"
    message = verdict.get("output")
    message = message if isinstance(message, str) else ""
    if verdict.get("status") == "pending":
        message = f"Could not be decided on Gradescope: {message}"
    if len(message) > OUTPUT_LIMIT:
        message = message[:OUTPUT_LIMIT] + f"\n[... cut at {OUTPUT_LIMIT} characters]"
    points = float(check.points)
    verb = "passed" if passed else "failed"
    earned = f"{points:g} points" if passed else f"0 of {points:g} points"
    extra = " (extra credit)" if check.exercise in EXTRA_CREDIT else ""
    text = f"**{verb}**: {earned}{extra}"
    if message.strip():
        text += "\n\n" + _fenced(message.strip())
    visibility = check.visibility if check.visibility in VISIBILITIES else "visible"
    return {
        "name": f"{check.id}: {check.title}{extra}",
        "number": number,
        "score": points if passed else 0.0,
        "max_score": points,
        "status": verb,
        "output": text,
        "output_format": "md",
        "tags": [check.exercise, *check.tags],
        "visibility": visibility,
    }


def _summary(
    tests: list[dict[str, Any]],
    *,
    exercises: Sequence[str],
    notes: Sequence[str],
    failures: Mapping[str, str],
) -> str:
    by_exercise: dict[str, list[dict[str, Any]]] = {}
    for test in tests:
        by_exercise.setdefault(test["tags"][0], []).append(test)
    counted = [t for e, group in by_exercise.items() if e not in EXTRA_CREDIT for t in group]
    bonus = [t for e, group in by_exercise.items() if e in EXTRA_CREDIT for t in group]
    main_score = sum(t["score"] for t in counted)
    main_max = sum(t["max_score"] for t in counted)
    lines = [f"**Automatic checks graded here: {main_score:g} / {main_max:g} points**"]
    if bonus:
        earned = sum(t["score"] for t in bonus)
        lines[0] += f", plus {earned:g} / {sum(t['max_score'] for t in bonus):g} extra credit"
    lines += ["", "| exercise | points | passed | failed |", "|---|---:|---:|---:|"]
    for exercise, group in by_exercise.items():
        passed = sum(t["status"] == "passed" for t in group)
        points = f"{sum(t['score'] for t in group):g} / {sum(t['max_score'] for t in group):g}"
        lines.append(f"| {exercise} | {points} | {passed} | {len(group) - passed} |")
    gpu = [c for e in exercises for c in checks_for(e) if c.gpu]
    manual = [c for e in exercises for c in checks_for(e) if c.manual]
    if gpu or manual:
        lines += ["", "**Not graded here** (not in the score above):", ""]
    if gpu:
        points = sum(c.points for c in gpu)
        names = ", ".join(f"`{c.id}`" for c in gpu)
        lines.append(
            f"- {points:g} points of checks that need a CUDA GPU ({names}): Gradescope has no "
            "GPU. They are graded on the course's GPU runner if your course has one (ask your "
            "instructor), otherwise not at all."
        )
    for check in manual:
        name = check.title.split(":", 1)[0]
        module = EXERCISES[check.exercise]
        lines.append(
            f"- {check.points:g} points for your written answer `{name}` in `{module}.py`: a TA "
            "grades it as a question of this assignment on Gradescope."
        )
    for exercise, reason in failures.items():
        lines += ["", f"**{exercise} was not graded**: {reason}"]
    if notes:
        lines += ["", *(f"- {note}" for note in notes)]
    return "\n".join(lines)


def _fenced(text: str) -> str:
    """A Markdown code block that no backtick run inside ``text`` can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _exercise_number(exercise: str) -> int:
    return list(EXERCISES).index(exercise) + 1


def _execution_time(documents: Sequence[Mapping[str, Any]]) -> int:
    total = 0.0
    for document in documents:
        value = document.get("execution_time") if isinstance(document, Mapping) else None
        if isinstance(value, int | float):
            total += float(value)
    return round(total)


# ---- the run ----


def run_autograder(
    *,
    root: Path,
    python: Path,
    only: Sequence[str] | None = None,
    settings: Path | None = None,
    sandbox: str | None = None,
    budget_s: float = TIME_BUDGET_S,
) -> dict[str, Any]:
    """Grade ``root/submission`` with ``python`` and write ``root/results/results.json``.

    Returns what it wrote. Never raises: whatever fails becomes a failed test saying why.
    """
    root = Path(root)
    final = root / "results" / "results.json"
    final.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        final.unlink()  # anything there before grading is not ours
    exercises = [e for e in EXERCISES if not only or e in only]
    started = time.monotonic()
    settings = (
        settings if settings is not None else Path(__file__).resolve().parents[1] / SETTINGS_NAME
    )
    work: Path | None = None
    user: tuple[str, int, int] | None = None
    try:
        unknown = sorted(set(only or ()) - set(EXERCISES))
        if unknown:
            raise ValueError(f"unknown exercise(s) {', '.join(unknown)}")
        if not Path(python).is_file() or not os.access(python, os.X_OK):
            raise RuntimeError(f"{python} is missing: setup.sh did not finish (see its log)")
        _become_subreaper()
        work = Path(tempfile.mkdtemp(prefix="gradescope-"))
        found = find_submission(root / "submission", work=work / "submission")
        user = _grading_user()
        _prepare_work(work, user)
        seed = secrets.randbits(31)
        documents, failures, sandboxes = [], {}, {}
        for exercise in exercises:
            remaining = budget_s - (time.monotonic() - started)
            document, failure = _grade_exercise(
                exercise,
                python=python,
                submission=found.folder,
                work=work,
                seed=seed,
                settings=settings,
                sandbox=sandbox,
                timeout_s=min(remaining, EXERCISE_CAP_S),
                user=user,
            )
            if document is not None:
                documents.append(document)
                kind = document.get("extra_data", {}).get("sandbox")
                if isinstance(kind, Mapping):
                    sandboxes[exercise] = {"kind": kind.get("kind"), "reason": kind.get("reason")}
            if failure is not None:
                failures[exercise] = failure
        graded = ", ".join(found.origins[e] for e in exercises if e in found.origins)
        missing = ", ".join(f"{EXERCISES[e]}.py" for e in exercises if e not in found.origins)
        notes = [f"Graded: {graded}." if graded else "Graded: no exercise module.", *found.notes]
        if missing and found.origins:
            notes.append(f"Not in your submission: {missing} (its checks fail).")
        results = gradescope_results(
            documents,
            exercises=exercises,
            failures=failures,
            notes=notes,
            extra_data={
                "seed": seed,
                "origins": found.origins,
                "grading_user": user[0] if user else None,
                "sandbox": sandboxes,
                "wall_seconds": round(time.monotonic() - started, 1),
                "largest_process_rss_mib": _largest_child_rss_mib(),
            },
        )
    except Exception as error:  # whatever failed, Gradescope gets a results file saying so
        results = failure_results(f"{type(error).__name__}: {error}", exercises=exercises)
    finally:
        _kill_leftovers(user)  # nothing the submission started outlives the run
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
    _write_json(results, final)
    return results


def _grade_exercise(
    exercise: str,
    *,
    python: Path,
    submission: Path,
    work: Path,
    seed: int,
    settings: Path,
    sandbox: str | None,
    timeout_s: float,
    user: tuple[str, int, int] | None,
) -> tuple[dict[str, Any] | None, str | None]:
    """One exercise graded by ``python -m autograder grade``: (its results, why it failed)."""
    if timeout_s < 20:
        return None, "the run's time limit was used up by the exercises before it"
    results = work / "out" / f"{exercise}.json"
    command = [str(python), "-m", "autograder", "grade", "--submission", str(submission)]
    command += ["--only", exercise, "--device", "cpu", "--results", str(results)]
    command += ["--seed", str(seed), "--settings", str(settings), "--quiet"]
    if sandbox:
        command += ["--sandbox", sandbox]
    environment = {
        **os.environ,
        "HOME": str(work / "home"),
        "MPLCONFIGDIR": str(work / "home"),
        "TMPDIR": str(work / "tmp"),
    }
    demote: dict[str, Any] = {}
    if user is not None:
        demote = {"user": user[1], "group": user[2], "extra_groups": []}
    log = work / "log" / f"{exercise}.txt"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            command,
            cwd=Path(__file__).resolve().parents[2],
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as a whole
            preexec_fn=_prefer_oom_kill,
            **demote,
        )
        try:
            returncode = process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            _kill_leftovers(user)
            _print_log(exercise, log)
            return None, f"grading did not finish within the run's time limit ({timeout_s:.0f} s)"
    _kill_leftovers(user)  # before its results are read: nothing of the submission rewrites them
    _print_log(exercise, log)
    if returncode != 0:
        return None, f"the grader stopped with exit status {returncode}"
    try:
        document = json.loads(results.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return None, f"the grader's results could not be read ({type(error).__name__})"
    if not isinstance(document, dict) or not isinstance(document.get("tests"), list):
        return None, "the grader's results are not a results document"
    return document, None


def _print_log(exercise: str, log: Path) -> None:
    """The grader's terminal output, for Gradescope's stdout (hidden from students)."""
    with contextlib.suppress(OSError):
        text = log.read_text(encoding="utf-8", errors="replace")
        print(f"==== {exercise} ====\n{text[-20000:]}")


def _prefer_oom_kill() -> None:
    """In the grade process before exec: when the container runs out of memory, the kernel
    kills a grading process (the largest: the worker hoarding it), not run_autograder."""
    with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as handle:
        handle.write("500")


def _grading_user() -> tuple[str, int, int] | None:
    """(name, uid, gid) of the user grading runs as, when this process may switch to it."""
    name = os.environ.get(USER_VARIABLE, GRADING_USER)
    if not name or os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return name, entry.pw_uid, entry.pw_gid


def _prepare_work(work: Path, user: tuple[str, int, int] | None) -> None:
    for name in ("out", "home", "tmp", "log"):
        (work / name).mkdir(exist_ok=True)
    if user is None:
        return
    for path in (work, *work.rglob("*")):
        os.chown(path, user[1], user[2], follow_symlinks=False)


def _become_subreaper() -> None:
    """Orphans of the grading processes are reparented here, so none outlives the run."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def _kill_leftovers(user: tuple[str, int, int] | None) -> None:
    """Kill what the submission left running, before results.json is written."""
    if user is not None:  # every process of the grading user: it runs nothing else
        script = "import os, signal\ntry: os.kill(-1, signal.SIGKILL)\nexcept OSError: pass"
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                [sys.executable, "-I", "-c", script],
                user=user[1],
                group=user[2],
                extra_groups=[],
                timeout=30,
                check=False,
            )
    from autograder.grading import supervisor  # standard library only, like this module

    for _ in range(5):
        if not supervisor.kill_strays():
            return


def _largest_child_rss_mib() -> float:
    """Peak resident memory of the largest process this run waited for (Linux: KiB)."""
    return round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)


def _write_json(document: Mapping[str, Any], path: Path) -> None:
    """Atomically: Gradescope never reads half a file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
    temporary.replace(path)


# ---- command line ----


def main(argv: list[str] | None = None) -> int:
    """``run`` (what run_autograder starts) or ``results IN OUT`` (convert one file)."""
    parser = argparse.ArgumentParser(
        prog="python -m autograder.course.gradescope",
        description="Grade a Gradescope submission, or convert a results file for Gradescope.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="grade ROOT/submission, write ROOT/results/results.json")
    run.add_argument(
        "--root",
        type=Path,
        default=Path(os.environ.get(ROOT_VARIABLE) or DEFAULT_ROOT),
        help=f"the Gradescope folder (default: ${ROOT_VARIABLE}, else {DEFAULT_ROOT})",
    )
    run.add_argument(
        "--python", type=Path, default=None, help="the grader's Python (default: ROOT/venv)"
    )
    run.add_argument("--only", nargs="+", metavar="EXERCISE", help="grade only these exercises")
    run.add_argument("--settings", type=Path, default=None, help="grading settings TOML")
    run.add_argument("--sandbox", default=None, help="passed to grade --sandbox")
    run.add_argument("--budget", type=float, default=TIME_BUDGET_S, help="seconds for the run")
    convert = commands.add_parser("results", help="convert a results file to Gradescope's")
    convert.add_argument("results", type=Path, help="results JSON of python -m autograder grade")
    convert.add_argument("out", type=Path, help="Gradescope results.json to write")
    args = parser.parse_args(argv)
    if args.command == "results":
        return results_main(args.results, args.out)
    document = run_autograder(
        root=args.root,
        python=args.python or args.root / "venv" / "bin" / "python",
        only=args.only,
        settings=args.settings,
        sandbox=args.sandbox,
        budget_s=args.budget,
    )
    print(f"score {document['score']:g}: {args.root / 'results' / 'results.json'}")
    return 0


def results_main(source: Path, out: Path) -> int:
    """``python -m autograder gradescope-results IN OUT``: 0 done, 2 unreadable input."""
    try:
        document = json.loads(Path(source).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"gradescope-results: error: cannot read {source}: {error}", file=sys.stderr)
        return 2
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    _write_json(gradescope_results([document]), Path(out))
    print(f"Gradescope results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
