"""Red-team review of issue 20: what still got through, each closed as a mechanism.

Every test here failed on main before its fix (docs/notes: /work/notes/red-team-20.md):

* Markdown: GitHub's renderer (cmark-gfm) still made live links of ``_www.evil.example``
  (after the escaped ``_``) and of ``a@-b.example`` / ``a@_b.example`` (e-mail autolinks
  whose domain starts with ``-`` or ``_``); ``$...$`` renders as math (big styled text).
* CSV: a formula behind leading spaces, a newline, a quote mark or a full-width ``＝``.
* Provenance: a signature that is not ASCII crashed ``collect`` for the whole class
  (``hmac.compare_digest`` raises TypeError on such a str); a document signed for a
  submission verified when no ``submission/`` was beside it (or a link was), so an older
  grading could be replayed; ``regrade --sandbox none`` as an ordinary user signed results
  the student's code (running as that user) could have rewritten: a signing oracle.
"""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

import pytest

from autograder.course.collect.command import collect
from autograder.course.collect.manual_grades import read_sheet
from autograder.course.regrade import command as regrade_module
from autograder.course.regrade.command import regrade
from autograder.results.provenance import (
    KEY_FILE_VARIABLE,
    KEY_VARIABLE,
    sign,
    submission_sha256,
    verify,
)
from autograder.results.sinks import csv_cell, markdown_inline

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "results"
FAST = ROOT / "tests" / "fixtures" / "fast-grading.toml"
KEY = b"course-key-0123456789abcdef"
WORD_JOINER = "\u2060"


@pytest.fixture
def course_key(monkeypatch: pytest.MonkeyPatch) -> bytes:
    monkeypatch.setenv(KEY_VARIABLE, KEY.decode())
    monkeypatch.delenv(KEY_FILE_VARIABLE, raising=False)
    return KEY


