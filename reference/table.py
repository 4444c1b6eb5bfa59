"""The lesson's timing table (Steps 1 and 3) and its Step 2, measured instead of asserted.

The lesson times ``rnn_style`` against ``attention_style`` and then states their dependency
depths by formula (N and log N). Here the depths are read off the code itself, by running it
on traced inputs (:mod:`reference.tracer`), so the table shows where the code as written
differs from the formula: Python's ``sum`` is a left fold, so ``attention_style`` is as deep
as the RNN, and only ``tree_mean`` has the log N depth the lesson means.

``python -m reference`` prints both tables; the functions here are the same thing for Python
callers and the tests.
"""

from __future__ import annotations

import gc
import platform
import random
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from reference.lesson import attention_style, rnn_style, tree_mean
from reference.tracer import Tape

__all__ = [
    "DEFAULT_LENGTHS",
    "DEFAULT_REPEATS",
    "DEFAULT_SIZES",
    "DEFAULT_WARMUP",
    "FUNCTIONS",
    "depth_table",
    "format_depth_table",
    "format_timing_table",
    "plot_table",
    "timing_table",
]

DEFAULT_LENGTHS = (10, 100, 1_000, 10_000, 100_000)  # the lesson's "up to 100,000"
# The course's table also has 262,144; tracing it takes a few seconds, so it is opt-in (--sizes).
DEFAULT_SIZES = (64, 512, 4_096, 32_768)
DEFAULT_REPEATS = 11  # timed samples per function and length; the median is reported
DEFAULT_WARMUP = 2  # untimed samples first, so caches and the allocator have settled
# Each timed sample runs the function on about this many elements in total (several calls on
# short inputs), so a sample at N = 10 lasts milliseconds, well above the clock's resolution.
ELEMENTS_PER_SAMPLE = 200_000
DEFAULT_SEED = 0

# The three reductions, keyed by the short name used in table keys (rnn_seconds, ...).
FUNCTIONS: dict[str, Callable[[Sequence[Any]], Any]] = {
    "rnn": rnn_style,
    "attention": attention_style,
    "tree": tree_mean,
}

# What the lesson's Step 2 asserts for each function's depth, as (formula text, formula).
LESSON_DEPTH: dict[str, tuple[str, Callable[[int], int]]] = {
    "rnn": ("N", lambda n: n),
    "attention": ("ceil(log2 N)", lambda n: ceil_log2(n)),
    "tree": ("ceil(log2 N)", lambda n: ceil_log2(n)),
}

DEPTH_NOTE = """\
Where the measurement and the lesson's formula differ:
  rnn_style        depth 2N-1, not N: each step is a multiply then an add, and the first
                   multiply (0.9 * 0.0) touches no input. Linear either way.
  attention_style  depth N+1 as written, linear like the RNN: Python's sum is a left fold,
                   ((0 + x0) + x1) + ..., so every add waits for the one before (+1 is the
                   division). The lesson's "no step depends on another" holds for the maths,
                   not for this code; the lesson glosses over it.
  tree_mean        depth ceil(log2 N)+1: the pairwise tree reduction is the log N depth the
                   lesson means (+1 for the division).
All three do about the same work (N to 2N operations): only the depth differs, and depth is
what parallel hardware can shorten."""

TIMING_NOTE = """\
One CPU core does every add in turn whatever the depth, so this table shows interpreter cost,
not depth: sum() runs its loop in C, while rnn_style and tree_mean pay the interpreter for
every element. Depth pays off only on parallel hardware (the hard exercise's GPU sweep)."""


def ceil_log2(n: int) -> int:
    """ceil(log2 n) in exact integer arithmetic (0 for n <= 1), the lesson's tree depth."""
    return (n - 1).bit_length() if n > 1 else 0


def _seconds_per_call(fn: Callable[[Sequence[Any]], Any], xs: Sequence[Any], calls: int) -> float:
    """One timed sample: ``calls`` back-to-back calls of ``fn(xs)``, divided by ``calls``."""
    start = time.perf_counter()
    for _ in range(calls):
        fn(xs)
    return (time.perf_counter() - start) / calls


