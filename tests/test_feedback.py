"""collect --feedback DIR: one Markdown and one HTML page per student, verdicts, partial
credit, TA scores and comments, the reason for a 0; hostile strings neutralised."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from autograder.course.collect.command import collect

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "results"


def test_feedback_pages_show_verdicts_ta_scores_and_reasons(tmp_path: Path) -> None:
    class_dir = tmp_path / "class"
    shutil.copytree(FIXTURES, class_dir)
    manual = tmp_path / "ta.csv"
    manual.write_text(
        "student,check,score,comment\n"
        "full_marks,easy.answer,2.5,Good <b>start</b>; name the [vanishing](http://x) gradient\n",
        "utf-8",
    )
    roster = tmp_path / "roster.csv"
    roster.write_text("student\nfull_marks\nnever_pushed\n", "utf-8")
    out = tmp_path / "feedback"
    collect(
        inputs=[class_dir],
        out_dir=tmp_path / "out",
        manual=manual,
        roster_file=roster,
        feedback_dir=out,
        count_unverified=True,
    )
    names = sorted(p.name for p in out.iterdir())
    assert "full_marks.md" in names and "full_marks.html" in names
    assert "never_pushed.md" in names and "stub.html" in names
    page = (out / "full_marks.md").read_text("utf-8")
    assert "| easy.answer: " in page and "| partial | 2.5 / 3 |" in page
    assert "Good \\<b\\>start\\</b\\>; name the \\[vanishing\\](http:\\/\\/x) gradient" in page
    html = (out / "full_marks.html").read_text("utf-8")
    assert "Good &lt;b&gt;start&lt;/b&gt;" in html and "<b>start" not in html
    assert "<td>partial</td>" in html
    assert "Score: 0 / 100**: no submission." in (out / "never_pushed.md").read_text("utf-8")
    stub = (out / "stub.md").read_text("utf-8")
    assert "waiting for a TA" in stub and "provisional" in stub


def test_unverified_result_gets_no_score_on_its_page(tmp_path: Path) -> None:
    class_dir = tmp_path / "class"
    shutil.copytree(FIXTURES / "full_marks", class_dir / "full_marks")
    collect(inputs=[class_dir], out_dir=tmp_path / "out", feedback_dir=tmp_path / "fb")
    page = (tmp_path / "fb" / "full_marks.md").read_text("utf-8")
    assert "No score recorded yet" in page and "Score: 103" not in page


def test_a_student_id_that_is_not_a_file_name_gets_no_page(tmp_path: Path) -> None:
    class_dir = tmp_path / "class"
    shutil.copytree(FIXTURES / "full_marks", class_dir / "full_marks")
    roster = tmp_path / "roster.csv"
    roster.write_text("student\n../../escape\n.hidden\n", "utf-8")
    summary = collect(
        inputs=[class_dir],
        out_dir=tmp_path / "out",
        roster_file=roster,
        feedback_dir=tmp_path / "fb",
    )
    assert sorted(p.name for p in (tmp_path / "fb").iterdir()) == [
        "full_marks.html",
        "full_marks.md",
    ]
    assert not (tmp_path / "escape.md").exists()
    assert sum("not a usable file name" in note for note in summary.notes) == 2
    assert json.loads((FIXTURES / "full_marks" / "results.json").read_text())  # fixture intact


def test_a_hidden_check_shows_its_points_not_its_name(tmp_path: Path, monkeypatch) -> None:
    import dataclasses

    from autograder.spec import registry

    check = registry.CHECKS_BY_ID["medium.edge_lengths"]
    monkeypatch.setitem(
        registry.CHECKS_BY_ID, check.id, dataclasses.replace(check, visibility=registry.HIDDEN)
    )
    class_dir = tmp_path / "class"
    shutil.copytree(FIXTURES / "full_marks", class_dir / "full_marks")
    collect(inputs=[class_dir], out_dir=tmp_path / "out", feedback_dir=tmp_path / "fb")
    page = (tmp_path / "fb" / "full_marks.md").read_text("utf-8")
    assert "edge\\_lengths" not in page and "| hidden check | passed | 5 / 5 |" in page
