"""Each hostile or broken submission loses exactly the points it should, and nothing else.

A case is the reference solution with some definitions overridden (the files
under ``tests/submissions/<case>/``, or a probe of ``benchmarks/submissions.py``,
are appended to the solution module of the same name) or with extra files
dropped next to it; ``benchmarks/submissions.py`` builds both for the tests and
the bench alike. The grader runs as a real
subprocess through its CLI, as it does for students.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.spec.registry import CHECKS, EXERCISES, checks_for
from benchmarks.grading_time import grade_once
from benchmarks.submissions import build_submission
from benchmarks.validity import baseline_status

ROOT = Path(__file__).resolve().parent.parent
FAST_SETTINGS = ROOT / "tests" / "fixtures" / "fast-grading.toml"


def run_grader(submission: Path, out: Path, *only: str) -> dict:
    """Grade on CPU through the CLI with the tests' short timeouts; results JSON and JUnit."""
    run = grade_once(
        submission,
        results_path=out / "results.json",
        seed=1234,
        only=only,
        settings=FAST_SETTINGS,
        extra_args=["--junit", str(out / "junit.xml")],
    )
    return run.document


def statuses(results: dict) -> dict[str, str]:
    return {test["id"]: test["status"] for test in results["tests"]}


# case -> (exercises graded, checks that must fail; every other check keeps its baseline)
EXPECTED = {
    "serial_in_disguise": (["medium"], {"medium.depth_measured", "medium.work_measured"}),
    "swapped_operands": (["medium"], {"medium.non_commutative_op"}),
    "forged_depth": (["medium"], {"medium.depth_measured", "medium.work_measured"}),
    "eq_always_true": (
        ["medium"],
        {
            "medium.matches_serial_1024_int",
            "medium.matches_serial_1024_float",
            "medium.edge_lengths",
            "medium.non_commutative_op",
            "medium.depth_measured",
            "medium.work_measured",
        },
    ),
    "infinite_loops": (["medium"], {"medium.scan_depth_formula", "medium.scan_work_formula"}),
    "exits_in_calls": (["medium"], {"medium.scan_depth_formula", "medium.scan_work_formula"}),
    "sys_exit_at_import": (["challenge"], {c.id for c in checks_for("challenge")}),
    "os_exit_at_import": (["challenge"], {c.id for c in checks_for("challenge")}),
    "syntax_error": (["easy"], {c.id for c in checks_for("easy")}),
    "memory_hog": (["easy"], {"easy.fit_overhead_exact"}),
    "made_up_timings": (["hard"], {"hard.sweep_rows_cpu"}),
    # the judge's clock is its own: only the student's own figures are wrong
    "patched_clock": (["hard"], {"hard.time_fn_accurate_cpu", "hard.sweep_rows_cpu"}),
    "python_loop_reduction": (["hard"], {"hard.curve_shapes_cpu"}),
    # time_fn's work: a duration read from the worker instead of timed, and a made-up
    # constant (red team s6, F4): the judge holds the waits, drawn from two ranges
    "time_fn_reads_work_spec": (["hard"], {"hard.time_fn_accurate_cpu"}),
    "time_fn_constant": (["hard"], {"hard.time_fn_accurate_cpu"}),
    # red team s7b: made-up figures by call count (retried from one range, they fitted
    # either order), and a known duration set by stalling the judge's answer (F1, F2)
    "time_fn_call_count": (["hard"], {"hard.time_fn_accurate_cpu"}),
    "time_fn_stuffs_its_pipe": (["hard"], {"hard.time_fn_accurate_cpu"}),
    "imports_solutions": (["medium"], {c.id for c in checks_for("medium")}),
    "prints_megabytes": (["medium"], set()),
    "other_styles": (list(EXERCISES), set()),
    # probes: wrong implementations just beyond a timing bound (benchmarks/submissions.py)
    "numpy_via_lists": (["easy"], {"easy.numpy_vectorised_over_d"}),
    "python_via_numpy": (["easy"], {"easy.python_grows_with_d"}),
    "reduction_python_tree": (["hard"], {"hard.curve_shapes_cpu"}),
    "rnn_closed_form": (["hard"], {"hard.curve_shapes_cpu"}),
    # forging: each tries to change a verdict without doing the work (tests/submissions/)
    "rewrites_grader": (["medium"], {"medium.depth_measured", "medium.work_measured"}),
    "lying_objects": (
        ["easy", "medium"],
        {
            "medium.serial_scan_correct",
            "medium.scan_depth_formula",
            "medium.scan_work_formula",  # scan_work calls the lying scan_depth
            "easy.fit_overhead_exact",
        },
    ),
    "forged_handles": (["medium"], {"medium.depth_measured", "medium.work_measured"}),
    "hostile_peer": (
        ["medium"],
        {
            "medium.serial_scan_correct",  # a reply over the size limit
            "medium.depth_measured",  # an unknown tag in the traced reply
            "medium.work_measured",
            "medium.scan_depth_formula",  # a reply to another request
            "medium.scan_work_formula",  # a reply sent twice
        },
    ),
    "sleeps_for_ratio": (["easy", "hard"], {"easy.python_grows_with_d", "hard.curve_shapes_cpu"}),
    # timing: work moved out of the measured window, or into threads and processes it did not
    # count (issue 19); each loses the timing checks that measure the function it hides
    "hidden_work_in_ping": (["hard"], {"hard.curve_shapes_cpu", "hard.sweep_rows_cpu"}),
    "hidden_work_in_stage": (["hard"], {"hard.curve_shapes_cpu", "hard.sweep_rows_cpu"}),
    "hidden_work_in_fetch": (["hard"], {"hard.curve_shapes_cpu", "hard.sweep_rows_cpu"}),
    "hidden_work_background_thread": (["hard"], {"hard.curve_shapes_cpu"}),
    "hidden_work_joined_threads": (["hard"], {"hard.curve_shapes_cpu"}),
    "hidden_work_child_process": (["hard"], {"hard.curve_shapes_cpu", "hard.sweep_rows_cpu"}),
    # the same child reaped by the kernel (SIGCHLD ignored): its CPU time reached no counter,
    # and hard.sweep_rows_cpu passed (red team s6, 2026-12-05); the worker's seccomp filter
    # refuses the SIGCHLD change, so every check that calls the function loses
    "hidden_work_autoreaped_child": (
        ["hard"],
        {"hard.attention_correct_cpu", "hard.curve_shapes_cpu", "hard.sweep_rows_cpu"},
    ),
    "hidden_work_numpy_in_thread": (["easy"], {"easy.numpy_vectorised_over_d"}),
    # a sample's K windows share one pool: work over the pool once must not answer all K
    # (red team of the $window staging, 2026-12-05): a plain Python prefix sum over the pool
    # while staging, and the pool kept shared (Tensor.clone patched) and summed once inside
    # the timed calls after K was inflated in the unguarded warm-ups
    "pool_python_prefix": (["hard"], {"hard.curve_shapes_cpu", "hard.sweep_rows_cpu"}),
    "window_views_sized_in_warmup": (["hard"], {"hard.curve_shapes_cpu", "hard.sweep_rows_cpu"}),
    # numbers: NaN, infinities, huge integers, wrong types and signs in every numeric field
    "nonfinite_numbers": (
        ["easy", "medium", "hard"],
        {
            "medium.scan_depth_formula",
            "medium.scan_work_formula",
            "easy.fit_overhead_exact",
            "easy.serial_overhead_consistent",
            "hard.time_fn_accurate_cpu",
            "hard.sweep_rows_cpu",
        },
    ),
    "huge_numbers": (
        ["easy", "hard"],
        {
            "easy.fit_overhead_exact",
            "easy.serial_overhead_consistent",
            "hard.time_fn_accurate_cpu",
            "hard.sweep_rows_cpu",
        },
    ),
    "wrong_type_numbers": (
        ["easy", "hard"],
        {
            "easy.fit_overhead_exact",
            "easy.serial_overhead_consistent",
            "hard.time_fn_accurate_cpu",
            "hard.sweep_rows_cpu",
        },
    ),
}

