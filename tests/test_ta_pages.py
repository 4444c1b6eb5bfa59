"""Pages a TA reads fast: written answers as prose in full, similarity panes opening at the
first shared code (no script: the code above is folded away), and the pages as headless
Chromium lays them out on a laptop's screen: who needs attention on the first screen, every
student's name a link to their page, each similarity pane showing shared code unscrolled."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from headless_chromium import find_or_install_chromium, run_chromium

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

    from autograder.course.collect.command import collect

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


# --------------------------------------------------------------------------- in headless Chromium

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "results"
LAYOUT_JS = Path(__file__).resolve().parent / "tools" / "page_layout.js"
SCREEN = (1366, 768)  # a laptop's screen: the viewport the pages are laid out in
STUDENTS = {  # student -> the fixture results they hand in (nothing is graded here)
    "ada_quill": "full_marks",
    "bram_oyel": "failures",
    "cato_vance": "gpu_pending",
    "dara_stubbs": "stub",
    "eli_north": "stub",
    "fen_south": "stub",
}
NEVER_PUSHED = "gus_absent"  # on the roster only: no results, so no page to link to
COPIERS = ("eli_north", "fen_south")  # the same code, under 70 lines of their own notes


@pytest.fixture(scope="module")
def chromium() -> str:
    return find_or_install_chromium()


@pytest.fixture(scope="module")
def ta_pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder ``collect --roster --similarity`` writes for a class of seven: the fixture
    results under new names, a roster student who never pushed, and two students who hand
    in the same code below their own 70-line header (the stub header of the issue)."""
    from autograder.course.collect.command import collect
    from benchmarks.variants import other_style_student

    base = tmp_path_factory.mktemp("ta-pages")
    klass = base / "class"
    for student, fixture in STUDENTS.items():
        shutil.copytree(FIXTURES / fixture, klass / student)
    code = other_style_student(base / "code")
    for number, student in enumerate(COPIERS):
        submission = klass / student / "submission"
        shutil.copytree(code, submission)
        for module in submission.glob("*.py"):
            notes = "".join(f"# scratch {number}.{line}: my own notes\n" for line in range(70))
            module.write_text(notes + module.read_text())
    roster = base / "roster.csv"
    roster.write_text("student\n" + "".join(f"{s}\n" for s in [*STUDENTS, NEVER_PUSHED]))
    out = base / "out"
    collect(inputs=[klass], out_dir=out, compare_code=True, roster_file=roster)
    return out


def rendered(chromium: str, page: Path) -> dict[str, Any]:
    """``page`` laid out by headless Chromium in a laptop-sized viewport, as figures:
    tests/tools/page_layout.js measures it from a wrapper page in the same folder (the page
    itself runs no script) and --dump-dom prints what it wrote."""
    shutil.copy(LAYOUT_JS, page.parent / LAYOUT_JS.name)
    wrapper = page.parent / f"layout-of-{page.name}"
    width, height = SCREEN
    wrapper.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        "<style>html, body { margin: 0; } #figures { display: none; }"
        f" iframe {{ border: 0; display: block; width: {width}px; height: {height}px; }}</style>"
        f"<script>const NAMES = {json.dumps([*STUDENTS, NEVER_PUSHED])};</script>"
        f"<script src='{LAYOUT_JS.name}'></script></head><body>"
        f"<iframe id='page' src='{page.name}' onload='measure()'></iframe>"
        "<pre id='figures'></pre></body></html>",
        encoding="utf-8",
    )
    done = run_chromium(
        chromium,
        wrapper,
        "--allow-file-access-from-files",  # the wrapper reads its file:// iframe
        f"--window-size={width + 100},{height + 100}",
        "--dump-dom",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = re.search(r"<pre id=\"figures\">(.+?)</pre>", done.stdout, re.S)
    assert figures, f"the wrapper measured nothing: {done.stdout[-2000:]} {done.stderr[-2000:]}"
    return json.loads(html.unescape(figures.group(1)))


def page_of(out: Path, student: str) -> str:
    return (out / "students" / f"{student}.html").as_uri()


@pytest.mark.slow
def test_the_class_summarys_first_screen_names_who_needs_attention(
    chromium: str, ta_pages: Path
) -> None:
    figures = rendered(chromium, ta_pages / "class-summary.html")
    screen = figures["viewport"]
    assert screen["width"] > SCREEN[0] - 30 and screen["height"] > SCREEN[1] - 30, screen
    assert figures["scroll"] == {"x": 0, "y": 0}
    section = figures["attention"]
    assert section["top"] >= 0 and section["bottom"] <= screen["height"], (section, screen)
    links = figures["attention_links"]
    assert {link["text"] for link in links} == set(STUDENTS)  # each waits for a TA at least
    for link in links:
        assert link["href"] == page_of(ta_pages, link["text"])
        assert link["width"] > 0 and link["top"] >= 0 and link["bottom"] <= screen["height"]
    absent = [n for n in figures["names"] if n["name"] == NEVER_PUSHED and n["shown"]]
    assert any(n["section"] == "attention" for n in absent), "the missing student is named"


@pytest.mark.slow
@pytest.mark.parametrize("page", ["class-summary.html", "similarity.html"])
def test_every_students_name_is_a_link_to_their_page(
    chromium: str, ta_pages: Path, page: str
) -> None:
    names = rendered(chromium, ta_pages / page)["names"]
    shown = [n for n in names if n["shown"]]
    assert shown and len(shown) == len(names)
    unlinked = [n for n in shown if n["name"] != NEVER_PUSHED and n["href"] is None]
    assert not unlinked, unlinked
    for name in shown:
        if name["name"] == NEVER_PUSHED:  # no results: nothing to link to
            assert name["href"] is None
        else:
            assert name["href"] == page_of(ta_pages, name["name"]), name
    assert {n["name"] for n in shown} - {NEVER_PUSHED} == set(STUDENTS)  # all were looked for


@pytest.mark.slow
def test_each_similarity_pane_opens_on_its_first_shared_code(chromium: str, ta_pages: Path) -> None:
    panes = rendered(chromium, ta_pages / "similarity.html")["panes"]
    assert panes and {pane["student"] for pane in panes} == set(COPIERS)
    for pane in panes:
        code, mark = pane["code"], pane["first_mark"]
        assert mark is not None, pane
        assert code["scrollTop"] == 0
        visible = code["top"] + code["clientHeight"]
        assert code["top"] <= mark["top"] and mark["bottom"] <= visible, pane