def timing_table(
    lengths: Sequence[int] = DEFAULT_LENGTHS,
    *,
    repeats: int = DEFAULT_REPEATS,
    warmup: int = DEFAULT_WARMUP,
    seed: int = DEFAULT_SEED,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Median seconds per call of each lesson function at each length, plus ratio and ns/element.

    The three functions are timed in turn within each repeat (not one after the other over
    the whole run), so a slow phase of the machine affects all of them alike and the ratio
    stays meaningful. The garbage collector is paused while timing, as :mod:`timeit` does.
    ``progress`` receives one line per finished length (the CLI sends it to stderr).
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(f"repeats must be >= 1 and warmup >= 0, got {repeats} and {warmup}")
    if any(n < 1 for n in lengths):
        raise ValueError(f"lengths must be positive, got {list(lengths)}")
    rng = random.Random(seed)
    rows = []
    for n in lengths:
        started = time.perf_counter()
        xs = [rng.random() for _ in range(n)]
        calls = max(1, ELEMENTS_PER_SAMPLE // n)
        samples: dict[str, list[float]] = {name: [] for name in FUNCTIONS}
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            for repeat in range(warmup + repeats):
                for name, fn in FUNCTIONS.items():
                    timing = _seconds_per_call(fn, xs, calls)
                    if repeat >= warmup:
                        samples[name].append(timing)
        finally:
            if gc_was_enabled:
                gc.enable()
        row: dict[str, Any] = {"n": n, "calls_per_sample": calls, "repeats": repeats}
        for name in FUNCTIONS:
            row[f"{name}_seconds"] = statistics.median(samples[name])
        row["rnn_over_attention"] = row["rnn_seconds"] / row["attention_seconds"]
        for name in FUNCTIONS:
            row[f"{name}_ns_per_element"] = row[f"{name}_seconds"] / n * 1e9
        rows.append(row)
        if progress is not None:
            progress(f"timed n={n:,} in {time.perf_counter() - started:.2f} s")
    return rows


def measure_depth(fn: Callable[[Sequence[Any]], Any], n: int) -> tuple[int, int]:
    """(work, depth) of ``fn`` on ``n`` traced inputs: operations behind the result, chain."""
    tape = Tape()
    result = fn(tape.inputs(float(i) for i in range(n)))
    if not tape.owns(result):  # the result escaped the tracer: nothing was measured
        raise TypeError(f"{fn.__name__} returned an untraced {type(result).__name__}")
    return result.work, result.depth


def depth_table(sizes: Sequence[int] = DEFAULT_SIZES) -> list[dict[str, Any]]:
    """One row per (N, function): measured work and depth beside the lesson's formula.

    Work counts the distinct operations the result depends on; depth is the longest chain of
    operations from an input to the result (see :mod:`reference.tracer` for the exact rules).
    """
    if any(n < 1 for n in sizes):
        raise ValueError(f"sizes must be positive, got {list(sizes)}")
    rows = []
    for n in sizes:
        for name, fn in FUNCTIONS.items():
            work, depth = measure_depth(fn, n)
            formula_text, formula = LESSON_DEPTH[name]
            rows.append(
                {
                    "n": n,
                    "function": fn.__name__,
                    "work": work,
                    "depth": depth,
                    "lesson_depth": formula(n),
                    "lesson_formula": formula_text,
                }
            )
    return rows


def _duration(seconds: float) -> str:
    """A duration with a unit that keeps three significant figures readable."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def format_timing_table(rows: Sequence[dict[str, Any]]) -> str:
    """The timing table as fixed-width text, with the settings and a note on what it shows."""
    repeats = rows[0]["repeats"] if rows else DEFAULT_REPEATS
    lines = [
        f"Steps 1 and 3, timed: median time per call over {repeats} samples after warm-up "
        f"(CPython {platform.python_version()}, random floats)",
        f"{'N':>9}  {'rnn_style':>10}  {'attention_style':>15}  {'tree_mean':>10}  "
        f"{'rnn/attention':>13}  {'ns per element: rnn':>19}  {'attention':>9}  {'tree':>6}",
    ]
    for row in rows:
        lines.append(
            f"{row['n']:>9,}  {_duration(row['rnn_seconds']):>10}  "
            f"{_duration(row['attention_seconds']):>15}  {_duration(row['tree_seconds']):>10}  "
            f"{row['rnn_over_attention']:>12.1f}x  {row['rnn_ns_per_element']:>19.1f}  "
            f"{row['attention_ns_per_element']:>9.1f}  {row['tree_ns_per_element']:>6.1f}"
        )
    return "\n".join([*lines, "", TIMING_NOTE])


def format_depth_table(rows: Sequence[dict[str, Any]]) -> str:
    """The measured work/depth table, the lesson's formula beside each depth, and the note."""
    lines = [
        "Step 2, measured: work and dependency depth of each function run on traced inputs",
        f"{'N':>9}  {'function':<16}  {'work':>8}  {'depth':>8}  {'lesson says':>20}",
    ]
    previous_n = None
    for row in rows:
        if previous_n is not None and row["n"] != previous_n:
            lines.append("")
        previous_n = row["n"]
        lesson = f"{row['lesson_formula']} = {row['lesson_depth']:,}"
        lines.append(
            f"{row['n']:>9,}  {row['function']:<16}  {row['work']:>8,}  {row['depth']:>8,}  "
            f"{lesson:>20}"
        )
    return "\n".join([*lines, "", DEPTH_NOTE])


def plot_table(rows: Sequence[dict[str, Any]], path: str | Path) -> Figure:
    """Log-log plot of the timing table, one line per function, saved to ``path``.

    Built on :class:`matplotlib.figure.Figure` directly (no pyplot), so it works without a
    display and leaves no global figure state behind. Parent directories are created.
    """
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    axes = figure.add_subplot()
    lengths = [row["n"] for row in rows]
    for name, fn in FUNCTIONS.items():
        axes.plot(lengths, [row[f"{name}_seconds"] for row in rows], marker="o", label=fn.__name__)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("sequence length N (elements)")
    axes.set_ylabel("median time per call (s)")
    axes.set_title("Serial recurrence vs reductions in pure Python")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    return figure
