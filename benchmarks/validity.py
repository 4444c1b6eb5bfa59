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

from autograder.registry import CHECKS, Check
from autograder.settings import Tolerances
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
# project cases have the same expectations as tests/test_grader_adversarial.py (and
# tests/test_benchmarks.py for time_fn_async_cpu); every other timing check must pass.
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
        "time.perf_counter patched at import to run 100x slow",
        frozenset({"hard.time_fn_accurate_cpu", "hard.sweep_rows_cpu", "hard.curve_shapes_cpu"}),
    ),
    "time_fn_async_cpu": Case(
        ("hard",),
        "time_fn that starts fn in a thread and times only the start (the CPU analogue of a "
        "CUDA time_fn without synchronize); its sweep rows are not judged: a thread start "
        "that waits for the GIL can last as long as a short call",
        frozenset({"hard.time_fn_accurate_cpu"}),
        frozenset({"hard.sweep_rows_cpu"}),
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
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---- the observed quantities and their tolerances -------------------------------------------


def _record(document: dict[str, Any], check_id: str) -> Any:
    return document["extra_data"].get("timings", {}).get(check_id, {}).get("timing")


def _serial_overhead(impl: str) -> Callable[[Any], list[float]]:
    def read(record: Any) -> list[float]:
        if not isinstance(record, dict):
            return []
        return [v["ratio"] for k, v in record.items() if k.startswith(f"{impl}:")]

    return read


def _sweep(curve: str) -> Callable[[Any], list[float]]:
    def read(record: Any) -> list[float]:
        rows = record.get("comparison", []) if isinstance(record, dict) else record or []
        return [row["ratio"] for row in rows if row.get("curve") == curve]

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
        "serial_overhead claimed / observed, impl=python",
        "reported_ratio_min",
        "reported_ratio_max",
        True,
        _serial_overhead("python"),
    ),
    Quantity(
        "easy.reported_numpy",
        "easy.serial_overhead_consistent",
        "serial_overhead claimed / observed, impl=numpy",
        "reported_ratio_min",
        "reported_ratio_max",
        True,
        _serial_overhead("numpy"),
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
        "sweep claimed / observed, rnn_seconds",
        "reported_ratio_min",
        "reported_ratio_max",
        True,
        _sweep("rnn_seconds"),
    ),
    Quantity(
        "hard.reported_attention",
        "hard.sweep_rows_cpu",
        "sweep claimed / observed, attention_seconds",
        "reported_ratio_min",
        "reported_ratio_max",
        True,
        _sweep("attention_seconds"),
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

_READINGS: tuple[tuple[str, str, Callable[[re.Match], float | None]], ...] = (
    ("clock replaced (integrity)", r"was replaced: timings cannot be trusted", lambda m: None),
    (
        "time_fn relative error",
        r"known duration ([\d.]+) ms returned ([\d.]+) ms",
        lambda m: abs(float(m[2]) - float(m[1])) / float(m[1]),
    ),
    ("called fn too few times", r"called fn only (\d+) times", lambda m: float(m[1])),
    ("claimed / observed", r"\(([\d.]+)x, allowed", lambda m: float(m[1])),
    ("reported a size it never ran", r"never called", lambda m: None),
    ("reduction / xs.mean()", r"takes ([\d.]+)x the time of the reference", lambda m: float(m[1])),
    ("serial slope", r"grows like n\^(-?[\d.]+)", lambda m: float(m[1])),
    ("growth d=256 / d=1", r"per-step time grew (?:only )?([\d.]+)x", lambda m: float(m[1])),
)


# (check, reason) -> the quantity a failure figure is, to set it against its bound
REASON_QUANTITY: dict[tuple[str, str], str] = {
    ("easy.numpy_vectorised_over_d", "growth d=256 / d=1"): "easy.numpy_growth",
    ("easy.python_grows_with_d", "growth d=256 / d=1"): "easy.python_growth",
    ("easy.serial_overhead_consistent", "claimed / observed"): "easy.reported_python",
    ("hard.time_fn_accurate_cpu", "time_fn relative error"): "hard.time_fn_error",
    ("hard.sweep_rows_cpu", "claimed / observed"): "hard.reported_rnn",
    ("hard.curve_shapes_cpu", "reduction / xs.mean()"): "hard.reduction_ratio",
    ("hard.curve_shapes_cpu", "serial slope"): "hard.rnn_slope",
}


def failure_reading(output: str) -> tuple[str, float | None]:
    """The verdict's reason and figure, read from a failed check's message."""
    for label, pattern, value in _READINGS:
        match = re.search(pattern, output)
        if match:
            return label, value(match)
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
        f"{tol.time_fn_rel_error:g}; claimed / observed within "
        f"{tol.reported_ratio_min:g} .. {tol.reported_ratio_max:g}; reduction / xs.mean() <= "
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
