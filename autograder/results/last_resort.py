"""The results file of last resort: written when building or writing the full one failed.

SPEC: whatever happens, ``grade`` leaves a valid results file. If assembling the document,
rendering the summary or writing JUnit raises (a grader bug no submission should be able to
cause), this writes the results it has, strictly and plainly, with what went wrong, so the
student still sees a score and the TA a reason. Standard library only, like the rest of
:mod:`autograder.results`.
"""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from autograder.results.schema import SCHEMA
from autograder.results.sinks import xml_text
from autograder.results.strict_json import clean_text
from autograder.results.write import write_json

__all__ = ["last_resort_document", "write_last_resort"]

RESULT_KEYS = ("id", "name", "exercise", "score", "max_score", "status", "output", "tags")
"""What a result of the last-resort document keeps."""


def last_resort_document(
    error: BaseException, results: list[Any], *, execution_time: float
) -> dict[str, Any]:
    """A minimal SPEC document from the results built so far, naming the failure."""
    reason = clean_text(f"{type(error).__name__}: {str(error)[:300]}")
    kept = []
    for result in results:
        with contextlib.suppress(Exception):  # a malformed result is left out, not fatal
            plain = {key: result[key] for key in RESULT_KEYS if key in result}
            plain["score"] = float(plain["score"])
            plain["max_score"] = float(plain["max_score"])
            plain["output"] = clean_text(str(plain.get("output", "")))[:4000]
            kept.append(plain)
    score = sum(result["score"] for result in kept)
    max_score = sum(result["max_score"] for result in kept if not _is_extra_credit(result))
    return {
        "score": round(score, 4),
        "max_score": round(max_score, 4),
        "execution_time": round(float(execution_time), 3),
        "output": (
            f"Score {score:g} / {max_score:g}\nThe grader could not write its full report "
            f"({reason}); these are its verdicts. Tell your TA: this is not your code's fault."
        ),
        "tests": kept,
        "extra_data": {"schema": SCHEMA, "grader_error": reason},
    }


def _is_extra_credit(result: dict[str, Any]) -> bool:
    from autograder.spec.registry import EXTRA_CREDIT

    return result.get("exercise") in EXTRA_CREDIT


def write_last_resort(
    error: BaseException,
    results: list[Any],
    *,
    execution_time: float,
    results_path: Path,
    junit_path: Path | None = None,
    summary_path: Path | None = None,
) -> dict[str, Any]:
    """Write the last-resort document (and a plain JUnit file and summary when asked for)."""
    document = last_resort_document(error, results, execution_time=execution_time)
    write_json(document, Path(results_path))
    if junit_path:
        suites = ET.Element("testsuites", name="grading", time=str(document["execution_time"]))
        suite = ET.SubElement(
            suites, "testsuite", name="grading", tests=str(len(document["tests"]))
        )
        for result in document["tests"]:
            name = xml_text(str(result.get("id", result.get("name"))))
            case = ET.SubElement(suite, "testcase", name=name)
            if result.get("status") == "failed":
                ET.SubElement(case, "failure", message="failed").text = xml_text(result["output"])
            elif result.get("status") == "pending":
                ET.SubElement(case, "skipped", message="pending")
        Path(junit_path).parent.mkdir(parents=True, exist_ok=True)
        Path(junit_path).write_text(
            ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n", "utf-8"
        )
    if summary_path:
        Path(summary_path).parent.mkdir(parents=True, exist_ok=True)
        Path(summary_path).write_text(
            f"# Grading report\n\n**Score: {document['score']:g} / {document['max_score']:g}**"
            f"\n\n{document['output'].splitlines()[1]}\n",
            "utf-8",
        )
    return document
