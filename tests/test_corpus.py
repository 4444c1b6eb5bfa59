"""The corpus of student-style scans: each gets exactly the verdicts its exercise's wording
promises, and every failure names the mistake that was measured.

Each case under ``tests/submissions/corpus/`` overrides definitions of the reference solution
(``benchmarks/submissions.py``). For each one: the checks that must fail, with key words of
the message and of the hint; every other check of the exercise must pass. Correct scans in
other styles (recursive doubling, Blelloch, Brent-Kung, divide and conquer) keep every point
their exercise promises; the medium asks for Hillis-Steele's rounds, the challenge for any
logarithmic depth.
"""

from __future__ import annotations

import types

import pytest

from autograder.spec.registry import checks_for
from benchmarks.submissions import build_submission
from tests.test_grader_adversarial import run_grader

# case -> {check that must fail: (words in the message, words in the hint)}
MEDIUM = {
    "hs_recursive": {},
    "blelloch": {
        "medium.depth_measured": (
            ["grows logarithmically", "work-efficient (Blelloch/Brent-Kung)", "n=1024: 19"],
            ["not Hillis-Steele's schedule"],
        ),
        "medium.work_measured": (["about 2n", "= 9228"], ["trades work for depth"]),
    },
    "brent_kung": {
        "medium.depth_measured": (["grows logarithmically", "n=1025: 18"], ["up-sweep"]),
        "medium.work_measured": (["2037 applications", "about 2n"], ["trades work for depth"]),
    },
    "divide_conquer": {
        "medium.work_measured": (["fewer than Hillis-Steele"], ["more work than other"]),
    },
    "numpy_hillis_steele": {
        "medium.non_commutative_op": (
            ["expected 'nfue', got 'nf'", "cut to a fixed width"],
            ["Python list"],
        ),
        "medium.depth_measured": (
            ["could not run on traced values", "numpy array or a torch tensor cannot hold"],
            ["plain Python lists"],
        ),
        "medium.work_measured": (["could not run on traced values"], ["plain Python lists"]),
    },
    "off_by_one_rounds": {
        "medium.edge_lengths": (["(length 3)", "one round too few"], ["int(log2 n)"]),
        "medium.non_commutative_op": (["one round too few"], ["int(log2 n)"]),
        "medium.depth_measured": (
            ["returned wrong values on 3 inputs", "input", "expected", "returned"],
            ["int(log2 n)"],
        ),
        "medium.work_measured": (["returned wrong values on 3 inputs"], ["int(log2 n)"]),
    },
    "ceil_log2_formula": {
        "medium.scan_depth_formula": (
            ["scan_depth(9007199254740993): expected 54, got 53", "math.ceil(math.log2(n))"],
            ["integers"],
        ),
        "medium.scan_work_formula": (["scan_work(9007199254740993)"], ["bit_length"]),
    },
    "no_value_error": {
        "medium.scan_depth_formula": (["scan_depth(-1) returned 0", "ValueError"], ["n < 0"]),
        "medium.scan_work_formula": (["scan_work(-1) returned 0", "ValueError"], ["n < 0"]),
    },
    "serial_fold": {
        "medium.depth_measured": (["grows like n", "a serial scan", "n=1025: 1024"], ["serial"]),
        "medium.work_measured": (["n - 1 applications"], ["serial loop"]),
    },
    "sqrt_blocked": {
        "medium.depth_measured": (["power of n", "sqrt(n)"], ["blocks"]),
        "medium.work_measured": (["2017 applications"], ["trades work for depth"]),
    },
    "in_place_ascending": {
        "medium.matches_serial_1024_int": (["update one list in place"], ["never read"]),
        "medium.matches_serial_1024_float": (["update one list in place"], ["never read"]),
        "medium.edge_lengths": (["update one list in place"], ["never read"]),
        "medium.non_commutative_op": (["update one list in place"], ["never read"]),
        "medium.depth_measured": (["returned wrong values"], ["never read"]),
        "medium.work_measured": (["returned wrong values"], ["never read"]),
    },
    "rescan_right_half": {
        "medium.depth_measured": (["deeper than any standard log-depth scan"], ["waits"]),
        "medium.work_measured": (["fewer than Hillis-Steele"], ["more work than other"]),
    },
    "debug_serial_left_in": {
        "medium.work_measured": (["1024 more than Hillis-Steele"], ["do not use"]),
    },
}