# case -> checks a submission's own race decides: its thread computes an answer before the
# timed call (hidden: the check fails) or loses the race and the call computes it in the
# window (nothing hidden: the check's figures are honest and it may pass). Either status is
# right; the case's must-fail checks are the ones that catch the hidden work every run.
RACY = {"hidden_work_background_thread": {"hard.sweep_rows_cpu"}}

# forgers built on the stubs: they implement nothing, so every check must fail
FORGERS = {"forge_verdicts": ["medium"]}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_case_loses_exactly_its_points(case, tmp_path):
    exercises, must_fail = EXPECTED[case]
    submission = build_submission(case, tmp_path / "submission")
    results = run_grader(submission, tmp_path, *exercises)
    got = statuses(results)
    expected = {
        check.id: ("failed" if check.id in must_fail else baseline_status(check))
        for check in CHECKS
        if check.exercise in exercises
    }
    racy = RACY.get(case, set())
    wrong = {
        check_id: (want, got.get(check_id))
        for check_id, want in expected.items()
        if got.get(check_id) != want and not (check_id in racy and got.get(check_id) == "failed")
    }
    details = {t["id"]: t["output"][:300] for t in results["tests"] if t["id"] in wrong}
    assert not wrong, f"(expected, got) per check: {wrong}\n{details}"
    if case in MESSAGES:
        _expect_message(case, results)
    lost_race = {check_id for check_id in racy if got.get(check_id) == "failed"}
    lost = sum(c.points for c in CHECKS if c.id in must_fail | lost_race and not c.manual)
    earned = sum(t["score"] for t in results["tests"])
    possible = sum(
        c.points for c in CHECKS if c.exercise in exercises and baseline_status(c) == "passed"
    )
    assert earned == possible - lost


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(FORGERS))
def test_forger_on_the_stubs_gets_nothing(case, tmp_path):
    submission = build_submission(case, tmp_path / "submission", base=ROOT / "exercises")
    results = run_grader(submission, tmp_path, *FORGERS[case])
    assert results["score"] == 0
    assert {t["status"] for t in results["tests"]} == {"failed"}, statuses(results)


