"""A results document in Gradescope's vocabulary: ``results.json`` of Gradescope's autograders.

Only the automatic CPU checks become Gradescope tests (the elements of Gradescope's own
``tests``, made from our results: ``passed`` or ``failed``: Gradescope
has no pending; points, name, number and visibility from the registry, never from the
file); the GPU checks and the written answers are listed in the top-level ``output`` with
where they are graded. A run that could not grade at all becomes one failed test that says
why (:func:`failure_results`).

Standard library and :mod:`autograder.spec.registry` only, like all of :mod:`autograder.results`:
Gradescope's ``run_autograder`` converts (and reports a broken environment) even where
``setup.sh`` failed to install the grader's dependencies.
``python -m autograder gradescope-results IN OUT`` converts one results file by hand.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from autograder.results.sinks import markdown_block, markdown_inline
from autograder.results.write import write_json
from autograder.spec.registry import CHECKS_BY_ID, EXERCISES, EXTRA_CREDIT, Check, checks_for
from reference.cli_support import UsageError

__all__ = [
    "OUTPUT_LIMIT",
    "convert_results_file",
    "failure_results",
    "gradescope_results",
    "run",
]

OUTPUT_LIMIT = 4000  # characters of a Gradescope test's output shown on Gradescope
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


def gradescope_results(
    documents: Sequence[Mapping[str, Any]],
    *,
    exercises: Sequence[str] | None = None,
    failures: Mapping[str, str] | None = None,
    notes: Sequence[str] = (),
    extra_data: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Gradescope's ``results.json`` from the grader's results documents.

    One Gradescope test per automatic CPU check of ``exercises`` (default: those the
    documents hold), in registry order: ``passed`` with the registry's points, or ``failed``
    with 0. Only a result's ``id``, ``status`` and ``output`` are read from a document; a
    check the documents lack fails with the reason in ``failures`` (per exercise) or "no
    verdict".
    GPU checks and written answers are not tests there: the top-level ``output`` says
    what they are worth and where they are graded.
    """
    failures = dict(failures or {})
    results: dict[str, Mapping[str, Any]] = {}  # check id -> its first result
    for document in documents:
        written = document.get("tests") if isinstance(document, Mapping) else None
        for result in written if isinstance(written, list) else []:
            if isinstance(result, Mapping) and result.get("id") in CHECKS_BY_ID:
                results.setdefault(str(result["id"]), result)
    if exercises is None:
        exercises = [e for e in EXERCISES if any(CHECKS_BY_ID[i].exercise == e for i in results)]
        exercises = exercises or list(EXERCISES)
    tests = []
    for exercise in EXERCISES:
        if exercise not in exercises:
            continue
        for number, check in enumerate(checks_for(exercise), start=1):
            if check.gpu or check.manual:
                continue
            result = results.get(check.id)
            if result is None:
                reason = failures.get(exercise, "the grader gave no verdict for this check")
                result = {"status": "failed", "output": f"Not graded: {reason}"}
            tests.append(_test(check, result, number=f"{_exercise_number(exercise)}.{number}"))
    score = sum(test["score"] for test in tests)
    return {
        "score": round(score, 4),
        "execution_time": _execution_time(documents),
        "output": _summary(tests, exercises=exercises, notes=notes, failures=failures),
        "output_format": "md",
        "test_output_format": "md",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": dict(extra_data or {}),
    }


def failure_results(reason: str, *, exercises: Sequence[str] | None = None) -> dict[str, Any]:
    """The results of a run that could not grade at all: one failed test that says why."""
    chosen = [e for e in EXERCISES if exercises is None or e in exercises]
    points = sum(
        c.points
        for e in chosen
        if e not in EXTRA_CREDIT
        for c in checks_for(e)
        if not (c.gpu or c.manual)
    )
    text = f"The autograder could not grade this submission: {reason}"
    return {
        "score": 0.0,
        "output": f"**{markdown_inline(text)}**\n\nSubmit again; if this persists, tell your "
        "instructor.",
        "output_format": "md",
        "test_output_format": "md",
        "stdout_visibility": "hidden",
        "tests": [
            {
                "name": "grading",
                "number": "0",
                "score": 0.0,
                "max_score": float(points),
                "status": "failed",
                "output": _fenced(text),
                "output_format": "md",
                "visibility": "visible",
            }
        ],
    }


