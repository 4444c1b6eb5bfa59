"""The TA-score merge (autograder/course/collect/manual_grades.py), rule by rule: what a row of the
TA's sheet must be to apply, what applying it does to a results document, and the template.
Fast enough to run once per mutant (``make mutate``); test_collect.py runs it through
``collect``."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from autograder.course.collect.manual_grades import (
    BadRow,
    ManualGrade,
    ManualSheet,
    apply_grades,
    read_sheet,
    template_csv,
    template_rows,
)
from autograder.results.build import assemble, result_from
from autograder.results.schema import normalise_results
from autograder.spec.registry import CHECKS_BY_ID

ANSWER = CHECKS_BY_ID["easy.answer"]  # manual, 3 points
EXPLANATION = CHECKS_BY_ID["hard.explanation"]  # manual, 4 points


def sheet_of(tmp_path: Path, text: str | bytes) -> ManualSheet:
    path = tmp_path / "ta.csv"
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return read_sheet(path)


def problems(sheet: ManualSheet) -> list[str]:
    return [str(p) for p in sheet.problems]


def test_a_valid_sheet_is_read_with_comments_and_row_numbers(tmp_path: Path) -> None:
    sheet = sheet_of(
        tmp_path,
        "\ufeffStudent, CHECK ,score,comment,extra\n"
        "\n"
        "alice,easy.answer,2.5, good ,x\n"
        "bob,easy.answer,,\n"
        "'=carol,'+easy.answer,3\n",
    )
    assert problems(sheet) == []
    assert sheet.grades == {
        ("alice", "easy.answer"): ManualGrade("alice", "easy.answer", 2.5, "good", 3),
        ("=carol", "+easy.answer"): ManualGrade("=carol", "+easy.answer", 3.0, "", 5),
    }
    assert sheet.still_pending == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "student,check\nalice,easy.answer\n",
            ["row 1: missing column(s) score: nothing applied"],
        ),
        ("", ["row 1: empty file: no header row"]),
        ("\n \n", ["row 1: empty file: no header row"]),
        (
            "student,check,score\nalice,easy.answer,2,extra\n",
            ["row 2 (alice, easy.answer): 4 cells, the header has 3 (an unquoted comma?)"],
        ),
        (
            "student,check,score\nalice,easy.answer\n",
            ["row 2 (alice, easy.answer): missing column(s) score"],
        ),
        ("student,check,score\n,easy.answer,2\n", ["row 2 (, easy.answer): missing student"]),
        ("student,check,score\nalice, ,2\n", ["row 2 (alice, ): missing check"]),
        (
            "student,check,score\nalice,easy.answer,lots\n",
            ["row 2 (alice, easy.answer): score 'lots' is not a number"],
        ),
        (
            "student,check,score\nalice,easy.answer,nan\n",
            ["row 2 (alice, easy.answer): score 'nan' is not a number"],
        ),
        (
            "student,check,score\nalice,easy.answer,inf\n",
            ["row 2 (alice, easy.answer): score 'inf' is not a number"],
        ),
        (
            "student,check,score\nalice,easy.answer,-inf\n",
            ["row 2 (alice, easy.answer): score '-inf' is not a number"],
        ),
    ],
)
def test_each_bad_sheet_or_row_is_named_with_its_row(tmp_path: Path, text: str, expected) -> None:
    sheet = sheet_of(tmp_path, text)
    assert problems(sheet) == expected
    assert sheet.grades == {}


def test_a_sheet_that_is_not_utf8_applies_nothing(tmp_path: Path) -> None:
    sheet = sheet_of(tmp_path, b"student,check,score\n\xff\xfe,easy.answer,1\n")
    assert problems(sheet) == ["row 1: not UTF-8 text: nothing applied"]


def test_a_quoted_newline_does_not_shift_the_next_records_row(tmp_path: Path) -> None:
    """A multi-line answer is one spreadsheet row: the rows after it keep their numbers
    (bob's record is on file line 5, carol's on lines 6 and 7; they are rows 3, 4 and 5)."""
    sheet = sheet_of(
        tmp_path,
        'student,check,score,comment\nalice,easy.answer,1,"two\nlines\nhere"\nbob,x,y\n'
        "carol,easy.answer,2\ncarol,easy.answer,3\n",
    )
    assert problems(sheet) == [
        "row 3 (bob, x): score 'y' is not a number",
        "row 4 (carol, easy.answer): duplicate: also scored on row 5; none of them applied",
        "row 5 (carol, easy.answer): duplicate: also scored on row 4; none of them applied",
    ]
    assert sheet.grades[("alice", "easy.answer")].comment == "two\nlines\nhere"
    assert sheet.grades[("alice", "easy.answer")].row == 2


def test_a_score_given_twice_applies_neither(tmp_path: Path) -> None:
    sheet = sheet_of(
        tmp_path,
        "student,check,score\n"
        "alice,easy.answer,1\n"
        "alice,easy.answer,2\n"
        "alice,hard.explanation,4\n"
        "alice,easy.answer,3\n",
    )
    assert set(sheet.grades) == {("alice", "hard.explanation")}
    assert problems(sheet) == [
        "row 2 (alice, easy.answer): duplicate: also scored on row 3, 5; none of them applied",
        "row 3 (alice, easy.answer): duplicate: also scored on row 2, 5; none of them applied",
        "row 5 (alice, easy.answer): duplicate: also scored on row 2, 3; none of them applied",
    ]


def test_unreadable_csv_keeps_what_came_before(tmp_path: Path, monkeypatch) -> None:
    import csv

    monkeypatch.setattr(csv, "field_size_limit", csv.field_size_limit)
    csv.field_size_limit(20)
    try:
        sheet = sheet_of(
            tmp_path, "student,check,score\nalice,easy.answer,1\nbob,easy.answer," + "9" * 50
        )
    finally:
        csv.field_size_limit(131072)
    assert sheet.grades.keys() == {("alice", "easy.answer")}
    assert len(sheet.problems) == 1
    assert str(sheet.problems[0]).startswith("row 3: not readable as CSV (")
    assert str(sheet.problems[0]).endswith("): the rest skipped")


def results_with(*tests: dict) -> dict:
    return {
        "score": sum(t["score"] for t in tests),
        "tests": list(tests),
        "extra_data": {
            "manual": [
                {"check": t["id"], "answer": "my answer", "status": "pending"} for t in tests
            ]
        },
    }


def pending(check, status: str = "pending") -> dict:
    return {
        "id": check.id,
        "exercise": check.exercise,
        "score": 0.0,
        "max_score": float(check.points),
        "status": status,
        "output": "waiting for a TA\nsecond line",
        "tags": list(check.tags),
    }


def graded(score: float, check=ANSWER, student="alice", comment="", row=2) -> ManualGrade:
    return ManualGrade(student, check.id, score, comment, row)


def test_full_marks_pass_and_fewer_points_fail_with_the_score_and_comment() -> None:
    results = results_with(pending(ANSWER), pending(EXPLANATION))
    other = {"id": "medium.x", "exercise": "medium", "score": 1.25, "max_score": 2.0}
    results["tests"].append(other | {"status": "failed"})
    sheet = ManualSheet(path=Path("ta.csv"))
    apply_grades(
        results, [graded(3.0), graded(1.5, EXPLANATION, comment="explain the slope")], sheet
    )
    answer, explanation = results["tests"][:2]
    assert answer["status"] == "passed" and answer["score"] == 3.0
    assert answer["output"] == "Graded by a TA: 3 / 3."
    assert answer["ta_grade"] == {"score": 3.0, "comment": ""}
    assert explanation["status"] == "failed" and explanation["score"] == 1.5
    assert explanation["output"] == "Graded by a TA: 1.5 / 4.\nTA comment: explain the slope"
    assert results["score"] == 5.75  # summed again
    manual = results["extra_data"]["manual"]
    assert manual[1] == {
        "check": EXPLANATION.id,
        "answer": "my answer",
        "status": "graded",
        "ta_score": 1.5,
        "ta_comment": "explain the slope",
    }
    assert [g.check for g in sheet.applied] == [ANSWER.id, EXPLANATION.id]
    assert sheet.problems == []


@pytest.mark.parametrize("score", [0.0, 3.0, 1e-9, 2.999])
def test_scores_from_zero_to_the_maximum_apply(score: float) -> None:
    results = results_with(pending(ANSWER))
    apply_grades(results, [graded(score)], ManualSheet(path=Path("ta.csv")))
    assert results["tests"][0]["score"] == score
    assert results["tests"][0]["status"] == ("passed" if score == 3.0 else "failed")


def test_the_score_is_rounded_to_four_decimals() -> None:
    results = results_with(pending(ANSWER))
    apply_grades(results, [graded(1.234567)], ManualSheet(path=Path("ta.csv")))
    assert results["score"] == 1.2346


def test_a_ta_score_updates_every_total_the_document_states_together() -> None:
    """score, the output summary and extra_data.exercises are derived again as one: no
    figure is left as the grading wrote it (collect applies TA scores to the typed view)."""
    tests = [
        result_from(CHECKS_BY_ID["easy.vector_matches_reference"], {"status": "passed"}, 10**4),
        result_from(ANSWER, {"status": "pending", "output": "waiting"}, 10**4),
        result_from(EXPLANATION, {"status": "pending", "output": "waiting"}, 10**4),
    ]
    written = assemble(tests, execution_time=1.0, extra_data={"exercises": {"easy": {"runs": 1}}})
    results = normalise_results(written)
    assert results["output"].splitlines()[:2] == [
        "Score 4 / 11",
        "easy: 4 / 7, 1 passed, 0 failed, 1 pending",
    ]
    apply_grades(results, [graded(2.0)], ManualSheet(path=Path("ta.csv")))
    assert (results["score"], results["max_score"]) == (6.0, 11.0)
    assert results["output"].splitlines() == [
        "Score 6 / 11",
        "easy: 6 / 7, 1 passed, 1 failed, 0 pending",
        "hard: 0 / 4, 0 passed, 0 failed, 1 pending",
    ]
    easy = results["extra_data"]["exercises"]["easy"]
    assert (easy["score"], easy["max_score"], easy["runs"]) == (6.0, 7.0, 1)
    assert results["extra_data"]["exercises"]["hard"]["score"] == 0.0
    assert normalise_results(results) == results  # nothing stale left to derive


@pytest.mark.parametrize(
    ("grade", "test", "why"),
    [
        (
            graded(3.5),
            pending(ANSWER),
            "row 2 (alice, easy.answer): score 3.5 is outside 0..3 for easy.answer",
        ),
        (
            graded(-0.5),
            pending(ANSWER),
            "row 2 (alice, easy.answer): score -0.5 is outside 0..3 for easy.answer",
        ),
        (
            graded(1),
            pending(ANSWER, status="passed"),
            "row 2 (alice, easy.answer): alice's easy.answer is not pending "
            "(passed: waiting for a TA)",
        ),
        (
            ManualGrade("alice", "medium.depth_measured", 1, "", 7),
            pending(ANSWER),
            "row 7 (alice, medium.depth_measured): not a manual check (a TA scores only "
            "easy.answer, hard.explanation)",
        ),
        (
            ManualGrade("alice", "nope.check", 1, "", 4),
            pending(ANSWER),
            "row 4 (alice, nope.check): unknown check 'nope.check'",
        ),
        (
            graded(1, EXPLANATION),
            pending(ANSWER),
            "row 2 (alice, hard.explanation): alice's results have no hard.explanation "
            "(graded with --only?)",
        ),
    ],
)
def test_a_grade_that_cannot_apply_changes_nothing(grade, test, why) -> None:
    results = results_with(test)
    before = copy.deepcopy(results)
    sheet = ManualSheet(path=Path("ta.csv"))
    apply_grades(results, [grade], sheet)
    assert results == before
    assert problems(sheet) == [why] and sheet.applied == []


def test_a_check_tagged_manual_in_the_results_counts_as_manual() -> None:
    """A results file from a registry that had the check (an older release)."""
    test = pending(ANSWER) | {"id": "old.answer", "tags": ["manual"]}
    results = results_with(test)
    apply_grades(results, [ManualGrade("a", "old.answer", 2, "", 2)], ManualSheet(Path("x")))
    assert results["tests"][0]["status"] == "failed" and results["tests"][0]["score"] == 2


def test_unknown_students_are_listed_by_finish() -> None:
    sheet = ManualSheet(path=Path("ta.csv"))
    sheet.grades = {
        ("alice", ANSWER.id): graded(1, row=5),
        ("bob", ANSWER.id): graded(1, student="bob", row=3),
        ("carol", ANSWER.id): graded(1, student="carol", row=4),
    }
    sheet.finish(collected=["alice"], unreadable=["carol"])
    assert problems(sheet) == [
        "row 3 (bob, easy.answer): unknown student 'bob'",
        "row 4 (carol, easy.answer): the results of 'carol' could not be read "
        "(see the skipped files)",
    ]
    assert [g.student for g in sheet.for_student("alice")] == ["alice"]
    assert sheet.for_student("dave") == []
    assert str(BadRow(9, "why")) == "row 9: why"
    assert str(BadRow(9, "why", "s", "c")) == "row 9 (s, c): why"


def test_the_template_lists_only_pending_manual_checks_with_answer_and_rubric() -> None:
    results = results_with(pending(ANSWER), pending(EXPLANATION, status="passed"))
    results["tests"].append(pending(CHECKS_BY_ID["medium.depth_measured"]))
    rows = template_rows("alice", results)
    assert rows == [
        {
            "student": "alice",
            "check": ANSWER.id,
            "max_score": "3",
            "answer": "my answer",
            "score": "",
            "comment": "",
            "rubric": " | ".join(ANSWER.rubric),
        }
    ]
    text = template_csv([*rows, dict(rows[0], student="=1+1")])
    assert text.splitlines()[0] == "student,check,max_score,answer,score,comment,rubric"
    assert "\n'=1+1," in text  # a spreadsheet never runs it


# ---- rules the first mutation run showed unpinned (docs/testing.md)


def test_only_the_templates_anti_formula_quote_is_removed(tmp_path: Path) -> None:
    sheet = sheet_of(
        tmp_path,
        "student,check,score\na=b,easy.answer,1\n#=x,easy.answer,1\n'abc,easy.answer,1\n"
        "'-1,easy.answer,1\n",
    )
    assert {student for student, _ in sheet.grades} == {"a=b", "#=x", "'abc", "-1"}
    sheet = sheet_of(  # a comment is cleaned the same way
        tmp_path, "student,check,score,comment\na,easy.answer,1,'=hm\nb,easy.answer,1,'abc\n"
    )
    assert [g.comment for g in sheet.grades.values()] == ["=hm", "'abc"]


@pytest.mark.parametrize(
    ("text", "row"),
    [
        ("student,check,score\nalice,easy.answer,1\nbob,easy.answer,2\ncarol,x,", 4),
        # file line 5, but row 4: the multi-line comment is one row
        ('student,check,score,comment\nalice,easy.answer,1,"a\nb"\nbob,easy.answer,2\ncarol,x,', 4),
    ],
)
def test_an_unreadable_record_is_named_by_its_row(tmp_path: Path, text: str, row: int) -> None:
    import csv

    csv.field_size_limit(20)
    try:
        sheet = sheet_of(tmp_path, text + "9" * 50)
    finally:
        csv.field_size_limit(131072)
    assert str(sheet.problems[0]).startswith(f"row {row}: not readable as CSV")


def test_duplicates_far_down_a_long_sheet_name_each_other(tmp_path: Path) -> None:
    rows = "".join(f"s{n},easy.answer,1\n" for n in range(400))
    sheet = sheet_of(tmp_path, "student,check,score\n" + rows + "s399,easy.answer,2\n")
    assert problems(sheet) == [
        "row 401 (s399, easy.answer): duplicate: also scored on row 402; none of them applied",
        "row 402 (s399, easy.answer): duplicate: also scored on row 401; none of them applied",
    ]


def test_nothing_applied_leaves_the_score_as_written() -> None:
    results = results_with(pending(ANSWER))
    results["score"] = 99.0  # not the sum: only a change of grades may recompute it
    apply_grades(results, [graded(5.0)], ManualSheet(path=Path("ta.csv")))
    assert results["score"] == 99.0


def test_a_bad_grade_does_not_stop_the_good_ones_after_it() -> None:
    results = results_with(pending(ANSWER))
    results["tests"].append(pending(EXPLANATION, status="passed"))
    bad = [
        ManualGrade("alice", "nope.check", 1, "", 3),
        ManualGrade("alice", "medium.depth_measured", 1, "", 4),
        graded(1, EXPLANATION, row=5),  # not pending
        graded(9, row=6),  # outside 0..3
    ]
    missing = results_with(pending(ANSWER))
    sheet = ManualSheet(path=Path("ta.csv"))
    apply_grades(missing, [graded(1, EXPLANATION, row=7), graded(2, row=8)], sheet)
    assert [g.row for g in sheet.applied] == [8]
    sheet = ManualSheet(path=Path("ta.csv"))
    apply_grades(results, [*bad, graded(2, row=9)], sheet)
    assert [g.row for g in sheet.applied] == [9] and len(sheet.problems) == 4


@pytest.mark.parametrize("status", ["skipped", "timeout", "".join(["pass", "ed"])])
def test_only_a_pending_check_takes_a_ta_score(status: str) -> None:
    results = results_with(pending(ANSWER, status=status))
    results["tests"][0]["output"] = "o" * 100 + "\nmore"
    sheet = ManualSheet(path=Path("ta.csv"))
    apply_grades(results, [graded(1)], sheet)
    assert problems(sheet) == [
        f"row 2 (alice, easy.answer): alice's easy.answer is not pending ({status}: {'o' * 80})"
    ]
    assert template_rows("alice", results) == []


def test_a_status_read_from_a_file_is_pending_by_value() -> None:
    results = results_with(pending(ANSWER, status="".join(["pend", "ing"])))
    apply_grades(results, [graded(2)], ManualSheet(path=Path("ta.csv")))
    assert results["tests"][0]["status"] == "failed"
    results = results_with(pending(ANSWER, status="".join(["pend", "ing"])))
    assert len(template_rows("alice", results)) == 1


@pytest.mark.parametrize(("check", "other"), [(ANSWER, EXPLANATION), (EXPLANATION, ANSWER)])
def test_only_the_graded_checks_answer_entry_is_marked(check, other) -> None:
    results = results_with(pending(ANSWER), pending(EXPLANATION))
    for entry in results["extra_data"]["manual"]:  # as read from a file: equal, not identical
        entry["check"] = "".join(list(entry["check"]))
    results["extra_data"]["manual"].insert(0, "not an entry")
    apply_grades(results, [graded(1, check)], ManualSheet(path=Path("ta.csv")))
    entries = {e["check"]: e for e in results["extra_data"]["manual"][1:]}
    assert entries[check.id]["status"] == "graded"
    assert entries[other.id] == {"check": other.id, "answer": "my answer", "status": "pending"}


def test_the_template_skips_other_checks_wherever_they_are_and_keeps_a_files_rubric() -> None:
    old = pending(ANSWER) | {"id": "old.answer", "tags": ["manual"]}
    results = results_with(pending(CHECKS_BY_ID["medium.depth_measured"]), old)
    results["extra_data"]["manual"][1]["rubric"] = ["one point", "another"]
    rows = template_rows("alice", results)
    assert [(r["check"], r["rubric"]) for r in rows] == [("old.answer", "one point | another")]


def test_sheet_rows_cannot_be_changed_after_reading() -> None:
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        graded(1).score = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        BadRow(1, "x").why = "y"  # type: ignore[misc]
