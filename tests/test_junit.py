"""The JUnit XML, read the way GitHub's test reporters read it (junitparser).

``merge --junit`` (and ``grade --junit``) write one ``testsuite`` per exercise inside one
``testsuites``; each check is a ``testcase`` named by its check id, with classname
``exercise.module`` and its time; points are properties of the suite (where the JUnit schema
allows them): the exercise's score and maximum, and ``points.CHECK`` as ``score/max``. A
failed result carries a ``failure`` with the output's first line as message and
the whole output as text; a pending one is ``skipped`` (never a pass); a passed one has
neither. The numbers must agree with the results document they come from.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from junitparser import Failure, JUnitXml, Properties, Skipped, TestSuite

from autograder.results.merge import merge, write_merged
from autograder.spec.registry import EXERCISES

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "results"
STUDENTS = ["failures", "full_marks", "gpu_pending", "stub"]


def merged_junit(student: str, tmp_path: Path) -> tuple[dict, JUnitXml]:
    """(merged results document, its JUnit XML parsed), from one fixture's merge run."""
    folder = tmp_path / student
    shutil.copytree(FIXTURES / student, folder)
    out = tmp_path / "merged"
    document = merge(inputs=[folder / "results.json"], out_dir=out)
    junit = out / "junit.xml"
    write_merged(document, out=out / "results.json", junit=junit, summary=None)
    return document, JUnitXml.fromfile(str(junit))


@pytest.mark.parametrize("student", STUDENTS)
def test_one_suite_per_exercise_with_totals_of_the_document(student: str, tmp_path: Path) -> None:
    document, xml = merged_junit(student, tmp_path)
    assert xml.name == "why-transformers"
    assert float(xml.time) == pytest.approx(document["execution_time"])
    suites = list(xml)
    assert all(isinstance(suite, TestSuite) for suite in suites)
    exercises = list(dict.fromkeys(t["exercise"] for t in document["tests"]))
    assert [suite.name for suite in suites] == exercises
    for suite in suites:
        tests = [t for t in document["tests"] if t["exercise"] == suite.name]
        assert suite.tests == len(tests)
        assert suite.failures == sum(t["status"] == "failed" for t in tests)
        assert suite.skipped == sum(t["status"] == "pending" for t in tests)
        assert suite.time == pytest.approx(sum(t.get("duration", 0.0) for t in tests), abs=1e-3)
        properties = {p.name: p.value for p in suite.properties()}
        assert float(properties.pop("score")) == sum(t["score"] for t in tests)
        assert float(properties.pop("max_score")) == sum(t["max_score"] for t in tests)
        assert properties == {f"points.{t['id']}": f"{t['score']}/{t['max_score']}" for t in tests}
    assert sum(suite.tests for suite in suites) == len(document["tests"])


@pytest.mark.parametrize("student", STUDENTS)
def test_each_testcase_names_its_check_and_says_its_status(student: str, tmp_path: Path) -> None:
    document, xml = merged_junit(student, tmp_path)
    by_id = {t["id"]: t for t in document["tests"]}
    seen = []
    for suite in xml:
        for case in suite:
            test = by_id[case.name]
            seen.append(case.name)
            assert case.classname == f"{test['exercise']}.{EXERCISES[test['exercise']]}"
            assert case.time == pytest.approx(test.get("duration", 0.0))
            assert case.child(Properties) is None  # no testcase properties (not in the schema)
            first_line = (test["output"].splitlines() or [""])[0][:200]
            if test["status"] == "passed":
                assert case.is_passed and case.result == []
            elif test["status"] == "failed":
                [failure] = case.result
                assert isinstance(failure, Failure) and case.is_failure
                assert failure.message == first_line
                assert failure.text == test["output"]
            else:
                [skipped] = case.result
                assert isinstance(skipped, Skipped) and case.is_skipped and not case.is_passed
                assert skipped.message == f"pending: {first_line}"
    assert seen == [t["id"] for t in document["tests"]]  # every result once, in order


def test_the_fixtures_cover_every_status() -> None:
    """Without a failed and a pending result somewhere, the tests above would prove less."""
    statuses = {
        t["status"]
        for student in STUDENTS
        for t in json.loads((FIXTURES / student / "results.json").read_text("utf-8"))["tests"]
    }
    assert statuses == {"passed", "failed", "pending"}
