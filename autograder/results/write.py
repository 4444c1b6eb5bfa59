"""Writing a results document: the JSON (atomically), JUnit XML, and the Markdown summary.

One function, :func:`write_outputs`, serves both ``grade`` and ``merge``, so the two commands
write the same files the same way. The summary's renderer is passed in by the caller rather
than imported here: this package stays standard library only (the workflow's report job
installs the grader without torch, and Jinja2 is the reports' dependency, not the results'),
and a parameter says plainly that the summary is a report drawn from the document.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from autograder.results.rescore import exercise_totals
from autograder.results.schema import check_id, normalise_results
from autograder.results.sinks import xml_text
from autograder.results.strict_json import strict_copy
from autograder.spec.registry import ASSIGNMENT, EXERCISES

__all__ = ["SummaryRenderer", "junit_xml", "write_json", "write_outputs"]

SummaryRenderer = Callable[..., str]
"""``render(typed_document, *, results_dir=...) -> Markdown``, e.g.
:func:`autograder.reports.markdown.render_markdown`; it is given the schema's typed view
(:func:`~autograder.results.schema.normalise_results`) of the document written."""


def writable(document: Mapping[str, Any]) -> dict[str, Any]:
    """A copy that is strict JSON in UTF-8 (:mod:`~autograder.results.strict_json`); each
    non-finite number written as a string is noted in ``extra_data.json_notes``."""
    cleaned, notes = strict_copy(document)
    if notes and isinstance(cleaned.get("extra_data"), dict):
        cleaned["extra_data"]["json_notes"] = notes
    return cleaned


def write_json(document: Mapping[str, Any], path: Path) -> None:
    """Write atomically, so a crash never leaves half a results file (and a reader, such as
    Gradescope, never reads one); the temporary name is this process's own. Strict JSON:
    NaN and infinities become strings with a note, never bare tokens."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(writable(document), indent=2, ensure_ascii=False, allow_nan=False)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text + "\n", "utf-8")
    temporary.replace(path)


def junit_xml(document: Mapping[str, Any]) -> str:
    """JUnit XML in the dialect GitHub's reporters read: ``testsuites`` > a ``testsuite`` per
    exercise > a ``testcase`` per check (classname, time; ``failure`` or ``skipped`` with a
    message; pending checks are skipped, never passes). Points are suite-level properties
    (the exercise's ``score``/``max_score`` and ``points.CHECK`` as ``score/max``), where the
    JUnit schema has them. Every string goes through :func:`~autograder.results.sinks.xml_text`
    (a NUL or form feed in an exception message must not make the file not well-formed)."""
    suites = ET.Element("testsuites", name=ASSIGNMENT, time=str(document["execution_time"]))
    by_exercise: dict[str, list[Mapping[str, Any]]] = {}
    for result in document["tests"]:
        by_exercise.setdefault(result["exercise"], []).append(result)
    totals = exercise_totals(document["tests"])
    for exercise, results in by_exercise.items():
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=xml_text(exercise),
            tests=str(len(results)),
            failures=str(sum(result["status"] == "failed" for result in results)),
            skipped=str(sum(result["status"] == "pending" for result in results)),
            time=str(round(sum(result.get("duration", 0.0) for result in results), 3)),
        )
        properties = ET.SubElement(suite, "properties")
        for key in ("score", "max_score"):
            ET.SubElement(properties, "property", name=key, value=str(totals[exercise][key]))
        for result in results:
            points = f"{result['score']}/{result['max_score']}"
            name = xml_text(f"points.{check_id(result)}")
            ET.SubElement(properties, "property", name=name, value=points)
        for result in results:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=xml_text(f"{exercise}.{EXERCISES.get(exercise, exercise)}"),
                name=xml_text(result.get("id", result["name"])),
                time=str(result.get("duration", 0.0)),
            )
            first_line = xml_text((result["output"].splitlines() or [""])[0][:200])
            if result["status"] == "failed":
                failure = ET.SubElement(case, "failure", message=first_line)
                failure.text = xml_text(result["output"])
            elif result["status"] == "pending":
                ET.SubElement(case, "skipped", message=f"pending: {first_line}")
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def write_outputs(
    document: Mapping[str, Any],
    *,
    results_path: Path,
    junit_path: Path | None = None,
    summary_path: Path | None = None,
    render_summary: SummaryRenderer | None = None,
) -> None:
    """Results JSON always; JUnit XML and the Markdown summary when their paths are given.

    ``render_summary`` is required with ``summary_path``; the summary is rendered with the
    results file's folder, so the sweep plot it links to is found.
    """
    results_path = Path(results_path)
    document = writable(document)  # the same clean text in every file
    write_json(document, results_path)
    if junit_path:
        Path(junit_path).parent.mkdir(parents=True, exist_ok=True)
        Path(junit_path).write_text(junit_xml(document), encoding="utf-8")
    if summary_path:
        if render_summary is None:
            raise ValueError("a summary path needs a summary renderer")
        Path(summary_path).parent.mkdir(parents=True, exist_ok=True)
        Path(summary_path).write_text(
            render_summary(normalise_results(document), results_dir=results_path.parent),
            encoding="utf-8",
        )
