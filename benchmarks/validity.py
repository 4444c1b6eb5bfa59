"""Are the CPU timing verdicts valid under noise? No false failures, no false passes, measured.

The reference solutions are graded many times while another process keeps the other
core(s) busy: every timing check that does not pass is a false failure, and each observed
ratio is set against its tolerance to show how much room is left. The project's broken
timing submissions are graded the same way, interleaved with those runs so both see the
same load: each must fail its timing checks in every run, and by how much is recorded too.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.grading import supervisor
from autograder.spec.registry import CHECKS, Check
from autograder.spec.settings import Tolerances
from benchmarks.grading_time import GradeRun, Spread, grade_once
from benchmarks.submissions import SOLUTIONS_DIR, build_submission

# The busy loop exits on its own once its parent is gone (its parent pid changes), so even a
# bench killed with SIGKILL leaves no spinning process behind. The parent's pid is passed in,
# not read at start: a parent that dies before the loop starts must not be missed.
BUSY_LOOP = (
    "import os, sys\n"
    "parent = int(sys.argv[1])\n"
    "while os.getppid() == parent:\n"
    "    for _ in range(2_000_000):\n"
    "        pass\n"
)


def start_busy_loop() -> subprocess.Popen:
    """One process spinning on a core (``while True: pass``) until killed or orphaned."""
    return subprocess.Popen(
        [sys.executable, "-c", BUSY_LOOP, str(os.getpid())],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@dataclass(frozen=True)
class Case:
    """A submission graded beside the reference, and the verdicts it must get."""

    exercises: tuple[str, ...]
    what: str
    must_fail: frozenset[str] = frozenset()  # timing checks it must fail in every run
    may_fail: frozenset[str] = frozenset()  # timing checks not judged (see ``what``)

    @property
    def honest(self) -> bool:
        return not self.must_fail and not self.may_fail


# Built by benchmarks.submissions.build_submission: tests/submissions/<name>/ or a PROBE. The
# project cases have the expectations of tests/test_grader_adversarial.py (and
# tests/test_benchmarks.py for time_fn_async_cpu), but for patched_clock's curve shapes, which
# the judge times itself since the judge/worker split; every other timing check must pass.
CASES: dict[str, Case] = {
    "other_styles": Case(
        ("easy", "hard"),
        "correct in another style: sum()/numel(), in-place numpy, perf_counter_ns",
    ),
    "python_loop_reduction": Case(
        ("hard",),
        "serial reduction: the mean as a Python loop over elements",
        frozenset({"hard.curve_shapes_cpu"}),
    ),
    "made_up_timings": Case(
        ("hard",),
        "fabricated sweep timings, measured by nobody",
        frozenset({"hard.sweep_rows_cpu"}),
    ),
    "patched_clock": Case(
        ("hard",),
        "time.perf_counter patched at import to run 100x slow; the curve shapes are the "
        "judge's own timing of honest functions, which the worker's clock cannot touch",
        frozenset({"hard.time_fn_accurate_cpu", "hard.sweep_rows_cpu"}),
    ),
    "time_fn_async_cpu": Case(
        ("hard",),
        "time_fn that starts fn in a thread and times only the start (the CPU analogue of a "
        "CUDA time_fn without synchronize); its sweep rows are not judged: a thread start "
        "that waits for the GIL can last as long as a short call",
        frozenset({"hard.time_fn_accurate_cpu"}),
        frozenset({"hard.sweep_rows_cpu"}),
    ),
    "sleeps_for_ratio": Case(
        ("easy", "hard"),
        "forging: sleeps in proportion to d (the pure-Python version calling numpy) and to n "
        "(the recurrence in closed form) to fake the growth of real work; the judge's CPU "
        "clock does not count sleeping",
        frozenset({"easy.python_grows_with_d", "hard.curve_shapes_cpu"}),
    ),
    "numpy_via_lists": Case(
        ("easy",),
        "probe: the numpy version runs the pure-Python loop on lists",
        frozenset({"easy.numpy_vectorised_over_d"}),
    ),
    "python_via_numpy": Case(
        ("easy",),
        "probe: the pure-Python version hands the work to numpy",
        frozenset({"easy.python_grows_with_d"}),
    ),
    "reduction_python_tree": Case(
        ("hard",),
        "probe: the mean as a pairwise tree of tensor additions driven from Python",
        frozenset({"hard.curve_shapes_cpu"}),
    ),
    "rnn_closed_form": Case(
        ("hard",),
        "probe: the recurrence as one weighted sum, no serial steps",
        frozenset({"hard.curve_shapes_cpu"}),
    ),
}


def cpu_timing_checks(exercises: Sequence[str]) -> list[Check]:
    """The timing checks a CPU run of these exercises grades (GPU ones are pending there)."""
    return [c for c in CHECKS if "timing" in c.tags and not c.gpu and c.exercise in exercises]


@contextmanager
def busy_cores(count: int) -> Iterator[list[subprocess.Popen]]:
    """Keep ``count`` cores busy with spinning processes; they are killed on any exit."""
    spinners: list[subprocess.Popen] = []
    try:
        for _ in range(count):
            spinners.append(start_busy_loop())
        yield spinners
    finally:
        for spinner in spinners:
            spinner.kill()
        for spinner in spinners:
            spinner.wait()


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a live process has used (proves the busy loop really ran)."""
    fields = supervisor.proc_stat_fields(pid)
    if fields is None:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
        "time_fn relative error on a sleep of 20-50 ms",
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


