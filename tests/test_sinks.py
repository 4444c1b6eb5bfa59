"""Every sink neutralises every student-controlled string (issue 20, deliverable 4).

One function per sink (:mod:`autograder.results.sinks`), each tested with every kind of
markup a student can plant, then the places that write student strings (JUnit, Gradescope's
output, the step summary, the terminal) are tested end to end with the attacks the issue
names: a zip folder name that writes a heading, ANSI escapes that draw a fake score, NUL and
form feed in an exception message, a URL in a string constant.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import mistune
import pytest
from defusedxml import ElementTree as SafeET

from autograder.course.gradescope.submission import find_submission
from autograder.reports.markdown import render_markdown
from autograder.reports.terminal import terminal_checks
from autograder.results.gradescope import gradescope_results
from autograder.results.schema import normalise_results
from autograder.results.sinks import (
    csv_cell,
    markdown_block,
    markdown_inline,
    terminal_text,
    xml_text,
)
from autograder.results.write import junit_xml

ROOT = Path(__file__).resolve().parents[1]
GOLDEN_INPUT = ROOT / "tests" / "fixtures" / "results"

# A line a student wants the TA to read as the grader's.
FORGED = "Regraded by the course staff: 79 / 79 points, all checks passed"

MARKUP = {
    "heading": f"x\n# {FORGED}",
    "heading_at_start": f"# {FORGED}",
    "setext": f"{FORGED}\n===",
    "table": "a | b |\n|---|---|\n| forged | row |",
    "link": "[click here](https://evil.example/steal)",
    "image": "![logo](https://evil.example/track.png)",
    "autolink_url": "see https://evil.example/x for details",
    "autolink_angle": "<https://evil.example/x>",
    "autolink_www": "www.evil.example/page",
    "mention": "thanks @octocat and @org/team",
    "email": "mail me: evil@evil.example",
    "html": '<img src="https://evil.example/p.png" onerror="alert(1)">',
    "script": "<script>alert(1)</script>",
    "details": "<details><summary>100/100</summary></details>",
    "entity": "&lt;b&gt; &#x3C;",
    "emphasis": "**all checks passed** _really_ ~~no~~",
    "code": "`code` ``` fence",
    "list": "- item\n1. first\n+ plus",
    "quote": "> **Integrity flags: 0**",
    "reference": "[x]: https://evil.example",
    "footnote": "[^1]\n\n[^1]: https://evil.example",
}


def _render(markdown: str) -> str:
    renderer = mistune.create_markdown(plugins=["table", "url", "strikethrough", "footnotes"])
    return renderer(markdown)


# ---- terminal ----


@pytest.mark.parametrize(
    "attack",
    [
        "\x1b[2J\x1b[H100/100",  # clear the screen, home, draw a fake score
        "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\",  # OSC 8 hyperlink
        "real 0/40\r100/100",  # carriage return overwrites the line
        "0/40\x08\x08\x08\x0840/40",  # backspaces
        "\x9b2J",  # C1 CSI without ESC
        "nul\x00bell\x07",
        "\u202etxt.exe",  # right-to-left override
        "zero\u200bwidth\u2066isolate\u2069",
        "line\u2028separator",
    ],
)
def test_terminal_text_shows_every_control_escaped(attack: str) -> None:
    shown = terminal_text(attack)
    bad = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069]")
    assert not bad.search(shown), repr(shown)
    assert "\\x" in shown or "\\u" in shown or "\n" in shown


def test_terminal_text_keeps_newlines_tabs_and_text() -> None:
    assert terminal_text("a\tb\nc — é ✓") == "a\tb\nc — é ✓"
    assert terminal_text("a\r\nb") == "a\nb"
    assert terminal_text("\ud800x") == "\\ud800x"  # a lone surrogate from a forged JSON file
    assert terminal_text({"k": 1}) == '{"k": 1}' and terminal_text(None) == ""
    assert terminal_text(terminal_text("\x1b[31m")) == terminal_text("\x1b[31m")


def test_terminal_checks_cannot_clear_the_screen_or_draw_a_score() -> None:
    results = {
        "tests": [
            {
                "id": "easy.\x1b[2Jcorrect",
                "status": "failed",
                "max_score": 5.0,
                "output": "\x1b[2J\x1b[Htotal 100 / 100\rall passed\nsecond line",
            }
        ]
    }
    text = terminal_checks(results)
    assert "\x1b" not in text and "\r" not in text
    first, *rest = text.splitlines()
    assert first.startswith("  FAIL easy.\\x1b[2Jcorrect")
    # the message's lines (a carriage return made one more) stay indented under their check:
    # none can pass for a line of the grader's own, such as a total
    assert rest and all(line.startswith("      ") for line in rest)
    assert "\\x1b[2J\\x1b[Htotal 100 / 100" in text


# ---- Markdown ----


@pytest.mark.parametrize("name", sorted(MARKUP))
def test_markdown_inline_renders_as_plain_text(name: str) -> None:
    line = markdown_inline(MARKUP[name])
    assert "\n" not in line
    html = _render(f"| cell |\n|---|\n| {line} |\n\n- {line}\n\n{line}\n")
    for tag in ("<a ", "<img", "<h1", "<h2", "<script", "<details", "<em", "<strong", "<del"):
        assert tag not in html, (name, html)
    assert "<code" not in html and "<blockquote" not in html and "<ol" not in html
    assert html.count("<table>") == 1 and html.count("<td>") == 1, html  # one cell stays one
    assert html.count("<li>") == 1, html  # the list item stays one item
    # GitHub links what mistune does not: www. and @mentions are broken in the source.
    assert not re.search(r"(?i)\bwww\.|https?://|@\w", line), line


def test_markdown_inline_text_still_reads_the_same() -> None:
    rendered = _render(markdown_inline("see https://x.example and a|b, 2*3"))
    assert "see https://x.example and a|b, 2*3" in rendered


@pytest.mark.parametrize("name", sorted(MARKUP))
def test_markdown_block_renders_nothing(name: str) -> None:
    block = markdown_block(MARKUP[name] + "\n```\n# after a fence")
    html = _render(f"before\n\n{block}\n\nafter\n")
    assert html.count("<pre>") == 1 and "<h1" not in html and "<a " not in html
    assert html.rstrip().endswith("<p>after</p>")


def test_markdown_block_escapes_terminal_controls() -> None:
    assert "\x1b" not in markdown_block("\x1b[2Jx") and "\\x1b[2Jx" in markdown_block("\x1b[2Jx")


# ---- XML ----


@pytest.mark.parametrize(
    "attack",
    ["nul\x00", "form\x0cfeed", "vt\x0b", "esc\x1b[0m", "\ud800lone", "\ufffe\uffff", 'q"<&>'],
)
def test_xml_text_makes_any_string_well_formed(attack: str) -> None:
    import xml.etree.ElementTree as ET

    element = ET.Element("failure", message=xml_text(attack + "\nsecond line"))
    element.text = xml_text(attack)
    parsed = SafeET.fromstring(ET.tostring(element, encoding="unicode").encode("utf-8"))
    assert parsed.get("message").endswith("\nsecond line")  # the attribute is kept whole


def _forged_results() -> dict:
    results = json.loads((GOLDEN_INPUT / "failures" / "results.json").read_text())
    for test in results["tests"]:
        test["output"] = "boom\x00\x0c\x1b[2J\ud800 <![CDATA[ ]]> & \"'\nline two"
        test["status"] = "failed"
        test["id"] = test["id"] + "\x00"
    return results


def test_junit_is_well_formed_whatever_the_messages_hold(tmp_path: Path) -> None:
    xml = junit_xml(_forged_results())
    path = tmp_path / "junit.xml"
    path.write_text(xml, encoding="utf-8")  # a lone surrogate would fail here
    root = SafeET.parse(path).getroot()
    failures = root.findall(".//failure")
    assert failures and all(f.get("message") == "boom\\x00" for f in failures)
    assert all(
        "\\x00\\x0c\\x1b[2J\\ud800 <![CDATA[ ]]> & \"'\nline two" in f.text for f in failures
    )
    assert all(case.get("name").endswith("\\x00") for case in root.iter("testcase"))


# ---- CSV ----


@pytest.mark.parametrize("cell", ['=HYPERLINK("x")', "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cell_quotes_formulas(cell: str) -> None:
    assert csv_cell(cell) == "'" + cell and csv_cell("plain") == "plain"


# ---- the attacks of the issue, end to end ----


def test_a_zip_folder_name_cannot_write_a_heading_image_or_link_on_gradescope(
    tmp_path: Path,
) -> None:
    folder = f"x\n\n# {FORGED}\n\n![i](https://evil.example/i.png) [l](https://evil.example)\n"
    submission = tmp_path / "submission"
    submission.mkdir()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{folder}/medium_parallel_scan.py", "x = 1\n")
    (submission / "upload.zip").write_bytes(buffer.getvalue())
    found = find_submission(submission, work=tmp_path / "work")
    notes = [f"Graded: {found.origins['medium']}.", *found.notes]
    results = gradescope_results([], exercises=["medium"], notes=notes, failures={"medium": folder})
    html = _render(results["output"])
    assert "<h1" not in html and "<img" not in html and "<a " not in html, html
    assert FORGED not in [line.strip("# ") for line in results["output"].splitlines()]


def test_a_printed_message_cannot_forge_the_step_summary() -> None:
    results = _forged_results()
    for test in results["tests"]:
        test["output"] = f"x\n# {FORGED}\n```\n![i](https://evil.example/i.png)"
        test["name"] = f"{test['id']}\n# {FORGED}"
    results["extra_data"]["integrity"]["findings"] = [
        {
            "exercise": "medium",
            "file": "medium_parallel_scan.py",
            "line": 3,
            "construct": repr("https://evil.example/phish"),
            "why": "<b>trust me</b> www.evil.example",
        }
    ]
    markdown = render_markdown(normalise_results(results))
    html = _render(markdown)
    assert "<img" not in html and "evil.example" in html
    assert '<a href="https://evil.example' not in html and "<b>" not in html
    headings = re.findall(r"<h\d>(.*?)</h\d>", html)
    assert not any(FORGED in heading and "Failed" not in heading for heading in headings[:1])
    assert all(not heading.startswith(FORGED) for heading in headings), headings
    outside_code = re.sub(r"(?ms)^(`{3,})text\n.*?^\1$", "", markdown)
    assert "evil" in outside_code  # the finding is shown, as text GitHub does not link
    assert not re.search(r"(?i)\bwww\.evil|https://evil", outside_code), outside_code
