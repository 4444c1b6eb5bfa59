"""The grader's own stopwatch: warm-up, device synchronisation, interleaving, medians.

Verdicts compare functions measured *in the same run*, round-robin, so a busy
machine slows every contender alike and the ratio survives. The clock is the
one :mod:`support` bound before the submission was imported.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence

from autograder.checks import support


def synchronizer(device: str) -> Callable[[], None]:
    """A function that waits until queued work on ``device`` is finished."""
    if device.startswith("cuda"):
        import torch

        return torch.cuda.synchronize
    return lambda: None


def interleaved_medians(
    contenders: Mapping[str, Callable[[], object]],
    *,
    device: str = "cpu",
    repeats: int = 9,
    warmup: int = 2,
    min_sample_s: float = 2e-4,
) -> dict[str, float]:
    """Median seconds per call of each contender, timed round-robin.

    Each sample times ``number`` back-to-back calls (chosen per contender so a
    sample lasts at least ``min_sample_s``) to keep clock resolution out of the
    figure, with the device synchronised before and after.
    """
    clock = support.CLOCK
    sync = synchronizer(device)
    numbers: dict[str, int] = {}
    for name, fn in contenders.items():
        for _ in range(warmup):
            fn()
        sync()
        start = clock()
        fn()
        sync()
        once = max(clock() - start, 1e-7)
        numbers[name] = max(1, min(1000, math.ceil(min_sample_s / once)))
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            number = numbers[name]
            sync()
            start = clock()
            for _ in range(number):
                fn()
            sync()
            samples[name].append((clock() - start) / number)
    return {name: statistics.median(values) for name, values in samples.items()}


def loglog_slope(ns: Sequence[float], seconds: Sequence[float]) -> float:
    """Least-squares slope of log(seconds) against log(n): 1 for linear, 0 for flat."""
    xs = [math.log(n) for n in ns]
    ys = [math.log(max(s, 1e-12)) for s in seconds]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    num = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    den = sum((x - mean_x) ** 2 for x in xs)
    return num / den
