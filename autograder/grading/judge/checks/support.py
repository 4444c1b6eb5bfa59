"""What every check module needs: the grading context, the workers, verdicts, safe text.

Judge-side only. Checks never touch submission objects: they ask the submission's
worker (:func:`submission`) to call a function and get data back, and they time
and trace through it (:mod:`autograder.grading.judge.proxy`).

There is no module-global context: the judge gives its pytest run the
:class:`GradingContext` as the session fixture ``grading`` (the nbgrader kernel passes it the
same way), each check takes it as an argument and hands it on as ``ctx`` to the helpers here
and in :mod:`timing`. A result one check uses from another is a :class:`Measurement` that a
module fixture holds, never a value left in the context.
"""

from __future__ import annotations

import inspect
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import pytest

from autograder.grading.judge.proxy import WorkerProxy
from autograder.grading.judge.spawn import WorkerSpec
from autograder.grading.judge.trace import ForgedHandle
from autograder.grading.judge.verdicts import (
    CheckFailed,
    NotImplementedYet,
    Pending,
    SubmissionError,
)
from autograder.grading.sandbox import Sandbox
from autograder.grading.worker import protocol
from autograder.spec import paths
from autograder.spec.registry import CHECKS_BY_ID, EXERCISES
from autograder.spec.settings import Settings, Tolerances
from reference import tracer

__all__ = [
    "CheckFailed",
    "GradingContext",
    "Measurement",
    "NotImplementedYet",
    "Pending",
    "SubmissionError",
    "as_float",
    "call_check",
    "check",
    "describe",
    "expect_value_error",
    "record",
    "reference_worker",
    "rng",
    "submission",
]


@dataclass
class GradingContext:
    """One grading's state in the judge: the job's parameters, its workers, and what the
    check now running has recorded (set by the judge's plugin around each check)."""

    exercise: str
    module_source: Path | None  # the submission's module file (the judge only copies it)
    work_dir: Path
    seed: int
    device: str  # "cpu" or "cuda": the device the run was asked to grade on
    settings: Settings
    sandbox: Sandbox
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    current_check: str | None = None
    check_deadline: float | None = None
    workers: dict[str, WorkerProxy] = field(default_factory=dict)

    def tolerances(self, device: str) -> Tolerances:
        return self.settings.tolerances_for(device)

    @property
    def log_path(self) -> Path:
        return self.work_dir / paths.OUTPUT_LOG

    def close(self) -> None:
        for worker in self.workers.values():
            worker.remove()


T = TypeVar("T")


class Measurement(Generic[T]):
    """A measurement several checks use, made once per grading by the first check that asks
    for its :meth:`result` (the check that owns it), inside that check, so its time, records
    and failure are that check's. A verdict failure (:class:`CheckFailed`,
    :class:`SubmissionError`) is kept and raised again to every check that asks; anything
    else (a time-out) is not kept, so the next check that asks measures again. A module
    fixture holds it, so it lives as long as the submission's worker.

    Made lazily rather than by the fixture's setup: a check that only *uses* a result when
    there is one (the plot keeps the student's plot of the measured sweep) must not run
    the measurement itself when its owner was not run in this judge (``--only``, or a
    judge started again after the owner's judge died)."""

    def __init__(self, measure: Callable[[], T]) -> None:
        self._measure = measure
        self._outcome: tuple[T | None, CheckFailed | SubmissionError | None] | None = None

    def result(self) -> T:
        """The measured value, measured now if no check has asked before; raises the
        measurement's failure."""
        if self._outcome is None:
            try:
                self._outcome = (self._measure(), None)
            except (CheckFailed, SubmissionError) as error:
                self._outcome = (None, error)
        value, error = self._outcome
        if error is not None:
            raise error
        return value  # type: ignore[return-value]

    def measured(self) -> T | None:
        """The value if a check has already measured it without failure, else None (never
        measures)."""
        return self._outcome[0] if self._outcome is not None else None


def call_check(
    function: Callable[..., None],
    sub: Any,
    ctx: GradingContext,
    made: dict[str, Any] | None = None,
) -> None:
    """Run a check function outside pytest (a notebook's grade cell, a logic test) with the
    arguments pytest gives it in a judge: ``sub`` and ``ctx`` as its ``sub`` and ``grading``
    fixtures, every other argument a fixture of its module, made with its own arguments
    alike and kept in ``made`` (one dict for the checks of one submission: a measurement
    made once serves them all, as the module scope does)."""
    given = {"sub": sub, "grading": ctx}
    made = {} if made is None else made
    module = sys.modules[function.__module__]

    def value(name: str) -> Any:
        if name in given:
            return given[name]
        if name not in made:
            fixture = inspect.unwrap(getattr(module, name))  # the function under @pytest.fixture
            made[name] = fixture(
                **{arg: value(arg) for arg in inspect.signature(fixture).parameters}
            )
        return made[name]

    function(**{name: value(name) for name in inspect.signature(function).parameters})