def _failure(results: dict, check_id: str) -> str:
    return next(t["output"] for t in results["tests"] if t["id"] == check_id)


# case -> (check, what its message must say): what a student reads names what happened, not
# a grader traceback (asserted where test_case_loses_exactly_its_points grades the case)
MESSAGES = {
    "sys_exit_at_import": ("challenge.combine_correct", "sys.exit"),
    "os_exit_at_import": ("challenge.combine_correct", "exited early"),
    "syntax_error": ("easy.vector_matches_reference", "SyntaxError"),
    "imports_solutions": ("medium.edge_lengths", "No module named 'solutions'"),
    "infinite_loops": ("medium.scan_work_formula", "timed out"),
    "exits_in_calls": ("medium.scan_depth_formula", "exited early with status 7"),
    "serial_in_disguise": ("medium.depth_measured", "a serial scan"),
    "made_up_timings": ("hard.sweep_rows_cpu", "report what you measured"),
    "memory_hog": ("easy.fit_overhead_exact", "MemoryError"),
    "time_fn_reads_work_spec": ("hard.time_fn_accurate_cpu", "returned 16.000 ms"),
    "time_fn_constant": ("hard.time_fn_accurate_cpu", "returned 20.000 ms"),
    "time_fn_call_count": ("hard.time_fn_accurate_cpu", "returned 11.000 ms"),  # seed 1234
    "hidden_work_autoreaped_child": ("hard.sweep_rows_cpu", "Operation not permitted"),
    # caught by the judge, not by a crash of the case's own hook (its $window format once
    # went stale and the case still lost its points, by raising while staging)
    "pool_python_prefix": ("hard.curve_shapes_cpu", "work was done outside the timed calls"),
    "window_views_sized_in_warmup": ("hard.curve_shapes_cpu", "use one library reduction"),
}


def _expect_message(case: str, results: dict) -> None:
    check_id, needle = MESSAGES[case]
    message = _failure(results, check_id)
    assert needle in message, f"{case}: {message}"
    assert "Traceback" not in message and "autograder/" not in message, message


def test_every_message_is_read_from_a_check_its_case_fails():
    """Each message above is asserted: its case is graded, and fails that check."""
    for case, (check_id, _) in MESSAGES.items():
        assert check_id in EXPECTED[case][1], case


@pytest.mark.slow
def test_patched_clock_is_reported(tmp_path):
    """The judge's clock is its own: a patched clock in the worker only falsifies the
    student's own figures, which then disagree with the judge's; the scan flags it for a TA."""
    results = run_grader(build_submission("patched_clock", tmp_path / "s"), tmp_path, "hard")
    assert statuses(results)["hard.time_fn_accurate_cpu"] == "failed"
    constructs = [f["construct"] for f in results["extra_data"]["integrity"]["findings"]]
    assert "_time.perf_counter = ..." in constructs


@pytest.mark.slow
def test_injected_files_have_no_effect(tmp_path):
    """conftest.py, pytest.ini, sitecustomize.py, pyproject.toml, setup.cfg beside the stubs."""
    submission = build_submission("injected_files", tmp_path / "s", base=ROOT / "exercises")
    results = run_grader(submission, tmp_path)
    assert results["score"] == 0
    assert {t["status"] for t in results["tests"]} == {"failed", "pending"}
    not_implemented = [t for t in results["tests"] if "not implemented yet" in t["output"]]
    assert len(not_implemented) >= 20


