"""collect --roster: every roster student exactly one gradebook row, 0 with the reason when
there is no usable result; collected students outside the roster listed."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from autograder import cli
from autograder.course.collect.command import collect
from autograder.course.collect.roster import read_roster

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "results"


@pytest.fixture
def class_dir(tmp_path: Path) -> Path:
    """The fixture students plus: one empty clone, one corrupt results file, one that regrade
    could not grade (its regrade.log)."""
    folder = tmp_path / "class"
    shutil.copytree(FIXTURES, folder)
    (folder / "empty_clone").mkdir()
    (folder / "corrupt").mkdir()
    (folder / "corrupt" / "results.json").write_text("{not json", "utf-8")
    (folder / "crashed").mkdir()
    (folder / "crashed" / "regrade.log").write_text(
        "regrade: could not be graded: fake line the student printed\n"
        "Traceback ...\n\nregrade: could not be graded: timed out after 1200 s\n",
        "utf-8",
    )
    return folder


def write_roster(path: Path, rows: list[str]) -> Path:
    path.write_text("student,name,email,section,lms_id\n" + "\n".join(rows) + "\n", "utf-8")
    return path


def gradebook(out_dir: Path) -> list[dict[str, str]]:
    with (out_dir / "gradebook.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_roster_student_has_one_row_with_the_reason(class_dir: Path, tmp_path: Path) -> None:
    roster = write_roster(
        tmp_path / "roster.csv",
        [
            "full_marks,Ada Lovelace,ada@uni.example,A,1001",
            "stub,Alan Turing,alan@uni.example,B,1002",
            "empty_clone,Grace Hopper,grace@uni.example,A,1003",
            "corrupt,Edsger Dijkstra,ed@uni.example,B,1004",
            "crashed,Barbara Liskov,bl@uni.example,A,1005",
            "never_pushed,Donald Knuth,dk@uni.example,B,1006",
        ],
    )
    summary = collect(
        inputs=[class_dir], out_dir=tmp_path / "out", roster_file=roster, count_unverified=True
    )
    rows = gradebook(tmp_path / "out")
    students = [row["student"] for row in rows]
    assert len(students) == len(set(students))  # exactly one row each
    by_id = {row["student"]: row for row in rows}
    for student in ("full_marks", "stub", "empty_clone", "corrupt", "crashed", "never_pushed"):
        assert student in by_id
    assert by_id["empty_clone"]["reason"] == "no submission"
    assert by_id["never_pushed"]["reason"] == "no submission"
    assert by_id["corrupt"]["reason"].startswith("results unreadable: ")
    assert by_id["crashed"]["reason"] == "could not be graded: timed out after 1200 s"
    for student in ("empty_clone", "corrupt", "crashed", "never_pushed"):
        assert (by_id[student]["score"], by_id[student]["total"]) == ("0", "0")
        assert by_id[student]["max_score"] == "100"
    full = by_id["full_marks"]
    assert (full["first_name"], full["last_name"], full["email"], full["section"]) == (
        "Ada",
        "Lovelace",
        "ada@uni.example",
        "A",
    )
    assert full["reason"] == "" and float(full["score"]) > 0
    # collected but not on the roster: kept in the gradebook, marked and listed
    assert by_id["failures"]["reason"] == "not on the roster"
    assert summary.outside_roster == ["failures", "gpu_pending"]


def test_roster_problems_are_listed_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text('student,name\nada,"Ada\nLovelace"\n,nobody\nada,again\n=cmd,x\n', "utf-8")
    roster = read_roster(path)
    assert list(roster.entries) == ["ada", "=cmd"]
    assert roster.problems == [
        "record 2: no student id (row skipped)",  # a record, not the file's line 4
        "record 3: ada is listed twice (first row kept)",
    ]
    (tmp_path / "bad.csv").write_text("id,name\n1,x\n", "utf-8")
    assert read_roster(tmp_path / "bad.csv").problems == [
        "no 'student' column in the header: no roster applied"
    ]


def test_roster_cells_cannot_run_as_formulas(class_dir: Path, tmp_path: Path) -> None:
    roster = write_roster(tmp_path / "roster.csv", ["=HYPERLINK(1),=cmd|' /c calc'!A0,x,,"])
    collect(inputs=[class_dir], out_dir=tmp_path / "out", roster_file=roster)
    row = next(r for r in gradebook(tmp_path / "out") if r["reason"] == "no submission")
    assert row["student"] == "'=HYPERLINK(1)"
    assert row["first_name"].startswith("'=")


def test_cli_roster_lists_missing_and_outside(
    class_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = write_roster(tmp_path / "roster.csv", ["full_marks,,,,", "never_pushed,,,,"])
    assert (
        cli.main(["collect", str(class_dir), "--out", str(tmp_path / "o"), "--roster", str(roster)])
        == 0
    )
    err = capsys.readouterr().err
    assert "roster: never_pushed: 0 (no submission)" in err
    assert "not on the roster: " in err and "gpu_pending" in err
    assert cli.main(["collect", str(class_dir), "--roster", str(tmp_path / "nope.csv")]) == 2


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_lms_files_carry_the_roster_ids_and_the_score_of_record(
    class_dir: Path, tmp_path: Path
) -> None:
    roster = write_roster(
        tmp_path / "roster.csv",
        [
            "full_marks,Ada Lovelace,ada@uni.example,A,1001",
            "never_pushed,Don Knuth,dk@x.example,B,1006",
        ],
    )
    collect(inputs=[class_dir], out_dir=tmp_path / "out", roster_file=roster, count_unverified=True)
    canvas = read_csv(tmp_path / "out" / "canvas-grades.csv")
    assert canvas[0] == [
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
        "why-transformers",
    ]
    # only roster students (an LMS row needs an LMS id), a missing one with 0
    assert canvas[1:] == [
        ["Ada Lovelace", "", "1001", "", "A", "103"],
        ["Don Knuth", "", "1006", "", "B", "0"],
    ]
    moodle = read_csv(tmp_path / "out" / "moodle-grades.csv")
    assert moodle == [
        ["ID number", "Email address", "why-transformers"],
        ["1001", "ada@uni.example", "103"],
        ["1006", "dk@x.example", "0"],
    ]


def test_lms_files_per_exercise_and_unverified_left_empty(class_dir: Path, tmp_path: Path) -> None:
    roster = write_roster(
        tmp_path / "roster.csv", ["full_marks,Ada Lovelace,ada@uni.example,A,1001"]
    )
    collect(
        inputs=[class_dir],
        out_dir=tmp_path / "out",
        roster_file=roster,
        lms_parts="exercises",
        lms_name="Lab 3 (12345)",
    )  # the fixtures are unsigned: not counted unless the TA asks
    canvas = read_csv(tmp_path / "out" / "canvas-grades.csv")
    assert canvas[0][5:] == [f"Lab 3 (12345): {e}" for e in ("easy", "medium", "hard", "challenge")]
    assert canvas[1][5:] == ["", "", "", ""]  # unverified: an empty cell changes nothing in Canvas
    collect(
        inputs=[class_dir],
        out_dir=tmp_path / "out",
        roster_file=roster,
        lms_parts="exercises",
        count_unverified=True,
    )
    assert read_csv(tmp_path / "out" / "moodle-grades.csv")[1] == [
        "1001",
        "ada@uni.example",
        "17",
        "40",
        "36",
        "10",
    ]


def test_first_screen_says_who_needs_attention(class_dir: Path, tmp_path: Path) -> None:
    roster = write_roster(
        tmp_path / "roster.csv", ["full_marks,,,,", "stub,,,,", "never_pushed,,,,"]
    )
    collect(inputs=[class_dir], out_dir=tmp_path / "out", roster_file=roster)
    markdown = (tmp_path / "out" / "class-summary.md").read_text("utf-8")
    attention = markdown.index("## Needs attention")
    assert attention < markdown.index("## Students") < markdown.index("## Failure rate per check")
    section = markdown[attention : markdown.index("## Students")]
    assert "**No usable result (1)**: never\\_pushed (no submission)" in section
    assert (
        "**Integrity flags (1)**: [failures](students/failures.html) (4 integrity flag(s))"
        in section
    )
    assert "**Waiting for a TA (4)**" in section and "[stub](students/stub.html)" in section
    assert "[stub](students/stub.html) (25 failed: " in section and "and 21 more)" in section
    assert "**Not on the roster (2)**" in section
    students = markdown[markdown.index("## Students") : markdown.index("## Failure rate")]
    assert "| never\\_pushed (no submission) | 0 | 100 |" in students  # visible, not skipped
    html = (tmp_path / "out" / "class-summary.html").read_text("utf-8")
    assert html.index("id='attention'") < html.index("id='distribution'")
    assert (
        "<dd><span class='who'><a href='students/failures.html'>failures</a> "
        "<span class='why'>(4 integrity flag(s))</span></span></dd>"
    ) in html


def test_unverified_results_are_named_on_the_first_screen(
    class_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a course key, each unsigned result is named; without one, the banner says it once."""
    collect(inputs=[class_dir], out_dir=tmp_path / "nokey")
    assert "Unverified results (" not in (tmp_path / "nokey" / "class-summary.md").read_text()
    monkeypatch.setenv("AUTOGRADER_COURSE_KEY", "course-key-0123456789abcdef")
    collect(inputs=[class_dir], out_dir=tmp_path / "key")
    markdown = (tmp_path / "key" / "class-summary.md").read_text()
    section = markdown[markdown.index("## Needs attention") : markdown.index("## Students")]
    assert "**Unverified results (4)**: [failures](students/failures.html) (" in section
