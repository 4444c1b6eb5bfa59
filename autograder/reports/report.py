"""One student's grading report, as Markdown (terminal, GitHub step summary) or one HTML page.

``python -m autograder report RESULTS.json [--html OUT] [--markdown OUT]``

Everything inside a results file is treated as untrusted: students write the answers, and
their code writes the text that ends up in check outputs. So every string is escaped for
HTML, neutralised for Markdown (fenced blocks longer than any backtick run, ``|`` escaped in
table cells), stripped of terminal control characters, and cut when very long. The HTML page
is self-contained (inline CSS, the sweep plot as a base64 data URI, no script, no network),
so a TA can open it from disk, attach it to an email, or archive it.

The renderers tolerate partial results (``--only`` runs, older files, missing
``extra_data`` keys), because the grader reuses :func:`render_markdown` for ``--summary``.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import math
import re
import sys
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.reports import render
from autograder.spec.registry import EXERCISES, EXTRA_CREDIT

__all__ = [
    "MAX_ANSWER_CHARS",
    "MAX_OUTPUT_CHARS",
    "ResultsFileError",
    "load_results",
    "main",
    "render_html",
    "render_markdown",
    "results_problems",
]

MAX_OUTPUT_CHARS = 4_000
"""A check's output is cut after this many characters: enough for expected/got/input and the
hint, short enough that a submission printing megabytes cannot bury the rest of the page."""

MAX_ANSWER_CHARS = 20_000
"""A written answer is cut after this many characters (a TA has to read it whole)."""

MAX_PLOT_BYTES = 10_000_000
"""A plot file larger than this is not embedded (the grader's own plots are ~50 kB)."""

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

STATUSES = ("passed", "failed", "pending")

# C0 controls except tab and newline, DEL and C1 controls: a student's text could otherwise
# clear or recolour the TA's terminal when the Markdown is printed.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class ResultsFileError(ValueError):
    """A file that cannot be read as a results file; the message says why, in a few words."""


# --------------------------------------------------------------------------- loading


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def results_problems(results: object) -> list[str]:
    """What makes ``results`` not a results file (empty list: usable).

    Only the fixed core that the reports compute with is required; everything under
    ``extra_data`` is optional, so old and partial files still render.
    """
    if not isinstance(results, dict):
        return [f"top level is a JSON {type(results).__name__}, not an object"]
    problems = []
    for key in ("score", "max_score"):
        if key not in results:
            problems.append(f"{key!r} missing")
        elif not _is_number(results[key]):
            problems.append(f"{key!r} is not a number")
    tests = results.get("tests")
    if tests is None:
        problems.append("'tests' missing")
    elif not isinstance(tests, list):
        problems.append("'tests' is not a list")
    else:
        for index, test in enumerate(tests):
            where = f"tests[{index}]"
            if not isinstance(test, dict):
                problems.append(f"{where} is not an object")
                continue
            for key in ("score", "max_score"):
                if not _is_number(test.get(key)):
                    problems.append(f"{where}.{key} is not a number")
            if not isinstance(test.get("exercise"), str):
                problems.append(f"{where}.exercise missing")
            if test.get("status") not in STATUSES:
                problems.append(f"{where}.status is not one of {', '.join(STATUSES)}")
            if len(problems) >= 3:
                break
    extra = results.get("extra_data", {})
    if not isinstance(extra, dict):
        problems.append("'extra_data' is not an object")
    return problems


def load_results(*, path: Path) -> dict:
    """Read and validate one results file, so callers never render half-parsed data.

    Raises :class:`ResultsFileError` with a short reason (unreadable, corrupt JSON, not a
    results file) that the CLIs print next to the path.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise ResultsFileError(f"unreadable: {error.strerror or error}") from error
    try:
        results = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ResultsFileError(f"corrupt JSON: {error}") from error
    except RecursionError as error:
        raise ResultsFileError("corrupt JSON: nested too deeply") from error
    problems = results_problems(results)
    if problems:
        raise ResultsFileError("not a results file: " + "; ".join(problems[:3]))
    return results


# --------------------------------------------------------------------------- one view model


def display_text(value: object) -> str:
    """Any JSON value as display text, with control characters made visible."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL_CHARS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def cut_text(text: str, *, limit: int) -> tuple[str, int]:
    """``text`` cut to ``limit`` characters, and how many were left out."""
    if len(text) <= limit:
        return text, 0
    return text[:limit], len(text) - limit


def format_points(value: object) -> str:
    """Points without noise: 3 -> '3', 2.5 -> '2.5', 1/3 -> '0.33'."""
    number = float(value) if _is_number(value) else 0.0
    return f"{number:.2f}".rstrip("0").rstrip(".") if number % 1 else f"{number:.0f}"


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


@dataclass
class _Check:
    id: str
    name: str
    exercise: str
    score: float
    max_score: float
    status: str
    output: str
    tags: list[str]
    extra_credit: bool
    duration: float | None
    ta_grade: bool = False  # scored by a TA (collect --manual): shown with the answer


@dataclass
class _Exercise:
    name: str
    score: float = 0.0
    max_score: float = 0.0
    extra_credit: bool = False
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    incidents: list[str] = field(default_factory=list)


@dataclass
class _Plot:
    """The sweep plot as the report shows it: embedded bytes, or why there are none."""

    declared: str  # path as written in the results file ('' when there is none)
    png: bytes | None = None
    problem: str = ""


@dataclass
class _Report:
    title: str
    submission: str
    score: float
    max_score: float
    checks: list[_Check]
    exercises: list[_Exercise]
    manual: list[Mapping[str, Any]]
    tamper: list[str]
    findings: list[Mapping[str, Any]]
    environment: list[tuple[str, str]]
    plot: _Plot
    output: str

    @property
    def failed(self) -> list[_Check]:
        """Checks that lost points, less those a TA scored (shown with the answers)."""
        return [c for c in self.checks if c.status == "failed" and not c.ta_grade]

    def pending(self, kind: str) -> list[_Check]:
        """Pending checks by what they wait for: 'gpu', 'manual' or 'other'."""
        pending = [c for c in self.checks if c.status == "pending"]
        if kind == "manual":
            return [c for c in pending if "manual" in c.tags]
        if kind == "gpu":
            return [c for c in pending if "manual" not in c.tags and "gpu" in c.tags]
        return [c for c in pending if "manual" not in c.tags and "gpu" not in c.tags]

    @property
    def flagged(self) -> bool:
        return bool(self.tamper or self.findings)


def _checks(results: Mapping[str, Any]) -> list[_Check]:
    checks = []
    for test in _list(results.get("tests")):
        test = _mapping(test)
        name = display_text(test.get("name"))
        check_id = display_text(test.get("id")) or name.split(":", 1)[0]
        exercise = display_text(test.get("exercise")) or check_id.split(".", 1)[0]
        duration = test.get("duration")
        checks.append(
            _Check(
                id=check_id,
                name=name or check_id,
                exercise=exercise,
                score=float(test["score"]) if _is_number(test.get("score")) else 0.0,
                max_score=float(test["max_score"]) if _is_number(test.get("max_score")) else 0.0,
                status=test.get("status") if test.get("status") in STATUSES else "failed",
                output=display_text(test.get("output")),
                tags=[display_text(t) for t in _list(test.get("tags"))],
                extra_credit=bool(test.get("extra_credit", exercise in EXTRA_CREDIT)),
                duration=float(duration) if _is_number(duration) else None,
                ta_grade=isinstance(test.get("ta_grade"), Mapping),
            )
        )
    return checks


def _exercises(checks: list[_Check], extra: Mapping[str, Any]) -> list[_Exercise]:
    """Per-exercise totals summed from the checks (the fixed core), in the lesson's order."""
    declared = _mapping(extra.get("exercises"))
    names = [n for n in EXERCISES if n in declared or any(c.exercise == n for c in checks)]
    names += sorted({c.exercise for c in checks} - set(names))
    exercises = []
    for name in names:
        info = _mapping(declared.get(name))
        row = _Exercise(name=name, extra_credit=name in EXTRA_CREDIT)
        for check in (c for c in checks if c.exercise == name):
            row.score += check.score
            row.max_score += check.max_score
            row.extra_credit = row.extra_credit or check.extra_credit
            row.counts[check.status] += 1
        if not any(c.exercise == name for c in checks):  # declared but no checks listed
            row.score = float(info["score"]) if _is_number(info.get("score")) else 0.0
            row.max_score = float(info["max_score"]) if _is_number(info.get("max_score")) else 0
        row.extra_credit = bool(info.get("extra_credit", row.extra_credit))
        row.incidents = [display_text(i) for i in _list(info.get("incidents"))]
        exercises.append(row)
    return exercises


def _environment(results: Mapping[str, Any], extra: Mapping[str, Any]) -> list[tuple[str, str]]:
    env = _mapping(extra.get("environment"))
    device = extra.get("device")
    if isinstance(device, Mapping):
        used = display_text(device.get("used")) or "?"
        name = display_text(device.get("name"))
        device_text = used + (f" ({name})" if name and name != used else "")
        if "requested" in device:
            device_text += f", requested {display_text(device.get('requested'))}"
        if "cuda_available" in device:
            device_text += f", CUDA {'available' if device.get('cuda_available') else 'absent'}"
    else:
        device_text = display_text(device)
    time = results.get("execution_time")
    rows = [
        ("sandbox", sandbox_text(extra)),
        ("python", display_text(env.get("python"))),
        ("torch", display_text(env.get("torch"))),
        ("numpy", display_text(env.get("numpy"))),
        ("device", device_text),
        ("seed", display_text(extra.get("seed"))),
        ("graded at", display_text(extra.get("graded_at"))),
        ("grader version", display_text(extra.get("grader_version"))),
        ("platform", display_text(env.get("platform"))),
        ("execution time", f"{float(time):.1f} s" if _is_number(time) else ""),
    ]
    return [(key, value) for key, value in rows if value]


def sandbox_text(extra: Mapping[str, Any]) -> str:
    """What the workers ran in, and why: "bubblewrap (...)" or "none (...)"."""
    sandbox = _mapping(extra.get("sandbox"))
    if not sandbox:
        return ""
    kind = display_text(sandbox.get("kind")) or "?"
    reason = display_text(sandbox.get("reason"))
    return f"{kind} ({reason})" if reason else kind


def _plot(extra: Mapping[str, Any], results_dir: Path | None) -> _Plot:
    """Find the sweep plot, refusing anything outside the results folder or not a PNG.

    The path comes from the results file, which a student could forge: without these
    checks, a TA's page could end up embedding any file the TA can read.
    """
    declared = display_text(_mapping(extra.get("artifacts")).get("sweep_plot"))
    plot = _Plot(declared=declared)
    if not declared:
        plot.problem = "no sweep plot in this run"
        return plot
    if results_dir is None:
        plot.problem = "plot not embedded: the results file's folder is unknown"
        return plot
    folder = Path(results_dir).resolve()
    path = (folder / declared).resolve()
    if not path.is_relative_to(folder):
        plot.problem = "plot refused: its path leaves the results folder"
        return plot
    if not path.is_file():
        plot.problem = "plot not found"
        return plot
    try:
        if path.stat().st_size > MAX_PLOT_BYTES:
            plot.problem = f"plot not embedded: larger than {MAX_PLOT_BYTES // 1_000_000} MB"
            return plot
        data = path.read_bytes()
    except OSError as error:
        plot.problem = f"plot unreadable: {error.strerror or error}"
        return plot
    if not data.startswith(PNG_SIGNATURE):
        plot.problem = "plot refused: not a PNG file"
        return plot
    plot.png = data
    return plot


def _title(extra: Mapping[str, Any], student: str | None) -> tuple[str, str]:
    """(title, submission line): results files carry no student id, so the default title is
    the submission path; ``collect`` and ``--student`` pass the student's name."""
    submission = display_text(extra.get("submission"))
    who = student or display_text(extra.get("student")) or submission or "submission"
    return who, "" if who == submission else submission


def _report(results: Mapping[str, Any], results_dir: Path | None, student: str | None) -> _Report:
    extra = _mapping(results.get("extra_data"))
    checks = _checks(results)
    integrity = _mapping(extra.get("integrity"))
    tamper = []
    for entry in _list(integrity.get("tamper")):
        if isinstance(entry, Mapping):
            change = display_text(entry.get("change")) or "changed"
            tamper.append(f"{change}: {display_text(entry.get('path'))}")
        else:
            tamper.append(display_text(entry))
    title, submission = _title(extra, student)
    return _Report(
        title=title,
        submission=submission,
        score=float(results["score"]) if _is_number(results.get("score")) else 0.0,
        max_score=float(results["max_score"]) if _is_number(results.get("max_score")) else 0.0,
        checks=checks,
        exercises=_exercises(checks, extra),
        manual=[_mapping(m) for m in _list(extra.get("manual"))],
        tamper=tamper,
        findings=[_mapping(f) for f in _list(integrity.get("findings"))],
        environment=_environment(results, extra),
        plot=_plot(extra, results_dir),
        output=display_text(results.get("output")),
    )


def _percent(score: float, max_score: float) -> str:
    return f"{100 * score / max_score:.0f}%" if max_score else "n/a"


def _finding_parts(finding: Mapping[str, Any]) -> tuple[str, str, str]:
    """(file:line, construct, why) of one integrity finding."""
    where = display_text(finding.get("file")) or display_text(finding.get("exercise")) or "?"
    if _is_number(finding.get("line")):
        where += f":{int(finding['line'])}"
    return where, display_text(finding.get("construct")), display_text(finding.get("why"))


def _manual_parts(entry: Mapping[str, Any]) -> tuple[str, str, str, list[str]]:
    """(check id, points, question, rubric) of one manual-queue entry."""
    rubric = [display_text(point) for point in _list(entry.get("rubric"))]
    return (
        display_text(entry.get("check")) or "?",
        format_points(entry.get("points")),
        display_text(entry.get("question")),
        rubric,
    )


def _ta_parts(entry: Mapping[str, Any]) -> tuple[str, str] | None:
    """(points, comment) a TA gave this written answer (``collect --manual``), if any."""
    if not _is_number(entry.get("ta_score")):
        return None
    return format_points(entry["ta_score"]), display_text(entry.get("ta_comment")).strip()


# --------------------------------------------------------------------------- Markdown


_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~&])")
_MD_LINE_START = re.compile(r"^([#+-])|^(\d{1,9})([.)])(?=\s|$)")


