"""Build the results JSON (SPEC's fixed core), JUnit XML and the terminal table.

Pure functions over plain data: this module never sees submission code.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from autograder.spec.registry import CHECKS, EXERCISES, EXTRA_CREDIT, Check

SCHEMA = "why-transformers-results/1"


def test_entry(check: Check, result: dict[str, Any], output_limit: int) -> dict[str, Any]:
    """One ``tests`` entry: the verdict, the student-facing message and the hint."""
    status = result.get("status", "failed")
    if status not in ("passed", "failed", "pending"):
        status = "failed"
    message = str(result.get("output", "")).strip()
    if status == "failed":
        message = f"{message}\nHint: {check.hint}" if message else f"Hint: {check.hint}"
    printed = result.get("printed")
    if printed:
        message += f"\nYour code printed (last lines):\n{printed}"
    if len(message) > output_limit:
        message = message[:output_limit] + f"\n[... cut at {output_limit} characters]"
    entry = {
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
    if "duration" in result:
        entry["duration"] = round(float(result["duration"]), 4)
    return entry


def exercise_totals(tests: Iterable[dict[str, Any]]) -> dict[str, dict[str, float]]:
    totals: dict[str, dict[str, float]] = {}
    for test in tests:
        row = totals.setdefault(
            test["exercise"],
            {"score": 0.0, "max_score": 0.0, "passed": 0, "failed": 0, "pending": 0},
        )
        row["score"] += test["score"]
        row["max_score"] += test["max_score"]
        row[test["status"]] += 1
    return totals


def assemble(
    tests: list[dict[str, Any]], *, execution_time: float, extra_data: dict[str, Any]
) -> dict[str, Any]:
    """The whole results document; extra credit adds to score, not to max_score."""
    totals = exercise_totals(tests)
    score = sum(t["score"] for t in tests)
    max_score = sum(t["max_score"] for t in tests if not t.get("extra_credit"))
    lines = [f"Score {score:g} / {max_score:g}"]
    for exercise, row in totals.items():
        extra = " (extra credit)" if exercise in EXTRA_CREDIT else ""
        lines.append(
            f"{exercise}: {row['score']:g}/{row['max_score']:g}{extra}, "
            f"{row['passed']:g} passed, {row['failed']:g} failed, {row['pending']:g} pending"
        )
    extra_data = {"schema": SCHEMA, **extra_data}
    for exercise, row in totals.items():
        extra_data.setdefault("exercises", {}).setdefault(exercise, {}).update(
            score=row["score"], max_score=row["max_score"], extra_credit=exercise in EXTRA_CREDIT
        )
    return {
        "score": round(score, 4),
        "max_score": round(max_score, 4),
        "execution_time": round(execution_time, 3),
        "output": "\n".join(lines),
        "tests": tests,
        "extra_data": extra_data,
    }


def write_json(results: dict[str, Any], path: Path) -> None:
    """Write atomically, so a crash never leaves half a results file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", "utf-8")
    temporary.replace(path)


def junit_xml(results: dict[str, Any]) -> str:
    """JUnit XML: a testsuite per exercise; pending checks are <skipped>, never passes."""
    suites = ET.Element("testsuites", name="why-transformers", time=str(results["execution_time"]))
    by_exercise: dict[str, list[dict[str, Any]]] = {}
    for test in results["tests"]:
        by_exercise.setdefault(test["exercise"], []).append(test)
    for exercise, tests in by_exercise.items():
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=exercise,
            tests=str(len(tests)),
            failures=str(sum(t["status"] == "failed" for t in tests)),
            skipped=str(sum(t["status"] == "pending" for t in tests)),
            time=str(round(sum(t.get("duration", 0.0) for t in tests), 3)),
        )
        for test in tests:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{exercise}.{EXERCISES[exercise]}",
                name=test.get("id", test["name"]),
                time=str(test.get("duration", 0.0)),
            )
            properties = ET.SubElement(case, "properties")
            for key in ("score", "max_score", "status"):
                ET.SubElement(properties, "property", name=key, value=str(test[key]))
            first_line = (test["output"].splitlines() or [""])[0][:200]
            if test["status"] == "failed":
                ET.SubElement(case, "failure", message=first_line).text = test["output"]
            elif test["status"] == "pending":
                ET.SubElement(case, "skipped", message=f"pending: {first_line}")
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def terminal_table(results: dict[str, Any]) -> str:
    """The per-exercise table printed at the end of grading."""
    totals = exercise_totals(results["tests"])
    header = f"{'exercise':<11}{'score':>8}{'max':>7}{'passed':>8}{'failed':>8}{'pending':>9}"
    lines = [header, "-" * len(header)]
    for exercise in EXERCISES:
        if exercise not in totals:
            continue
        row = totals[exercise]
        mark = " (extra credit)" if exercise in EXTRA_CREDIT else ""
        lines.append(
            f"{exercise:<11}{row['score']:>8g}{row['max_score']:>7g}{row['passed']:>8g}"
            f"{row['failed']:>8g}{row['pending']:>9g}{mark}"
        )
    lines.append("-" * len(header))
    lines.append(f"{'total':<11}{results['score']:>8g}{results['max_score']:>7g}")
    return "\n".join(lines)


def terminal_checks(results: dict[str, Any], *, width: int = 120) -> str:
    """One line per check that did not pass: what a student fixes first."""
    lines = []
    for test in results["tests"]:
        if test["status"] == "passed":
            continue
        first = (test["output"].splitlines() or [""])[0]
        mark = "FAIL" if test["status"] == "failed" else "wait"
        line = f"  {mark} {test['id']}: {first}"
        lines.append(line if len(line) <= width else line[: width - 3] + "...")
    return "\n".join(lines)


def below_pass_mark(results: dict[str, Any], fail_under: float | None) -> bool:
    """True when ``--fail-under PCT`` is given and the score is below PCT % of max_score.

    Prints the one-line reason, shared by ``grade`` and ``merge``.
    """
    if fail_under is None or not results["max_score"]:
        return False
    percent = 100.0 * results["score"] / results["max_score"]
    if percent < fail_under:
        print(f"score {percent:.1f}% is below --fail-under {fail_under:g}%")
        return True
    return False


def registry_order(tests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    order = {check.id: index for index, check in enumerate(CHECKS)}
    return sorted(tests, key=lambda t: order.get(t.get("id", ""), len(order)))
