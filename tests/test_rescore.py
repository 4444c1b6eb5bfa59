"""The totals a results document states, derived from its results by one function.

``rescore`` sets ``score``, ``max_score``, the ``output`` summary and each exercise's figures
from ``tests``; ``score_from_registry`` (``collect``) first gives each result the registry's
points from its status alone, refusing statuses a check cannot have. In-process, on small
hand-made documents read the way files are (``parse_results``: strings decoded at run time).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from autograder.results.rescore import exercise_totals, rescore, score_from_registry
from autograder.results.schema import normalise_results, parse_results


def result(ident: str, score: float, max_score: float, status: str, **more: Any) -> dict:
    """One entry of ``tests`` as a grading writes it."""
    exercise = ident.split(".", 1)[0]
    return {"id": ident, "name": ident, "exercise": exercise, "score": score,
            "max_score": max_score, "status": status, **more}  # fmt: skip


def read(document: dict) -> dict:
    """``document`` as a reader gets it from a file: parsed from bytes, not normalised."""
    return parse_results(json.dumps(document).encode())


def mixed() -> dict:
    """Three exercises in an odd order, every status, extra credit, stale totals everywhere."""
    return read({
        "score": 99, "max_score": 1, "output": "Score 99 / 1",
        "tests": [
            result("medium.a", 2.5, 3, "passed"),
            result("easy.a", 0, 4, "failed"),
            result("challenge.a", 3, 3, "passed", extra_credit=True),
            result("medium.b", 0, 5, "pending", tags=["manual"]),
            result("easy.b", 1 / 3, 1, "passed"),
            result("medium.c", 0, 4, "pending", tags=["gpu"]),
        ],
        "extra_data": {"exercises": {
            "hard": {"score": 40, "max_score": 40, "wall_seconds": 2.0},
            "easy": {"score": 20, "max_score": 20, "extra_credit": True, "runs": 1},
        }},
    })  # fmt: skip


def test_every_total_is_summed_from_the_results() -> None:
    document = rescore(mixed())
    assert document["score"] == round(2.5 + 3 + 1 / 3, 4) == 5.8333
    assert document["max_score"] == 3 + 4 + 5 + 1 + 4 == 17  # extra credit not in the max
    assert document["output"] == (
        "Score 5.83333 / 17\n"
        "medium: 2.5 / 12, 1 passed, 0 failed, 2 pending\n"
        "easy: 0.333333 / 5, 1 passed, 1 failed, 0 pending\n"
        "challenge: 3 / 3 extra credit, 1 passed, 0 failed, 0 pending"
    )
    exercises = document["extra_data"]["exercises"]
    assert exercises == {
        "hard": {"score": 0.0, "max_score": 0.0, "wall_seconds": 2.0, "extra_credit": False},
        "easy": {"score": 1 / 3, "max_score": 5.0, "extra_credit": False, "runs": 1},
        "medium": {"score": 2.5, "max_score": 12.0, "extra_credit": False},
        "challenge": {"score": 3.0, "max_score": 3.0, "extra_credit": True},
    }
    # listed exercises keep their place and keys; new ones follow in first-seen order
    assert list(exercises) == ["hard", "easy", "medium", "challenge"]
    assert list(exercises["easy"]) == ["score", "max_score", "extra_credit", "runs"]


@pytest.mark.parametrize("listed", ["hard", "challenge"])
def test_an_exercise_listed_without_results_totals_zero(listed: str) -> None:
    document = rescore(
        read({"score": 7, "max_score": 7, "tests": [result("easy.a", 1, 2, "passed")],
              "extra_data": {"exercises": {listed: {"score": 7, "max_score": 9}}}})
    )  # fmt: skip
    row = document["extra_data"]["exercises"][listed]
    assert row == {"score": 0.0, "max_score": 0.0, "extra_credit": listed == "challenge"}
    assert [type(row["score"]), type(row["max_score"])] == [float, float]
    # the summary lists only exercises with results
    assert document["output"] == "Score 1 / 2\neasy: 1 / 2, 1 passed, 0 failed, 0 pending"


def test_no_results_and_no_extra_data_gives_zero_totals_and_an_empty_table() -> None:
    document = rescore({"score": 3, "max_score": 3, "tests": []})
    assert document == {
        "score": 0,
        "max_score": 0,
        "tests": [],
        "output": "Score 0 / 0",
        "extra_data": {"exercises": {}},
    }


def test_a_result_without_an_extra_credit_flag_counts_in_the_maximum() -> None:
    document = rescore(
        read({"score": 0, "max_score": 0, "tests": [
            result("challenge.a", 1, 3, "passed"),
            result("challenge.b", 2, 4, "passed", extra_credit=False),
            result("challenge.c", 3, 5, "passed", extra_credit=True),
        ]})
    )  # fmt: skip
    assert (document["score"], document["max_score"]) == (6, 7)
    assert document["output"].splitlines()[1] == (
        "challenge: 6 / 12 extra credit, 3 passed, 0 failed, 0 pending"
    )


def test_totals_are_rounded_to_four_decimals_and_the_summary_to_six_digits() -> None:
    document = rescore(
        read({"score": 0, "max_score": 0, "tests": [
            result("easy.a", 1.23456, 2.00004, "passed"),
            result("easy.b", 0.1, 0.00001, "failed"),
        ]})
    )  # fmt: skip
    assert document["score"] == 1.3346 and document["max_score"] == 2.0
    assert document["output"].splitlines() == [
        "Score 1.33456 / 2.00005",
        "easy: 1.33456 / 2.00005, 1 passed, 1 failed, 0 pending",
    ]
    row = document["extra_data"]["exercises"]["easy"]
    assert (row["score"], row["max_score"]) == (1.23456 + 0.1, 2.00004 + 0.00001)


def test_rescoring_is_in_place_and_idempotent_byte_for_byte() -> None:
    document = mixed()
    assert rescore(document) is document
    first = json.dumps(document)
    again = rescore(copy.deepcopy(document))
    assert json.dumps(again) == first


def test_forged_totals_are_replaced_wherever_they_are_stated() -> None:
    honest = rescore(mixed())
    forged = copy.deepcopy(honest)
    forged.update(score=100.0, max_score=100.0, output="Score 100 / 100\neasy: 20 / 20")
    for row in forged["extra_data"]["exercises"].values():
        row.update(score=50.0, max_score=1.0, extra_credit=True)
    assert rescore(forged) == honest


def test_the_reader_derives_the_totals_too() -> None:
    """``normalise_results`` (every report, ``collect``, ``merge``) never keeps a file's totals."""
    view = normalise_results(mixed())
    assert (view["score"], view["max_score"]) == (5.8333, 17.0)
    assert view["output"] == rescore(mixed())["output"]
    assert view["extra_data"]["exercises"]["hard"]["score"] == 0.0