def _worker(
    ctx: GradingContext, label: str, source: Path | None, name: str, preload: tuple[str, ...] = ()
) -> WorkerProxy:
    if label not in ctx.workers:
        limits = ctx.settings.limits
        ctx.workers[label] = WorkerProxy(
            WorkerSpec(
                module_source=source,
                module_name=name,
                device=ctx.device,
                log_path=ctx.log_path if label == "submission" else ctx.work_dir / f"{label}.log",
                memory_mib=limits.memory_mib,
                file_size_mib=limits.file_size_mib,
                import_timeout_s=limits.import_timeout_s,
                sandbox=ctx.sandbox,
                label=label,
                preload=preload,
            ),
            deadline=lambda: ctx.check_deadline,
        )
    return ctx.workers[label]


def submission(ctx: GradingContext) -> WorkerProxy:
    """The worker that holds this exercise's submission module (restarted after a crash)."""
    return _worker(ctx, "submission", ctx.module_source, EXERCISES[ctx.exercise])


def reference_worker(ctx: GradingContext) -> WorkerProxy:
    """A worker holding only the judge's reference implementations, for timing ratios."""
    from autograder.grading.judge.proxy import REFERENCE_MODULE

    imports = REFERENCE_IMPORTS.get(ctx.exercise, ())
    return _worker(ctx, "reference", REFERENCE_MODULE, "reference_implementations", imports)


# exercises whose timing uses a reference worker, and what it imports as it starts (beside
# the submission's worker): an import in its first staging was once the bound's base, torch
# making it 1.3 s instead of about 1 ms (2026-12-05)
REFERENCE_IMPORTS = {"easy": ("numpy",), "hard": ("numpy", "torch")}
NEEDS_REFERENCE = frozenset(REFERENCE_IMPORTS)


def start_workers(ctx: GradingContext) -> list[WorkerProxy]:
    """Start this exercise's workers side by side, without waiting for their imports: the
    judge collects its checks meanwhile and awaits them before the first check
    (:func:`await_workers`), so imports cost no check and overlap the judge's own start."""
    workers = [submission(ctx)]
    if ctx.exercise in NEEDS_REFERENCE:
        workers.append(reference_worker(ctx))
    for worker in workers:
        worker.spawn()
    return workers


def await_workers(ctx: GradingContext) -> None:
    """Wait for every started worker's import (each has its own limit, not a check's)."""
    for worker in ctx.workers.values():
        worker.await_load()


def check(check_id: str) -> pytest.MarkDecorator:
    """Bind a test function to a registry check."""
    if check_id not in CHECKS_BY_ID:
        raise KeyError(f"{check_id!r} is not in the registry")
    return pytest.mark.check(check_id)


def rng(ctx: GradingContext, check_id: str) -> random.Random:
    """Per-check random inputs, reproducible from the run's seed whatever the check order."""
    return random.Random(f"{ctx.seed}:{check_id}")


def record(ctx: GradingContext, key: str, value: Any) -> None:
    """Attach data to the current check's result (timings, the student's answer...)."""
    ctx.records.setdefault(ctx.current_check or "?", {})[key] = value


_PLAIN_TYPES = (int, float, str, bool, type(None), complex)


def describe(value: Any, limit: int = 300) -> str:
    """A short text of a judge-side value (data from a worker, or the judge's own)."""
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
    elif kind in (protocol.ForeignFloat, protocol.ForeignInt):
        text = f"{value.type_name}({kind.__mro__[1](value)!r})"
    elif kind is protocol.Opaque:
        text = f"<{value.type_name} object>"
    elif kind is protocol.ArrayValue:
        name = "numpy.ndarray" if value.kind == "ndarray" else "torch.Tensor"
        text = f"<{name} of shape {value.shape}, dtype {value.dtype}, on {value.device}>"
    elif kind is tracer.Traced:
        text = f"Traced({describe(value.value, 60)}, depth={value.depth})"
    elif kind is ForgedHandle:
        text = f"<a traced value the judge never issued (#{value.number})>"
    elif kind is bytes:
        text = f"<{len(value)} bytes>"
    else:
        text = f"<{kind.__module__}.{kind.__qualname__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def as_float(value: Any) -> float | None:
    """The number in an int, a float or a float-like scalar (numpy.float64...), else None."""
    if type(value) is int:
        return float(value)
    if isinstance(value, float):
        return float.__float__(value)
    return None


def expect_value_error(worker: WorkerProxy, name: str, *args: Any, why: str, hint: str) -> None:
    """Fail unless ``name(*args)`` raises ValueError, as the exercise documents (``why``)."""
    call = f"{name}({', '.join(describe(a, 40) for a in args)})"
    try:
        got = worker.call(name, *args)
    except SubmissionError as error:
        if "ValueError" in error.raised:
            return
        if not error.raised:  # it exited, hung or crashed: that is the message
            raise
        raise CheckFailed(f"{call} raised {error}; {why}", hint=hint) from None
    raise CheckFailed(f"{call} returned {describe(got)}; {why}", hint=hint)