# ---- summaries ------------------------------------------------------------------------------


def baseline_status(check: Check) -> str:
    """What the reference solution earns on a CPU run."""
    return "pending" if check.manual or check.gpu else "passed"


def _graded(
    runs: Sequence[GradeRun], exercises: Sequence[str]
) -> Iterator[tuple[GradeRun, Check, dict[str, Any]]]:
    """(run, check, its test entry) for every check of ``exercises`` each run graded."""
    for run in runs:
        tests = {test["id"]: test for test in run.document["tests"]}
        for check in CHECKS:
            if check.exercise in exercises and check.id in tests:
                yield run, check, tests[check.id]


@dataclass
class HonestSummary:
    """The reference solutions under load: false failures and observed quantities."""

    runs: int
    checks: list[Check]
    false_failures: dict[str, int]
    failure_notes: list[str]
    other_failures: list[str]  # non-timing checks that lost their baseline status
    values: dict[str, list[float]]
    wall: Spread


def summarise_honest(runs: Sequence[GradeRun], exercises: Sequence[str]) -> HonestSummary:
    checks = cpu_timing_checks(exercises)
    timing_ids = {c.id for c in checks}
    false_failures = {c.id: 0 for c in checks}
    notes, other = [], []
    values: dict[str, list[float]] = {q.key: [] for q in QUANTITIES if q.check in timing_ids}
    for run, check, test in _graded(runs, exercises):
        if check.id in timing_ids:
            if test["status"] != "passed":
                false_failures[check.id] += 1
                notes.append(f"seed {run.seed}, `{check.id}`: {test['output'].splitlines()[0]}")
        elif test["status"] != baseline_status(check):
            other.append(f"seed {run.seed}, `{check.id}`: {test['status']}")
    for run in runs:
        for quantity in QUANTITIES:
            if quantity.key in values:
                values[quantity.key] += quantity.values(run.document)
    return HonestSummary(
        runs=len(runs),
        checks=checks,
        false_failures=false_failures,
        failure_notes=notes,
        other_failures=other,
        values=values,
        wall=Spread.of([run.wall_seconds for run in runs]),
    )


@dataclass
class BrokenSummary:
    """One broken submission under load: how often each timing check failed, and why."""

    case: str
    runs: int
    failed: dict[str, int]  # check id -> runs in which it failed
    readings: dict[str, dict[str, list[float | None]]]  # check -> reason -> figures
    other_changes: list[str]  # non-timing checks whose status differs from the reference

    def expectation(self, check_id: str) -> str:
        case = CASES[self.case]
        if check_id in case.must_fail:
            return "fail"
        return "either" if check_id in case.may_fail else "pass"

    def as_expected(self, check_id: str) -> bool:
        want = self.expectation(check_id)
        return want == "either" or self.failed[check_id] == (self.runs if want == "fail" else 0)