@pytest.mark.slow
def test_prints_are_truncated(tmp_path):
    results = run_grader(build_submission("prints_megabytes", tmp_path / "s"), tmp_path, "medium")
    assert (tmp_path / "results.json").stat().st_size < 1_000_000
    assert results["score"] == 40


@pytest.mark.slow
def test_no_process_outlives_grading(tmp_path):
    results = run_grader(
        build_submission("leaves_child_process", tmp_path / "s"), tmp_path, "medium"
    )
    assert results["score"] == 40
    leftovers = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"leftover-marker-8431" in cmdline:
                leftovers.append(entry.name)
    for pid in leftovers:  # leave the machine clean even when the test fails
        os.kill(int(pid), 9)
    assert not leftovers, f"processes left running: {leftovers}"


@pytest.mark.slow
def test_environment_of_the_grader_does_not_reach_the_checks(tmp_path):
    """PYTEST_ADDOPTS, PYTHONPATH and friends set around the grader change nothing."""
    submission = build_submission("imports_solutions", tmp_path / "s")
    env = dict(os.environ)
    env.update(
        PYTEST_ADDOPTS="--collect-only -p no:pytest_timeout",
        PYTHONPATH=str(ROOT),  # would make `import solutions` work
        PYTEST_PLUGINS="pytester",
        PYTHONSTARTUP=str(submission / "medium_parallel_scan.py"),
    )
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            "--submission",
            str(submission),
            "--only",
            "medium",
            "--device",
            "cpu",
            "--results",
            str(tmp_path / "r.json"),
            "--quiet",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    tests = json.loads((tmp_path / "r.json").read_text())["tests"]
    assert len(tests) == len(checks_for("medium"))
    assert all(t["status"] == "failed" for t in tests)
    assert all("No module named 'solutions'" in t["output"] for t in tests)


# One wrong value in a plain list (or a plain float in it) at each position: every check that
# compares values must fail, whichever element is wrong (tests/submissions/wrong_values/).
WRONG_VALUE_CHECKS = {
    "medium.serial_scan_correct",
    "medium.matches_serial_1024_int",
    "medium.matches_serial_1024_float",
    "medium.edge_lengths",
    "medium.non_commutative_op",
    "medium.scan_depth_formula",  # off by one at n=0, 64 or 2**20+1
    "medium.scan_work_formula",
    "easy.vector_matches_reference",
    "easy.numpy_matches_reference",
    "easy.numpy_vectorised_over_d",  # its timed calls' outputs are checked
    "easy.python_grows_with_d",
    "easy.serial_overhead_consistent",
    "challenge.matches_serial_1024",
    "challenge.depth_logarithmic",  # the traced run's values
    "hard.attention_correct_cpu",
    "hard.rnn_correct_cpu",
    "hard.sweep_rows_cpu",  # the row's n
    "hard.curve_shapes_cpu",  # the reduction's timed outputs at n=64
}
POSITIONS = {"first": 0, "middle": 512, "last": 1023}  # in a list of 1024 elements


def build_wrong_values(position: str, destination: Path) -> Path:
    submission = build_submission("wrong_values", destination)
    for module in submission.glob("*.py"):
        text = module.read_text(encoding="utf-8")
        module.write_text(
            text.replace('WRONG_AT = "first"', f'WRONG_AT = "{position}"'), encoding="utf-8"
        )
    return submission


@pytest.mark.slow
@pytest.mark.parametrize("position", sorted(POSITIONS))
def test_a_wrong_value_at_any_position_fails_every_value_check(position, tmp_path):
    submission = build_wrong_values(position, tmp_path / "submission")
    results = run_grader(submission, tmp_path, *EXERCISES)
    got = statuses(results)
    expected = {
        check.id: ("failed" if check.id in WRONG_VALUE_CHECKS else baseline_status(check))
        for check in CHECKS
    }
    wrong = {i: (want, got.get(i)) for i, want in expected.items() if got.get(i) != want}
    details = {t["id"]: t["output"][:300] for t in results["tests"] if t["id"] in wrong}
    assert not wrong, f"(expected, got) per check: {wrong}\n{details}"
    # the message names the element that is wrong (1024 elements: 0, 512 or 1023)
    message = _failure(results, "medium.matches_serial_1024_int")
    assert f"element {POSITIONS[position]}: expected " in message, message
    assert "wrong value" not in _failure(results, "hard.sweep_rows_cpu")
    assert "expected n=" in _failure(results, "hard.sweep_rows_cpu")
    wrong_n = {"first": 0, "middle": 64, "last": 2**20 + 1}[position]
    assert f"scan_depth({wrong_n}): expected " in _failure(results, "medium.scan_depth_formula")