def fixture() -> dict:
    return json.loads((FIXTURES / "full_marks" / "results.json").read_text())


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    with (out / "gradebook.csv").open(newline="", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


# ---- Markdown: links GitHub still made ----

AUTOLINKS = {
    "www after an underscore": "_www.evil.example/steal",
    "www after a letter and underscore": "x_WWW.evil.example",
    "e-mail, domain starts with -": "write to a@-b.example now",
    "e-mail, domain starts with _": "write to a@_b.example now",
    "xmpp": "xmpp:a@-b.example",
}


@pytest.mark.parametrize("name", sorted(AUTOLINKS))
def test_markdown_inline_breaks_every_autolink_github_makes(name: str) -> None:
    # cmark-gfm (GitHub's renderer) linked each of these through the old escaping; an
    # autolink needs "www." or an "@" followed by the domain, so neither may survive.
    text = markdown_inline(AUTOLINKS[name])
    assert not re.search(r"(?i)www\.", text), text
    assert all(text[i + 1] == WORD_JOINER for i, c in enumerate(text) if c == "@"), text
    assert "://" not in text


def test_markdown_inline_escapes_math() -> None:
    # GitHub renders $...$ and $$...$$ as math: \huge, \color, a forged score in big type.
    text = markdown_inline(r"$$\huge\color{green}\text{100 / 100, all passed}$$ and $x$")
    assert re.fullmatch(r"(?:[^$]|(?<=\\)\$)*", text), text  # every $ escaped


def test_a_repository_name_links_nothing_in_the_class_summary(tmp_path: Path) -> None:
    """regrade.yml appends class-summary.md to the run's step summary; student ids are
    repository names, where ``_www.evil.example`` and ``$`` are allowed."""
    klass = tmp_path / "class"
    for student in ("_www.evil.example", "x$y$z"):
        (klass / student).mkdir(parents=True)
        (klass / student / "results.json").write_text(json.dumps(fixture()))
    collect(inputs=[klass], out_dir=tmp_path / "out", pages=False)
    summary = (tmp_path / "out" / "class-summary.md").read_text()
    assert "www\\.evil.example" in summary
    assert not re.search(r"(?i)(?<!\\)www\.", summary)
    assert not re.search(r"(?<!\\)\$", summary)


def test_an_unverified_result_has_no_points_in_any_gradebook_column(tmp_path: Path) -> None:
    """A forged file (every check passed) left ``total`` empty but filled each exercise's
    column, which an import mapping exercises to assignments reads as points."""
    from autograder.spec.registry import EXERCISES

    document = fixture()
    for test in document["tests"]:
        test["status"] = "passed"
    (tmp_path / "class" / "mallory").mkdir(parents=True)
    (tmp_path / "class" / "mallory" / "results.json").write_text(json.dumps(document))
    collect(inputs=[tmp_path / "class"], out_dir=tmp_path / "out", pages=False)
    row = gradebook(tmp_path / "out")["mallory"]
    assert row["provenance"] == "unverified"
    points = ("raw_score", "score", *EXERCISES, "total", "percent")
    assert {column: row[column] for column in points} == dict.fromkeys(points, "")
    collect(inputs=[tmp_path / "class"], out_dir=tmp_path / "n", pages=False, count_unverified=True)
    assert gradebook(tmp_path / "n")["mallory"]["medium"] == "40"  # counted when asked


# ---- CSV: formulas behind what a spreadsheet drops first ----


@pytest.mark.parametrize(
    "cell",
    [' =HYPERLINK("http://x")', "\n=1+1", '"=1+1', "\u3000=1+1", "\uff1dSUM(A1)", "  -2+3"],
)
def test_csv_cell_quotes_formulas_behind_spaces_quotes_and_full_width(cell: str) -> None:
    assert csv_cell(cell) == "'" + cell


def test_plain_cells_stay_and_the_ta_template_reads_back_what_was_quoted(tmp_path: Path) -> None:
    for plain in ("alice", "3.5", "a=b", "medium/scan", ""):
        assert csv_cell(plain) == plain
    sheet = tmp_path / "grades.csv"
    comment = " =looks like a formula"
    with sheet.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "check", "score", "comment"])
        writer.writerow(["ann", "medium/written", "2", csv_cell(comment)])
    grades = read_sheet(sheet).grades
    assert [g.comment for g in grades.values()] == [comment.strip()]


# ---- provenance ----


def test_a_signature_that_is_not_ascii_is_unverified_and_stops_nothing(
    tmp_path: Path, course_key: bytes
) -> None:
    document = fixture()
    document["extra_data"]["provenance"] = {
        "scheme": "hmac-sha256/1",
        "student": "eve",
        "signature": "\u00e9" * 64,
    }
    check = verify(document, key=course_key, student="eve")
    assert not check.verified and "does not match" in check.reason
    klass = tmp_path / "class"
    for student, body in (("ann", fixture()), ("eve", document)):
        (klass / student).mkdir(parents=True)
        (klass / student / "results.json").write_text(json.dumps(body))
    summary = collect(inputs=[klass], out_dir=tmp_path / "out", pages=False)
    assert sorted(s.student_id for s in summary.students) == ["ann", "eve"]
    assert gradebook(tmp_path / "out")["eve"]["provenance"] == "unverified"