def summarise_broken(case: str, runs: Sequence[GradeRun]) -> BrokenSummary:
    exercises = CASES[case].exercises
    checks = cpu_timing_checks(exercises)
    failed = {c.id: 0 for c in checks}
    readings: dict[str, dict[str, list[float | None]]] = {c.id: {} for c in checks}
    other = []
    for run, check, test in _graded(runs, exercises):
        if check.id in failed:
            if test["status"] != "passed":
                failed[check.id] += 1
                reason, figure = failure_reading(test["output"])
                readings[check.id].setdefault(reason, []).append(figure)
        elif test["status"] != baseline_status(check):
            other.append(f"seed {run.seed}, `{check.id}`: {test['status']}")
    return BrokenSummary(case, len(runs), failed, readings, other)


# ---- the runs -------------------------------------------------------------------------------


@dataclass
class LoadedRuns:
    """Everything graded while the other core(s) were busy."""

    honest: list[GradeRun]
    cases: dict[str, list[GradeRun]]  # case name -> its runs (see CASES)
    busy_processes: int
    busy_cpu_seconds: float
    seconds: float


def run_under_load(
    *,
    runs: int,
    case_runs: int,
    cases: Sequence[str],
    exercises: Sequence[str],
    work_dir: Path,
    first_seed: int,
    busy: int,
    settings: Path | None = None,
    say: Callable[[str], None] = lambda line: None,
) -> LoadedRuns:
    """Grade the reference and each case round-robin while ``busy`` cores spin.

    Interleaving keeps the load each sees alike: a burst of other work on the shared
    machine hits honest and broken runs in the same stretch of time. Each case is graded
    on its own exercises only (``CASES``), with the same seed as the reference's run.
    """
    submissions = {case: build_submission(case, work_dir / "submissions" / case) for case in cases}
    honest: list[GradeRun] = []
    graded: dict[str, list[GradeRun]] = {case: [] for case in cases}
    started = time.monotonic()
    with busy_cores(busy) as spinners:
        for index in range(max(runs, case_runs if cases else 0)):
            seed = first_seed + index
            if index < runs:
                honest.append(
                    grade_once(
                        SOLUTIONS_DIR,
                        results_path=work_dir / f"loaded-{index}" / "results.json",
                        seed=seed,
                        only=exercises,
                        settings=settings,
                        label="solutions",
                    )
                )
                say(f"loaded run {index + 1}/{runs}: {honest[-1].wall_seconds:.1f} s")
            if index < case_runs:
                for case, submission in submissions.items():
                    graded[case].append(
                        grade_once(
                            submission,
                            results_path=work_dir / f"{case}-{index}" / "results.json",
                            seed=seed,
                            only=CASES[case].exercises,
                            settings=settings,
                            label=case,
                        )
                    )
                say(f"cases, run {index + 1}/{case_runs} done")
        spun = sum(cpu_seconds(s.pid) or 0.0 for s in spinners)
    return LoadedRuns(honest, graded, busy, spun, time.monotonic() - started)


# ---- Markdown -------------------------------------------------------------------------------


