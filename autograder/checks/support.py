"""What every check module needs: the grading context, the submission loader, verdicts.

This module is imported in the grading child *before* any submission code, so
the references it binds (the clock, the tracer's methods) are the genuine ones;
:func:`integrity_changes` compares them afterwards.
"""

from __future__ import annotations

import importlib.util
import random
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from autograder.registry import CHECKS_BY_ID, EXERCISES, Check
from autograder.settings import Settings, Tolerances
from reference import tracer

# Bound before any submission code runs: the grader's clock and the tracer it trusts.
CLOCK: Callable[[], float] = time.perf_counter
_CLOCK_NAMES = ("perf_counter", "perf_counter_ns", "monotonic", "time", "sleep")
_ORIGINAL_TIME = {name: getattr(time, name) for name in _CLOCK_NAMES}
_ORIGINAL_TRACER = {
    cls.__name__: dict(vars(cls)) for cls in (tracer.Traced, tracer.Tape, tracer.TracerError)
}
_ORIGINAL_TRACER_GLOBALS = dict(vars(tracer))


class CheckFailed(AssertionError):
    """A check's verdict: the message says what was expected, what came back, on which input."""


class Pending(Exception):
    """The check cannot be decided here (needs a GPU or a TA)."""


class SubmissionError(Exception):
    """The submission's own code failed (raised, exited, or could not be imported)."""


@dataclass
class GradingContext:
    exercise: str
    submission_dir: Path
    artifacts_dir: Path
    seed: int
    device: str  # "cpu" or "cuda": the device the run was asked to grade on
    settings: Settings
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    current_check: str | None = None
    shared: dict[str, Any] = field(default_factory=dict)  # results one check leaves for another
    emit: Callable[[dict[str, Any]], None] = lambda message: None  # to the grader's pipe

    def tolerances(self, device: str) -> Tolerances:
        return self.settings.tolerances_for(device)


CONTEXT: GradingContext | None = None
_MODULES: dict[str, Any] = {}


def context() -> GradingContext:
    if CONTEXT is None:
        raise RuntimeError("grading context not set: checks run only inside the grading child")
    return CONTEXT


def check(check_id: str) -> pytest.MarkDecorator:
    """Bind a test function to a registry check."""
    if check_id not in CHECKS_BY_ID:
        raise KeyError(f"{check_id!r} is not in the registry")
    return pytest.mark.check(check_id)


def registry_check(check_id: str) -> Check:
    return CHECKS_BY_ID[check_id]


def rng(check_id: str) -> random.Random:
    """Per-check random inputs, reproducible from the run's seed whatever the check order."""
    return random.Random(f"{context().seed}:{check_id}")


def record(key: str, value: Any) -> None:
    """Attach data to the current check's result (timings, the student's answer...)."""
    ctx = context()
    ctx.records.setdefault(ctx.current_check or "?", {})[key] = value


def submission(exercise: str | None = None) -> Any:
    """Import the submission's module for ``exercise`` once; every check shares it."""
    ctx = context()
    exercise = exercise or ctx.exercise
    if exercise not in _MODULES:
        ctx.emit({"event": "import", "phase": "start"})
        _MODULES[exercise] = _import_submission(ctx.submission_dir, EXERCISES[exercise])
        ctx.emit({"event": "import", "phase": "done"})
    loaded = _MODULES[exercise]
    if isinstance(loaded, SubmissionError):
        raise SubmissionError(str(loaded))
    return loaded


def _import_submission(directory: Path, module_name: str) -> Any:
    path = directory / f"{module_name}.py"
    if not path.is_file():
        return SubmissionError(f"the submission has no file {module_name}.py")
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as error:
        sys.modules.pop(module_name, None)
        return SubmissionError(f"importing {module_name}.py failed: {describe_exception(error)}")
    return module


