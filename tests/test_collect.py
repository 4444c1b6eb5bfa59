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

from autograder import cli
from autograder.course.collect.command import collect
from autograder.course.collect.gradebook import GRADEBOOK_COLUMNS, NBGRADER_COLUMNS
from autograder.reports.text import md_inline


def main(argv: list[str]) -> int:
    """``python -m autograder collect ARGV``, in this process."""
    return cli.main(["collect", *argv])


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
    # The fixtures are unsigned: counted as the TA asks (tests/test_provenance.py: signed).
    summary = collect(inputs=[class_dir], out_dir=tmp_path / "out", count_unverified=True)
    with (tmp_path / "out" / "gradebook.csv").open(newline="") as handle:
        header = next(csv.reader(handle))
    assert tuple(header[: len(NBGRADER_COLUMNS)]) == NBGRADER_COLUMNS
    assert tuple(header) == GRADEBOOK_COLUMNS
    assert {"easy", "medium", "hard", "challenge", "total"} <= set(header)
    rows = {row["student"]: row for row in gradebook(tmp_path / "out")}
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
    assert {row["provenance"] for row in rows.values()} == {"unverified"}
    # new columns come after the earlier ones, so tools reading those keep working
    assert header[-4:] == ["provenance", "provenance_note", "section", "reason"]


