"""The class view: gradebook, failure rates, integrity and pending lists, bad files skipped.

Each test builds a class folder from the hand-made fixtures (tests/fixtures/results/: students
``failures``, ``full_marks``, ``gpu_pending`` and ``stub``) plus whatever broken or hostile
input it is about, and runs ``collect`` on it for real.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from autograder.collect import GRADEBOOK_COLUMNS, NBGRADER_COLUMNS, collect, main
from autograder.report import md_inline

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "results"
FIXTURE_STUDENTS = ["failures", "full_marks", "gpu_pending", "stub"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def class_dir(tmp_path: Path) -> Path:
    """The four fixture students in one class folder."""
    folder = tmp_path / "class"
    shutil.copytree(FIXTURES, folder)
    return folder


def gradebook(out_dir: Path) -> list[dict[str, str]]:
    with (out_dir / "gradebook.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_gradebook_rows_and_columns(class_dir: Path, tmp_path: Path) -> None:
    summary = collect(inputs=[class_dir], out_dir=tmp_path / "out")
    with (tmp_path / "out" / "gradebook.csv").open(newline="") as handle:
        header = next(csv.reader(handle))
    assert tuple(header[: len(NBGRADER_COLUMNS)]) == NBGRADER_COLUMNS
    assert tuple(header) == GRADEBOOK_COLUMNS
    assert {"easy", "medium", "hard", "challenge", "total"} <= set(header)
    rows = {row["student_id"]: row for row in gradebook(tmp_path / "out")}
    assert sorted(rows) == FIXTURE_STUDENTS == [s.student_id for s in summary.students]
    full = rows["full_marks"]
    assert full["assignment"] == "why-transformers"
    assert (full["raw_score"], full["score"], full["max_score"], full["total"]) == (
        "103",
        "103",
        "100",
        "103",
    )
    assert [full[e] for e in ("easy", "medium", "hard", "challenge")] == ["17", "40", "36", "10"]
    assert full["timestamp"] == "2026-11-26T06:00:00+00:00"
    assert full["email"] == full["last_name"] == full["late_submission_penalty"] == ""
    assert (
        rows["failures"]["integrity_flags"] == "4" and rows["full_marks"]["integrity_flags"] == "0"
    )
    assert rows["stub"]["score"] == "0" and rows["stub"]["pending_checks"] == "6"


def test_exercise_not_graded_is_an_empty_cell(class_dir: Path, tmp_path: Path) -> None:
    """A run with --only has no checks of the other exercises: empty, not zero."""
    path = class_dir / "stub" / "results.json"
    results = json.loads(path.read_text())
    results["tests"] = [t for t in results["tests"] if t["exercise"] == "medium"]
    path.write_text(json.dumps(results))
    collect(inputs=[class_dir], out_dir=tmp_path / "out")
    stub = next(r for r in gradebook(tmp_path / "out") if r["student_id"] == "stub")
    assert (stub["easy"], stub["medium"], stub["challenge"]) == ("", "0", "")


def test_failure_rate_sorted_worst_first(class_dir: Path, tmp_path: Path) -> None:
    summary = collect(inputs=[class_dir], out_dir=tmp_path / "out")
    stats = summary.check_stats()
    rates = [s.failure_rate for s in stats if s.failure_rate is not None]
    assert rates == sorted(rates, reverse=True)
    worst = stats[0]
    assert worst.failure_rate == 0.5 and (worst.failed, worst.graded) == (2, 4)
    gpu = next(s for s in stats if s.check_id == "hard.correct_cuda")
    assert (gpu.failed, gpu.graded, gpu.pending) == (0, 1, 3)  # pending left out of the rate
    assert [s.check_id for s in stats[-2:]] == ["easy.answer", "hard.explanation"]  # all pending
    markdown = (tmp_path / "out" / "class-summary.md").read_text()
    table = [line.split("|")[1].strip() for line in markdown.splitlines() if line.startswith("| ")]
    ids = [t.replace("\\", "") for t in table if "." in t and t != "check"]
    assert ids[: len(stats)] == [s.check_id for s in stats]


def test_integrity_and_pending_lists(class_dir: Path, tmp_path: Path) -> None:
    summary = collect(inputs=[class_dir], out_dir=tmp_path / "out")
    assert [s.student_id for s in summary.students if s.flags] == ["failures"]
    assert summary.pending_by_check(kind="manual") == {
        "easy.answer": FIXTURE_STUDENTS,
        "hard.explanation": FIXTURE_STUDENTS,
    }
    gpu = summary.pending_by_check(kind="gpu")
    assert gpu["hard.correct_cuda"] == ["failures", "gpu_pending", "stub"]
    page = (tmp_path / "out" / "class-summary.html").read_text()
    assert "id='integrity-banner'" in page and "modified: .github/workflows/grade.yml" in page
    assert "<td>easy.answer</td><td class='num'>4</td>" in page
    markdown = (tmp_path / "out" / "class-summary.md").read_text()
    assert "- easy.answer (4): failures, full\\_marks, gpu\\_pending, stub" in markdown


def test_bad_files_are_skipped_by_name_and_the_rest_collected(
    class_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = {
        "corrupt": ("{not json", "corrupt JSON"),
        "foreign": ('{"tool": "eslint", "errors": []}', "not a results file: 'score' missing"),
        "wrong_types": (
            '{"score": "high", "max_score": 100, "tests": "all of them"}',
            "not a results file: 'score' is not a number; 'tests' is not a list",
        ),
        "bad_test": (
            '{"score": 1, "max_score": 1, "tests": [{"exercise": "easy", "score": 1}]}',
            "not a results file: tests[0].max_score is not a number",
        ),
        "binary": (b"\xff\xfe\x00garbage", "corrupt JSON"),
    }
    for name, (content, _) in bad.items():
        (class_dir / name).mkdir()
        path = class_dir / name / "results.json"
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    (class_dir / "dangling").mkdir()
    (class_dir / "dangling" / "results.json").symlink_to(tmp_path / "gone.json")
    (class_dir / "no_submission").mkdir()

    out_dir = tmp_path / "out"
    assert main([str(class_dir), "--out", str(out_dir)]) == 0
    err = capsys.readouterr().err
    summary_md = (out_dir / "class-summary.md").read_text()
    summary_html = (out_dir / "class-summary.html").read_text()
    for name, (_, why) in [*bad.items(), ("dangling", (None, "unreadable"))]:
        path = class_dir / name / "results.json"
        assert f"skipped: {path} ({why}" in err
        assert why.replace("'", "&#x27;") in summary_html
        assert f"skipped: {md_inline(str(path))}" in summary_md
    assert f"no results file: {class_dir / 'no_submission'}" in err
    assert [row["student_id"] for row in gradebook(out_dir)] == FIXTURE_STUDENTS


def test_student_folder_layouts_and_newest_file(class_dir: Path, tmp_path: Path) -> None:
    # One student's checkout with the grader's default path, given directly.
    checkout = tmp_path / "ada"
    (checkout / "outputs" / "grading").mkdir(parents=True)
    shutil.copy(class_dir / "full_marks" / "results.json", checkout / "outputs/grading")
    # A student with an old run and a new one: the newest by modification time wins.
    twice = class_dir / "twice"
    for run, fixture in (("run1", "stub"), ("run2", "gpu_pending")):
        (twice / run).mkdir(parents=True)
        shutil.copy(class_dir / fixture / "results.json", twice / run)
    os.utime(twice / "run1" / "results.json", (1_000_000, 1_000_000))
    summary = collect(inputs=[class_dir, checkout], out_dir=tmp_path / "out")
    scores = {s.student_id: s.score for s in summary.students}
    assert scores["ada"] == 103 and scores["twice"] == 89
    assert any("twice: 2 results files" in note for note in summary.notes)


def test_class_html_is_self_contained_and_escaped(class_dir: Path, tmp_path: Path) -> None:
    hostile = class_dir / "<img src=x onerror=alert(1)>"
    shutil.copytree(class_dir / "failures", hostile)
    formula = class_dir / "=HYPERLINK(1)"
    shutil.copytree(class_dir / "stub", formula)
    summary = collect(inputs=[class_dir], out_dir=tmp_path / "out")
    page = summary.files["html"].read_text()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script" not in page.lower()
    assert not re.search(r"(src|href)\s*=\s*['\"]?(https?:|//)", page)
    assert "<link" not in page and "Content-Security-Policy" in page
    match = re.search(r"<img class='plot' id='histogram' [^>]*src='data:image/png;base64,", page)
    assert match, "histogram embedded as a data URI"
    assert summary.files["histogram"].read_bytes().startswith(PNG_SIGNATURE)
    # Per-student pages exist and are linked relatively.
    assert "<a href='students/full_marks.html'>full_marks</a>" in page
    assert "data:image/png;base64," in (tmp_path / "out/students/full_marks.html").read_text()
    # A student id cannot become a spreadsheet formula.
    ids = [row["student_id"] for row in gradebook(tmp_path / "out")]
    assert "'=HYPERLINK(1)" in ids


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")]) == 2
    assert "not a folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main([str(tmp_path / "empty"), "--out", str(tmp_path / "o"), "--no-pages"]) == 1
    assert "No results collected." in (tmp_path / "o" / "class-summary.md").read_text()
    assert not (tmp_path / "o" / "students").exists()
