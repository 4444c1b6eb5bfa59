"""Medium exercise (40 points): a parallel prefix sum, and its depth.

The lesson asks: "Implement a parallel prefix-sum (Hillis-Steele scan) in pure
Python. Verify it produces the same numerical output as a serial scan on length
1024. Count the depth."

A scan (prefix sum) turns ``[x0, x1, x2, ...]`` into ``[x0, x0+x1, x0+x1+x2, ...]``.
The serial scan is an RNN in miniature: each output needs the one before it, so
its dependency depth is n - 1. Hillis-Steele works in rounds instead: in round k
every position j >= 2**k combines with the position 2**k to its left, and all
of those combinations are independent of each other. After ceil(log2 n) rounds
every position holds its whole prefix. It does more work (about n log2 n
applications instead of n - 1) at a far smaller depth: the lesson's trade.

What is graded (``python -m autograder grade --only medium``):

* both scans equal a reference serial scan on length 1024 (random integers
  exactly, floats within a tight tolerance) and on lengths 0, 1, 2 and
  non-powers of two;
* a non-commutative associative ``op`` (string concatenation, matrix product):
  the earlier element must always be the *left* operand;
* depth and work, measured by running your scan on traced values
  (``reference/tracer.py``) at lengths from 2 to 1025, never by trusting
  ``scan_depth``; a serial scan in disguise gets no depth points, and the
  message says what the depth looked like (Hillis-Steele's rounds, another
  log-depth scan such as Blelloch's, or a serial chain);
* ``scan_depth`` and ``scan_work`` against that measurement, up to n = 2**60 + 1
  (where float ``log2`` rounds wrongly), and their ``ValueError`` for negative n.

What can be traced: the depth is measured on plain Python values, combined only
with the ``op`` you are given. Traced values stand in for the elements, so
``hillis_steele_scan`` must work on a plain list of them: no numpy arrays or
torch tensors (they cannot hold traced values), and no ``float()``, ``int()``,
comparisons or ``if`` on an element.

Check your work locally with ``python -m autograder grade --only medium`` (or
``make grade`` for every exercise). To watch the depth yourself::

    from reference.tracer import Tape, max_depth
    tape = Tape()
    out = hillis_steele_scan(tape.inputs(range(1024)), tape.wrap(operator.add))
    print(max_depth(out), tape.work)
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def serial_scan(xs: Sequence[T], op: Callable[[T, T], T] = operator.add) -> list[T]:
    """Inclusive scan, left to right: ``out[j] = op(out[j - 1], xs[j])``.

    The baseline to check the parallel scan against, and the RNN shape of the
    problem: every output waits for the previous one (depth n - 1). Apply ``op``
    exactly n - 1 times and return a new list (``[]`` for empty input).

    Hint: about 4 lines.
    """
    ### BEGIN SOLUTION
    out: list[T] = []
    for x in xs:
        out.append(op(out[-1], x) if out else x)
    return out
    ### END SOLUTION


def hillis_steele_scan(xs: Sequence[T], op: Callable[[T, T], T] = operator.add) -> list[T]:
    """Inclusive scan in ceil(log2 n) rounds of independent combinations.

    Round k (k = 0, 1, 2, ...) builds a *new* list from the previous one::

        new[j] = op(prev[j - 2**k], prev[j])   for j >= 2**k
        new[j] = prev[j]                       for j <  2**k

    and the rounds stop once 2**k >= n. Within one round no combination reads
    another one's result, which is what makes a round one parallel step.

    Works for any associative ``op``, commutative or not (the earlier element is
    always the left operand), and any length, 0 included. Apply ``op`` only for
    the combinations above (round k applies it n - 2**k times) and return a list.

    Hint: about 6 lines; round k reads ``prev[j - 2**k]``. Updating one list in
    place would let a round read values it has just written.
    """
    ### BEGIN SOLUTION
    prev = list(xs)
    offset = 1  # 2**k in round k
    while offset < len(prev):
        prev = prev[:offset] + [op(prev[j - offset], prev[j]) for j in range(offset, len(prev))]
        offset *= 2
    return prev
    ### END SOLUTION


def scan_depth(n: int) -> int:
    """Rounds Hillis-Steele needs on n elements: ceil(log2 n), and 0 for n <= 1.

    This is the dependency depth of the scan: the number of ``op`` applications
    on the longest chain from an input to an output. Use integer arithmetic
    (``int.bit_length``): floating-point ``log2`` rounds wrongly for large n.
    Negative n raises ``ValueError``.
    """
    ### BEGIN SOLUTION
    if n < 0:
        raise ValueError(f"a sequence cannot have negative length, got n={n}")
    return (n - 1).bit_length() if n > 1 else 0
    ### END SOLUTION


def scan_work(n: int) -> int:
    """``op`` applications Hillis-Steele performs on n elements.

    Round k combines every position j >= 2**k, so the total is the sum over
    rounds of (n - 2**k): about n log2 n, against n - 1 for the serial scan.
    Negative n raises ``ValueError``.
    """
    ### BEGIN SOLUTION
    return sum(n - 2**k for k in range(scan_depth(n)))
    ### END SOLUTION
