"""Build the results document (SPEC's fixed core) from the judges' verdicts.

Pure functions over plain data: this module never sees submission code. Writing it (JSON,
JUnit XML) is :mod:`autograder.results.write`; showing it is :mod:`autograder.reports`.
"""

from __future__ import annotations

from typing import Any

from autograder.results.rescore import rescore
from autograder.results.schema import SCHEMA
from autograder.spec.registry import CHECKS, EXTRA_CREDIT, Check


def result_from(check: Check, verdict: dict[str, Any], output_limit: int) -> dict[str, Any]:
    """One result (an element of ``tests``) from ``check`` and the judge's ``verdict``: its
    status, the student-facing message and the hint."""
    status = verdict.get("status", "failed")
    if status not in ("passed", "failed", "pending"):
        status = "failed"
    message = str(verdict.get("output", "")).strip()
    if status == "failed":
        given = verdict.get("hint")  # the judge's hint for the mistake it measured
        hint = given if isinstance(given, str) and given.strip() else check.hint
        message = f"{message}\nHint: {hint}" if message else f"Hint: {hint}"
    printed = verdict.get("printed")
    if printed:
        message += f"\nYour code printed (last lines):\n{printed}"
    if len(message) > output_limit:
        message = message[:output_limit] + f"\n[... cut at {output_limit} characters]"
    result = {
        "id": check.id,
        "name": f"{check.id}: {check.title}",
        "exercise": check.exercise,
        "score": float(check.points) if status == "passed" else 0.0,
        "max_score": float(check.points),
        "status": status,
        "output": message,
        "tags": list(check.tags),
        "visibility": check.visibility,
        "extra_credit": check.exercise in EXTRA_CREDIT,
    }
    if "duration" in verdict:
        result["duration"] = round(float(verdict["duration"]), 4)
    return result


def assemble(
    results: list[dict[str, Any]], *, execution_time: float, extra_data: dict[str, Any]
) -> dict[str, Any]:
    """The whole results document, ``results`` as its ``tests``, its totals derived from them
    (:func:`~autograder.results.rescore.rescore`)."""
    document = {
        "score": 0.0,
        "max_score": 0.0,
        "execution_time": round(execution_time, 3),
        "output": "",
        "tests": results,
        "extra_data": {"schema": SCHEMA, **extra_data},
    }
    return rescore(document)


def below_pass_mark(document: dict[str, Any], fail_under: float | None) -> bool:
    """True when ``--fail-under PCT`` is given and the document's score is below PCT % of its
    max_score.

    Prints the one-line reason, shared by ``grade`` and ``merge``.
    """
    if fail_under is None or not document["max_score"]:
        return False
    percent = 100.0 * document["score"] / document["max_score"]
    if percent < fail_under:
        print(f"score {percent:.1f}% is below --fail-under {fail_under:g}%")
        return True
    return False


def registry_order(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Results in the registry's order (unknown checks last), so every file reads alike."""
    order = {check.id: index for index, check in enumerate(CHECKS)}
    return sorted(results, key=lambda result: order.get(result.get("id", ""), len(order)))