def md_inline(text: str) -> str:
    """Untrusted text made safe for one line of Markdown (a table cell, a list item, a heading).

    Newlines become spaces, and the characters that could start markup, raw HTML, an entity
    or a table cell boundary are backslash-escaped.
    """
    text = " ".join(display_text(text).split())
    text = _MD_INLINE.sub(r"\\\1", text)
    # A list item's text is parsed as blocks: "# x" would be a heading, "1. x" a nested list.
    return _MD_LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", text)


def md_fence(text: str, *, info: str = "text") -> str:
    """Untrusted multi-line text as a fenced code block no content can close early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def _md_cut_note(left_out: int) -> str:
    return f"*(cut: {left_out:,} more characters; the full text is in the results file)*"


def render_markdown(
    results: dict, *, results_dir: Path | None = None, student: str | None = None
) -> str:
    """The report as Markdown: for a terminal, a pull request comment or a GitHub step summary.

    ``results_dir`` (the results file's folder) lets the sweep plot be found; ``student``
    overrides the name in the title (default: the submission folder's name).
    """
    report = _report(results, results_dir, student)
    lines: list[str] = [f"# Grading report: {md_inline(report.title)}", ""]
    if report.submission:
        lines += [f"Submission: {md_inline(report.submission)}", ""]
    lines += [
        f"**Score: {format_points(report.score)} / {format_points(report.max_score)}** "
        f"({_percent(report.score, report.max_score)}; extra credit adds to the score only)",
        "",
    ]
    sandbox = _mapping(_mapping(results.get("extra_data")).get("sandbox"))
    if sandbox:
        confined = sandbox.get("kind") == "bubblewrap"
        lead = "Workers ran in a sandbox" if confined else "> **Workers ran without a sandbox**"
        lines += [f"{lead}: {md_inline(sandbox_text(results['extra_data']))}", ""]
    if report.flagged:
        lines += [
            f"> **Integrity flags: {len(report.tamper)} changed protected file(s), "
            f"{len(report.findings)} finding(s) in the code.** See *Integrity* below.",
            "",
        ]
    pending_count = sum(e.counts["pending"] for e in report.exercises)
    if pending_count:
        lines += [f"{pending_count} check(s) pending: the score is provisional.", ""]

    lines += [
        "## Scores",
        "",
        "| exercise | score | max | passed | failed | pending | notes |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in report.exercises:
        notes = ["extra credit"] if row.extra_credit else []
        notes += row.incidents
        lines.append(
            f"| {md_inline(row.name)} "
            f"| {format_points(row.score)} | {format_points(row.max_score)} "
            f"| {row.counts['passed']} | {row.counts['failed']} | {row.counts['pending']} "
            f"| {md_inline('; '.join(notes))} |"
        )
    lines += [
        f"| **total** | **{format_points(report.score)}** | **{format_points(report.max_score)}** "
        "| | | | extra credit not in max |",
        "",
    ]

    lines += ["## Failed checks", ""]
    if not report.failed:
        lines += ["None.", ""]
    for check in report.failed:
        text, left_out = cut_text(check.output or "(no output)", limit=MAX_OUTPUT_CHARS)
        lines += [
            f"### {md_inline(check.name)}",
            "",
            f"{format_points(check.score)} / {format_points(check.max_score)} points",
            "",
            md_fence(text),
            "",
        ]
        if left_out:
            lines += [_md_cut_note(left_out), ""]

    lines += ["## Pending checks", ""]
    for kind, label in (("gpu", "Needs a GPU"), ("manual", "Needs a TA"), ("other", "Other")):
        pending = report.pending(kind)
        if pending or kind != "other":
            lines += [f"**{label}**" + (":" if pending else ": none"), ""]
        for check in pending:
            lines.append(f"- {md_inline(check.name)} ({format_points(check.max_score)} points)")
        if pending:
            lines.append("")

    lines += ["## Sweep plot", ""]
    if report.plot.png is not None:
        link = urllib.parse.quote(report.plot.declared)
        lines += [f"![sweep plot]({link})", "", f"File: {md_inline(report.plot.declared)}", ""]
    else:
        shown = f" ({md_inline(report.plot.declared)})" if report.plot.declared else ""
        lines += [f"{md_inline(report.plot.problem)}{shown}", ""]

    lines += ["## Manual grading queue", ""]
    if not report.manual:
        lines += ["No written answers in this run.", ""]
    for entry in report.manual:
        check_id, points, question, rubric = _manual_parts(entry)
        answer = display_text(entry.get("answer")).strip()
        answer, left_out = cut_text(answer, limit=MAX_ANSWER_CHARS)
        lines += [
            f"### {md_inline(check_id)} ({points} points)",
            "",
            f"**Question:** {md_inline(question)}",
            "",
        ]
        lines += ["**Answer:**", "", md_fence(answer) if answer else "*(no answer)*", ""]
        if left_out:
            lines += [_md_cut_note(left_out), ""]
        ta = _ta_parts(entry)
        if ta is not None:
            lines += [
                f"**TA score: {ta[0]} / {points}**" + (f": {md_inline(ta[1])}" if ta[1] else ""),
                "",
            ]
        lines += ["**Rubric key points:**", ""]
        lines += [f"- [ ] {md_inline(point)}" for point in rubric] or ["- (no rubric)"]
        lines.append("")

    lines += ["## Integrity", ""]
    if not report.flagged:
        lines += ["No findings.", ""]
    if report.tamper:
        lines += ["Protected files changed:", ""]
        lines += [f"- {md_inline(entry)}" for entry in report.tamper]
        lines.append("")
    if report.findings:
        lines += ["| where | construct | why |", "|---|---|---|"]
        for finding in report.findings:
            where, construct, why = _finding_parts(finding)
            lines.append(f"| {md_inline(where)} | {md_inline(construct)} | {md_inline(why)} |")
        lines.append("")

    lines += ["## Environment", "", "| | |", "|---|---|"]
    lines += [f"| {key} | {md_inline(value)} |" for key, value in report.environment]
    lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------- HTML


def esc(value: object) -> str:
    """Untrusted value as HTML text (quotes too, so it is safe in attributes)."""
    return html.escape(display_text(value), quote=True)


def html_page(*, title: str, body: str) -> str:
    """A complete, self-contained page around ``body`` (HTML already escaped by the caller):
    the one page frame of every report, from ``templates/page.html.j2``."""
    return render.page(title=display_text(title), body=body)


def html_pre(text: str, *, limit: int) -> str:
    """Untrusted multi-line text, preformatted, escaped and cut at ``limit`` characters."""
    shown, left_out = cut_text(text, limit=limit)
    note = (
        f"<p class='muted small'>(cut: {left_out:,} more characters; the full text is in the "
        "results file)</p>"
        if left_out
        else ""
    )
    return f"<pre>{esc(shown)}</pre>{note}"


def png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _html_scores(report: _Report) -> str:
    rows = []
    for row in report.exercises:
        notes = "<span class='tag'>extra credit</span>" if row.extra_credit else ""
        notes += "".join(f"<div class='small failed'>{esc(i)}</div>" for i in row.incidents)
        rows.append(
            f"<tr data-exercise='{esc(row.name)}'><td>{esc(row.name)}</td>"
            f"<td class='num score'>{format_points(row.score)}</td>"
            f"<td class='num max'>{format_points(row.max_score)}</td>"
            f"<td class='num'>{row.counts['passed']}</td>"
            f"<td class='num'>{row.counts['failed']}</td>"
            f"<td class='num'>{row.counts['pending']}</td><td>{notes}</td></tr>"
        )
    rows.append(
        "<tr class='total-row'><td>total</td>"
        f"<td class='num score'>{format_points(report.score)}</td>"
        f"<td class='num max'>{format_points(report.max_score)}</td><td colspan='4' class='small'>"
        "extra credit adds to the score, not to the maximum</td></tr>"
    )
    return (
        "<table class='scores' id='scores'><thead><tr><th>exercise</th><th class='num'>score</th>"
        "<th class='num'>max</th><th class='num'>passed</th><th class='num'>failed</th>"
        "<th class='num'>pending</th><th>notes</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _html_failed(report: _Report) -> str:
    if not report.failed:
        return "<p>None.</p>"
    parts = []
    for check in report.failed:
        tags = "".join(f" <span class='tag'>{esc(tag)}</span>" for tag in check.tags)
        parts.append(
            f"<article class='failed-check' id='fail-{esc(check.id)}'><h3>{esc(check.name)}</h3>"
            f"<div class='small muted'>{format_points(check.score)} / "
            f"{format_points(check.max_score)} points"
            f"{tags}</div>"
            f"{html_pre(check.output or '(no output)', limit=MAX_OUTPUT_CHARS)}</article>"
        )
    return "".join(parts)


def _html_pending(report: _Report) -> str:
    parts = []
    for kind, label in (("gpu", "Needs a GPU"), ("manual", "Needs a TA"), ("other", "Other")):
        pending = report.pending(kind)
        if not pending and kind == "other":
            continue
        items = "".join(
            f"<li>{esc(c.name)} "
            f"<span class='muted'>({format_points(c.max_score)} points)</span></li>"
            for c in pending
        )
        parts.append(
            f"<h3>{label}</h3>"
            + (f"<ul class='pending-{kind}'>{items}</ul>" if items else "<p>None.</p>")
        )
    return "".join(parts)


def _html_plot(report: _Report) -> str:
    plot = report.plot
    if plot.png is not None:
        return (
            f"<img class='plot' id='sweep-plot' alt='sweep plot: {esc(plot.declared)}' "
            f"src='{png_data_uri(plot.png)}'>"
        )
    shown = f" <span class='muted'>({esc(plot.declared)})</span>" if plot.declared else ""
    return f"<p class='note' id='sweep-plot-missing'>{esc(plot.problem)}{shown}</p>"


def _html_manual(report: _Report) -> str:
    if not report.manual:
        return "<p>No written answers in this run.</p>"
    parts = []
    for entry in report.manual:
        check_id, points, question, rubric = _manual_parts(entry)
        answer = display_text(entry.get("answer")).strip()
        answer_html = (
            html_pre(answer, limit=MAX_ANSWER_CHARS)
            if answer
            else "<p class='muted'>(no answer)</p>"
        )
        rubric_html = (
            "".join(f"<li>{esc(point)}</li>" for point in rubric) or "<li>(no rubric)</li>"
        )
        ta = _ta_parts(entry)
        ta_html = (
            f"<p class='ta-grade'><strong>TA score: {ta[0]} / {points}</strong>"
            + (f"<br><strong>TA comment:</strong> {esc(ta[1])}" if ta[1] else "")
            + "</p>"
            if ta is not None
            else ""
        )
        parts.append(
            f"<h3>{esc(check_id)} <span class='muted small'>({points} points)</span></h3>"
            f"{ta_html}<p><strong>Question:</strong> {esc(question)}</p>"
            f"<div class='qa'><div><strong>Student's answer</strong>{answer_html}</div>"
            f"<div><strong>Rubric key points</strong><ul>{rubric_html}</ul></div></div>"
        )
    return "".join(parts)


def _html_integrity(report: _Report) -> str:
    if not report.flagged:
        return "<p>No findings.</p>"
    parts = []
    if report.tamper:
        items = "".join(f"<li>{esc(entry)}</li>" for entry in report.tamper)
        parts.append(f"<h3>Protected files changed</h3><ul class='tamper'>{items}</ul>")
    if report.findings:
        rows = "".join(
            "<tr>" + "".join(f"<td>{esc(part)}</td>" for part in _finding_parts(f)) + "</tr>"
            for f in report.findings
        )
        parts.append(
            "<h3>Findings in the code</h3><table class='findings'><thead><tr><th>where</th>"
            f"<th>construct</th><th>why</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    return "".join(parts)


def _html_all_checks(report: _Report) -> str:
    rows = "".join(
        f"<tr><td>{esc(c.id)}</td><td>{esc(c.exercise)}</td>"
        f"<td class='{c.status}'>{c.status}</td>"
        f"<td class='num'>{format_points(c.score)} / {format_points(c.max_score)}</td>"
        f"<td class='num'>{'' if c.duration is None else f'{c.duration:.2f} s'}</td></tr>"
        for c in report.checks
    )
    return (
        "<table class='checks'><thead><tr><th>check</th><th>exercise</th><th>status</th>"
        f"<th class='num'>points</th><th class='num'>time</th></tr></thead><tbody>{rows}"
        "</tbody></table>"
    )


def render_html(
    results: dict, *, results_dir: Path | None = None, student: str | None = None
) -> str:
    """The report as one self-contained HTML page (inline CSS, plot as a data URI, no script).

    ``results_dir`` (the results file's folder) lets the sweep plot be found and embedded;
    ``student`` overrides the name in the title (default: the submission folder's name).
    """
    report = _report(results, results_dir, student)
    pending_count = sum(e.counts["pending"] for e in report.exercises)
    banner = ""
    if report.flagged:
        banner = (
            "<div class='banner' id='integrity-banner'>Integrity flags: "
            f"{len(report.tamper)} changed protected file(s), {len(report.findings)} finding(s) "
            "in the code. See <a href='#integrity'>Integrity</a>.</div>"
        )
    provisional = (
        f"<p class='note'>{pending_count} check(s) pending: the score is provisional.</p>"
        if pending_count
        else ""
    )
    environment = "".join(
        f"<tr><th>{esc(key)}</th><td>{esc(value)}</td></tr>" for key, value in report.environment
    )
    body = f"""
<header>
<h1>Grading report: {esc(report.title)}</h1>
<div class='muted small'>{esc(report.submission)}</div>
<div class='total' id='total'>{format_points(report.score)} / {format_points(report.max_score)}
<span class='muted small'>({_percent(report.score, report.max_score)})</span></div>
{banner}{provisional}
</header>
<section id='scores-section'><h2>Scores</h2>{_html_scores(report)}</section>
<section id='failed'><h2>Failed checks ({len(report.failed)})</h2>{_html_failed(report)}</section>
<section id='pending'><h2>Pending checks</h2>{_html_pending(report)}</section>
<section id='plot'><h2>Sweep plot</h2>{_html_plot(report)}</section>
<section id='manual'><h2>Manual grading queue</h2>{_html_manual(report)}</section>
<section id='integrity'><h2>Integrity</h2>{_html_integrity(report)}</section>
<section id='environment'><h2>Environment</h2><table class='environment'>{environment}</table>
</section>
<section id='all-checks'><h2>All checks</h2>{_html_all_checks(report)}</section>
"""
    return html_page(title=f"Grading report: {report.title}", body=body)


# --------------------------------------------------------------------------- CLI


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m autograder report",
        description="Render one results file as Markdown (default: printed) and/or HTML.",
    )
    parser.add_argument("results", type=Path, help="a results.json written by `grade`")
    parser.add_argument("--html", type=Path, metavar="OUT", help="write the HTML page here")
    parser.add_argument("--markdown", type=Path, metavar="OUT", help="write the Markdown here")
    parser.add_argument(
        "--student", metavar="NAME", help="name shown in the title (default: submission folder)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """``python -m autograder report``: 0 on success, 2 for a missing or unusable file."""
    args = _parser().parse_args(argv)
    try:
        results = load_results(path=args.results)
    except ResultsFileError as error:
        print(f"report: {args.results}: {error}", file=sys.stderr)
        return 2
    results_dir = args.results.resolve().parent
    written = []
    for out, renderer in ((args.html, render_html), (args.markdown, render_markdown)):
        if out is None:
            continue
        text = renderer(results, results_dir=results_dir, student=args.student)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
        except OSError as error:
            print(f"report: cannot write {out}: {error.strerror or error}", file=sys.stderr)
            return 2
        written.append(out)
    if not written:
        text = render_markdown(results, results_dir=results_dir, student=args.student)
        sys.stdout.write(text)
    else:
        for out in written:
            print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