def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call submission code; anything it raises or exits with becomes a SubmissionError."""
    if not callable(fn):
        raise CheckFailed(f"expected a function, got {describe(fn)}")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise
    except (CheckFailed, pytest.fail.Exception):
        raise  # the grader's own verdicts and pytest-timeout's
    except BaseException as error:
        raise SubmissionError(describe_exception(error)) from None


def attribute(module: Any, name: str) -> Any:
    try:
        return getattr(module, name)
    except AttributeError:
        raise CheckFailed(f"the submission does not define {name}") from None


def describe_exception(error: BaseException) -> str:
    """``Type: message (file:line in function)`` at the deepest frame of submission code."""
    where = ""
    ctx = CONTEXT
    frames = traceback.extract_tb(error.__traceback__)
    if ctx is not None:
        mine = [f for f in frames if Path(f.filename).parent == ctx.submission_dir]
        if mine:
            last = mine[-1]
            where = f" (at {Path(last.filename).name}:{last.lineno} in {last.name})"
    if isinstance(error, SyntaxError):
        where = f" ({Path(error.filename or '?').name}, line {error.lineno})"
    if isinstance(error, SystemExit):
        return f"SystemExit({error.code!r}): the submission called sys.exit{where}"
    message = _safe_str(error)
    return f"{type(error).__name__}: {message}{where}"


def _safe_str(value: BaseException) -> str:
    try:
        text = str(value)
    except BaseException:
        text = "<message could not be shown>"
    return text if len(text) <= 500 else text[:500] + "..."


_PLAIN_TYPES = (int, float, str, bool, type(None), complex)


def describe(value: Any, limit: int = 300) -> str:
    """A safe, short text of a value: never calls a submission's own ``__repr__``."""
    kind = type(value)
    if kind in _PLAIN_TYPES:
        text = repr(value)
    elif kind in (list, tuple):
        inner = ", ".join(describe(v, 60) for v in value[:12])
        more = ", ..." if len(value) > 12 else ""
        text = f"[{inner}{more}]" if kind is list else f"({inner}{more})"
        text += f" (length {len(value)})" if len(value) > 12 else ""
    elif kind is dict:
        items = list(value.items())[:8]
        text = "{" + ", ".join(f"{describe(k, 40)}: {describe(v, 60)}" for k, v in items) + "}"
    elif kind.__module__ == "reference.tracer" and kind.__name__ == "Traced":
        text = f"Traced({describe(value.value, 60)}, depth={value.depth})"
    else:
        text = f"<{kind.__module__}.{kind.__qualname__} object>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def integrity_changes() -> list[str]:
    """What submission code changed in the clock or the tracer since the grader bound them."""
    changes = [
        f"time.{name} was replaced"
        for name, original in _ORIGINAL_TIME.items()
        if getattr(time, name, None) is not original
    ]
    for cls in (tracer.Traced, tracer.Tape, tracer.TracerError):
        if dict(vars(cls)) != _ORIGINAL_TRACER[cls.__name__]:
            changes.append(f"reference.tracer.{cls.__name__} was modified")
    if dict(vars(tracer)) != _ORIGINAL_TRACER_GLOBALS:
        changes.append("reference.tracer's module globals were modified")
    return changes


def as_float(value: Any) -> float | None:
    """The number inside an int or float (numpy.float64 included), else None.

    ``float.__float__`` reads the stored double directly, so a float subclass
    cannot present another value; bools are not numbers here.
    """
    if type(value) is int:
        return float(value)
    if isinstance(value, float):
        return float.__float__(value)
    return None


@contextmanager
def observed_calls(
    module: Any, names: tuple[str, ...], *, size: Callable[[Any], int], sync: Callable[[], None]
) -> Iterator[dict[str, list[tuple[int, float]]]]:
    """Time every call the submission makes to ``module.<name>`` while the block runs.

    The grader swaps each function for a recorder that notes the input size
    and the call's duration on the grader's own clock, so a figure the
    submission reports can be compared with the very calls it made.
    """
    seen: dict[str, list[tuple[int, float]]] = {name: [] for name in names}
    originals = {name: attribute(module, name) for name in names}

    def recorder(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def recorded(*args: Any, **kwargs: Any) -> Any:
            sync()
            start = CLOCK()
            result = original(*args, **kwargs)
            sync()
            seen[name].append((size(args[0]) if args else -1, CLOCK() - start))
            return result

        return recorded

    for name, original in originals.items():
        setattr(module, name, recorder(name, original))
    try:
        yield seen
    finally:
        for name, original in originals.items():
            setattr(module, name, original)


def median_duration(calls: list[tuple[int, float]], size: int) -> float | None:
    durations = sorted(seconds for n, seconds in calls if n == size)
    if not durations:
        return None
    middle = len(durations) // 2
    if len(durations) % 2:
        return durations[middle]
    return (durations[middle - 1] + durations[middle]) / 2
