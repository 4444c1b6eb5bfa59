"""The hard exercise's expected values, and how a returned value is read and compared.

The references the judge computes itself (float64, from the inputs it drew), the reading of
a returned 0-dim tensor, and the comparisons the correctness and timed checks share.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograder.grading.judge.checks.numbers import worker_seconds
from autograder.grading.judge.checks.support import CheckFailed, describe
from autograder.grading.worker.protocol import ArrayValue, TensorWindow


def rnn_reference(values: np.ndarray) -> float:
    """h = 0.9 h + x over ``values``, in closed form (float64)."""
    return float(rnn_references(np.asarray(values)[None, :])[0])


def rnn_references(rows: np.ndarray) -> np.ndarray:
    """:func:`rnn_reference` of each row of a 2-D array at once."""
    rows = np.asarray(rows, dtype=np.float64)
    return rows @ 0.9 ** np.arange(rows.shape[1] - 1, -1, -1)


def mean_reference(values: np.ndarray) -> float:
    """The mean of ``values`` (float64): what attention_style_torch computes."""
    return float(np.asarray(values, dtype=np.float64).mean())


def mean_references(rows: np.ndarray) -> np.ndarray:
    """:func:`mean_reference` of each row of a 2-D array at once (summed in float64 chunk by
    chunk: a float64 copy of a 32 x 65,536 pool costs 16 ms of page faults)."""
    return np.asarray(rows).mean(axis=1, dtype=np.float64)


REFERENCES = {"attention_style_torch": mean_reference, "rnn_style_torch": rnn_reference}
ROW_REFERENCES = {"attention_style_torch": mean_references, "rnn_style_torch": rnn_references}


def scalar(got, *, what: str, device: str) -> float:
    """The value of a 0-dim tensor on ``device``; anything else fails the check."""
    if type(got) is not ArrayValue or got.kind != "tensor":
        raise CheckFailed(f"{what} should return a torch.Tensor, got {describe(got)}")
    if got.shape != ():
        raise CheckFailed(f"{what} should return a 0-dim tensor, got shape {got.shape}")
    if got.device.split(":")[0] != device.split(":")[0]:
        raise CheckFailed(f"{what} returned a tensor on {got.device}, expected {device}")
    return float(np.asarray(got.values, dtype=np.float64))


def close(expected: float, got: float, rel: float) -> bool:
    return abs(expected - got) <= rel * max(1.0, abs(expected))


def expect_close(expected: float, got: float, *, what: str, rel: float, given: str) -> None:
    if not close(expected, got, rel):
        raise CheckFailed(f"{what}: expected {expected!r}, got {got!r} (input: {given})")


class _PoolReferences:
    """Expected values of a batch's windows, computed for the whole pool at once.

    A timed sample's K inputs are disjoint windows ``pool[i*n:(i+1)*n]``
    (:func:`~autograder.grading.judge.checks.timing.windows`); one vectorised pass over the
    pool replaces K calls of the reference (about 4 us each: 7 ms of a sample at n=64).
    The last pool is held, so its id cannot name another array while it is cached.
    """

    def __init__(self, of_rows: Callable[[np.ndarray], np.ndarray]) -> None:
        self.of_rows = of_rows
        self.pool: np.ndarray | None = None
        self.n = 0
        self.values: np.ndarray = np.empty(0)

    def expected(self, window: TensorWindow) -> float | None:
        """The reference for ``window``, or None when it is no aligned window of its pool."""
        pool, n, offset = window.pool, window.n, window.offset
        if type(pool) is not np.ndarray or pool.ndim != 1 or n < 1 or offset % n or pool.size % n:
            return None
        if pool is not self.pool or n != self.n:
            self.pool, self.n = pool, n
            self.values = self.of_rows(pool.reshape(-1, n))
        return float(self.values[offset // n])


def verifier(
    expected_of: Callable[[np.ndarray], float],
    of_rows: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Callable[[list, Any], str | None]:
    """A timed call's output against ``expected_of`` its input, within the checks' 1e-3
    (``of_rows``: the same for each row of a 2-D array, used for windows of one pool)."""
    pooled = _PoolReferences(of_rows) if of_rows is not None else None

    def verify(args, output) -> str | None:
        expected = pooled.expected(args[0]) if pooled and type(args[0]) is TensorWindow else None
        if expected is None:
            expected = expected_of(args[0].values)
        if type(output) is not ArrayValue or output.shape != ():
            return f"got {describe(output)}"
        got = float(np.asarray(output.values, dtype=np.float64))
        return None if close(expected, got, 1e-3) else f"expected {expected!r}, got {got!r}"

    return verify


VERIFY = {
    function: verifier(reference, ROW_REFERENCES[function])
    for function, reference in REFERENCES.items()
}


ROW_KEYS = ("n", "rnn_seconds", "attention_seconds")


def validate_rows(rows: Any, lengths: Any) -> list[dict]:
    """A sweep's rows: one dict per length, its ``n``, and a duration for each curve (gated)."""
    if type(rows) is not list or len(rows) != len(lengths):
        raise CheckFailed(
            f"sweep({list(lengths)}) should return {len(lengths)} rows, got {describe(rows)}"
        )
    clean = []
    for index, (row, n) in enumerate(zip(rows, lengths, strict=True)):
        if type(row) is not dict or not all(key in row for key in ROW_KEYS):
            raise CheckFailed(
                f"row {index} should be a dict with keys {ROW_KEYS}, got {describe(row)}"
            )
        if type(row["n"]) is not int or row["n"] != n:
            raise CheckFailed(f"row {index}: expected n={n}, got {describe(row['n'])}")
        values = {"n": n} | {
            key: worker_seconds(row[key], what=f"row {index} (n={n}) {key}") for key in ROW_KEYS[1:]
        }
        clean.append(values)
    return clean