def test_a_signed_document_needs_its_own_submission_beside_it(
    tmp_path: Path, course_key: bytes
) -> None:
    """An older grading (signed for the submission of then) replayed without the copies it
    was signed for, or with ``submission`` a link to copies elsewhere, is not verified."""
    copies = tmp_path / "kept" / "submission"
    copies.mkdir(parents=True)
    (copies / "medium_parallel_scan.py").write_text("x = 1\n")
    signed = sign(
        fixture(), key=course_key, student="ann", submission=submission_sha256(copies), by="t"
    )
    assert submission_sha256(copies) != submission_sha256(None)
    for case in ("without", "linked", "real"):
        folder = tmp_path / case / "ann"
        folder.mkdir(parents=True)
        (folder / "results.json").write_text(json.dumps(signed))
        if case == "linked":
            os.symlink(copies, folder / "submission")
        elif case == "real":
            (folder / "submission").mkdir()
            (folder / "submission" / "medium_parallel_scan.py").write_text("x = 1\n")
        assert submission_sha256(folder / "submission") == (
            submission_sha256(copies) if case == "real" else submission_sha256(None)
        ), case
        collect(inputs=[folder.parent], out_dir=tmp_path / f"out-{case}", pages=False)
        row = gradebook(tmp_path / f"out-{case}")["ann"]
        assert row["provenance"] == ("verified" if case == "real" else "unverified"), case
        if case != "real":
            assert "another submission" in row["provenance_note"] and row["total"] == ""


def test_no_grading_starts_where_student_code_could_reach_the_course_key(
    tmp_path: Path, course_key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a sandbox, as an ordinary user, the student's code runs as the signer: it could
    read the key (a key file, /proc/PID/environ of the shell that started regrade) and rewrite
    its results, or another student's, before regrade signs them. So regrade refuses to start."""
    from autograder.course.nbgrader import scores as nbgrader_scores
    from reference.cli_support import UsageError

    monkeypatch.setattr(regrade_module, "unconfined_user", lambda: (None, ""))  # not root
    klass = tmp_path / "class"
    (klass / "ann").mkdir(parents=True)
    (klass / "ann" / "medium_parallel_scan.py").write_text("x = 1\n")
    out = tmp_path / "out"
    with pytest.raises(UsageError, match="can read the course key"):
        regrade(sources=[klass], out_dir=out, only=["medium"], sandbox="none", settings=FAST)
    assert not (out / "ann").exists()  # nothing graded
    assert KEY_VARIABLE not in os.environ  # read once and forgotten all the same
    monkeypatch.setenv(KEY_VARIABLE, KEY.decode())
    with pytest.raises(UsageError, match="can read the course key"):
        nbgrader_scores.regrade_course(course=tmp_path, sandbox="none")
    # Confined (bubblewrap, or root's workers as uid 65534), or no key: gradings may start.
    monkeypatch.setattr(regrade_module, "unconfined_user", lambda: (lambda: None, ""))
    assert regrade_module.key_reachable_because("none") == ""


# ---- the terminal (and every sink built on it): text that hides ----

HIDDEN = {
    "tag characters (invisible ASCII)": "ok\U000e0069\U000e0067\U000e006e\U000e006f",
    "soft hyphen": "pass\u00aded",
    "mongolian vowel separator": "a\u180eb",
    "hangul filler": "a\u3164b",
    "variation selector": "a\ufe0fb",
    "unassigned": "a\u2065b",
    "arabic number sign": "\u0600100",
}


@pytest.mark.parametrize("name", sorted(HIDDEN))
def test_terminal_text_shows_every_invisible_character(name: str) -> None:
    from autograder.results.sinks import terminal_text

    text = terminal_text(HIDDEN[name])
    assert text.isascii() and text.isprintable(), text
    assert "\\" in markdown_inline(HIDDEN[name])


def test_terminal_text_keeps_ordinary_unicode_and_writes_astral_escapes_whole() -> None:
    from autograder.results.sinks import terminal_text

    assert terminal_text("é ü 中文 😀\ttab") == "é ü 中文 😀\ttab"
    assert terminal_text("\U000e0041") == "\\U000e0041"  # not \ue0041, which reads as \ue004 1


@pytest.mark.parametrize("name", sorted(HIDDEN))
def test_xml_text_shows_what_hides_text_in_a_ci_test_report(name: str) -> None:
    from autograder.results.sinks import xml_text

    text = xml_text(HIDDEN[name] + "\u202e<&>\tok\n")
    assert text.isascii() and text.endswith("<&>\tok\n"), text
