"""The judge's job: everything one judge run needs, one frozen typed object.

The grader (:mod:`~autograder.grading.exercise`) builds a :class:`JudgeJob` and writes
``job.to_json()`` as one line on the judge's stdin; the judge rebuilds it with
:meth:`JudgeJob.from_json`, which takes exactly the fields below with exactly their types
(nested objects too: the settings, the lease, the sandbox) and refuses anything else with a
one-line :class:`JobError`. Both sides read the fields from this one class, so a field added
or renamed on one side cannot be silently ignored by the other.
"""

from __future__ import annotations

import json
import math
import types
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from autograder.grading.processes.device_lease import LeaseConfig
from autograder.grading.sandbox import Sandbox
from autograder.spec.settings import Settings

__all__ = ["JobError", "JudgeJob"]


class JobError(ValueError):
    """A judge job that is not exactly a :class:`JudgeJob`: the message is one line."""


@dataclass(frozen=True)
class JudgeJob:
    """One judge run: which checks of which exercise, on what, with which limits."""

    exercise: str
    check_ids: tuple[str, ...]  # the checks to run, in this order
    seed: int  # every check's random inputs are drawn from it
    device: str  # "cpu" or "cuda": the device the run grades on
    settings: Settings
    module_source: Path | None  # the submission's module file (None: not submitted)
    work_dir: Path  # the judge's folder: logs, artifacts
    lease: LeaseConfig  # the machine-wide device lease of timed windows
    sandbox: Sandbox  # what the judge starts its workers in
    pipe_fd: int  # the inherited pipe the judge writes its verdicts on (no worker reaches it)

    def to_json(self) -> str:
        """One line of JSON (no newline inside), the form :meth:`from_json` reads."""
        return json.dumps(_encode(self), allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> JudgeJob:
        """The job in ``text``; :class:`JobError` for bad JSON, a missing or unknown key or a
        value of the wrong type, anywhere in it."""
        try:
            data = json.loads(text)
        except ValueError as error:  # JSONDecodeError, or a number too large for Python
            raise JobError(f"judge job: not JSON ({error})") from None
        return _decode(cls, data, "judge job")


def _encode(value: Any) -> Any:
    if is_dataclass(value):
        return {f.name: _encode(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_encode(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    return value


def _decode(kind: Any, value: Any, where: str) -> Any:
    """``value`` (parsed JSON) as an instance of the type hint ``kind``, checked all through."""
    origin, args = get_origin(kind), get_args(kind)
    if origin in (Union, types.UnionType):  # only ``X | None`` is used
        if value is None and type(None) in args:
            return None
        (inner,) = [arg for arg in args if arg is not type(None)]
        return _decode(inner, value, where)
    if is_dataclass(kind):
        table = _expect(value, dict, "an object", where)
        names = [f.name for f in fields(kind)]
        unknown = sorted(set(table) - set(names))
        if unknown:
            raise JobError(f"{where}: unknown key(s) {', '.join(map(str, unknown))}")
        missing = [name for name in names if name not in table]
        if missing:
            raise JobError(f"{where}: missing key(s) {', '.join(missing)}")
        hints = get_type_hints(kind)
        return kind(
            **{name: _decode(hints[name], table[name], f"{where}.{name}") for name in names}
        )
    if origin is dict:
        table = _expect(value, dict, "an object", where)
        return {key: _decode(args[1], item, f"{where}.{key}") for key, item in table.items()}
    if origin is tuple:
        items = _expect(value, list, "a list", where)
        return tuple(_decode(args[0], item, f"{where}[{i}]") for i, item in enumerate(items))
    if kind is Path:
        return Path(_expect(value, str, "a string", where))
    if kind is float:
        number = float(value) if type(value) in (int, float) and abs(value) < 1e300 else math.nan
        if not math.isfinite(number):
            raise JobError(f"{where}: expected a finite number, got {_kind(value)}")
        return number
    if kind in _NAMES:
        return _expect(value, kind, _NAMES[kind], where)
    raise TypeError(f"{where}: no JSON form for {kind!r}")  # a field type this module lacks


_NAMES = {int: "an integer", str: "a string", bool: "a boolean"}


def _expect(value: Any, kind: type, what: str, where: str) -> Any:
    if type(value) is not kind:  # exact: a bool is not an int here
        raise JobError(f"{where}: expected {what}, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", type(None): "null"}.get(
        type(value), type(value).__name__
    )
