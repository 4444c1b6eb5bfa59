"""The worker's traced values: handles whose operations are logged for the judge.

A traced call's arguments arrive as :class:`Traced` handles (numbers naming values only the
judge holds). Each ``+``, ``@`` or library operation on them appends one entry to the log,
which the judge replays with the values and its own tape (:mod:`~autograder.grading.judge.trace`):
the depth and work it measures are its own, whatever this process says.
"""

from __future__ import annotations

import math
import operator
from typing import Any


class TracerError(TypeError):
    """A traced value used in a way that would hide work from the judge's measurement."""


class Traced:
    """A traced value in the worker: only a number that names it; the judge holds the value.

    The same name as the lesson's ``reference.tracer.Traced`` (one concept, as submission code
    sees it); a class of its own because nothing of ``reference/`` is in the worker."""

    __slots__ = ("number",)

    def __init__(self, number: int) -> None:
        self.number = number

    def __repr__(self) -> str:
        return f"Traced(#{self.number})"

    def _apply(self, opcode: str, left: Any, right: Any) -> Traced:
        return TRACE.apply(opcode, left, right)

    def __add__(self, other):
        return self._apply("+", self, other)

    def __radd__(self, other):
        return self._apply("+", other, self)

    def __sub__(self, other):
        return self._apply("-", self, other)

    def __rsub__(self, other):
        return self._apply("-", other, self)

    def __mul__(self, other):
        return self._apply("*", self, other)

    def __rmul__(self, other):
        return self._apply("*", other, self)

    def __truediv__(self, other):
        return self._apply("/", self, other)

    def __rtruediv__(self, other):
        return self._apply("/", other, self)

    def __floordiv__(self, other):
        return self._apply("//", self, other)

    def __rfloordiv__(self, other):
        return self._apply("//", other, self)

    def __mod__(self, other):
        return self._apply("%", self, other)

    def __rmod__(self, other):
        return self._apply("%", other, self)

    def __pow__(self, other):
        return self._apply("**", self, other)

    def __rpow__(self, other):
        return self._apply("**", other, self)

    def __neg__(self):
        return self._apply("neg", self, None)

    def __abs__(self):
        return self._apply("abs", self, None)

    def _hidden(self, *_: Any) -> Any:
        raise TracerError(
            "a traced value was turned into a plain number (float(), int(), a comparison, an "
            "if, or a numpy array / torch tensor built from it): traced values hide their "
            "numbers, combine them with op or arithmetic only"
        )

    __float__ = __int__ = __index__ = __bool__ = _hidden
    __lt__ = __le__ = __gt__ = __ge__ = _hidden

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)


class _Trace:
    """The log of one traced call: (opcode, left, right) per operation, in order."""

    def __init__(self) -> None:
        self.base = 0
        self.log: list[list[Any]] = []
        self.limit = 0

    def start(self, base: int, limit: int) -> None:
        self.base, self.log, self.limit = base, [], limit

    def apply(self, opcode: str, left: Any, right: Any) -> Traced:
        if len(self.log) >= self.limit:
            raise TracerError(f"more than {self.limit} traced operations in one call")
        self.log.append([opcode, _operand(left), _operand(right)])
        return Traced(self.base + len(self.log) - 1)

    def op(self, name: str) -> Any:
        def traced_op(left: Any, right: Any) -> Traced:
            return self.apply(name, left, right)

        traced_op.__name__ = f"traced_{name}"
        return traced_op


def _operand(value: Any) -> Any:
    if type(value) is Traced:
        return value.number
    if value is None or type(value) in (int, float):
        return [value if type(value) is not float or math.isfinite(value) else repr(value)]
    raise TracerError(
        f"a traced operation got a {type(value).__name__}: only traced values and numbers "
        "(numpy arrays and torch tensors cannot hold traced values)"
    )


TRACE = _Trace()


def matmul2(left: tuple, right: tuple) -> tuple:
    """2x2 matrix product on nested tuples: associative, not commutative."""
    (a, b), (c, d) = left
    (e, f), (g, h) = right
    return ((a * e + b * g, a * f + b * h), (c * e + d * g, c * f + d * h))


FUNCTIONS = {"add": operator.add, "matmul2": matmul2}