def _test(check: Check, result: Mapping[str, Any], *, number: str) -> dict[str, Any]:
    """The Gradescope test of ``check`` from its ``result``: points from the registry."""
    passed = result.get("status") == "passed"
    message = result.get("output")
    message = message if isinstance(message, str) else ""
    if result.get("status") == "pending":
        message = f"Could not be decided on Gradescope: {message}"
    if len(message) > OUTPUT_LIMIT:
        message = message[:OUTPUT_LIMIT] + f"\n[... cut at {OUTPUT_LIMIT} characters]"
    points = float(check.points)
    verb = "passed" if passed else "failed"
    earned = f"{points:g} points" if passed else f"0 of {points:g} points"
    extra = " (extra credit)" if check.exercise in EXTRA_CREDIT else ""
    text = f"**{verb}**: {earned}{extra}"
    if message.strip():
        text += "\n\n" + _fenced(message.strip())
    visibility = check.visibility if check.visibility in VISIBILITIES else "visible"
    return {
        "name": f"{check.id}: {check.title}{extra}",
        "number": number,
        "score": points if passed else 0.0,
        "max_score": points,
        "status": verb,
        "output": text,
        "output_format": "md",
        "tags": [check.exercise, *check.tags],
        "visibility": visibility,
    }


def _summary(
    tests: list[dict[str, Any]],
    *,
    exercises: Sequence[str],
    notes: Sequence[str],
    failures: Mapping[str, str],
) -> str:
    """The top-level ``output`` over the Gradescope ``tests``: points per exercise, then
    what is graded elsewhere."""
    by_exercise: dict[str, list[dict[str, Any]]] = {}
    for test in tests:
        by_exercise.setdefault(test["tags"][0], []).append(test)
    counted = [t for e, group in by_exercise.items() if e not in EXTRA_CREDIT for t in group]
    bonus = [t for e, group in by_exercise.items() if e in EXTRA_CREDIT for t in group]
    main_score = sum(t["score"] for t in counted)
    main_max = sum(t["max_score"] for t in counted)
    lines = [f"**Automatic checks graded here: {main_score:g} / {main_max:g} points**"]
    if bonus:
        earned = sum(t["score"] for t in bonus)
        lines[0] += f", plus {earned:g} / {sum(t['max_score'] for t in bonus):g} extra credit"
    lines += ["", "| exercise | points | passed | failed |", "|---|---:|---:|---:|"]
    for exercise, group in by_exercise.items():
        passed = sum(t["status"] == "passed" for t in group)
        points = f"{sum(t['score'] for t in group):g} / {sum(t['max_score'] for t in group):g}"
        lines.append(f"| {exercise} | {points} | {passed} | {len(group) - passed} |")
    gpu = [c for e in exercises for c in checks_for(e) if c.gpu]
    manual = [c for e in exercises for c in checks_for(e) if c.manual]
    if gpu or manual:
        lines += ["", "**Not graded here** (not in the score above):", ""]
    if gpu:
        points = sum(c.points for c in gpu)
        names = ", ".join(f"`{c.id}`" for c in gpu)
        lines.append(
            f"- {points:g} points of checks that need a CUDA GPU ({names}): Gradescope has no "
            "GPU. They are graded on the course's GPU runner if your course has one (ask your "
            "instructor), otherwise not at all."
        )
    for check in manual:
        name = check.title.split(":", 1)[0]
        module = EXERCISES[check.exercise]
        lines.append(
            f"- {check.points:g} points for your written answer `{name}` in `{module}.py`: a TA "
            "grades it as a question of this assignment on Gradescope."
        )
    for exercise, reason in failures.items():  # reasons and notes name the student's files
        lines += ["", f"**{markdown_inline(exercise)} was not graded**: {markdown_inline(reason)}"]
    if notes:
        lines += ["", *(f"- {markdown_inline(note)}" for note in notes)]
    return "\n".join(lines)


def _fenced(text: str) -> str:
    """A Markdown code block that no backtick run inside ``text`` can close."""
    return markdown_block(text)


def _exercise_number(exercise: str) -> int:
    return list(EXERCISES).index(exercise) + 1


def _execution_time(documents: Sequence[Mapping[str, Any]]) -> int:
    total = 0.0
    for document in documents:
        value = document.get("execution_time") if isinstance(document, Mapping) else None
        if isinstance(value, int | float):
            total += float(value)
    return round(total)


def convert_results_file(source: Path, out: Path) -> int:
    """Convert one results file to Gradescope's ``results.json``: 0 done; an unreadable input
    is a :class:`UsageError` (exit status 2)."""
    try:
        document = json.loads(Path(source).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read {source}: {error}") from None
    write_json(gradescope_results([document]), Path(out))
    print(f"Gradescope results: {out}")
    return 0


def run(args: argparse.Namespace) -> int:
    """``python -m autograder gradescope-results IN OUT``: 0 done, 2 unreadable input."""
    return convert_results_file(args.input, args.output)
