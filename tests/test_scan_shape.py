"""The judge's reading of measured depth and work, and the terminal's layout of failures.

Pure functions on hand-made figures: Hillis-Steele's rounds, the standard log-depth scans
(their depths as the corpus measured them), and the shapes that must not pass the challenge.
"""

from __future__ import annotations

import math
import operator

import pytest

from autograder.grading.judge.checks.scan_mistakes import hillis_steele_rounds, known_mistake
from autograder.grading.judge.checks.scan_shape import classify_depth, classify_work, rounds
from autograder.reports.terminal import report_command, terminal_checks, terminal_table

LENGTHS = (2, 3, 7, 64, 1000, 1024, 1025)


def table(depth_of) -> dict[int, int]:
    return {n: depth_of(n) for n in LENGTHS}


def test_rounds_are_integer_exact_where_float_log2_is_not():
    assert [rounds(n) for n in (0, 1, 2, 3, 4, 5, 1024, 1025)] == [0, 0, 1, 2, 2, 3, 10, 11]
    assert rounds(2**53 + 1) == 54 != math.ceil(math.log2(2**53 + 1))


@pytest.mark.parametrize(
    ("depth_of", "kind"),
    [
        (rounds, "rounds"),
        (lambda n: 2 * rounds(n) - 1, "logarithmic"),  # Blelloch made inclusive
        (lambda n: max(1, 2 * rounds(n) - 2), "logarithmic"),  # Brent-Kung
        (lambda n: n - 1, "linear"),  # serial
        (lambda n: 2 * math.isqrt(n), "power"),  # sqrt-blocked
        (lambda n: rounds(n) * (rounds(n) + 1) // 2, "polylog"),  # a scan inside a scan
    ],
    ids=["hillis-steele", "blelloch", "brent-kung", "serial", "sqrt-blocked", "polylog"],
)
def test_classify_depth_names_the_schedule(depth_of, kind):
    assert classify_depth(table(depth_of)).kind == kind


def test_challenge_bound_scales_with_the_depth_of_combine():
    blelloch_pairs = {3: 4, 7: 8, 64: 22, 1000: 36, 1024: 38}  # measured (ch_blelloch)
    assert classify_depth(blelloch_pairs, unit=2).logarithmic
    assert not classify_depth(blelloch_pairs, unit=1).logarithmic
    sqrt_pairs = {3: 4, 7: 8, 64: 28, 1000: 124, 1024: 124}  # measured (ch_sqrt_blocked)
    assert classify_depth(sqrt_pairs, unit=2).kind == "power"


def test_growth_bound_catches_a_depth_within_the_constant_at_every_length():
    # 2 log2 n + 2 at n >= 1000, but 4 levels at n = 64: grows 18 between them
    steep = {2: 1, 3: 2, 7: 3, 64: 4, 1000: 22, 1024: 22, 1025: 24}
    assert not classify_depth(steep).logarithmic


def test_classify_work():
    assert classify_work(1025, 1024, 9228)[0] == "serial"
    assert classify_work(1025, 10252, 9228)[0] == "more"
    assert classify_work(1025, 2037, 9228)[0] == "efficient"
    assert classify_work(1025, 5131, 9228)[0] == "fewer"


def test_known_mistakes_are_recognised_and_nothing_else():
    xs = ["ab", "cd", "ef", "gh", "ij"]
    short = hillis_steele_rounds(xs, operator.add, rounds(len(xs)) - 1)
    assert "one round too few" in known_mistake(xs, operator.add, short)[0]
    swapped = hillis_steele_rounds(xs, lambda a, b: b + a, rounds(len(xs)))
    assert "operands swapped" in known_mistake(xs, operator.add, swapped)[0]
    assert known_mistake(xs, operator.add, ["ab", "x", "y", "z", "w"]) is None
    assert known_mistake(xs, operator.add, list(xs)) is None  # not a cut: unchanged inputs
    cut = [s[:2] for s in hillis_steele_rounds(xs, operator.add, rounds(len(xs)))]
    assert "fixed width" in known_mistake(xs, operator.add, cut)[0]


def _document(output: str) -> dict:
    tests = [
        {
            "id": "medium.non_commutative_op",
            "exercise": "medium",
            "status": "failed",
            "score": 0.0,
            "max_score": 5.0,
            "output": output,
        },
        {
            "id": "challenge.combine_correct",
            "exercise": "challenge",
            "status": "passed",
            "score": 3.0,
            "max_score": 3.0,
            "output": "",
        },
        {
            "id": "challenge.depth_logarithmic",
            "exercise": "challenge",
            "status": "failed",
            "score": 0.0,
            "max_score": 7.0,
            "output": "x",
        },
    ]
    return {"tests": tests, "score": 3.0, "max_score": 5.0}


def test_terminal_shows_the_whole_message_and_hint_wrapped(monkeypatch):
    message = (
        "hillis_steele_scan with string concatenation on 3 elements: element 2: "
        "expected 'ecabcdefghijklmnop', got 'abcdefghijklmnopec'\nHint: The earlier element "
        "is always the left operand: op(prev[j - 2**k], prev[j]).\x1b[2J"
    )
    monkeypatch.setenv("COLUMNS", "50")
    text = terminal_checks(_document(message))
    lines = text.splitlines()
    assert "expected 'ecabcdefghijklmnop', got 'abcdefghijklmnopec'" in text
    assert any(line.strip().startswith("Hint: The earlier") for line in lines)
    assert "prev[j])." in text and "\x1b" not in text  # whole, and neutralised
    assert all(len(line) <= 50 for line in lines if "expected" not in line)
    assert "..." not in text
    monkeypatch.setenv("COLUMNS", "200")
    assert len(terminal_checks(_document(message)).splitlines()) < len(lines)


def test_terminal_reads_extra_credit_and_names_the_full_report():
    table_text = terminal_table(_document("x"))
    assert "3 / 10 extra credit" in table_text and "3.0/0" not in table_text
    assert report_command("out/my results.json") == (
        "full report: python -m autograder report 'out/my results.json' "
        "(--html report.html for a page)"
    )
