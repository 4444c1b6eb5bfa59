"""Pages a TA reads fast: written answers as prose in full, similarity panes opening at the
first shared code (no script: the code above is folded away)."""

from __future__ import annotations

from autograder.reports.prose import paragraphs
from autograder.reports.similarity_page import CodeSide, first_shared_cut


def test_an_answer_typed_with_hard_line_breaks_reads_as_paragraphs() -> None:
    text = (
        "The RNN walks the sequence\nstep by step, so its depth is O(n).\n\n"
        "Evidence:\n- serial: 0.61 s\n- scan: 12 us\n\n\n   \n"
    )
    assert paragraphs(text) == [
        ["The RNN walks the sequence step by step, so its depth is O(n)."],
        ["Evidence:", "- serial: 0.61 s", "- scan: 12 us"],
    ]
    assert paragraphs("") == [] and paragraphs("one\r\ntwo") == [["one two"]]


def test_the_report_page_shows_the_whole_answer_without_a_scroll_box(tmp_path) -> None:
    import json
    from pathlib import Path

    from autograder.reports.html import render_html

    fixtures = Path(__file__).resolve().parent / "fixtures" / "results" / "full_marks"
    results = json.loads((fixtures / "results.json").read_text())
    for entry in results["extra_data"]["manual"]:
        entry["answer"] = "\n".join(f"line {i} of a long answer <b>{i}</b>" for i in range(60))
    from autograder.results.schema import normalise_results

    page = render_html(normalise_results(results), results_dir=fixtures)
    answer = page.split("<div class='answer'>")[1].split("</div>")[0]
    assert "line 0 of a long answer &lt;b&gt;0&lt;/b&gt; line 1" in answer  # reflowed, escaped
    assert "line 59 of a long answer" in answer and "<pre>" not in answer
    assert ".answer p {" in page and "max-height" not in page.split(".answer p {")[1].split("}")[0]


def test_a_similarity_pane_opens_at_the_first_shared_region() -> None:
    stub_header = "".join(f"# stub header line {i}\n" for i in range(70))
    code = stub_header + "def scan(xs):\n    total = 0\n    for x in xs:\n        total += x\n"
    start = code.index("for x in xs")
    side = CodeSide("ada <b>", code, [(start, len(code))])
    assert side.folded_lines == 70  # the stub header; 2 lines of context stay above
    shown = str(side.from_first)
    assert shown.startswith("def scan(xs):\n    total = 0\n    <mark>for x in xs:")
    assert "stub header" not in shown and "stub header line 69" in str(side.folded)
    assert first_shared_cut(code, []) == 0
    top = CodeSide("bob", code, [(0, 10)])
    assert top.folded_lines == 0 and str(top.from_first).startswith("<mark># stub hea</mark>")


def test_an_empty_written_answer_is_named_as_such_in_the_failure_table(tmp_path) -> None:
    import json
    import shutil
    from pathlib import Path

    from autograder.course.collect import collect

    fixtures = Path(__file__).resolve().parent / "fixtures" / "results"
    shutil.copytree(fixtures, tmp_path / "class")
    path = tmp_path / "class" / "stub" / "results.json"
    results = json.loads(path.read_text())
    for test in results["tests"]:
        if test["id"] == "easy.answer":  # what grading writes for an empty answer
            test["status"], test["score"], test["tags"] = "failed", 0.0, ["manual"]
    path.write_text(json.dumps(results))
    collect(inputs=[tmp_path / "class"], out_dir=tmp_path / "out")
    markdown = (tmp_path / "out" / "class-summary.md").read_text()
    row = next(line for line in markdown.splitlines() if line.startswith("| easy.answer |"))
    assert row.endswith("| [stub](students/stub.html) (no answer) |")