def test_exercise_totals_count_each_status_in_first_seen_order() -> None:
    totals = exercise_totals(mixed()["tests"])
    assert list(totals) == ["medium", "easy", "challenge"]
    assert totals["medium"] == {
        "score": 2.5, "max_score": 12.0, "passed": 1, "failed": 0, "pending": 2,
    }  # fmt: skip
    assert totals["easy"] == {
        "score": 1 / 3, "max_score": 5.0, "passed": 1, "failed": 1, "pending": 0,
    }  # fmt: skip


# ---- score_from_registry: the registry's points from a result's status alone ----


def scored(tests: list[dict], used: str = "cpu") -> tuple[dict, list[str]]:
    """``score_from_registry`` on a document read from a file whose run used ``used``."""
    document = read({"score": 0, "max_score": 0, "tests": tests,
                     "extra_data": {"device": {"requested": used, "used": used}}})  # fmt: skip
    return score_from_registry(normalise_results(document))


def by_id(document: dict) -> dict[str, dict]:
    return {test["id"]: test for test in document["tests"]}


def test_a_passed_check_gets_its_points_and_any_other_status_none() -> None:
    # forged scores and maxima: the registry's points replace both
    document, problems = scored([
        result("easy.vector_matches_reference", 0, 1, "passed"),  # 4 points
        result("easy.vector_rejects_empty", 9, 9, "failed"),  # 1
        result("easy.numpy_matches_reference", 3, 3, "pending"),  # 3
        result("challenge.combine_correct", 3, 3, "passed", extra_credit=False),  # 3, extra
    ])  # fmt: skip
    assert problems == []
    tests = by_id(document)
    assert [(t["score"], t["max_score"]) for t in tests.values()] == [
        (4.0, 4.0), (0.0, 1.0), (0.0, 3.0), (3.0, 3.0)
    ]  # fmt: skip
    assert tests["challenge.combine_correct"]["extra_credit"] is True
    assert tests["easy.vector_matches_reference"]["extra_credit"] is False
    assert (document["score"], document["max_score"]) == (7.0, 8.0)
    assert document["output"].splitlines()[1] == ("easy: 4 / 8, 1 passed, 1 failed, 1 pending")


def test_the_registry_moves_a_result_to_its_own_exercise() -> None:
    document, problems = scored([
        {**result("easy.vector_rejects_empty", 1, 1, "passed"), "exercise": "challenge"},
    ])  # fmt: skip
    [test] = document["tests"]
    assert problems == [] and test["exercise"] == "easy" and test["extra_credit"] is False
    assert (document["score"], document["max_score"]) == (1.0, 1.0)
    assert document["extra_data"]["exercises"]["easy"]["score"] == 1.0


def test_the_input_document_is_not_changed() -> None:
    view = normalise_results(read({"score": 0, "max_score": 0, "tests": [
        result("easy.vector_rejects_empty", 0, 1, "passed")]}))  # fmt: skip
    before = copy.deepcopy(view)
    scored_view, _ = score_from_registry(view)
    assert view == before and scored_view["score"] == 1.0


