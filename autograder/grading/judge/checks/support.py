"""What every check module needs: the grading context, the workers, verdicts, safe text.

Judge-side only. Checks never touch submission objects: they ask the submission's
worker (:func:`submission`) to call a function and get data back, and they time
and trace through it (:mod:`autograder.grading.judge.proxy`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
from autograder.spec.registry import CHECKS_BY_ID, EXERCISES
from autograder.spec.settings import Settings, Tolerances
from reference import tracer

__all__ = [
    "CheckFailed",
    "GradingContext",
    "NotImplementedYet",
    "Pending",
    "SubmissionError",
    "as_float",
    "check",
    "context",
    "describe",
    "expect_value_error",
    "record",
    "reference_worker",
    "rng",
    "submission",
]


@dataclass
class GradingContext:
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
    shared: dict[str, Any] = field(default_factory=dict)  # results one check leaves for another
    workers: dict[str, WorkerProxy] = field(default_factory=dict)

    def tolerances(self, device: str) -> Tolerances:
        return self.settings.tolerances_for(device)

    @property
    def log_path(self) -> Path:
        return self.work_dir / "output.log"

    def close(self) -> None:
        for worker in self.workers.values():
            worker.remove()


CONTEXT: GradingContext | None = None


def context() -> GradingContext:
    if CONTEXT is None:
        raise RuntimeError("grading context not set: checks run only inside a judge")
    return CONTEXT


def _worker(
    label: str, source: Path | None, name: str, preload: tuple[str, ...] = ()
) -> WorkerProxy:
    ctx = context()
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
            deadline=lambda: context().check_deadline,
        )
    return ctx.workers[label]


def submission() -> WorkerProxy:
    """The worker that holds this exercise's submission module (restarted after a crash)."""
    ctx = context()
    return _worker("submission", ctx.module_source, EXERCISES[ctx.exercise])


def reference_worker() -> WorkerProxy:
    """A worker holding only the judge's reference implementations, for timing ratios."""
    from autograder.grading.judge.proxy import REFERENCE_MODULE

    imports = REFERENCE_IMPORTS.get(context().exercise, ())
    return _worker("reference", REFERENCE_MODULE, "reference_implementations", imports)


# exercises whose timing uses a reference worker, and what it imports as it starts (beside
# the submission's worker): an import in its first staging was once the bound's base, torch
# making it 1.3 s instead of about 1 ms (2026-12-05)
REFERENCE_IMPORTS = {"easy": ("numpy",), "hard": ("numpy", "torch")}
NEEDS_REFERENCE = frozenset(REFERENCE_IMPORTS)


def start_workers() -> list[WorkerProxy]:
    """Start this exercise's workers side by side, without waiting for their imports: the
    judge collects its checks meanwhile and awaits them before the first check
    (:func:`await_workers`), so imports cost no check and overlap the judge's own start."""
    ctx = context()
    workers = [submission()]
    if ctx.exercise in NEEDS_REFERENCE:
        workers.append(reference_worker())
    for worker in workers:
        worker.spawn()
    return workers


def await_workers() -> None:
    """Wait for every started worker's import (each has its own limit, not a check's)."""
    for worker in context().workers.values():
        worker.await_load()


def check(check_id: str) -> pytest.MarkDecorator:
    """Bind a test function to a registry check."""
    if check_id not in CHECKS_BY_ID:
        raise KeyError(f"{check_id!r} is not in the registry")
    return pytest.mark.check(check_id)


def rng(check_id: str) -> random.Random:
    """Per-check random inputs, reproducible from the run's seed whatever the check order."""
    return random.Random(f"{context().seed}:{check_id}")


def record(key: str, value: Any) -> None:
    """Attach data to the current check's result (timings, the student's answer...)."""
    ctx = context()
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
