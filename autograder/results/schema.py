"""The results document's schema, and the one loader every reader goes through.

A results file is untrusted input (students control their repository), and a forged or old
file must not crash ``report``, ``collect`` or ``merge``. So it is validated here, once:
:func:`results_problems` checks SPEC's fixed core that the tools compute with, then
:func:`normalise_results` returns a *view* in which every optional field the readers use is
present with the type declared below (missing or ill-typed: its empty default, ``""``,
``[]``, an empty sub-object, or ``None`` for a number or flag not given). Readers index the
view directly; its totals are derived from its results (:mod:`~autograder.results.rescore`),
never read from the file. It is a new object: the document as written is never changed, because
``merge`` copies parts of it verbatim and must add no keys. Standard library only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, TypedDict

from autograder.results.rescore import rescore
from autograder.results.strict_json import strict_loads
from autograder.spec.paths import OUTPUTS_FOLDER, RESULTS_NAME
from autograder.spec.registry import EXTRA_CREDIT

__all__ = [
    "DEFAULT_RESULTS_PATH",
    "MAX_PLOT_BYTES",
    "SCHEMA",
    "STATUSES",
    "ResultsDocument",
    "ResultsFileError",
    "check_id",
    "is_number",
    "load_results",
    "load_results_as_written",
    "normalise_results",
    "parse_results",
    "pending_kind",
    "results_problems",
]

SCHEMA = "why-transformers-results/1"
"""``extra_data.schema`` of the files this grader writes."""

DEFAULT_RESULTS_PATH = Path(OUTPUTS_FOLDER, "grading", RESULTS_NAME)
"""Where ``grade`` writes (SPEC), and where ``collect`` looks inside a student's folder."""

MAX_PLOT_BYTES = 10_000_000
"""An artifact (the sweep plot) larger than this is neither embedded by ``report`` nor
copied by ``merge`` (the grader's own plots are ~50 kB)."""

STATUSES = ("passed", "failed", "pending")
"""A result's status; ``pending`` means it waits for a GPU run or a TA, never passed."""

Status = Literal["passed", "failed", "pending"]


class ResultsFileError(ValueError):
    """A file that cannot be read as a results file; the message says why, in a few words."""


class TAGrade(TypedDict):
    """A TA's score for a manual check (``collect --manual``)."""

    score: float
    comment: str


class Result(TypedDict):
    """One result, an element of ``tests``: a check's verdict, points and output as written."""

    id: str  # the check id; recovered from ``name`` ("id: title") in files without one
    name: str
    exercise: str  # recovered from the check id when empty
    score: float
    max_score: float
    status: Status
    output: str
    tags: list[str]
    visibility: str
    extra_credit: bool  # default: the exercise is extra credit
    duration: float | None  # None: the check never ran
    device: str | None  # merged files: the device this result was graded on
    ta_grade: TAGrade | None


class Device(TypedDict):
    """What the run asked for and got (older files wrote a plain string: ``used``)."""

    requested: str
    used: str
    cuda_available: bool | None
    name: str


class Sandbox(TypedDict):
    """What the workers ran in (SPEC): "bubblewrap" or "none" ("" when not said), and why."""

    kind: str
    reason: str


class Environment(TypedDict):
    """Versions of the grading machine; a package the run lacked is ``""``."""

    python: str
    torch: str
    numpy: str
    matplotlib: str
    pytest: str
    platform: str
    cpu_count: int | None


class ExerciseData(TypedDict):
    """Per exercise: its totals (derived: :mod:`~autograder.results.rescore`) and its cost."""

    score: float | None
    max_score: float | None
    extra_credit: bool | None
    wall_seconds: float | None
    runs: int | None  # judge processes started
    worker_starts: dict[str, int]
    incidents: list[str]
    output_tail: str


class Finding(TypedDict):
    """A suspicious construct the static scan found: a lead for TAs."""

    exercise: str
    file: str
    line: int | None
    construct: str
    why: str


