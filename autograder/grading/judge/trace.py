"""Traced calls, judge side: handles for the traced inputs, and the replay of the worker's log.

Runs in the judge. The worker never holds a traced value: it gets numbered handles, runs the
submission and logs every operation on them. :func:`replay_operation` recomputes each logged
operation on the judge's own tape, so values, depth and work exist only here, and a handle the
judge did not issue in this call resolves to a :class:`ForgedHandle`.
"""

from __future__ import annotations

import operator
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autograder.grading.judge.verdicts import CheckFailed
from autograder.grading.worker import protocol

MAX_REPLAY_BITS = 4096  # an integer the replay makes or reads; larger ones fail the check
MAX_INT_EXPONENT = 64  # ``int ** int`` above this would make the judge's arithmetic explode

TRACE_BINARY = {  # the tracer's arithmetic the worker may log, replayed on the judge's tape
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
    "**": operator.pow,
}


@dataclass(frozen=True)
class TraceInputs:
    """Placeholder in traced-call arguments: traced inputs with these values (list or tuple)."""

    values: tuple[Any, ...]
    container: type = list


class ForgedHandle:
    """A handle the judge never issued in this call: it has no value and no depth."""

    def __init__(self, number: int) -> None:
        self.number = number


def issue_handles(value: Any, tape: Any, known: dict[int, Any]) -> Any:
    """``value`` with each :class:`TraceInputs` in it replaced by handles to new tape inputs.

    Handles are numbered from a random base per placeholder; ``known`` maps each number to the
    traced input it stands for.
    """
    if type(value) is TraceInputs:
        base = secrets.randbits(48) << 12
        traced = tape.inputs(list(value.values))
        for index, item in enumerate(traced):
            known[base + index] = item
        handles = [protocol.Handle(base + index) for index in range(len(traced))]
        return value.container(handles)
    if type(value) is list:
        return [issue_handles(item, tape, known) for item in value]
    if type(value) is tuple:
        return tuple(issue_handles(item, tape, known) for item in value)
    return value


def _operand(raw: Any, known: dict[int, Any], index: int) -> Any:
    if type(raw) is int:
        if raw not in known:
            raise CheckFailed(
                f"traced operation {index} uses a value the judge never issued in this call "
                "(a handle from another call, or made up)"
            )
        return known[raw]
    if type(raw) is list and len(raw) == 1:
        constant = raw[0]
        if constant in ("nan", "inf", "-inf"):
            return float(constant)
        if type(constant) is int and constant.bit_length() > MAX_REPLAY_BITS:
            raise CheckFailed(f"traced operation {index} has an integer constant too large to use")
        if constant is None or type(constant) in (int, float):
            return constant
    raise CheckFailed(f"traced operation {index} has a malformed operand")


def replay_operation(
    entry: Any, index: int, known: dict[int, Any], ops: dict[str, Callable[[Any, Any], Any]]
) -> Any:
    """Recompute logged operation ``index`` (``[opcode, left, right]``) on the judge's values.

    ``ops`` are the check's own operations (wrapped for the tape), tried before the tracer's
    arithmetic; anything malformed, unknown or failing fails the check with the reason.
    """
    if type(entry) is not list or len(entry) != 3 or type(entry[0]) is not str:
        raise CheckFailed(f"traced operation {index} is malformed")
    opcode = entry[0]
    left, right = _operand(entry[1], known, index), _operand(entry[2], known, index)
    if opcode == "**" and _too_costly_power(left, right):
        raise CheckFailed(
            f"traced operation {index} (**) raises an integer to a power over "
            f"{MAX_INT_EXPONENT}: too large for the judge to replay"
        )
    try:
        if opcode in ops:
            return _sane(ops[opcode](left, right), index, opcode)
        if opcode in TRACE_BINARY:
            return _sane(TRACE_BINARY[opcode](left, right), index, opcode)
        if opcode == "neg" and right is None:
            return -left
        if opcode == "abs" and right is None:
            return abs(left)
    except CheckFailed:
        raise
    except Exception as error:
        raise CheckFailed(
            f"traced operation {index} ({opcode}) failed when the judge replayed it: "
            f"{type(error).__name__}: {str(error)[:200]}"
        ) from None
    raise CheckFailed(f"traced operation {index} has an unknown operation {opcode[:20]!r}")


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)  # a traced value's number, or the constant itself


def _too_costly_power(left: Any, right: Any) -> bool:
    base, exponent = _plain(left), _plain(right)
    return (
        type(base) is int
        and type(exponent) is int
        and abs(base) > 1
        and (abs(exponent) > MAX_INT_EXPONENT)
    )


def _sane(result: Any, index: int, opcode: str) -> Any:
    """The replayed value, unless it is an integer too large to keep computing with."""
    value = _plain(result)
    if type(value) is int and value.bit_length() > MAX_REPLAY_BITS:
        raise CheckFailed(
            f"traced operation {index} ({opcode}) made an integer of over {MAX_REPLAY_BITS} "
            "bits: not a value this exercise can produce"
        )
    return result


def resolve_handles(value: Any, known: dict[int, Any]) -> Any:
    """``value`` with every handle replaced by the judge's value (or a :class:`ForgedHandle`)."""
    if type(value) is protocol.Handle:
        return known.get(value.number, ForgedHandle(value.number))
    if type(value) is list:
        return [resolve_handles(item, known) for item in value]
    if type(value) is tuple:
        return tuple(resolve_handles(item, known) for item in value)
    return value
