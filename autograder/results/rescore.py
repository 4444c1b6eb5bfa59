"""Scores recomputed from the verdicts and the registry, never read from a document.

A results document says what each check's ``score`` was, but a student who wrote the file
could say anything (150 / 100). ``collect`` therefore keeps only each check's *status* and
gives it the registry's points (:mod:`autograder.spec.registry`): a passed check its points,
anything else 0, a written answer the TA's score (``collect --manual``), clamped to its points.
Statuses a check cannot have are refused (counted as failed, with the reason): a GPU check
passed without a CUDA run, a written answer passed without a TA score. Unknown checks and a
check listed twice count nothing. Standard library and the registry only.
"""

from __future__ import annotations

import copy
from typing import Any

from autograder.results.schema import ResultsDocument
from autograder.spec.registry import CHECKS_BY_ID, EXTRA_CREDIT

__all__ = ["rescore"]


def _ran_on_cuda(test: dict[str, Any], extra: dict[str, Any]) -> bool:
    """Whether the run that produced ``test`` used CUDA (a merged file records it per test)."""
    if test.get("device") is not None:
        return test["device"] == "cuda"
    return extra["device"]["used"] == "cuda"


def rescore(results: ResultsDocument) -> tuple[ResultsDocument, list[str]]:
    """(a copy of the normalised ``results`` with every score from the registry, the
    statuses and entries refused, one line each)."""
    rescored = copy.deepcopy(results)
    extra = rescored["extra_data"]
    problems: list[str] = []
    seen: set[str] = set()
    for test in rescored["tests"]:
        check = CHECKS_BY_ID.get(test["id"])
        if check is None or test["id"] in seen:
            why = "unknown check" if check is None else "listed twice"
            problems.append(f"{test['id'][:80]}: {why}, not counted")
            test.update(score=0.0, max_score=0.0, extra_credit=False)
            continue
        seen.add(test["id"])
        points = float(check.points)
        test.update(exercise=check.exercise, max_score=points)
        test["extra_credit"] = check.exercise in EXTRA_CREDIT
        refused = ""
        if test["status"] == "passed" and check.gpu and not _ran_on_cuda(test, extra):
            refused = "passed without a CUDA run"
        elif check.manual and test["status"] == "passed" and test["ta_grade"] is None:
            refused = "passed without a TA score"
        if refused:
            problems.append(f"{check.id}: {refused} (impossible), counted as failed")
            test["status"] = "failed"
            test["score"] = 0.0
            test["output"] = (
                f"Not counted: {refused}, which this check cannot be.\n{test['output']}"
            )
        elif check.manual and test["ta_grade"] is not None:
            test["score"] = min(max(float(test["ta_grade"]["score"]), 0.0), points)
        else:
            test["score"] = points if test["status"] == "passed" else 0.0
    counted = [t for t in rescored["tests"] if t["max_score"] or t["score"]]
    rescored["score"] = round(sum(t["score"] for t in counted), 4)
    rescored["max_score"] = round(sum(t["max_score"] for t in counted if not t["extra_credit"]), 4)
    for info in extra["exercises"].values():  # the document's own totals are not shown
        info["score"] = info["max_score"] = None
    return rescored, problems