CHALLENGE = {
    "ch_recursive_doubling": {},
    "ch_blelloch": {},
    "ch_brent_kung": {},
    "ch_divide_conquer": {},
    "ch_torch_hillis_steele": {
        "challenge.depth_logarithmic": (
            ["could not run on traced values", "torch tensor"],
            ["plain Python lists"],
        ),
    },
    "ch_numpy_hillis_steele": {
        "challenge.depth_logarithmic": (
            ["could not run on traced values", "numpy array"],
            ["plain Python lists"],
        ),
    },
    "ch_serial_loop": {
        "challenge.depth_logarithmic": (["grows like n", "n=1024: 2046"], ["serial loop"]),
    },
    "ch_sqrt_blocked": {
        "challenge.depth_logarithmic": (["power of n", "n=1024: 124"], ["blocks"]),
    },
    "ch_off_by_one": {
        "challenge.matches_serial_1024": (
            ["(length 5): element 4 is wrong", "one round too few"],
            ["int(log2 n)"],
        ),
        "challenge.depth_logarithmic": (
            ["returned wrong values on 3 steps", "one round too few"],
            ["int(log2 n)"],
        ),
    },
    "ch_no_length_check": {
        "challenge.matches_serial_1024": (
            ["linear_recurrence([0.5, 0.25, 0.75], [1.0, 2.0]) returned", "ValueError"],
            ["zip()"],
        ),
    },
}

CASES = {**{c: ("medium", f) for c, f in MEDIUM.items()}}
CASES |= {c: ("challenge", f) for c, f in CHALLENGE.items()}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_corpus_case(case, tmp_path):
    exercise, must_fail = CASES[case]
    submission = build_submission(f"corpus/{case}", tmp_path / "submission")
    results = run_grader(submission, tmp_path, exercise)
    by_id = {test["id"]: test for test in results["tests"]}
    for check in checks_for(exercise):
        test = by_id[check.id]
        if check.id not in must_fail:
            assert test["status"] == "passed", f"{check.id}: {test['output']}"
            continue
        assert test["status"] == "failed", check.id
        message, _, hint = test["output"].partition("\nHint: ")
        words, hint_words = must_fail[check.id]
        for word in words:
            assert word in message, f"{check.id}: {word!r} not in {message!r}"
        for word in hint_words:
            assert word in hint, f"{check.id}: {word!r} not in hint {hint!r}"
    if exercise == "medium":  # a message on wrong values never talks about depth shapes
        for check_id, test in by_id.items():
            if "returned wrong values" in test["output"]:
                message = test["output"].partition("\nHint: ")[0]
                assert "measured depth" not in message and "grows" not in message, check_id


def test_every_corpus_folder_is_asserted():
    from benchmarks.submissions import CASES_DIR

    folders = {p.name for p in (CASES_DIR / "corpus").iterdir() if p.is_dir()}
    assert folders == set(CASES)


def test_notebook_feedback_gives_the_measured_mistakes_hint():
    """The nbgrader kernel runs the same checks: its hint is the measured mistake's too."""
    from autograder.course.nbgrader.kernel_checks import NotebookCheckFailed, run_check
    from autograder.grading.judge.checks.scan_mistakes import MISSING_ROUND_HINT
    from benchmarks.submissions import CASES_DIR, SOLUTIONS_DIR

    module = types.ModuleType("medium_parallel_scan")
    source = (SOLUTIONS_DIR / "medium_parallel_scan.py").read_text(encoding="utf-8")
    source += (CASES_DIR / "corpus/off_by_one_rounds/medium_parallel_scan.py").read_text()
    exec(compile(source, "medium_parallel_scan.py", "exec"), module.__dict__)
    with pytest.raises(NotebookCheckFailed) as failure:
        run_check("medium.edge_lengths", submission=module, seed=7)
    assert f"Hint: {MISSING_ROUND_HINT}" in str(failure.value)
    assert "one round too few" in str(failure.value)
