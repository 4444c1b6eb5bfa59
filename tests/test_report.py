"""One student's report: numbers, failure messages, escaping, the plot, and a real browser.

The fixtures in tests/fixtures/results/ are hand-made results files in the format of
docs/results-format.md: ``full_marks`` (reference-like GPU run), ``stub`` (nothing written),
``failures`` (failed checks, hostile answers, a plot, integrity findings and tamper entries)
and ``gpu_pending`` (CPU run, GPU checks pending, its plot file missing).
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import struct
from pathlib import Path

import pytest
from headless_chromium import find_or_install_chromium, run_chromium

from autograder import cli
from autograder.reports.html import render_html
from autograder.reports.markdown import render_markdown
from autograder.reports.text import md_fence, md_inline
from autograder.reports.view import MAX_OUTPUT_CHARS
from autograder.results.schema import load_results, normalise_results


def main(argv: list[str]) -> int:
    """``python -m autograder report ARGV``, in this process."""
    return cli.main(["report", *argv])


FIXTURES = Path(__file__).resolve().parent / "fixtures" / "results"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def fixture(name: str) -> tuple[dict, Path]:
    """(results, results folder) of one fixture student."""
    folder = FIXTURES / name
    return load_results(path=folder / "results.json"), folder


def both(name: str) -> tuple[str, str]:
    results, folder = fixture(name)
    return (
        render_markdown(results, results_dir=folder),
        render_html(results, results_dir=folder),
    )


def table_rows(markdown: str) -> list[list[str]]:
    """Cells of every Markdown table row, split the way GitHub does (``\\|`` stays inside)."""
    rows = []
    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
            rows.append([cell.strip() for cell in cells])
    return rows


def fenced_blocks(markdown: str) -> list[str]:
    """Contents of the fenced code blocks, closed the CommonMark way (a run at least as long)."""
    blocks, lines, index = [], markdown.splitlines(), 0
    while index < len(lines):
        opening = re.match(r"^ {0,3}(`{3,})", lines[index])
        if not opening:
            index += 1
            continue
        fence, body = opening.group(1), []
        index += 1
        while index < len(lines) and not re.match(
            rf"^ {{0,3}}`{{{len(fence)},}}\s*$", lines[index]
        ):
            body.append(lines[index])
            index += 1
        blocks.append("\n".join(body))
        index += 1
    return blocks


# --------------------------------------------------------------------------- numbers


def test_score_table_numbers_full_marks() -> None:
    markdown, page = both("full_marks")
    rows = {row[0]: row[1:] for row in table_rows(markdown)}
    assert rows["easy"][:5] == ["17", "20", "7", "0", "1"]
    assert rows["medium"][:5] == ["40", "40", "9", "0", "0"]
    assert rows["hard"][:5] == ["36", "40", "10", "0", "1"]
    assert rows["challenge"][:2] == ["10", "10"] and rows["challenge"][-1] == "10 / 10 extra credit"
    assert rows["**total**"][:2] == ["**103**", "**100**"]
    assert "**Score: 103 / 100** (103%" in markdown
    assert "<td class='num score'>17</td><td class='num max'>20</td>" in page
    assert "<td class='num score'>103</td><td class='num max'>100</td>" in page
    assert "<span class='tag'>extra credit</span>" in page


def test_score_table_numbers_failures_and_incident() -> None:
    markdown, page = both("failures")
    rows = {row[0]: row[1:] for row in table_rows(markdown)}
    assert rows["medium"][:5] == ["23", "40", "6", "3", "0"]
    assert "child exited with status 3" in rows["medium"][5]
    assert rows["**total**"][:2] == ["**63**", "**100**"]
    assert "Failed checks (6)" in page
    assert "6 check(s) pending: the score is provisional." in markdown


def test_stub_scores_zero_and_lists_every_failure() -> None:
    markdown, page = both("stub")
    results, _ = fixture("stub")
    failed = [t["id"] for t in results["tests"] if t["status"] == "failed"]
    assert "**Score: 0 / 100** (0%" in markdown
    assert page.count("<article class='failed-check'") == len(failed) > 20
    assert all(f"id='fail-{check_id}'" in page for check_id in failed)
    assert "(no answer)" in markdown and "(no answer)" in page


# --------------------------------------------------------------------------- failures, pending


def test_failed_checks_show_expected_got_and_smallest_input() -> None:
    markdown, page = both("failures")
    for text in ("expected depth 10 for n=1024, got 1023", "smallest failing input: xs = "):
        assert text in markdown
        assert text.replace("'", "&#39;") in page
    assert "got:      [&#39;a&#39;, &#39;ba&#39;]" in page  # preformatted, spacing kept
    assert "<td>html</td>" not in page and "&lt;td&gt;html&lt;/td&gt;" in page


def test_long_output_is_cut_with_a_note() -> None:
    markdown, page = both("failures")
    results, _ = fixture("failures")
    long_output = next(t["output"] for t in results["tests"] if t["id"] == "hard.curve_shapes_cpu")
    assert len(long_output) > MAX_OUTPUT_CHARS
    left_out = len(long_output) - MAX_OUTPUT_CHARS
    assert f"cut: {left_out:,} more characters" in markdown
    assert f"cut: {left_out:,} more characters" in page
    assert "x" * 3000 not in markdown and "x" * 3000 not in page


def test_pending_split_into_gpu_and_ta() -> None:
    _, page = both("gpu_pending")
    gpu = re.search(r"<ul class='pending-gpu'>(.*?)</ul>", page).group(1)
    manual = re.search(r"<ul class='pending-manual'>(.*?)</ul>", page).group(1)
    assert gpu.count("<li>") == 4 and "hard.time_fn_synchronises_cuda" in gpu
    assert manual.count("<li>") == 2 and "easy.answer" in manual and "cuda" not in manual
    markdown, _ = both("full_marks")
    assert "**Needs a GPU**: none" in markdown and "**Needs a TA**:" in markdown


# --------------------------------------------------------------------------- untrusted text


def test_hostile_answer_is_escaped_in_html() -> None:
    _, page = both("failures")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "</pre></div><img" not in page
    assert "\x1b" not in page and "\\x1b[2J" in page
    assert "&lt;sandbox&gt;" in page  # integrity finding text is escaped too


def test_hostile_answer_is_neutralised_in_markdown() -> None:
    markdown, _ = both("failures")
    assert "\x1b" not in markdown
    blocks = fenced_blocks(markdown)
    answer = next(b for b in blocks if "alert(1)" in b)
    # The whole answer, its own ``` and ```` fences included, stays inside one block.
    assert answer.startswith("<script>alert(1)</script>") and answer.endswith("<b>bold</b>")
    assert "longer fence" in answer and "# not a heading" in answer
    assert "`````text\n<script>" in markdown
    for row in table_rows(markdown):  # no pipe from the results adds a cell
        assert len(row) in (2, 3, 5, 7)
    assert r"reads the caller's frame \| escapes \<sandbox\>" in markdown


def test_md_helpers_cannot_be_broken_out_of() -> None:
    assert md_inline("a | b\n<script>x</script>") == r"a \| b \<script\>x\</script\>"
    assert md_inline("# heading") == r"\# heading"
    assert md_inline("1. item") == r"1\. item"
    assert md_inline("python 3.11.7") == "python 3.11.7"
    for text in ["```", "a\n```\nb", "````` x", "`" * 12 + "\n" + "`" * 3]:
        block = md_fence(text)
        assert fenced_blocks(block) == [text]


# --------------------------------------------------------------------------- plot


def test_plot_is_embedded_as_data_uri() -> None:
    _, page = both("failures")
    match = re.search(
        r"<img class='plot' id='sweep-plot' [^>]*src='data:image/png;base64,([^']+)'", page
    )
    assert match, "sweep plot <img> with a data URI"
    png = base64.b64decode(match.group(1))
    assert png == (FIXTURES / "failures" / "plots" / "sweep.png").read_bytes()
    markdown, _ = both("failures")
    assert "![sweep plot](plots/sweep.png)" in markdown


def test_missing_plot_is_reported_not_raised() -> None:
    markdown, page = both("gpu_pending")
    assert "plot not found" in markdown and "plot not found" in page
    assert "data:image/png" not in page


@pytest.mark.parametrize(
    ("declared", "content", "problem"),
    [
        ("../full_marks/sweep.png", None, "plot refused: its path leaves the results folder"),
        ("/etc/hostname", None, "plot refused: its path leaves the results folder"),
        ("notes.png", b"not a png", "plot refused: not a PNG file"),
    ],
)
def test_plot_outside_folder_or_not_png_is_refused(
    tmp_path: Path, declared: str, content: bytes | None, problem: str
) -> None:
    results, _ = fixture("gpu_pending")
    results["extra_data"]["artifacts"] = {"sweep_plot": declared}
    folder = tmp_path / "student"  # a real PNG sits beside it, in ../full_marks/
    folder.mkdir()
    shutil.copytree(FIXTURES / "full_marks", tmp_path / "full_marks")
    if content is not None:
        (folder / declared).write_bytes(content)
    page = render_html(results, results_dir=folder)
    assert problem in page and "data:image/png" not in page
    assert "plot not embedded" in render_html(results)  # folder unknown


# --------------------------------------------------------------------------- integrity, env


def test_integrity_banner_only_when_flags_exist() -> None:
    markdown, page = both("failures")
    assert "id='integrity-banner'" in page
    assert "Integrity flags: 2 changed protected file(s), 2 finding(s)" in markdown
    for text in (
        "modified: .github/workflows/grade.yml",
        "added: autograder/checks/conftest.py",
    ):
        assert text in page and text in markdown.replace("\\", "")
    assert "<td>medium_parallel_scan.py:3</td><td>import gc</td>" in page
    for clean in ("full_marks", "stub", "gpu_pending"):
        markdown, page = both(clean)
        assert "integrity-banner" not in page and "Integrity flags" not in markdown


def test_environment_and_manual_queue() -> None:
    markdown, page = both("full_marks")
    for text in ("3.11.7", "2.13.0+cu128", "2.4.6", "123456789", "2026-11-26T06:00:00+00:00"):
        assert text in page
    assert "cuda (NVIDIA H100 80GB HBM3)" in markdown
    assert page.count("<div class='qa'>") == 2
    assert "Concludes that the N serial steps" in page
    assert "- [ ] Concludes that the N serial steps" in markdown


def test_partial_results_render(tmp_path: Path) -> None:
    """The grader reuses render_markdown for --summary: missing or odd keys must not crash
    once the schema's reader made the typed document of them."""
    minimal = {"score": 0, "max_score": 0, "tests": []}
    odd = {
        "score": 5,
        "max_score": 10,
        "tests": [{"exercise": "easy", "score": 5, "max_score": 10, "status": "passed"}],
        "extra_data": {"manual": "none", "integrity": [], "artifacts": None, "device": "cpu"},
    }
    for results in (minimal, odd):
        for render in (render_markdown, render_html):
            assert "Grading report" in render(normalise_results(results), results_dir=tmp_path)
    assert "No written answers" in render_markdown(normalise_results(odd))