def test_unknown_and_repeated_checks_count_nothing_and_do_not_stop_the_rest() -> None:
    long_id = "easy." + "x" * 100
    document, problems = scored([
        result("challenge.forged", 10, 10, "passed", extra_credit=True),
        result("easy.vector_rejects_empty", 1, 1, "passed"),
        result("easy.vector_rejects_empty", 1, 1, "passed"),
        result(long_id, 5, 5, "passed"),
        result("easy.fit_overhead_exact", 0, 2, "passed"),
    ])  # fmt: skip
    assert problems == [
        "challenge.forged: unknown check, not counted",
        "easy.vector_rejects_empty: listed twice, not counted",
        f"{long_id[:80]}: unknown check, not counted",
    ]
    assert [(t["score"], t["max_score"], t["extra_credit"]) for t in document["tests"]] == [
        (0.0, 0.0, False), (1.0, 1.0, False), (0.0, 0.0, False), (0.0, 0.0, False),
        (2.0, 2.0, False),
    ]  # fmt: skip
    assert (document["score"], document["max_score"]) == (3.0, 3.0)


GPU = "hard.correct_cuda"  # 3 points, tagged gpu


@pytest.mark.parametrize(
    ("device", "used", "counted"),
    [
        (None, "cuda", True),  # the run's device when the result records none
        (None, "cpu", False),
        ("cuda", "cpu", True),  # a merged file records each result's own device
        ("cpu", "cuda", False),
        (None, "mps", False),  # an edited file's other device is not CUDA ("mps" > "cuda")
    ],
)
def test_a_gpu_check_passes_only_on_a_cuda_run(device, used: str, counted: bool) -> None:
    document, problems = scored([result(GPU, 3, 3, "passed", device=device)], used=used)
    [test] = document["tests"]
    if counted:
        assert problems == [] and test["status"] == "passed" and test["score"] == 3.0
        assert test["output"] == ""
    else:
        assert problems == [f"{GPU}: passed without a CUDA run (impossible), counted as failed"]
        assert test["status"] == "failed" and test["score"] == 0.0
        assert test["output"].startswith(
            "Not counted: passed without a CUDA run, which this check cannot be.\n"
        )
    assert document["score"] == (3.0 if counted else 0.0)


@pytest.mark.parametrize("status", ["failed", "pending"])
def test_a_gpu_check_not_passed_is_never_refused(status: str) -> None:
    document, problems = scored([result(GPU, 3, 3, status)], used="cpu")
    assert problems == [] and document["tests"][0]["status"] == status
    assert document["tests"][0]["score"] == 0.0


def test_a_non_gpu_check_passes_on_the_cpu() -> None:
    document, problems = scored([result("hard.plot_content", 0, 4, "passed")], used="cpu")
    assert problems == [] and document["score"] == 4.0


MANUAL = "easy.answer"  # 3 points, tagged manual


def test_a_written_answer_passed_without_a_ta_score_is_refused() -> None:
    document, problems = scored(
        [result(MANUAL, 3, 3, "passed", output="my answer"), result("easy.vector_rejects_empty",
         1, 1, "passed")]
    )  # fmt: skip
    assert problems == [f"{MANUAL}: passed without a TA score (impossible), counted as failed"]
    answer, other = document["tests"]
    assert answer["status"] == "failed" and answer["score"] == 0.0
    assert answer["output"] == (
        "Not counted: passed without a TA score, which this check cannot be.\nmy answer"
    )
    assert other["score"] == 1.0 and document["score"] == 1.0


@pytest.mark.parametrize("status", ["failed", "pending"])
def test_a_written_answer_not_passed_without_a_ta_score_scores_nothing(status: str) -> None:
    document, problems = scored([result(MANUAL, 3, 3, status)])
    assert problems == [] and document["tests"][0]["status"] == status
    assert document["tests"][0]["score"] == 0.0 and document["max_score"] == 3.0


@pytest.mark.parametrize(
    ("status", "ta_score", "score"),
    [
        ("passed", 3, 3.0),
        ("failed", 1.5, 1.5),
        ("pending", 2, 2.0),
        ("failed", 7, 3.0),  # clamped to the check's points
        ("failed", -2, 0.0),  # and to zero
        ("passed", 0.25, 0.25),
    ],
)
def test_a_ta_score_is_a_written_answers_score_clamped(status, ta_score, score) -> None:
    grade = {"score": ta_score, "comment": "ok"}
    document, problems = scored([result(MANUAL, 0, 3, status, ta_grade=grade)])
    assert problems == []
    assert document["tests"][0]["score"] == score and document["score"] == score


def test_a_ta_score_on_a_check_that_is_not_written_counts_nothing() -> None:
    grade = {"score": 5, "comment": "forged"}
    document, problems = scored([
        result("easy.vector_rejects_empty", 1, 1, "failed", ta_grade=grade),
        result("easy.fit_overhead_exact", 0, 2, "passed", ta_grade={"score": 0.5}),
    ])  # fmt: skip
    assert problems == []
    assert [t["score"] for t in document["tests"]] == [0.0, 2.0]
