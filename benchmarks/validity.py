"""Are the CPU timing verdicts valid under noise? No false failures, no false passes, measured.

The reference solutions are graded many times while another process keeps the other
core(s) busy: every timing check that does not pass is a false failure, and each observed
ratio is set against its tolerance to show how much room is left. The project's broken
timing submissions are graded the same way, interleaved with those runs so both see the
same load: each must fail its timing checks in every run, and by how much is recorded too.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.grading.processes import supervisor
from autograder.spec import paths
from autograder.spec.registry import CHECKS, Check
from benchmarks.grading_time import GradeRun, Spread, grade_once
from benchmarks.submissions import SOLUTIONS_DIR, build_submission
from benchmarks.validity_quantities import QUANTITIES, failure_reading

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
                        results_path=work_dir / f"loaded-{index}" / paths.RESULTS_NAME,
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
                            results_path=work_dir / f"{case}-{index}" / paths.RESULTS_NAME,
                            seed=seed,
                            only=CASES[case].exercises,
                            settings=settings,
                            label=case,
                        )
                    )
                say(f"cases, run {index + 1}/{case_runs} done")
        spun = sum(cpu_seconds(s.pid) or 0.0 for s in spinners)
    return LoadedRuns(honest, graded, busy, spun, time.monotonic() - started)