def test_page_is_self_contained() -> None:
    _, page = both("failures")
    assert not re.search(r"(src|href)\s*=\s*['\"]?(https?:|//)", page)
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


# --------------------------------------------------------------------------- CLI


def test_cli_writes_both_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    html_out, md_out = tmp_path / "r" / "report.html", tmp_path / "report.md"
    code = main(
        [
            str(FIXTURES / "failures" / "results.json"),
            "--html",
            str(html_out),
            "--markdown",
            str(md_out),
            "--student",
            "cy",
        ]
    )
    assert code == 0
    assert "data:image/png;base64," in html_out.read_text(encoding="utf-8")
    assert md_out.read_text(encoding="utf-8").startswith("# Grading report: cy\n")
    assert str(html_out) in capsys.readouterr().out


def test_cli_prints_markdown_without_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(FIXTURES / "stub" / "results.json")]) == 0
    assert "## Scores" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "why"),
    [(None, "unreadable"), ("{oops", "corrupt JSON"), ('{"tests": 3}', "not a results file")],
)
def test_cli_bad_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, why: str
) -> None:
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content)
    assert main([str(path)]) == 2
    error = capsys.readouterr().err
    assert why in error and str(path) in error and error.count("\n") == 1


# --------------------------------------------------------------------------- real browser


