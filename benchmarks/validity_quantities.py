"""The figures the CPU timing verdicts rest on, their tolerances, and failure messages read back.

For :mod:`benchmarks.validity`: each :class:`Quantity` reads one figure from a results
document (``extra_data.timings``) and names the ``Tolerances`` bound(s) it is held to;
:func:`failure_reading` reads the reason and the figure back from a failed check's message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from autograder.spec.settings import Tolerances

# ---- the observed quantities and their tolerances -------------------------------------------


def _record(document: dict[str, Any], check_id: str) -> Any:
    return document["extra_data"].get("timings", {}).get(check_id, {}).get("timing")


def _serial_overhead(impl: str, field: str = "ratio") -> Callable[[Any], list[float]]:
    def read(record: Any) -> list[float]:
        if not isinstance(record, dict):
            return []
        return [v[field] for k, v in record.items() if k.startswith(f"{impl}:") and field in v]

    return read


def _sweep(curve: str, field: str = "ratio") -> Callable[[Any], list[float]]:
    def read(record: Any) -> list[float]:
        rows = record.get("comparison", []) if isinstance(record, dict) else record or []
        return [row[field] for row in rows if row.get("curve") == curve and field in row]

    return read


def _time_fn(record: Any) -> list[float]:
    return [entry["relative_error"] for entry in record or []]


def _time_fn_message(output: str) -> list[float]:
    """time_fn records nothing when it fails; its message carries both durations."""
    match = re.search(r"known duration ([\d.]+) ms returned ([\d.]+) ms", output)
    if not match:
        return []
    known, got = float(match[1]), float(match[2])
    return [abs(got - known) / known]


@dataclass(frozen=True)
class Quantity:
    """One figure a timing verdict rests on, and the tolerance(s) it is held to."""

    key: str
    check: str
    label: str
    lower: str | None  # Tolerances field of the lower bound, if any
    upper: str | None  # ... of the upper bound
    as_factor: bool  # margin as a factor (ratios) rather than a difference (slope, error)
    read: Callable[[Any], list[float]]
    read_message: Callable[[str], list[float]] = field(default=lambda output: [])

    def values(self, document: dict[str, Any]) -> list[float]:
        found = self.read(_record(document, self.check))
        if not found:
            test = next((t for t in document["tests"] if t["id"] == self.check), None)
            found = self.read_message(test["output"]) if test else []
        return [float(v) for v in found]

    def bounds(self, tol: Tolerances) -> tuple[float | None, float | None]:
        return (
            getattr(tol, self.lower) if self.lower else None,
            getattr(tol, self.upper) if self.upper else None,
        )

    def margin(self, values: Sequence[float], tol: Tolerances) -> tuple[float, str]:
        """Room left at the worst observed value, and which bound is nearest."""
        low, high = self.bounds(tol)
        room = []
        if low is not None:
            worst = min(values)
            room.append((worst / low if self.as_factor else worst - low, "lower"))
        if high is not None:
            worst = max(values)
            room.append((high / worst if self.as_factor else high - worst, "upper"))
        return min(room)

    def fails_by(self, values: Sequence[float], tol: Tolerances) -> float:
        """How far outside the bounds the value nearest to passing lies (margin, inverted)."""
        beyond = []
        for value in values:
            room, _ = self.margin([value], tol)
            beyond.append(1 / room if self.as_factor and room > 0 else -room)
        return min(beyond)


QUANTITIES: tuple[Quantity, ...] = (
    Quantity(
        "easy.numpy_growth",
        "easy.numpy_vectorised_over_d",
        "numpy per-step time, d=256 over d=1",
        None,
        "numpy_growth_max",
        True,
        lambda r: [r["ratio"]] if isinstance(r, dict) else [],
    ),
    Quantity(
        "easy.python_growth",
        "easy.python_grows_with_d",
        "pure-Python per-step time, d=256 over d=1",
        "python_growth_min",
        None,
        True,
        lambda r: [r["ratio"]] if isinstance(r, dict) else [],
    ),
    Quantity(
        "easy.reported_python",
        "easy.serial_overhead_consistent",
        "serial_overhead claimed / judge CPU time, impl=python",
        "reported_ratio_min",
        None,
        True,
        _serial_overhead("python"),
    ),
    Quantity(
        "easy.reported_python_wall",
        "easy.serial_overhead_consistent",
        "serial_overhead claimed / judge wall time, impl=python",
        None,
        "reported_ratio_max",
        True,
        _serial_overhead("python", "ratio_to_wall"),
    ),
    Quantity(
        "easy.reported_numpy",
        "easy.serial_overhead_consistent",
        "serial_overhead claimed / judge CPU time, impl=numpy",
        "reported_ratio_min",
        None,
        True,
        _serial_overhead("numpy"),
    ),
    Quantity(
        "easy.reported_numpy_wall",
        "easy.serial_overhead_consistent",
        "serial_overhead claimed / judge wall time, impl=numpy",
        None,
        "reported_ratio_max",
        True,
        _serial_overhead("numpy", "ratio_to_wall"),
    ),
    Quantity(
        "hard.time_fn_error",
        "hard.time_fn_accurate_cpu",
        "time_fn relative error on a judge-held wait of 10-12 / 20-25 ms",
        None,
        "time_fn_rel_error",
        False,
        _time_fn,
        _time_fn_message,
    ),
    Quantity(
        "hard.reported_rnn",
        "hard.sweep_rows_cpu",
        "sweep claimed / judge CPU time, rnn_seconds",
        "reported_ratio_min",
        None,
        True,
        _sweep("rnn_seconds"),
    ),
    Quantity(
        "hard.reported_rnn_wall",
        "hard.sweep_rows_cpu",
        "sweep claimed / judge wall time, rnn_seconds",
        None,
        "reported_ratio_max",
        True,
        _sweep("rnn_seconds", "ratio_to_wall"),
    ),
    Quantity(
        "hard.reported_attention",
        "hard.sweep_rows_cpu",
        "sweep claimed / judge CPU time, attention_seconds",
        "reported_ratio_min",
        None,
        True,
        _sweep("attention_seconds"),
    ),
    Quantity(
        "hard.reported_attention_wall",
        "hard.sweep_rows_cpu",
        "sweep claimed / judge wall time, attention_seconds",
        None,
        "reported_ratio_max",
        True,
        _sweep("attention_seconds", "ratio_to_wall"),
    ),
    Quantity(
        "hard.rnn_slope",
        "hard.curve_shapes_cpu",
        "log-log slope of the serial curve, n=256..4,096",
        "rnn_slope_min",
        "rnn_slope_max",
        False,
        lambda r: [r["rnn_slope"]] if isinstance(r, dict) else [],
    ),
    Quantity(
        "hard.reduction_ratio",
        "hard.curve_shapes_cpu",
        "student reduction / xs.mean(), n=64 and 65,536",
        None,
        "reduction_ratio_max",
        True,
        lambda r: list(r["reduction_ratio"].values()) if isinstance(r, dict) else [],
    ),
)


# ---- what a failure message says about how far off a broken submission was ----------------

# since 55ecef1 a reported time must lie between the judge's CPU time x reported_ratio_min and
# its wall time x reported_ratio_max; the message gives both ratios and both bounds
_REPORTED = (
    r"\(([\d.]+)x and ([\d.]+)x; allowed at least ([\d.]+)x the CPU time and at most "
    r"([\d.]+)x the wall time\)"
)

_READINGS: tuple[tuple[str, str, Callable[[re.Match], float | None]], ...] = (
    ("clock replaced (integrity)", r"was replaced: timings cannot be trusted", lambda m: None),
    (
        "time_fn relative error",
        r"known duration ([\d.]+) ms returned ([\d.]+) ms",
        lambda m: abs(float(m[2]) - float(m[1])) / float(m[1]),
    ),
    ("called fn too few times", r"called fn only (\d+) times", lambda m: float(m[1])),
    ("claimed / judge time", _REPORTED, lambda m: None),  # label and figure: _reported
    ("claimed / observed", r"\(([\d.]+)x, allowed", lambda m: float(m[1])),  # before 55ecef1
    ("reported a size it never ran", r"never called", lambda m: None),
    ("claimed more than the call took", r"but the whole call took", lambda m: None),
    (
        "staging / reference staging (work done ahead)",
        r"staging \d+ inputs took ([\d.]+) ms in your worker against ([\d.]+) ms",
        lambda m: float(m[1]) / max(float(m[2]), 1e-9),
    ),
    ("wrong value while timed", r"returned a wrong value while being timed", lambda m: None),
    ("did not run fn repeats times", r"did not run fn \d+ times", lambda m: None),
    ("reduction / xs.mean()", r"takes ([\d.]+)x the time of the reference", lambda m: float(m[1])),
    ("serial slope", r"grows like n\^(-?[\d.]+)", lambda m: float(m[1])),
    ("growth d=256 / d=1", r"per-step time grew (?:only )?([\d.]+)x", lambda m: float(m[1])),
)


# (check, reason) -> the quantity a failure figure is, to set it against its bound
REASON_QUANTITY: dict[tuple[str, str], str] = {
    ("easy.numpy_vectorised_over_d", "growth d=256 / d=1"): "easy.numpy_growth",
    ("easy.python_grows_with_d", "growth d=256 / d=1"): "easy.python_growth",
    ("easy.serial_overhead_consistent", "claimed / observed"): "easy.reported_python",
    ("easy.serial_overhead_consistent", "claimed / judge CPU time"): "easy.reported_python",
    ("easy.serial_overhead_consistent", "claimed / judge wall time"): "easy.reported_python_wall",
    ("hard.sweep_rows_cpu", "claimed / judge CPU time"): "hard.reported_rnn",
    ("hard.sweep_rows_cpu", "claimed / judge wall time"): "hard.reported_rnn_wall",
    ("hard.time_fn_accurate_cpu", "time_fn relative error"): "hard.time_fn_error",
    ("hard.sweep_rows_cpu", "claimed / observed"): "hard.reported_rnn",
    ("hard.curve_shapes_cpu", "reduction / xs.mean()"): "hard.reduction_ratio",
    ("hard.curve_shapes_cpu", "serial slope"): "hard.rnn_slope",
}


def _reported(match: re.Match) -> tuple[str, float]:
    """A reported time fails below CPU time x min or above wall time x max: which one, by how
    much (the message carries both ratios and both bounds)."""
    low, high, least = float(match[1]), float(match[2]), float(match[3])
    return ("claimed / judge CPU time", low) if low < least else ("claimed / judge wall time", high)


def failure_reading(output: str) -> tuple[str, float | None]:
    """The verdict's reason and figure, read from a failed check's message."""
    for label, pattern, value in _READINGS:
        match = re.search(pattern, output)
        if match:
            return _reported(match) if pattern is _REPORTED else (label, value(match))
    return "other: " + output.splitlines()[0][:70] if output else "other", None