class Tamper(TypedDict):
    """A protected file changed against the release manifest."""

    path: str
    change: str  # added | modified | removed


class Integrity(TypedDict):
    """Findings and tamper (older files may list tamper as plain strings)."""

    tamper: list[Tamper | str]
    findings: list[Finding]
    manifest: str  # ok | missing | invalid ("" when grading did not check one)
    manifest_path: str
    manifest_source: str  # instructor | repository


class ManualAnswer(TypedDict):
    """A written answer waiting for (or scored by) a TA."""

    check: str
    exercise: str
    points: float | None
    question: str
    answer: str
    status: str
    rubric: list[str]
    ta_score: float | None
    ta_comment: str


class MergeInfo(TypedDict):
    """What ``merge`` did: its inputs, whether a CUDA run was among them, and notes."""

    inputs: list[str]
    gpu_results: bool
    sources: dict[str, int]  # check id -> index of the input its result came from
    notes: list[str]


class ExtraData(TypedDict):
    """``extra_data``: everything beyond SPEC's fixed core that the tools read."""

    schema: str
    grader_version: str
    graded_at: str
    merged_at: str
    submission: str
    student: str
    seed: int | None
    device: Device
    sandbox: Sandbox
    environment: Environment
    exercises: dict[str, ExerciseData]
    integrity: Integrity
    timings: dict[str, Any]  # check id -> what its timing verdict measured (copied as is)
    manual: list[ManualAnswer]
    artifacts: dict[str, str]  # e.g. sweep_plot, relative to the results file's folder
    runs: list[dict[str, Any]]  # merged files: each input's own numbers (copied as is)
    merge: MergeInfo
    settings: dict[str, Any]


class ResultsDocument(TypedDict):
    """The whole results JSON, as :func:`normalise_results` returns it."""

    score: float
    max_score: float
    execution_time: float | None
    output: str
    tests: list[Result]
    extra_data: ExtraData


def is_number(value: object) -> bool:
    """A finite JSON number (``true`` is not a number here)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def check_id(result: Mapping[str, Any]) -> str:
    """The check id of one result: its ``id``, else the part of ``name`` before ':'."""
    return str(result.get("id") or str(result.get("name", "")).split(":", 1)[0])


def pending_kind(tags: Iterable[str]) -> Literal["manual", "gpu", "other"]:
    """What a pending check waits for: a TA (tag ``manual``, first), a GPU run, or neither."""
    tags = list(tags)
    if "manual" in tags:
        return "manual"
    return "gpu" if "gpu" in tags else "other"


def results_problems(document: object) -> list[str]:
    """What makes ``document`` not a results document (empty list: usable).

    Only the fixed core that the reports compute with is required; everything under
    ``extra_data`` is optional, so old and partial files still render.
    """
    if not isinstance(document, dict):
        return [f"top level is a JSON {type(document).__name__}, not an object"]
    problems = []
    for key in ("score", "max_score"):
        if key not in document:
            problems.append(f"{key!r} missing")
        elif not is_number(document[key]):
            problems.append(f"{key!r} is not a number")
    results = document.get("tests")
    if results is None:
        problems.append("'tests' missing")
    elif not isinstance(results, list):
        problems.append("'tests' is not a list")
    else:
        for index, result in enumerate(results):
            where = f"tests[{index}]"
            if not isinstance(result, dict):
                problems.append(f"{where} is not an object")
                continue
            for key in ("score", "max_score"):
                if not is_number(result.get(key)):
                    problems.append(f"{where}.{key} is not a number")
            if not isinstance(result.get("exercise"), str):
                problems.append(f"{where}.exercise missing")
            if result.get("status") not in STATUSES:
                problems.append(f"{where}.status is not one of {', '.join(STATUSES)}")
            if len(problems) >= 3:
                break
    if not isinstance(document.get("extra_data", {}), dict):
        problems.append("'extra_data' is not an object")
    return problems


def parse_results(raw: bytes) -> dict[str, Any]:
    """A results document from a file's bytes, as written: strict JSON with SPEC's fixed core.
    Raises :class:`ResultsFileError` with a short reason (corrupt JSON, not a results file)."""
    try:
        document = strict_loads(raw)
    except ValueError as error:  # not UTF-8, not JSON, NaN or Infinity
        raise ResultsFileError(f"corrupt JSON: {error}") from error
    except RecursionError as error:
        raise ResultsFileError("corrupt JSON: nested too deeply") from error
    if problems := results_problems(document):
        raise ResultsFileError("not a results file: " + "; ".join(problems[:3]))
    return document


def load_results_as_written(*, path: Path) -> dict[str, Any]:
    """Read and validate one results file, returned exactly as written (``merge`` copies
    parts of it verbatim). Raises :class:`ResultsFileError` with a short reason (unreadable,
    corrupt JSON, not a results file) that the CLIs print next to the path."""
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise ResultsFileError(f"unreadable: {error.strerror or error}") from error
    return parse_results(raw)


def load_results(*, path: Path) -> ResultsDocument:
    """Read, validate and normalise one results file, so callers never render half-parsed
    data and never need to check an optional field's type (see the module docstring)."""
    return normalise_results(load_results_as_written(path=path))


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _number(value: object) -> float | None:
    return float(value) if is_number(value) else None