@pytest.fixture(scope="module")
def chromium() -> str:
    return find_or_install_chromium()


@pytest.mark.slow
def test_page_renders_in_headless_chromium(chromium: str, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    assert main([str(FIXTURES / "failures" / "results.json"), "--html", str(page)]) == 0

    dom = run_chromium(chromium, page, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert '<table class="scores" id="scores">' in dom.stdout
    assert re.search(
        r'<img class="plot" id="sweep-plot"[^>]*src="data:image/png;base64,', dom.stdout
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom.stdout
    assert "<script" not in dom.stdout.lower() and 'src="x"' not in dom.stdout

    screenshot = tmp_path / "report.png"
    shot = run_chromium(chromium, page, f"--screenshot={screenshot}", "--window-size=1200,2000")
    assert shot.returncode == 0 and screenshot.is_file(), shot.stderr[-2000:]
    data = screenshot.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (1200, 2000)

    import matplotlib.image

    pixels = matplotlib.image.imread(screenshot)
    colours = {tuple(p) for p in pixels[::7, ::7, :3].reshape(-1, 3).round(2).tolist()}
    assert pixels.std() > 0.05 and len(colours) > 50, "screenshot is (nearly) one flat colour"


def test_a_file_with_stale_or_forged_totals_shows_the_totals_of_its_results(
    tmp_path: Path,
) -> None:
    """The reader derives every total from the results: a file's own score, summary line
    and per-exercise figures (edited by hand, or left stale) are never shown."""
    written = json.loads((FIXTURES / "full_marks" / "results.json").read_text())
    honest = render_markdown(load_results(path=FIXTURES / "full_marks" / "results.json"))
    written["score"] = 7777.5
    written["output"] = "Score 7777.5 / 100"
    for info in written["extra_data"]["exercises"].values():
        info.update(score=4321.25, max_score=1.0)
    (tmp_path / "results.json").write_text(json.dumps(written))
    forged = load_results(path=tmp_path / "results.json")
    assert forged["output"].splitlines()[0] != "Score 7777.5 / 100"
    assert render_markdown(forged) == honest
    assert "7777" not in honest and "4321" not in honest
