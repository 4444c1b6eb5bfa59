"""Challenge exercise (extra credit, 10 points): a linear recurrence is a scan.

The exercise: "An RNN's linear recurrence is itself a scan." Parallelise
h_t = a_t * h_{t-1} + x_t (with h_{-1} = 0) with an associative operator on
(a, x) pairs and the Hillis-Steele scan.

Each step t is an affine map ``h -> a_t * h + x_t``. Two affine maps compose
into one affine map, and composition is associative, so the prefix compositions
can be computed with the same scan as a prefix sum: ceil(log2 n) rounds instead
of n serial steps. This is the idea behind the parallel training of state-space
models (S4, Mamba): the recurrence stays, the serial depth goes.

What is graded (``python -m autograder grade --only challenge``):

* ``linear_recurrence`` equals the serial recurrence on length 1024 (floats,
  tight tolerance), handles lengths 0, 1 and non-powers of two, and raises
  ``ValueError`` when the lengths differ;
* ``combine`` is associative and composes in the right order;
* the depth, measured by running your code on traced floats
  (``reference/tracer.py``) at lengths from 3 to 1024, must grow
  logarithmically. Hillis-Steele's ceil(log2 n) rounds of ``combine`` put a
  multiply and an add on the longest chain per round, 2 * ceil(log2 n)
  operations when n is a power of two; any other log-depth scan over
  ``combine`` (Blelloch, Brent-Kung, divide and conquer: at most
  2 * ceil(log2 n) + 2 levels of ``combine``) is accepted too. A serial loop or
  a scan over blocks grows faster and is not.

What can be traced: the depth is measured on plain Python floats, combined with
``combine`` and ``+ - * /``. Traced values stand in for the elements of ``a`` and
``x``, so write the scan over plain lists of pairs: numpy arrays and torch
tensors cannot hold traced values, and ``float()``, comparisons or ``if`` on an
element need the number the tracer hides.

Each module is graded on its own, so write the scan here rather than importing
it from ``medium_parallel_scan``. Check locally with
``python -m autograder grade --only challenge`` (or ``make grade``).
"""

from __future__ import annotations

from collections.abc import Sequence


def combine(left: tuple[float, float], right: tuple[float, float]) -> tuple[float, float]:
    """Compose two affine steps ``h -> a * h + x``, the earlier step on the left.

    Applying ``(a1, x1)`` and then ``(a2, x2)`` to h gives
    ``a2 * (a1 * h + x1) + x2``: again of the form ``a * h + x``. Return that
    pair. The composition is associative, which is all a scan needs; it is not
    commutative, so the order of the arguments matters.

    Hint: 3 lines.
    """
    ### BEGIN SOLUTION
    a_left, x_left = left
    a_right, x_right = right
    return a_left * a_right, a_right * x_left + x_right
    ### END SOLUTION


def linear_recurrence(a: Sequence[float], x: Sequence[float]) -> list[float]:
    """All h_t of ``h_t = a[t] * h_{t-1} + x[t]`` (h_{-1} = 0), computed as a scan.

    Scan the pairs ``(a[t], x[t])`` with ``combine`` using Hillis-Steele rounds
    (round k combines position j with position j - 2**k of the previous round).
    The prefix up to t is one affine map ``h -> A * h + X``; applied to
    h_{-1} = 0 it gives h_t = X, so read off the x-component and do no other
    arithmetic: the depth is then that of the ceil(log2 n) rounds of ``combine``.

    Lengths that differ raise ``ValueError``; empty input gives ``[]``.

    Hint: about 8 lines.
    """
    ### BEGIN SOLUTION
    if len(a) != len(x):
        raise ValueError(f"a and x must have the same length, got {len(a)} and {len(x)}")
    prefixes = list(zip(a, x, strict=True))
    offset = 1  # 2**k in round k
    while offset < len(prefixes):
        prefixes = prefixes[:offset] + [
            combine(prefixes[j - offset], prefixes[j]) for j in range(offset, len(prefixes))
        ]
        offset *= 2
    return [h for _, h in prefixes]
    ### END SOLUTION