def _integer(value: object) -> int | None:
    return int(value) if is_number(value) else None


def _bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _object(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _items(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _texts(value: object) -> list[str]:
    return [item for item in _items(value) if isinstance(item, str)]


def _result(result: Mapping[str, Any]) -> Result:
    """One result as the typed view has it."""
    ident = check_id(result)
    exercise = _text(result.get("exercise")) or ident.split(".", 1)[0]
    ta = result.get("ta_grade")
    extra_credit = result.get("extra_credit")
    return {
        "id": ident,
        "name": _text(result.get("name")) or ident,
        "exercise": exercise,
        "score": float(result["score"]),
        "max_score": float(result["max_score"]),
        "status": result["status"],
        "output": _text(result.get("output")),
        "tags": _texts(result.get("tags")),
        "visibility": _text(result.get("visibility")),
        "extra_credit": (
            extra_credit if isinstance(extra_credit, bool) else exercise in EXTRA_CREDIT
        ),
        "duration": _number(result.get("duration")),
        "device": result.get("device") if result.get("device") in ("cpu", "cuda") else None,
        "ta_grade": (
            {"score": _number(ta.get("score")) or 0.0, "comment": _text(ta.get("comment"))}
            if isinstance(ta, Mapping)
            else None
        ),
    }


def _device(value: object) -> Device:
    if isinstance(value, str):  # older files: the device as a plain string
        return {"requested": "", "used": value, "cuda_available": None, "name": ""}
    device = _object(value)
    return {
        "requested": _text(device.get("requested")),
        "used": _text(device.get("used")),
        "cuda_available": _bool(device.get("cuda_available")),
        "name": _text(device.get("name")),
    }


def _environment(value: object) -> Environment:
    env = _object(value)
    return {
        "python": _text(env.get("python")),
        "torch": _text(env.get("torch")),
        "numpy": _text(env.get("numpy")),
        "matplotlib": _text(env.get("matplotlib")),
        "pytest": _text(env.get("pytest")),
        "platform": _text(env.get("platform")),
        "cpu_count": _integer(env.get("cpu_count")),
    }


def _exercise(value: object) -> ExerciseData:
    info = _object(value)
    starts = _object(info.get("worker_starts"))
    return {
        "score": _number(info.get("score")),
        "max_score": _number(info.get("max_score")),
        "extra_credit": _bool(info.get("extra_credit")),
        "wall_seconds": _number(info.get("wall_seconds")),
        "runs": _integer(info.get("runs")),
        "worker_starts": {k: int(v) for k, v in starts.items() if is_number(v)},
        "incidents": _texts(info.get("incidents")),
        "output_tail": _text(info.get("output_tail")),
    }


def _finding(value: object) -> Finding:
    finding = _object(value)
    return {
        "exercise": _text(finding.get("exercise")),
        "file": _text(finding.get("file")),
        "line": _integer(finding.get("line")),
        "construct": _text(finding.get("construct")),
        "why": _text(finding.get("why")),
    }


def _tamper(value: object) -> Tamper | str:
    if not isinstance(value, Mapping):
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return {"path": _text(value.get("path")), "change": _text(value.get("change"))}


def _integrity(value: object) -> Integrity:
    integrity = _object(value)
    return {
        "tamper": [_tamper(entry) for entry in _items(integrity.get("tamper"))],
        "findings": [_finding(finding) for finding in _items(integrity.get("findings"))],
        "manifest": _text(integrity.get("manifest")),
        "manifest_path": _text(integrity.get("manifest_path")),
        "manifest_source": _text(integrity.get("manifest_source")),
    }


def _manual(value: object) -> ManualAnswer:
    answer = _object(value)
    return {
        "check": _text(answer.get("check")),
        "exercise": _text(answer.get("exercise")),
        "points": _number(answer.get("points")),
        "question": _text(answer.get("question")),
        "answer": _text(answer.get("answer")),
        "status": _text(answer.get("status")),
        "rubric": _texts(answer.get("rubric")),
        "ta_score": _number(answer.get("ta_score")),
        "ta_comment": _text(answer.get("ta_comment")),
    }


def _extra_data(value: object) -> ExtraData:
    extra = _object(value)
    sandbox, merge = _object(extra.get("sandbox")), _object(extra.get("merge"))
    artifacts = _object(extra.get("artifacts"))
    return {
        "schema": _text(extra.get("schema")),
        "grader_version": _text(extra.get("grader_version")),
        "graded_at": _text(extra.get("graded_at")),
        "merged_at": _text(extra.get("merged_at")),
        "submission": _text(extra.get("submission")),
        "student": _text(extra.get("student")),
        "seed": _integer(extra.get("seed")),
        "device": _device(extra.get("device")),
        "sandbox": {"kind": _text(sandbox.get("kind")), "reason": _text(sandbox.get("reason"))},
        "environment": _environment(extra.get("environment")),
        "exercises": {
            str(name): _exercise(info) for name, info in _object(extra.get("exercises")).items()
        },
        "integrity": _integrity(extra.get("integrity")),
        "timings": dict(_object(extra.get("timings"))),
        "manual": [_manual(answer) for answer in _items(extra.get("manual"))],
        "artifacts": {k: v for k, v in artifacts.items() if isinstance(v, str) and v},
        "runs": [dict(run) for run in _items(extra.get("runs")) if isinstance(run, Mapping)],
        "merge": {
            "inputs": _texts(merge.get("inputs")),
            "gpu_results": merge.get("gpu_results") is True,
            "sources": {
                k: int(v) for k, v in _object(merge.get("sources")).items() if is_number(v)
            },
            "notes": _texts(merge.get("notes")),
        },
        "settings": dict(_object(extra.get("settings"))),
    }


def normalise_results(document: Mapping[str, Any]) -> ResultsDocument:
    """The normalised view of a document that passes :func:`results_problems`: a new object,
    its totals derived from its results (idempotent), the one renderers take as it is.
    Raises :class:`ResultsFileError` for a document that is not a results file."""
    if problems := results_problems(document):
        raise ResultsFileError("not a results file: " + "; ".join(problems[:3]))
    normalised: ResultsDocument = {
        "score": float(document["score"]),
        "max_score": float(document["max_score"]),
        "execution_time": _number(document.get("execution_time")),
        "output": _text(document.get("output")),
        "tests": [_result(result) for result in document["tests"]],
        "extra_data": _extra_data(document.get("extra_data")),
    }
    exercises = normalised["extra_data"]["exercises"]
    for result in normalised["tests"]:  # every exercise with results is listed, with its totals
        exercises.setdefault(result["exercise"], _exercise({}))
    return rescore(normalised)