def test_exercise_not_graded_is_an_empty_cell(class_dir: Path, tmp_path: Path) -> None:
    """A run with --only has no checks of the other exercises: empty, not zero."""
    path = class_dir / "stub" / "results.json"
    results = json.loads(path.read_text())
    results["tests"] = [t for t in results["tests"] if t["exercise"] == "medium"]
    path.write_text(json.dumps(results))
    collect(inputs=[class_dir], out_dir=tmp_path / "out", count_unverified=True)  # unsigned
    stub = next(r for r in gradebook(tmp_path / "out") if r["student"] == "stub")
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
    section = markdown.split("## Failure rate per check")[1].split("\n## ")[0]
    table = [line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| ")]
    ids = [t.replace("\\", "") for t in table if "." in t and t != "check"]
    assert ids == [s.check_id for s in stats]
    # each check's row names who lost points there, linked to their page
    row = next(
        line for line in section.splitlines() if line.startswith(f"| {md_inline(worst.check_id)} |")
    )
    assert row.endswith("| [failures](students/failures.html), [stub](students/stub.html) |")


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
    assert (
        "- easy.answer (4): [failures](students/failures.html), "
        "[full\\_marks](students/full_marks.html), [gpu\\_pending](students/gpu_pending.html), "
        "[stub](students/stub.html)"
    ) in markdown


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
    for name, (_, why) in [*bad.items(), ("dangling", (None, "a symbolic link: not read"))]:
        path = class_dir / name / "results.json"
        assert f"skipped: {path} ({why}" in err
        assert why.replace("'", "&#39;") in summary_html  # Jinja2 spells the escaped quote &#39;
        assert f"skipped: {md_inline(str(path))}" in summary_md
    assert f"no results file: {class_dir / 'no_submission'}" in err
    assert [row["student"] for row in gradebook(out_dir)] == FIXTURE_STUDENTS


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
    ids = [row["student"] for row in gradebook(tmp_path / "out")]
    assert "'=HYPERLINK(1)" in ids


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")]) == 2
    assert "not a folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main([str(tmp_path / "empty"), "--out", str(tmp_path / "o"), "--no-pages"]) == 1
    assert "No results collected." in (tmp_path / "o" / "class-summary.md").read_text()
    assert not (tmp_path / "o" / "students").exists()


# --------------------------------------------------------------------------- TA scores

MANUAL_CSV = """\
student,check,score,comment
full_marks,easy.answer,3,"Clear, with numbers"
full_marks,hard.explanation,2.5,"Names the launch overhead;
misses the depth argument"
stub,easy.answer,,
nobody,easy.answer,1,
failures,medium.depth_measured,1,
failures,easy.answer,7,
failures,hard.explanation,lots,
gpu_pending,easy.answer,1,first
gpu_pending,easy.answer,2,second
failures,no.such,1,
stub,hard.explanation

'=HYPERLINK(1),easy.answer,1,
gpu_pending,hard.explanation,4,<b>full marks</b>
"""

EXPECTED_PROBLEMS = [  # spreadsheet rows: the multi-line comment on row 3 is one row
    "row 5 (nobody, easy.answer): unknown student 'nobody'",
    "row 6 (failures, medium.depth_measured): not a manual check (a TA scores only easy.answer, "
    "hard.explanation)",
    "row 7 (failures, easy.answer): score 7 is outside 0..3 for easy.answer",
    "row 8 (failures, hard.explanation): score 'lots' is not a number",
    "row 9 (gpu_pending, easy.answer): duplicate: also scored on row 10; none of them applied",
    "row 10 (gpu_pending, easy.answer): duplicate: also scored on row 9; none of them applied",
    "row 11 (failures, no.such): unknown check 'no.such'",
    "row 12 (stub, hard.explanation): missing column(s) score",
    "row 14 (=HYPERLINK(1), easy.answer): unknown student '=HYPERLINK(1)'",
]


def test_manual_template_lists_every_pending_written_answer(
    class_dir: Path, tmp_path: Path
) -> None:
    collect(inputs=[class_dir], out_dir=tmp_path / "out")
    with (tmp_path / "out" / "manual-template.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "student",
        "check",
        "max_score",
        "answer",
        "score",
        "comment",
        "rubric",
    ]
    assert [(r["student"], r["check"], r["max_score"]) for r in rows] == [
        (student, check, points)
        for student in FIXTURE_STUDENTS
        for check, points in (("easy.answer", "3"), ("hard.explanation", "4"))
    ]
    full = json.loads((class_dir / "full_marks" / "results.json").read_text())["extra_data"]
    assert rows[2]["answer"] == next(
        m["answer"] for m in full["manual"] if m["check"] == "easy.answer"
    )
    assert (
        rows[2]["rubric"].startswith("Quotes measured per-step times")
        and " | " in rows[2]["rubric"]
    )
    assert {r["score"] for r in rows} == {r["comment"] for r in rows} == {""}


def test_manual_scores_merge_and_bad_rows_are_listed_by_line(
    class_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "ta.csv"
    sheet.write_text(MANUAL_CSV, encoding="utf-8")
    out = tmp_path / "out"
    command = [str(class_dir), "--out", str(out), "--manual", str(sheet), "--count-unverified"]
    assert main(command) == 0
    err = capsys.readouterr().err
    reported = [
        line.split(": ", 2)[2].removesuffix(" (row skipped)")
        for line in err.splitlines()
        if line.startswith("manual:")
    ]
    assert reported == EXPECTED_PROBLEMS

    rows = {row["student"]: row for row in gradebook(out)}
    full = rows["full_marks"]
    assert (full["total"], full["score"], full["easy"], full["hard"]) == (
        "108.5",
        "108.5",
        "20",
        "38.5",
    )
    assert full["pending_checks"] == "0"
    assert (rows["gpu_pending"]["total"], rows["gpu_pending"]["hard"]) == ("93", "26")
    assert rows["failures"]["total"] == "63" and rows["stub"]["total"] == "0"
    assert rows["stub"]["pending_checks"] == "6"

    # What is left for a TA: the template no longer lists the scored answers.
    with (out / "manual-template.csv").open(newline="", encoding="utf-8") as handle:
        left = {(r["student"], r["check"]) for r in csv.DictReader(handle)}
    assert ("full_marks", "easy.answer") not in left and (
        "gpu_pending",
        "hard.explanation",
    ) not in left
    assert len(left) == 8 - 3

    page = (out / "students" / "full_marks.html").read_text()
    assert (
        "TA score: 2.5 / 4</strong><br><strong>TA comment:</strong> Names the launch "
        "overhead;\nmisses the depth argument" in page
    )
    assert "id='fail-hard.explanation'" not in page  # partial TA credit is not a failed check
    gpu_page = (out / "students" / "gpu_pending.html").read_text()
    assert "&lt;b&gt;full marks&lt;/b&gt;" in gpu_page and "<b>full marks" not in gpu_page

    markdown = (out / "class-summary.md").read_text()
    assert "3 applied, 9 row(s) skipped, 1 still pending (empty score)" in markdown
    assert "| [full\\_marks](students/full_marks.html) | hard.explanation | 2.5 / 4 |" in markdown
    # a TA's 2.5 / 4 is partial credit, not a failure
    row = next(line for line in markdown.splitlines() if line.startswith("| hard.explanation |"))
    assert "[full\\_marks](students/full_marks.html) (partial 2.5 / 4)" in row
    assert row.split("|")[3:6] == [" 0 ", " 2 ", " 1 "]  # failed, graded (2.5 and 4), partial
    for problem in EXPECTED_PROBLEMS:
        assert md_inline(problem) in markdown
    summary_html = (out / "class-summary.html").read_text()
    assert summary_html.count("<li>row ") == len(EXPECTED_PROBLEMS)
    assert "<td>easy.answer</td><td class='num'>3</td>" in summary_html  # 4 waiting, 1 scored


def test_a_sheet_without_a_score_column_applies_nothing(class_dir: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "ta.csv"
    sheet.write_text("\nstudent,check,points\nfull_marks,easy.answer,3\n", encoding="utf-8")
    summary = collect(inputs=[class_dir], out_dir=tmp_path / "out", manual=sheet)
    assert [str(p) for p in summary.manual.problems] == [
        "row 2: missing column(s) score: nothing applied"
    ]
    assert next(s for s in summary.students if s.student_id == "full_marks").score == 103


# --------------------------------------------------------------------------- similarity


def similarity_class(folder: Path) -> Path:
    """Five students with submitted code beside a results file, as regrade leaves them."""
    from benchmarks.variants import disguised_student, other_style_student

    root = Path(__file__).resolve().parents[1]
    code = folder / "code"
    shutil.copytree(root / "solutions", code / "correct")
    shutil.copytree(root / "solutions", code / "model_copy")
    shutil.copytree(root / "exercises", code / "stub")
    disguised_student(other_style_student(code / "other"), code / "disguised", seed=3)
    klass = folder / "class"
    for student in ("correct", "model_copy", "stub", "other", "disguised"):
        (klass / student).mkdir(parents=True)
        shutil.copy(FIXTURES / "stub" / "results.json", klass / student)
        shutil.copytree(code / student, klass / student / "submission")
    return klass


def test_similarity_ranks_a_disguised_copy_above_every_independent_pair(tmp_path: Path) -> None:
    klass = similarity_class(tmp_path)
    root = Path(__file__).resolve().parents[1]
    (klass / "no_code").mkdir()
    shutil.copy(FIXTURES / "stub" / "results.json", klass / "no_code")
    out = tmp_path / "out"
    assert (
        main(
            [str(klass), "--out", str(out), "--similarity", "--reference", str(root / "solutions")]
        )
        == 0
    )
    with (out / "similarity.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["student_a", "student_b", "exercise", "similarity"]
    values = [float(r["similarity"]) for r in rows]
    assert values == sorted(values, reverse=True) and all(0 <= v <= 1 for v in values)
    assert len(rows) == 4 * 10  # every pair of the five students with code, per exercise
    copies = {("correct", "model_copy"), ("disguised", "other")}
    for exercise in ("easy", "medium", "hard", "challenge"):
        pairs = {
            (r["student_a"], r["student_b"]): float(r["similarity"])
            for r in rows
            if r["exercise"] == exercise
        }
        independent = max(v for pair, v in pairs.items() if pair not in copies)
        assert pairs[("disguised", "other")] > independent + 0.15, (exercise, pairs)
        assert pairs[("correct", "model_copy")] == 1.0
        assert pairs[("correct", "stub")] == 0.0  # a stub has no code of its own
    page = (out / "similarity.html").read_text()
    assert "leads for a TA, not penalties" in page
    assert "<script" not in page.lower() and "<mark>" in page
    markdown = (out / "class-summary.md").read_text()
    assert (
        "medium: [disguised](students/disguised.html) and [other](students/other.html)" in markdown
    )
    assert "- medium, matching the model answer: correct (1.00), model\\_copy (1.00)" in markdown
    assert "correct and model\\_copy" not in markdown  # two copies of the model: matches, once
    assert "no submitted code: no\\_code" in markdown


def test_similarity_page_escapes_student_names_and_code(tmp_path: Path) -> None:
    klass = similarity_class(tmp_path)
    hostile = klass / "<img src=x onerror=alert(1)>"
    shutil.copytree(klass / "other", hostile)
    module = hostile / "submission" / "medium_parallel_scan.py"
    module.write_text(module.read_text() + "\n# </pre><script>alert(1)</script>\n")
    summary = collect(inputs=[klass], out_dir=tmp_path / "out", compare_code=True)
    assert any(hostile.name in (p.student_a, p.student_b) for p in summary.similarity.flagged())
    page = (tmp_path / "out" / "similarity.html").read_text()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script" not in page.lower() and "&lt;/pre&gt;&lt;script&gt;" in page
    assert "Content-Security-Policy" in page


def test_similarity_is_copydetects_own_figure(tmp_path: Path) -> None:
    """The pairwise figure is computed in numpy for speed; it must equal compare_files'."""
    import itertools

    from copydetect import compare_files

    from autograder.course.collect import similarity

    klass = similarity_class(tmp_path)
    root = Path(__file__).resolve().parents[1]
    for module in ("medium_parallel_scan.py", "hard_gpu_sweep.py"):
        skip = similarity.boilerplate_hashes(root / "exercises" / module)
        codes = [
            similarity.own_code(folder / "submission" / module, skip) for folder in klass.iterdir()
        ]
        codes.append(similarity.own_code(root / "solutions" / module, skip))
        for first, second in itertools.combinations(codes, 2):
            a, b = first.fingerprint, second.fingerprint
            assert first.coverage == a.token_coverage
            expected = 0.0
            if a.token_coverage and b.token_coverage and a.hashes & b.hashes:
                _, shares, _ = compare_files(a, b)
                expected = min(1.0, max(shares))
            assert similarity.pair_similarity(first, second) == pytest.approx(expected, abs=1e-12)


# --------------------------------------------------------------------------- shared pieces


def test_spreadsheet_cells_never_run_as_formulas() -> None:
    from autograder.course.collect.spreadsheet import FORMULA_START, csv_text, safe_cell

    for start in FORMULA_START:
        assert safe_cell(f"{start}SUM(A1)") == f"'{start}SUM(A1)"
    assert safe_cell("ada") == "ada" and safe_cell("") == ""
    assert csv_text([["a", "b,c"], ["'=1", ""]]) == 'a,"b,c"\n\'=1,\n'


def test_highlighted_code_is_escaped_around_and_inside_the_marks() -> None:
    from autograder.reports.similarity_page import highlighted

    code = "<b>x</b> & 'y' \x01"
    # Overlapping and out-of-range runs: each character is marked at most once.
    page = str(highlighted(code, [(10, 40), (0, 3), (1, 5)]))
    assert page == (
        "<mark>&lt;b&gt;</mark><mark>x&lt;</mark>/b&gt; &amp;<mark> &#39;y&#39; \\x01</mark>"
    )
    assert str(highlighted(code, [])) == "&lt;b&gt;x&lt;/b&gt; &amp; &#39;y&#39; \\x01"


def test_the_cli_parser_and_run_are_the_command(tmp_path: Path) -> None:
    """The CLI's collect parser and collect's run: same defaults, same exits (a DIR that does
    not exist is a usage error, raised for main to print in one line)."""
    from autograder import cli
    from autograder.course.collect import command
    from reference.cli_support import UsageError

    parser = cli.parser_for("collect")
    args = parser.parse_args(["collect", str(tmp_path / "nowhere")])
    assert (args.out, args.no_pages, args.similarity_threshold) == (
        Path("outputs/class"),
        False,
        0.75,
    )
    with pytest.raises(UsageError, match="not a folder"):
        command.run(args)
    (tmp_path / "empty").mkdir()
    argv = ["collect", str(tmp_path / "empty"), "--out", str(tmp_path / "o"), "--no-pages"]
    assert command.run(parser.parse_args(argv)) == 1