def _figure(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 0.1:
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    return f"{value:.2g}"


def _bounds_text(quantity: Quantity, tol: Tolerances) -> str:
    low, high = quantity.bounds(tol)
    if low is not None and high is not None:
        return f"{low:g} .. {high:g}"
    return f">= {low:g}" if low is not None else f"<= {high:g}"


def render_honest(summary: HonestSummary, tol: Tolerances) -> str:
    lines = [
        "| timing check | false failures |",
        "|---|---:|",
    ]
    for check in summary.checks:
        lines.append(f"| `{check.id}` | {summary.false_failures[check.id]}/{summary.runs} |")
    if summary.failure_notes:
        lines += ["", "False failures seen:", ""]
        lines += [f"- {note}" for note in summary.failure_notes]
    if summary.other_failures:
        lines += ["", "Non-timing checks that lost their status (should never happen):", ""]
        lines += [f"- {note}" for note in summary.other_failures]
    lines += [
        "",
        "Observed quantities, pooled over all runs (a check may record several per run). The "
        "margin is the room left at the worst observed value: for ratios a factor (bound / "
        "worst, or worst / lower bound; above 1 passes), for the slope and the relative error "
        "a difference (above 0 passes).",
        "",
        "| quantity | check | values | min | median | max | tolerance | worst-case margin |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for quantity in QUANTITIES:
        values = summary.values.get(quantity.key)
        if not values:
            continue
        spread = Spread.of(values)
        room, side = quantity.margin(values, tol)
        room_text = f"x{room:.2f}" if quantity.as_factor else f"{room:+.3f}"
        lines.append(
            f"| {quantity.label} | `{quantity.check}` | {spread.count} | "
            f"{_figure(spread.low)} | {_figure(spread.median)} | {_figure(spread.high)} | "
            f"{_bounds_text(quantity, tol)} | {room_text} ({side}) |"
        )
    return "\n".join(lines) + "\n"


def render_broken(summaries: Sequence[BrokenSummary], tol: Tolerances) -> str:
    by_key = {quantity.key: quantity for quantity in QUANTITIES}
    lines = [
        "| submission | timing check | must | failed | as expected | why it failed: reason "
        "(runs): figures min..max | fails by, worst run |",
        "|---|---|---|---:|---|---|---:|",
    ]
    for summary in summaries:
        for check_id, count in summary.failed.items():
            must = summary.expectation(check_id)
            reasons, beyond = [], []
            for reason, figures in summary.readings[check_id].items():
                numbers = [f for f in figures if f is not None]
                text = f"{reason} ({len(figures)})"
                if numbers:
                    text += f": {_figure(min(numbers))}..{_figure(max(numbers))}"
                    quantity = by_key.get(REASON_QUANTITY.get((check_id, reason), ""))
                    if quantity is not None:
                        amount = quantity.fails_by(numbers, tol)
                        beyond.append(f"x{amount:.2f}" if quantity.as_factor else f"{amount:+.3f}")
                reasons.append(text)
            lines.append(
                f"| `{summary.case}` | `{check_id}` | {must} | {count}/{summary.runs} | "
                f"{'yes' if summary.as_expected(check_id) else '**NO**'} | "
                f"{'; '.join(reasons) or '-'} | {', '.join(beyond) or '-'} |"
            )
    changed = [note for summary in summaries for note in summary.other_changes]
    lines += [
        "",
        "Bounds the figures are held to: per-step growth d=256 / d=1 <= "
        f"{tol.numpy_growth_max:g} (numpy) and >= {tol.python_growth_min:g} (pure Python); "
        "time_fn relative error <= "
        f"{tol.time_fn_rel_error:g}; claimed at least {tol.reported_ratio_min:g}x the judge's CPU "
        f"time and at most {tol.reported_ratio_max:g}x its wall time; reduction / xs.mean() <= "
        f"{tol.reduction_ratio_max:g}; serial slope within {tol.rnn_slope_min:g} .. "
        f"{tol.rnn_slope_max:g}. The number in brackets after a reason is how many runs "
        "failed for it. *Fails by* is how far beyond its bound the figure nearest to passing "
        "lies: a factor for ratios, a difference for the slope and the relative error. A "
        "failure without a figure (a replaced clock, a size never run) does not depend on any "
        "tolerance.",
        "",
        "Non-timing checks of these submissions that lost the reference's status: "
        f"{len(changed)}" + (":" if changed else "."),
    ]
    lines += [f"- {note}" for note in changed]
    return "\n".join(lines) + "\n"


# ---- each tolerance: both sides at once ----------------------------------------------------


@dataclass(frozen=True)
class BoundSides:
    """One tolerance key: the honest and the broken figures it must separate."""

    key: str  # Tolerances field
    bound: float
    upper: bool  # an upper bound (honest below it) or a lower one
    as_factor: bool
    honest: list[float]
    broken: dict[str, list[float]]  # case -> its failure figures held to this bound

    def honest_room(self) -> float | None:
        """Room at the worst honest figure (factor or difference; above 1 or 0 passes)."""
        if not self.honest:
            return None
        worst = max(self.honest) if self.upper else min(self.honest)
        return _room(worst, self.bound, self.upper, self.as_factor)

    def broken_room(self) -> float | None:
        """How far beyond the bound the broken figure nearest to it lies (same units)."""
        figures = [f for values in self.broken.values() for f in values]
        if not figures:
            return None
        nearest = min(figures) if self.upper else max(figures)
        return _room(self.bound, nearest, self.upper, self.as_factor)


def _room(low_side: float, high_side: float, upper: bool, as_factor: bool) -> float:
    """``high_side`` over ``low_side`` for an upper bound (reversed for a lower one)."""
    small, large = (low_side, high_side) if upper else (high_side, low_side)
    return large / small if as_factor and small > 0 else large - small


def tolerance_sides(
    honest: Sequence[HonestSummary], broken: Sequence[BrokenSummary], tol: Tolerances
) -> list[BoundSides]:
    """Per tolerance key, pooled honest figures and each must-fail case's failure figures."""
    by_key = {quantity.key: quantity for quantity in QUANTITIES}
    sides: dict[str, BoundSides] = {}

    def side(key: str, upper: bool, as_factor: bool) -> BoundSides:
        if key not in sides:
            sides[key] = BoundSides(key, getattr(tol, key), upper, as_factor, [], {})
        return sides[key]

    for quantity in QUANTITIES:
        for key, upper in ((quantity.lower, False), (quantity.upper, True)):
            if key is None:
                continue
            entry = side(key, upper, quantity.as_factor)
            for summary in honest:
                entry.honest.extend(summary.values.get(quantity.key, []))
    for summary in broken:
        must = CASES[summary.case].must_fail
        for check_id, reasons in summary.readings.items():
            if check_id not in must:
                continue
            for reason, figures in reasons.items():
                quantity = by_key.get(REASON_QUANTITY.get((check_id, reason), ""))
                if quantity is None:
                    continue
                low, high = quantity.bounds(tol)
                for figure in (f for f in figures if f is not None):
                    if high is not None and figure > high:
                        key = quantity.upper
                    elif low is not None and figure < low:
                        key = quantity.lower
                    else:
                        continue
                    entry = side(key, key == quantity.upper, quantity.as_factor)
                    entry.broken.setdefault(summary.case, []).append(figure)
    return list(sides.values())


def render_tolerances(sides: Sequence[BoundSides]) -> str:
    """One row per tolerance key: honest range, broken ranges, the bound and both margins."""

    def room(value: float | None, as_factor: bool) -> str:
        if value is None:
            return "-"
        return f"x{value:.2f}" if as_factor else f"{value:+.3f}"

    lines = [
        "| key | bound | honest: min..max | broken (must fail): case min..max | honest margin "
        "| broken margin | separates? |",
        "|---|---:|---|---|---:|---:|---|",
    ]
    for entry in sides:
        honest = (
            f"{_figure(min(entry.honest))}..{_figure(max(entry.honest))}" if entry.honest else "-"
        )
        broken = "; ".join(
            f"`{case}` {_figure(min(values))}..{_figure(max(values))}"
            for case, values in entry.broken.items()
        )
        honest_room, broken_room = entry.honest_room(), entry.broken_room()
        passes = 1.0 if entry.as_factor else 0.0
        if honest_room is None:
            verdict = "no honest figure"
        elif honest_room <= passes:
            verdict = "**no: honest figures reach the bound**"
        elif broken_room is None:
            verdict = "yes on the honest side; no broken figure beyond it"
        elif broken_room <= passes:
            verdict = "**no**"
        else:
            verdict = "yes"
        lines.append(
            f"| `{entry.key}` | {'<=' if entry.upper else '>='} {entry.bound:g} | {honest} | "
            f"{broken or '-'} | {room(honest_room, entry.as_factor)} | "
            f"{room(broken_room, entry.as_factor)} | {verdict} |"
        )
    lines += [
        "",
        "Honest: the reference and `other_styles` under load (section 4), pooled. Broken: the "
        "figures in the failure messages of the cases that must fail the check, held to this "
        "bound (a failure without a figure, or for another reason, is not listed). Margins as "
        "in the tables above: a factor for ratios, a difference for the slope and the relative "
        "error; a margin above 1 (or 0) on both sides means the bound separates the two.",
    ]
    return "\n".join(lines) + "\n"
