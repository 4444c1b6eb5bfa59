"""The results scoring (autograder/results/build.py): points only for passed checks, extra
credit on top of max_score, the pass mark, the registry's order. Fast enough to run once per
mutant (``make mutate``)."""

from __future__ import annotations

import pytest

from autograder.results.build import assemble, below_pass_mark, registry_order, result_from
from autograder.results.rescore import exercise_totals
from autograder.results.schema import SCHEMA
from autograder.spec.registry import CHECKS, CHECKS_BY_ID, EXTRA_CREDIT

MEDIUM = CHECKS_BY_ID["medium.depth_measured"]
CHALLENGE = next(c for c in CHECKS if c.exercise in EXTRA_CREDIT)


def test_a_passed_check_earns_its_points_and_shows_no_hint() -> None:
    entry = result_from(
        MEDIUM, {"status": "passed", "output": "  fine  ", "duration": 1.23456}, 100
    )
    assert entry == {
        "id": MEDIUM.id,
        "name": f"{MEDIUM.id}: {MEDIUM.title}",
        "exercise": "medium",
        "score": float(MEDIUM.points),
        "max_score": float(MEDIUM.points),
        "status": "passed",
        "output": "fine",
        "tags": list(MEDIUM.tags),
        "visibility": MEDIUM.visibility,
        "extra_credit": False,
        "duration": 1.2346,
    }
    assert type(entry["score"]) is float and entry["score"] > 0


@pytest.mark.parametrize("status", ["failed", "pending", "passed!", None, "PASSED"])
def test_anything_but_passed_earns_nothing(status) -> None:
    entry = result_from(MEDIUM, {"status": status, "output": "why"}, 1000)
    assert entry["score"] == 0.0 and entry["max_score"] == float(MEDIUM.points)
    assert entry["status"] == ("pending" if status == "pending" else "failed")
    assert "duration" not in entry


def test_a_failure_gets_the_hint_and_a_pending_check_does_not() -> None:
    failed = result_from(MEDIUM, {"status": "failed", "output": "wrong"}, 1000)
    assert failed["output"] == f"wrong\nHint: {MEDIUM.hint}"
    assert result_from(MEDIUM, {"status": "failed"}, 1000)["output"] == f"Hint: {MEDIUM.hint}"
    assert result_from(MEDIUM, {}, 1000)["status"] == "failed"  # no verdict: failed
    assert result_from(MEDIUM, {"status": "pending", "output": "later"}, 1000)["output"] == "later"


def test_printed_output_is_appended_and_everything_is_cut_at_the_limit() -> None:
    entry = result_from(MEDIUM, {"status": "passed", "output": "ok", "printed": "hi"}, 1000)
    assert entry["output"] == "ok\nYour code printed (last lines):\nhi"
    long = result_from(MEDIUM, {"status": "passed", "output": "x" * 50}, 10)
    assert long["output"] == "x" * 10 + "\n[... cut at 10 characters]"
    exact = result_from(MEDIUM, {"status": "passed", "output": "x" * 10}, 10)
    assert exact["output"] == "x" * 10


def test_extra_credit_is_marked() -> None:
    assert result_from(CHALLENGE, {"status": "passed"}, 10)["extra_credit"] is True


def _entry(exercise: str, status: str, points: float, extra: bool = False) -> dict:
    return {
        "exercise": exercise,
        "status": status,
        "score": points if status == "passed" else 0.0,
        "max_score": points,
        "extra_credit": extra,
    }


def test_exercise_totals_sum_points_and_count_statuses_in_first_seen_order() -> None:
    tests = [
        _entry("medium", "passed", 5),
        _entry("easy", "failed", 3),
        _entry("medium", "pending", 2),
        _entry("medium", "passed", 1.5),
    ]
    totals = exercise_totals(tests)
    assert list(totals) == ["medium", "easy"]
    assert totals["medium"] == {
        "score": 6.5,
        "max_score": 8.5,
        "passed": 2,
        "failed": 0,
        "pending": 1,
    }
    assert totals["easy"] == {"score": 0.0, "max_score": 3, "passed": 0, "failed": 1, "pending": 0}


def test_assemble_adds_extra_credit_to_the_score_but_not_to_max_score() -> None:
    extra = CHALLENGE.exercise
    tests = [
        _entry("medium", "passed", 4),
        _entry("medium", "failed", 6),
        _entry(extra, "passed", 2.5, extra=True),
    ]
    document = assemble(tests, execution_time=1.23456, extra_data={"seed": 3})
    assert document["score"] == 6.5 and document["max_score"] == 10.0
    assert document["execution_time"] == 1.235
    assert document["tests"] is tests
    assert document["output"].splitlines() == [
        "Score 6.5 / 10",
        "medium: 4 / 10, 1 passed, 1 failed, 0 pending",
        f"{extra}: 2.5 / 2.5 extra credit, 1 passed, 0 failed, 0 pending",
    ]
    data = document["extra_data"]
    assert data["schema"] == SCHEMA and data["seed"] == 3
    assert data["exercises"]["medium"] == {"score": 4, "max_score": 10, "extra_credit": False}
    assert data["exercises"][extra] == {"score": 2.5, "max_score": 2.5, "extra_credit": True}


def test_assemble_rounds_the_totals() -> None:
    tests = [_entry("medium", "passed", 0.1), _entry("medium", "passed", 0.2)]
    document = assemble(tests, execution_time=0.0, extra_data={})
    assert document["score"] == 0.3 and document["max_score"] == 0.3


@pytest.mark.parametrize(
    ("score", "max_score", "fail_under", "below"),
    [
        (49.9, 100, 50, True),
        (50, 100, 50, False),
        (50.1, 100, 50, False),
        (0, 100, None, False),  # no pass mark
        (0, 0, 50, False),  # nothing to earn: never below
        (1, 2, 50.0, False),
        (1, 2, 50.1, True),
    ],
)
def test_below_pass_mark(score, max_score, fail_under, below, capsys) -> None:
    assert below_pass_mark({"score": score, "max_score": max_score}, fail_under) is below
    printed = capsys.readouterr().out
    if below:
        percent = 100.0 * score / max_score
        assert printed == f"score {percent:.1f}% is below --fail-under {fail_under:g}%\n"
    else:
        assert printed == ""


def test_registry_order_puts_unknown_checks_last() -> None:
    ids = [CHECKS[3].id, "zzz.unknown", CHECKS[0].id, CHECKS[-1].id]
    ordered = registry_order([{"id": i} for i in ids])
    assert [t["id"] for t in ordered] == [CHECKS[0].id, CHECKS[3].id, CHECKS[-1].id, "zzz.unknown"]
    assert [t.get("id") for t in registry_order([{}, {"id": CHECKS[1].id}])] == [CHECKS[1].id, None]


def test_statuses_read_from_json_are_compared_by_value() -> None:
    """A status decoded from a file is an equal string, not the same object as a literal."""
    failed, passed = "".join(["fail", "ed"]), "".join(["pass", "ed"])
    assert result_from(MEDIUM, {"status": failed, "output": "x"}, 10**4)["output"].endswith(
        f"Hint: {MEDIUM.hint}"
    )
    assert result_from(MEDIUM, {"status": passed}, 10**4)["score"] == float(MEDIUM.points)


def test_totals_keep_four_decimals() -> None:
    document = assemble([_entry("medium", "passed", 1.23456)], execution_time=0, extra_data={})
    assert document["score"] == 1.2346 and document["max_score"] == 1.2346
