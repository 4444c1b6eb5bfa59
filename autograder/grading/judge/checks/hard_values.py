"""The hard exercise's expected values, and how a returned value is read and compared.

The references the judge computes itself (float64, from the inputs it drew), the reading of
a returned 0-dim tensor, and the comparisons the correctness and timed checks share.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograder.grading.judge.checks.support import CheckFailed, describe
from autograder.grading.worker.protocol import ArrayValue


def rnn_reference(values: np.ndarray) -> float:
    """h = 0.9 h + x over ``values``, in closed form (float64)."""
    values = np.asarray(values, dtype=np.float64)
    return float(0.9 ** np.arange(len(values) - 1, -1, -1) @ values)


def mean_reference(values: np.ndarray) -> float:
    """The mean of ``values`` (float64): what attention_style_torch computes."""
    return float(np.asarray(values, dtype=np.float64).mean())


REFERENCES = {"attention_style_torch": mean_reference, "rnn_style_torch": rnn_reference}


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


def verifier(expected_of: Callable[[np.ndarray], float]) -> Callable[[list, Any], str | None]:
    """A timed call's output against ``expected_of`` its input, within the checks' 1e-3."""

    def verify(args, output) -> str | None:
        expected = expected_of(args[0].values)
        if type(output) is not ArrayValue or output.shape != ():
            return f"got {describe(output)}"
        got = float(np.asarray(output.values, dtype=np.float64))
        return None if close(expected, got, 1e-3) else f"expected {expected!r}, got {got!r}"

    return verify


VERIFY = {function: verifier(reference) for function, reference in REFERENCES.items()}
