"""Every figure a results document derives from its results, computed in one place.

A document states its totals three times over: ``score``/``max_score``, the ``output``
summary ("Score 6.5 / 10" and a line per exercise) and ``extra_data.exercises`` (each
exercise's score, max and extra-credit flag). None of them is ever set by hand:
:func:`rescore` derives all three from ``tests`` wherever a result's points change
(``grade`` building the document, ``merge`` choosing results, a TA's scores in ``collect``)
and whenever a document is read (:func:`autograder.results.schema.normalise_results`), so
no reader sees a stale or forged total. Extra credit adds to ``score``, not to ``max_score``.

What each result scored is decided before: by the judge's verdict (``grade``), the input
chosen (``merge``), or, in ``collect``, by :func:`score_from_registry`, which trusts only a
check's *status* and gives it the registry's points (:mod:`autograder.spec.registry`): a
passed check its points, anything else 0, a written answer the TA's score (``collect
--manual``), clamped to its points. Statuses a check cannot have are refused (counted as
failed, with the reason): a GPU check passed without a CUDA run, a written answer passed
without a TA score. Unknown checks and a check listed twice count nothing. Standard library
and the registry only.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from autograder.spec.registry import CHECKS_BY_ID, EXTRA_CREDIT

if TYPE_CHECKING:
    from autograder.results.schema import ResultsDocument

__all__ = ["ExerciseTotal", "exercise_totals", "rescore", "score_from_registry"]

Document = TypeVar("Document", bound=dict[str, Any])


class ExerciseTotal(TypedDict):
    """Points and result counts of one exercise, summed from its results."""

    score: float
    max_score: float
    passed: int
    failed: int
    pending: int


def exercise_totals(results: Iterable[Mapping[str, Any]]) -> dict[str, ExerciseTotal]:
    """Per exercise of ``results``, in first-seen order: the one sum behind the summary line,
    the terminal table, the report's score table and the gradebook."""
    totals: dict[str, ExerciseTotal] = {}
    for result in results:
        row = totals.setdefault(
            result["exercise"],
            {"score": 0.0, "max_score": 0.0, "passed": 0, "failed": 0, "pending": 0},
        )
        row["score"] += result["score"]
        row["max_score"] += result["max_score"]
        row[result["status"]] += 1
    return totals


def rescore(document: Document) -> Document:
    """Set ``score``, ``max_score``, the ``output`` summary and ``extra_data.exercises``'
    totals of ``document`` from its ``tests`` (in place; returned for chaining).

    An exercise listed under ``extra_data.exercises`` without a result totals 0 / 0. Every
    other key keeps its place, so a document that was already derived is unchanged, byte for
    byte once written.
    """
    results = document["tests"]
    totals = exercise_totals(results)
    score = sum(result["score"] for result in results)
    max_score = sum(result["max_score"] for result in results if not result.get("extra_credit"))
    lines = [f"Score {score:g} / {max_score:g}"]
    for exercise, row in totals.items():
        extra = " extra credit" if exercise in EXTRA_CREDIT else ""
        lines.append(
            f"{exercise}: {row['score']:g} / {row['max_score']:g}{extra}, "
            f"{row['passed']:g} passed, {row['failed']:g} failed, {row['pending']:g} pending"
        )
    document["score"] = round(score, 4)
    document["max_score"] = round(max_score, 4)
    document["output"] = "\n".join(lines)
    exercises = document.setdefault("extra_data", {}).setdefault("exercises", {})
    for exercise in [*totals, *(name for name in exercises if name not in totals)]:
        row = totals.get(exercise, {"score": 0.0, "max_score": 0.0})
        exercises.setdefault(exercise, {}).update(
            score=row["score"], max_score=row["max_score"], extra_credit=exercise in EXTRA_CREDIT
        )
    return document


def _ran_on_cuda(result: dict[str, Any], extra: dict[str, Any]) -> bool:
    """Whether the run that produced ``result`` used CUDA (a merged file records it per
    result)."""
    if result.get("device") is not None:
        return result["device"] == "cuda"
    return extra["device"]["used"] == "cuda"


def score_from_registry(document: ResultsDocument) -> tuple[ResultsDocument, list[str]]:
    """(a copy of the normalised ``document`` with every result's points from the registry
    and its totals derived again, the statuses and results refused, one line each)."""
    rescored = copy.deepcopy(document)
    extra = rescored["extra_data"]
    problems: list[str] = []
    seen: set[str] = set()
    for result in rescored["tests"]:
        check = CHECKS_BY_ID.get(result["id"])
        if check is None or result["id"] in seen:
            why = "unknown check" if check is None else "listed twice"
            problems.append(f"{result['id'][:80]}: {why}, not counted")
            result.update(score=0.0, max_score=0.0, extra_credit=False)
            continue
        seen.add(result["id"])
        points = float(check.points)
        result.update(exercise=check.exercise, max_score=points)
        result["extra_credit"] = check.exercise in EXTRA_CREDIT
        refused = ""
        if result["status"] == "passed" and check.gpu and not _ran_on_cuda(result, extra):
            refused = "passed without a CUDA run"
        elif check.manual and result["status"] == "passed" and result["ta_grade"] is None:
            refused = "passed without a TA score"
        if refused:
            problems.append(f"{check.id}: {refused} (impossible), counted as failed")
            result["status"] = "failed"
            result["score"] = 0.0
            result["output"] = (
                f"Not counted: {refused}, which this check cannot be.\n{result['output']}"
            )
        elif check.manual and result["ta_grade"] is not None:
            result["score"] = min(max(float(result["ta_grade"]["score"]), 0.0), points)
        else:
            result["score"] = points if result["status"] == "passed" else 0.0
    # read again: the registry may have moved a result to another exercise, which the
    # normalised view then lists (schema imports this module, hence the late import)
    from autograder.results.schema import normalise_results

    return normalise_results(rescored), problems
