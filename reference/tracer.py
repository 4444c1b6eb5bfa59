"""Traced values: measure work and dependency depth by running code on them.

The lesson's Step 2 says RNN depth is N and a tree reduction's depth is log N.
Instead of asserting that, run the code on :class:`Traced` values and read the
numbers off the result:

    >>> tape = Tape()
    >>> xs = tape.inputs([1.0, 2.0, 3.0, 4.0])
    >>> total = (xs[0] + xs[1]) + (xs[2] + xs[3])
    >>> total.value, total.depth, total.work, tape.work
    (10.0, 2, 3, 3)

Rules (exact, so the grader can rely on them):

* inputs (from :meth:`Tape.input`) and plain constants have depth 0;
* every traced operation counts one unit of work on its tape and has
  ``depth = max(depth of its operands) + 1``;
* ``+ - * / // % **`` (both operand orders), unary ``-`` and ``abs`` are traced;
  comparisons return plain ``bool`` and are not counted (they steer control
  flow, they do not produce values);
* any binary callable can be traced with :meth:`Tape.wrap`: one call is one
  operation whatever the callable does inside, so an associative ``op`` on
  strings or tuples is measured in applications of ``op``;
* ``float()`` / ``int()`` of a traced value raise ``TypeError``: a value that
  leaves the tracer can no longer be measured, so the escape is made loud.

``Tape.work`` counts every operation performed on the tape (results used or
not); ``Traced.work`` counts the distinct operations a value depends on.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["Tape", "Traced", "TracerError", "max_depth"]


class TracerError(TypeError):
    """A traced value was used in a way that would make the measurement wrong."""


class Tape:
    """Hands out input values and counts every operation performed on them."""

    def __init__(self) -> None:
        self._work = 0
        self._made: dict[int, Traced] = {}  # every value this tape handed out, by id

    @property
    def work(self) -> int:
        """Operations performed on values of this tape (read-only)."""
        return self._work

    def input(self, value: Any) -> Traced:
        """A value at depth 0, e.g. one element of the sequence being scanned."""
        return self._make(value, 0, ())

    def _make(self, value: Any, depth: int, parents: tuple[Traced, ...]) -> Traced:
        made = Traced(value, depth, parents, self)
        self._made[id(made)] = made
        return made

    def inputs(self, values: Iterable[Any]) -> list[Traced]:
        """One depth-0 input per element of ``values``."""
        return [self.input(value) for value in values]

    def wrap(self, op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Traced]:
        """Trace a binary callable: each call is one operation on this tape.

        Operands may be traced values (their ``.value`` is passed to ``op``)
        or plain constants (passed as they are, depth 0).
        """

        def traced_op(left: Any, right: Any) -> Traced:
            return self._apply(op, left, right)

        traced_op.__name__ = f"traced_{getattr(op, '__name__', 'op')}"
        traced_op.__doc__ = f"{op!r}, traced on a Tape."
        return traced_op

    def owns(self, candidate: object) -> bool:
        """True when ``candidate`` was handed out by this tape (an input or a result).

        A ``Traced`` built by hand, outside the tape, is not owned: its depth
        was never measured.
        """
        return type(candidate) is Traced and self._made.get(id(candidate)) is candidate

    def _apply(self, op: Callable[..., Any], *operands: Any) -> Traced:
        parents = []
        values = []
        deepest = 0  # constants are depth 0
        for operand in operands:
            if type(operand) is Traced:
                if operand.tape is not self:
                    raise TracerError("operands come from two different tapes")
                parents.append(operand)
                values.append(operand.value)
                deepest = max(deepest, operand.depth)
            else:
                values.append(operand)
        result = op(*values)  # counted only once it succeeds: a raising op performed nothing
        self._work += 1
        return self._make(result, deepest + 1, tuple(parents))


def max_depth(values: Iterable[Any]) -> int:
    """Largest depth among traced ``values`` (0 for none); plain values count as 0."""
    return max((v.depth for v in values if type(v) is Traced), default=0)


class Traced:
    """A value that remembers how deep the chain of operations behind it is.

    Immutable: a measured depth cannot be edited afterwards.
    """

    __slots__ = ("depth", "parents", "tape", "value")

    def __init__(self, value: Any, depth: int, parents: tuple[Traced, ...], tape: Tape) -> None:
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "depth", depth)
        object.__setattr__(self, "parents", parents)
        object.__setattr__(self, "tape", tape)

    def __setattr__(self, name: str, value: Any) -> None:
        raise TracerError(f"traced values are immutable (tried to set {name})")

    def __delattr__(self, name: str) -> None:
        raise TracerError(f"traced values are immutable (tried to delete {name})")

    @property
    def work(self) -> int:
        """Distinct operations this value depends on (inputs are free)."""
        seen: set[int] = set()
        stack: list[Traced] = [self]
        while stack:
            node = stack.pop()
            if node.depth == 0 or id(node) in seen:
                continue
            seen.add(id(node))
            stack.extend(node.parents)
        return len(seen)

    def __repr__(self) -> str:
        return f"Traced({self.value!r}, depth={self.depth})"

    # arithmetic: one traced operation each
    def __add__(self, other: Any) -> Traced:
        return self.tape._apply(operator.add, self, other)

    def __radd__(self, other: Any) -> Traced:
        return self.tape._apply(operator.add, other, self)

    def __sub__(self, other: Any) -> Traced:
        return self.tape._apply(operator.sub, self, other)

    def __rsub__(self, other: Any) -> Traced:
        return self.tape._apply(operator.sub, other, self)

    def __mul__(self, other: Any) -> Traced:
        return self.tape._apply(operator.mul, self, other)

    def __rmul__(self, other: Any) -> Traced:
        return self.tape._apply(operator.mul, other, self)

    def __truediv__(self, other: Any) -> Traced:
        return self.tape._apply(operator.truediv, self, other)

    def __rtruediv__(self, other: Any) -> Traced:
        return self.tape._apply(operator.truediv, other, self)

    def __floordiv__(self, other: Any) -> Traced:
        return self.tape._apply(operator.floordiv, self, other)

    def __rfloordiv__(self, other: Any) -> Traced:
        return self.tape._apply(operator.floordiv, other, self)

    def __mod__(self, other: Any) -> Traced:
        return self.tape._apply(operator.mod, self, other)

    def __rmod__(self, other: Any) -> Traced:
        return self.tape._apply(operator.mod, other, self)

    def __pow__(self, other: Any) -> Traced:
        return self.tape._apply(operator.pow, self, other)

    def __rpow__(self, other: Any) -> Traced:
        return self.tape._apply(operator.pow, other, self)

    def __neg__(self) -> Traced:
        return self.tape._apply(operator.neg, self)

    def __abs__(self) -> Traced:
        return self.tape._apply(abs, self)

    # comparisons: plain bools, not counted
    def __lt__(self, other: Any) -> bool:
        return self.value < _plain(other)

    def __le__(self, other: Any) -> bool:
        return self.value <= _plain(other)

    def __gt__(self, other: Any) -> bool:
        return self.value > _plain(other)

    def __ge__(self, other: Any) -> bool:
        return self.value >= _plain(other)

    def __eq__(self, other: object) -> bool:
        return bool(self.value == _plain(other))

    def __ne__(self, other: object) -> bool:
        return bool(self.value != _plain(other))

    def __hash__(self) -> int:
        return hash(self.value)

    def __bool__(self) -> bool:
        return bool(self.value)

    # leaving the tracer would hide operations from the count
    def __float__(self) -> float:
        raise TracerError(
            "float() of a traced value: compute with the value itself so its depth can be measured"
        )

    def __int__(self) -> int:
        raise TracerError(
            "int() of a traced value: compute with the value itself so its depth can be measured"
        )

    def __index__(self) -> int:
        raise TracerError("a traced value cannot be used as an index")


def _plain(value: Any) -> Any:
    return value.value if type(value) is Traced else value
