"""One view of the whole class: a gradebook, a class summary and one report page per student.

``python -m autograder collect DIR... [--out OUTDIR] [--no-pages] [--manual FILE]
[--similarity [--reference DIR] [--boilerplate DIR] [--similarity-threshold X]]``

Where results are looked for. Each DIR is either

* **one student's folder**, when it holds ``results.json`` at its top or at the grader's
  default ``outputs/grading/results.json``; the student id is the folder's name; or
* **a folder of student folders**: every sub-folder (not starting with ".") is one student,
  and its name is the student id.

A student's results file is the newest ``results.json`` (by modification time) anywhere
inside the student's folder, skipping folders whose name starts with "." (``.git``,
``.venv``); when there are several, the summary says which one was used. Bad files (corrupt
JSON, JSON that is not a results file, unreadable) are reported by name on stderr and in the
summary, and everything else is still collected.

Written to OUTDIR: ``gradebook.csv`` (nbgrader ``export`` column names, one row per
student), ``class-summary.md``, ``class-summary.html`` (self-contained),
``score-distribution.png``, ``students/<id>.html`` (each student's report page) and
``manual-template.csv`` (the written answers still waiting for a TA). ``--manual FILE`` merges
the TA's scores (:mod:`autograder.course.manual_grades`); ``--similarity`` compares the students'
code (:mod:`autograder.course.similarity`), read from the ``submission/`` folder ``regrade`` writes
beside each results file.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import statistics
import sys
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from autograder.course import manual_grades, similarity
from autograder.reports.html import html_page, png_data_uri, render_html
from autograder.reports.text import display_text, esc, format_points, md_inline
from autograder.results.schema import ResultsFileError, load_results
from autograder.spec.registry import CHECKS_BY_ID, EXERCISES

__all__ = [
    "ASSIGNMENT",
    "GRADEBOOK_COLUMNS",
    "CollectSummary",
    "Skipped",
    "StudentRecord",
    "collect",
    "main",
]

ASSIGNMENT = "why-transformers"
"""The assignment name in the gradebook (nbgrader's ``assignment`` column)."""

RESULTS_NAME = "results.json"
DEFAULT_RESULTS = Path("outputs", "grading", RESULTS_NAME)  # where `grade` writes by default

NBGRADER_COLUMNS = (
    "assignment",
    "duedate",
    "timestamp",
    "student_id",
    "last_name",
    "first_name",
    "email",
    "raw_score",
    "late_submission_penalty",
    "score",
    "max_score",
)
"""``nbgrader export``'s CSV columns, in its order, so existing gradebook imports keep working."""

GRADEBOOK_COLUMNS = (
    *NBGRADER_COLUMNS,
    *EXERCISES,  # points per exercise, empty when the run did not grade it (--only)
    "total",  # points over all exercises, extra credit included (= raw_score)
    "percent",  # score / max_score * 100
    "pending_checks",  # checks waiting for a GPU or a TA: the score is provisional while > 0
    "integrity_flags",  # tamper entries + code findings: look before releasing grades
    "results_file",
)

HISTOGRAM_NAME = "score-distribution.png"
PAGES_FOLDER = "students"
SUBMISSION_FOLDER = "submission"  # regrade copies the exercise modules here, beside results.json
GRADER_STUBS = Path(__file__).resolve().parents[2] / "exercises"  # the released stubs
LISTED_PAIRS = 50  # similar pairs listed in the class summary; similarity.csv has every pair


@dataclass(frozen=True)
class Skipped:
    """A results file (or folder) left out of the collection, and why in a few words."""

    path: Path
    why: str

    def __str__(self) -> str:
        return f"skipped: {self.path} ({self.why})"


@dataclass
class StudentRecord:
    """What the class views need from one student's results, kept small for 1,000 students."""

    student_id: str
    results_path: Path
    score: float
    max_score: float
    graded_at: str
    exercise_scores: dict[str, float]
    statuses: dict[str, str]  # check id -> passed | failed | pending
    check_names: dict[str, str]  # check id -> name as written in the results
    pending_manual: list[str]
    pending_gpu: list[str]
    tamper: list[str]
    findings: list[str]
    page: Path | None = None
    ta_grades: list[tuple[str, float, float, str]] = field(default_factory=list)
    # (check, score, max_score, comment) of each check a TA scored through --manual

    @property
    def percent(self) -> float:
        return 100 * self.score / self.max_score if self.max_score else 0.0

    @property
    def flags(self) -> int:
        return len(self.tamper) + len(self.findings)


@dataclass
class CheckStats:
    """One check over the class: failure rate = failed / graded, pending left out."""

    check_id: str
    title: str
    passed: int = 0
    failed: int = 0
    pending: int = 0

    @property
    def graded(self) -> int:
        return self.passed + self.failed

    @property
    def failure_rate(self) -> float | None:
        return self.failed / self.graded if self.graded else None


@dataclass
class CollectSummary:
    """What ``collect`` found and wrote; the CLI prints it, tests inspect it."""

    out_dir: Path
    students: list[StudentRecord] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    without_results: list[Path] = field(default_factory=list)  # student folders, no file
    notes: list[str] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)  # gradebook, markdown, html, ...
    manual: manual_grades.ManualSheet | None = None  # the --manual file, as applied
    similarity: similarity.SimilarityReport | None = None

    def check_stats(self) -> list[CheckStats]:
        """Every check seen, worst failure rate first; checks nobody was graded on last."""
        stats: dict[str, CheckStats] = {}
        for student in self.students:
            for check_id, status in student.statuses.items():
                if check_id not in stats:
                    known = CHECKS_BY_ID.get(check_id)
                    title = known.title if known else student.check_names.get(check_id, "")
                    stats[check_id] = CheckStats(check_id=check_id, title=title)
                entry = stats[check_id]
                setattr(entry, status, getattr(entry, status) + 1)
        return sorted(
            stats.values(),
            key=lambda s: (
                s.failure_rate is None,
                -(s.failure_rate or 0.0),
                -s.failed,
                s.check_id,
            ),
        )

    def pending_by_check(self, *, kind: str) -> dict[str, list[str]]:
        """Check id -> students still waiting on it; ``kind`` is 'manual' or 'gpu'."""
        waiting: dict[str, list[str]] = {}
        for student in self.students:
            for check_id in student.pending_manual if kind == "manual" else student.pending_gpu:
                waiting.setdefault(check_id, []).append(student.student_id)
        return dict(sorted(waiting.items()))


# --------------------------------------------------------------------------- finding files


def _walk_results(folder: Path) -> list[Path]:
    """Every results.json under ``folder``, not descending into hidden folders."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        if RESULTS_NAME in files:
            found.append(Path(root, RESULTS_NAME))
    return found


def _newest_key(path: Path) -> tuple[float, str]:
    """Sort key: modification time, then path, so ties resolve the same way every run."""
    try:
        return path.stat().st_mtime, str(path)
    except OSError:
        return float("-inf"), str(path)


def _is_student_folder(folder: Path) -> bool:
    return (folder / RESULTS_NAME).exists() or (folder / DEFAULT_RESULTS).exists()


def find_results(*, inputs: Iterable[Path], summary: CollectSummary) -> list[tuple[str, Path]]:
    """(student id, results file) for every student under ``inputs``, one file each.

    Folders without any results file go to ``summary.without_results``; several files in
    one student's folder, and the same student id under two inputs, go to ``summary.notes``.
    """
    found: dict[str, Path] = {}
    for given in inputs:
        folder = Path(given)
        if not folder.is_dir():
            summary.skipped.append(Skipped(folder, "not a folder"))
            continue
        if _is_student_folder(folder):
            students = [folder]
        else:
            students = sorted(p for p in folder.iterdir() if p.is_dir() and p.name[0] != ".")
        for student_folder in students:
            student_id = student_folder.resolve().name
            candidates = _walk_results(student_folder)
            if not candidates:
                summary.without_results.append(student_folder)
                continue
            chosen = max(candidates, key=_newest_key)
            if len(candidates) > 1:
                summary.notes.append(
                    f"{student_id}: {len(candidates)} results files, used the newest: {chosen}"
                )
            if student_id in found:
                older, chosen = sorted((found[student_id], chosen), key=_newest_key)
                summary.notes.append(f"{student_id}: found twice, used {chosen}, not {older}")
            found[student_id] = chosen
    return sorted(found.items())


# --------------------------------------------------------------------------- reading


def _record(student_id: str, path: Path, results: dict) -> StudentRecord:
    """The small per-student summary the class views are built from."""
    extra = results.get("extra_data") or {}
    exercise_scores: dict[str, float] = {}
    statuses: dict[str, str] = {}
    check_names: dict[str, str] = {}
    pending_manual: list[str] = []
    pending_gpu: list[str] = []
    ta_grades: list[tuple[str, float, float, str]] = []
    for test in results["tests"]:
        check_id = display_text(test.get("id")) or display_text(test.get("name")).split(":")[0]
        exercise = test["exercise"]
        exercise_scores[exercise] = exercise_scores.get(exercise, 0.0) + float(test["score"])
        statuses[check_id] = test["status"]
        check_names[check_id] = display_text(test.get("name"))
        if isinstance(test.get("ta_grade"), dict):
            comment = display_text(test["ta_grade"].get("comment"))
            ta_grades.append((check_id, float(test["score"]), float(test["max_score"]), comment))
        if test["status"] == "pending":
            tags = test.get("tags") if isinstance(test.get("tags"), list) else []
            if "manual" in tags:
                pending_manual.append(check_id)
            elif "gpu" in tags:
                pending_gpu.append(check_id)
    integrity = extra.get("integrity") if isinstance(extra.get("integrity"), dict) else {}
    tamper_entries = integrity.get("tamper") if isinstance(integrity.get("tamper"), list) else []
    finding_entries = (
        integrity.get("findings") if isinstance(integrity.get("findings"), list) else []
    )
    tamper = [
        f"{display_text(t.get('change')) or 'changed'}: {display_text(t.get('path'))}"
        if isinstance(t, dict)
        else display_text(t)
        for t in tamper_entries
    ]
    findings = []
    for finding in finding_entries:
        if not isinstance(finding, dict):
            findings.append(display_text(finding))
            continue
        where = display_text(finding.get("file")) or "?"
        if isinstance(finding.get("line"), int):
            where += f":{finding['line']}"
        findings.append(f"{where} {display_text(finding.get('construct'))}".strip())
    return StudentRecord(
        student_id=student_id,
        results_path=path,
        score=float(results["score"]),
        max_score=float(results["max_score"]),
        graded_at=display_text(extra.get("graded_at")),
        exercise_scores=exercise_scores,
        statuses=statuses,
        check_names=check_names,
        pending_manual=pending_manual,
        pending_gpu=pending_gpu,
        tamper=tamper,
        findings=findings,
        ta_grades=ta_grades,
    )


# --------------------------------------------------------------------------- writing


def _cell(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula (results text is untrusted)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _number(value: float) -> str:
    return f"{round(value, 4):g}"


def _gradebook(students: list[StudentRecord]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(GRADEBOOK_COLUMNS)
    for student in students:
        row = {
            "assignment": ASSIGNMENT,
            "timestamp": _cell(student.graded_at),
            "student_id": _cell(student.student_id),
            "raw_score": _number(student.score),
            "score": _number(student.score),  # no late penalty is known to the grader
            "max_score": _number(student.max_score),
            "total": _number(sum(student.exercise_scores.values())),
            "percent": f"{student.percent:.1f}",
            "pending_checks": str(len(student.pending_manual) + len(student.pending_gpu)),
            "integrity_flags": str(student.flags),
            "results_file": _cell(str(student.results_path)),
        }
        for exercise in EXERCISES:
            if exercise in student.exercise_scores:
                row[exercise] = _number(student.exercise_scores[exercise])
        writer.writerow([row.get(column, "") for column in GRADEBOOK_COLUMNS])
    return buffer.getvalue()


def _histogram(students: list[StudentRecord], path: Path) -> bytes:
    """Score distribution (percent of max; past 100 is extra credit) as PNG bytes."""
    from matplotlib.figure import Figure  # imported here: only this view needs matplotlib
    from matplotlib.ticker import MaxNLocator

    percents = [min(max(s.percent, 0.0), 119.9) for s in students]
    figure = Figure(figsize=(7, 3.2), dpi=100)
    axes = figure.add_subplot()
    axes.hist(percents, bins=list(range(0, 130, 10)), color="#3b6fb6", edgecolor="white")
    axes.axvline(100, color="#888888", linestyle="--", linewidth=1)
    axes.set_xlabel("score, % of max (past 100: extra credit)")
    axes.set_ylabel("students")
    axes.set_title(f"Score distribution ({len(students)} students)")
    axes.set_xticks(list(range(0, 130, 10)))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # whole students
    figure.tight_layout()
    figure.savefig(path, format="png")
    return path.read_bytes()


def _template(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(manual_grades.TEMPLATE_COLUMNS)
    for row in rows:
        writer.writerow(
            [_cell(display_text(row[column])) for column in manual_grades.TEMPLATE_COLUMNS]
        )
    return buffer.getvalue()


def _ta_lines(summary: CollectSummary) -> list[str]:
    """Markdown: the TA scores applied from --manual, and the rows that were skipped."""
    sheet = summary.manual
    if sheet is None:
        return []
    lines = [
        "## TA scores",
        "",
        f"From {md_inline(str(sheet.path))}: {len(sheet.applied)} applied, "
        f"{len(sheet.problems)} row(s) skipped, {sheet.still_pending} still pending "
        "(empty score).",
        "",
    ]
    graded = [(s, g) for s in summary.students for g in s.ta_grades]
    if graded:
        lines += ["| student | check | score | comment |", "|---|---|---:|---|"]
        for student, (check, score, maximum, comment) in graded:
            lines.append(
                f"| {md_inline(student.student_id)} | {md_inline(check)} "
                f"| {format_points(score)} / {format_points(maximum)} | {md_inline(comment)} |"
            )
        lines.append("")
    if sheet.problems:
        lines += ["### Rows skipped", ""]
        lines += [f"- {md_inline(str(problem))}" for problem in sheet.problems]
        lines.append("")
    return lines


def _ta_html(summary: CollectSummary) -> str:
    sheet = summary.manual
    if sheet is None:
        return ""
    graded = [(s, g) for s in summary.students for g in s.ta_grades]
    rows = "".join(
        f"<tr><td>{esc(student.student_id)}</td><td>{esc(check)}</td>"
        f"<td class='num'>{format_points(score)} / {format_points(maximum)}</td>"
        f"<td>{esc(comment)}</td></tr>"
        for student, (check, score, maximum, comment) in graded
    )
    table = (
        "<table class='ta-scores' id='ta-scores'><thead><tr><th>student</th><th>check</th>"
        f"<th class='num'>score</th><th>comment</th></tr></thead><tbody>{rows}</tbody></table>"
        if rows
        else ""
    )
    problems = "".join(f"<li>{esc(str(problem))}</li>" for problem in sheet.problems)
    skipped = (
        f"<h3>Rows skipped ({len(sheet.problems)})</h3>"
        f"<ul class='manual-problems' id='manual-problems'>{problems}</ul>"
        if problems
        else ""
    )
    return (
        f"<section id='ta'><h2>TA scores</h2><p>From {esc(str(sheet.path))}: "
        f"{len(sheet.applied)} applied, {len(sheet.problems)} row(s) skipped, "
        f"{sheet.still_pending} still pending (empty score).</p>{table}{skipped}</section>"
    )


def _similarity_lines(summary: CollectSummary) -> list[str]:
    report = summary.similarity
    if report is None:
        return []
    flagged = report.flagged()
    lines = [
        "## Similar code",
        "",
        f"Leads for a TA, not penalties: read both files in [similarity.html](similarity.html). "
        f"{len(report.pairs)} pairs compared, {len(flagged)} at or above "
        f"{report.threshold:.2f}.",
        "",
    ]
    leads = report.leads()
    lines += [
        f"- {md_inline(p.exercise)}: {md_inline(p.student_a)} and {md_inline(p.student_b)} "
        f"({p.similarity:.2f})"
        for p in leads[:LISTED_PAIRS]
    ]
    if len(leads) > LISTED_PAIRS:
        lines.append(f"- and {len(leads) - LISTED_PAIRS} more pairs: see similarity.csv")
    lines += [
        f"- {md_inline(exercise)}, matching the model answer: "
        + md_inline(", ".join(f"{s} ({v:.2f})" for s, v in matches))
        for exercise, matches in report.matches_by_exercise().items()
    ]
    if report.without_code:
        lines.append(f"- no submitted code: {md_inline(', '.join(report.without_code))}")
    lines.append("")
    return lines


def _similarity_html(summary: CollectSummary) -> str:
    report = summary.similarity
    if report is None:
        return ""
    flagged = report.flagged()
    leads = report.leads()
    items = "".join(
        f"<li>{esc(p.exercise)}: {esc(p.student_a)} and {esc(p.student_b)} "
        f"({p.similarity:.2f})</li>"
        for p in leads[:LISTED_PAIRS]
    )
    if len(leads) > LISTED_PAIRS:
        items += f"<li>and {len(leads) - LISTED_PAIRS} more pairs: see similarity.csv</li>"
    items += "".join(
        f"<li>{esc(exercise)}, matching the model answer: "
        + esc(", ".join(f"{s} ({v:.2f})" for s, v in matches))
        + "</li>"
        for exercise, matches in report.matches_by_exercise().items()
    )
    return (
        f"<section id='similarity'><h2>Similar code</h2><p class='note'>Leads for a TA, not "
        f"penalties: read both files in <a href='similarity.html'>similarity.html</a>. "
        f"{len(report.pairs)} pairs compared, {len(flagged)} at or above "
        f"{report.threshold:.2f}.</p>"
        + (f"<ul class='similar-pairs'>{items}</ul>" if items else "<p>None.</p>")
        + "</section>"
    )


def _stats_line(students: list[StudentRecord]) -> str:
    if not students:
        return "No results collected."
    scores = [s.score for s in students]
    max_scores = {s.max_score for s in students}
    out_of = format_points(max_scores.pop()) if len(max_scores) == 1 else "mixed maxima"
    return (
        f"{len(students)} students; score out of {out_of}: mean {statistics.fmean(scores):.1f}, "
        f"median {statistics.median(scores):g}, min {min(scores):g}, max {max(scores):g}."
    )


def _rate(stats: CheckStats) -> str:
    rate = stats.failure_rate
    return "n/a" if rate is None else f"{100 * rate:.0f}%"


def _page_href(student: StudentRecord, out_dir: Path) -> str | None:
    if student.page is None:
        return None
    return urllib.parse.quote(student.page.relative_to(out_dir).as_posix())


def _markdown(summary: CollectSummary, *, generated: str) -> str:
    students = summary.students
    lines = [
        f"# Class summary: {ASSIGNMENT}",
        "",
        f"Generated {generated}. {_stats_line(students)}",
        "",
    ]
    if students:
        lines += [f"![score distribution]({HISTOGRAM_NAME})", ""]
    lines += ["## Failure rate per check", "", "Failed / graded; pending checks are left out.", ""]
    lines += ["| check | failure rate | failed | graded | pending |", "|---|---:|---:|---:|---:|"]
    for stats in summary.check_stats():
        lines.append(
            f"| {md_inline(stats.check_id)} | {_rate(stats)} | {stats.failed} | {stats.graded} "
            f"| {stats.pending} |"
        )
    lines += ["", "## Integrity flags", ""]
    flagged = [s for s in students if s.flags]
    lines += [] if flagged else ["None.", ""]
    for student in flagged:
        lines.append(
            f"- **{md_inline(student.student_id)}**: "
            + md_inline("; ".join(student.tamper + student.findings))
        )
    lines += ["", "## Manual grading still pending", ""]
    manual = summary.pending_by_check(kind="manual")
    lines += [] if manual else ["None.", ""]
    for check_id, waiting in manual.items():
        lines.append(f"- {md_inline(check_id)} ({len(waiting)}): {md_inline(', '.join(waiting))}")
    lines += ["", *_ta_lines(summary)]
    lines += ["", "## GPU checks still pending", ""]
    gpu = summary.pending_by_check(kind="gpu")
    lines += [] if gpu else ["None.", ""]
    for check_id, waiting in gpu.items():
        lines.append(f"- {md_inline(check_id)} ({len(waiting)}): {md_inline(', '.join(waiting))}")
    lines += ["", *_similarity_lines(summary)]
    lines += ["", "## Students", ""]
    header = ["student", "score", "max", *EXERCISES, "pending", "flags"]
    lines += ["| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1) + "|"]
    for student in students:
        cells = [
            md_inline(student.student_id),
            format_points(student.score),
            format_points(student.max_score),
            *(
                format_points(student.exercise_scores[e]) if e in student.exercise_scores else ""
                for e in EXERCISES
            ),
            str(len(student.pending_manual) + len(student.pending_gpu)),
            str(student.flags) if student.flags else "",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Inputs left out", ""]
    left_out = [str(s) for s in summary.skipped]
    left_out += [f"no results file: {p}" for p in summary.without_results]
    lines += [f"- {md_inline(text)}" for text in left_out] or ["None."]
    if summary.notes:
        lines += ["", "## Notes", ""] + [f"- {md_inline(note)}" for note in summary.notes]
    lines.append("")
    return "\n".join(lines)


def _html(summary: CollectSummary, *, generated: str, histogram: bytes | None) -> str:
    students = summary.students
    rows = []
    for stats in summary.check_stats():
        rows.append(
            f"<tr><td>{esc(stats.check_id)}<div class='small muted'>{esc(stats.title)}</div></td>"
            f"<td class='num rate'>{_rate(stats)}</td><td class='num'>{stats.failed}</td>"
            f"<td class='num'>{stats.graded}</td><td class='num'>{stats.pending}</td></tr>"
        )
    failure_table = (
        "<table class='failure-rates' id='failure-rates'><thead><tr><th>check</th>"
        "<th class='num'>failure rate</th><th class='num'>failed</th><th class='num'>graded</th>"
        f"<th class='num'>pending</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    flagged = [s for s in students if s.flags]
    flag_items = "".join(
        f"<li><strong>{esc(s.student_id)}</strong><ul>"
        + "".join(f"<li>{esc(item)}</li>" for item in s.tamper + s.findings)
        + "</ul></li>"
        for s in flagged
    )
    banner = (
        f"<div class='banner' id='integrity-banner'>{len(flagged)} submission(s) with integrity "
        "flags: see <a href='#integrity'>Integrity flags</a>.</div>"
        if flagged
        else ""
    )

    def pending_html(kind: str) -> str:
        waiting = summary.pending_by_check(kind=kind)
        if not waiting:
            return "<p>None.</p>"
        return (
            f"<table class='pending-{kind}'><thead><tr><th>check</th><th class='num'>students</th>"
            "<th>who</th></tr></thead><tbody>"
            + "".join(
                f"<tr><td>{esc(check_id)}</td><td class='num'>{len(who)}</td>"
                f"<td>{esc(', '.join(who))}</td></tr>"
                for check_id, who in waiting.items()
            )
            + "</tbody></table>"
        )

    student_rows = []
    for student in students:
        href = _page_href(student, summary.out_dir)
        name = esc(student.student_id)
        name = f"<a href='{esc(href)}'>{name}</a>" if href else name
        exercise_cells = "".join(
            f"<td class='num'>{format_points(student.exercise_scores[e])}</td>"
            if e in student.exercise_scores
            else "<td></td>"
            for e in EXERCISES
        )
        student_rows.append(
            f"<tr><td>{name}</td><td class='num'>{format_points(student.score)}</td>"
            f"<td class='num'>{format_points(student.max_score)}</td>{exercise_cells}"
            f"<td class='num'>{len(student.pending_manual) + len(student.pending_gpu)}</td>"
            f"<td class='num{' failed' if student.flags else ''}'>{student.flags or ''}</td></tr>"
        )
    exercise_heads = "".join(f"<th class='num'>{esc(e)}</th>" for e in EXERCISES)
    student_table = (
        "<table class='students' id='students'><thead><tr><th>student</th>"
        f"<th class='num'>score</th><th class='num'>max</th>{exercise_heads}"
        "<th class='num'>pending</th><th class='num'>flags</th></tr></thead>"
        f"<tbody>{''.join(student_rows)}</tbody></table>"
    )
    left_out = [str(s) for s in summary.skipped]
    left_out += [f"no results file: {p}" for p in summary.without_results]
    left_out_html = (
        "<ul class='skipped'>" + "".join(f"<li>{esc(t)}</li>" for t in left_out) + "</ul>"
        if left_out
        else "<p>None.</p>"
    )
    notes_html = "".join(f"<li>{esc(note)}</li>" for note in summary.notes)
    histogram_html = (
        f"<img class='plot' id='histogram' alt='score distribution' "
        f"src='{png_data_uri(histogram)}'>"
        if histogram
        else "<p>No scores to plot.</p>"
    )
    body = f"""
<header><h1>Class summary: {esc(ASSIGNMENT)}</h1>
<p class='muted small'>Generated {esc(generated)}.</p>
<p class='total' id='class-stats' style='font-size:18px'>{esc(_stats_line(students))}</p>
{banner}</header>
<section id='distribution'><h2>Score distribution</h2>{histogram_html}</section>
<section id='failures'><h2>Failure rate per check</h2>
<p class='muted small'>Failed / graded, worst first; pending checks are left out.</p>
{failure_table}</section>
<section id='integrity'><h2>Integrity flags ({len(flagged)})</h2>
{f"<ul class='flagged'>{flag_items}</ul>" if flagged else "<p>None.</p>"}</section>
<section id='manual'><h2>Manual grading still pending</h2>{pending_html("manual")}</section>
{_ta_html(summary)}
<section id='gpu'><h2>GPU checks still pending</h2>{pending_html("gpu")}</section>
{_similarity_html(summary)}
<section id='students-section'><h2>Students ({len(students)})</h2>{student_table}</section>
<section id='left-out'><h2>Inputs left out</h2>{left_out_html}</section>
{f"<section id='notes'><h2>Notes</h2><ul>{notes_html}</ul></section>" if notes_html else ""}
"""
    return html_page(title=f"Class summary: {ASSIGNMENT}", body=body)


# --------------------------------------------------------------------------- entry points


def collect(
    *,
    inputs: list[Path],
    out_dir: Path,
    pages: bool = True,
    manual: Path | None = None,
    compare_code: bool = False,
    reference: Path | None = None,
    boilerplate: Path | None = GRADER_STUBS,
    similarity_threshold: float = similarity.DEFAULT_THRESHOLD,
) -> CollectSummary:
    """Read every student's results under ``inputs`` and write the class views to ``out_dir``.

    A bad file never stops the collection: it is named in ``summary.skipped`` (and in the
    written summary) and the other students are still collected. ``pages`` also writes one
    report page per student under ``out_dir/students/`` (linked from the class summary).
    ``manual`` is a TA's filled-in CSV (its bad rows are in ``summary.manual.problems``);
    ``compare_code`` writes the similarity views, comparing with the model solutions in
    ``reference`` when given, after removing the stub code in ``boilerplate``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = CollectSummary(out_dir=out_dir)
    if manual is not None:
        summary.manual = manual_grades.read_sheet(Path(manual))
    if pages:
        (out_dir / PAGES_FOLDER).mkdir(exist_ok=True)
    unreadable = []
    template: list[dict[str, str]] = []
    for student_id, path in find_results(inputs=inputs, summary=summary):
        try:
            results = load_results(path=path)
            if summary.manual is not None:
                grades = summary.manual.for_student(student_id)
                manual_grades.apply_grades(results, grades, summary.manual)
            record = _record(student_id, path, results)
        except ResultsFileError as error:
            summary.skipped.append(Skipped(path, str(error)))
            unreadable.append(student_id)
            continue
        template.extend(manual_grades.template_rows(student_id, results))
        if pages:
            page = out_dir / PAGES_FOLDER / f"{student_id}.html"
            html_text = render_html(results, results_dir=path.parent, student=student_id)
            page.write_text(html_text, encoding="utf-8")
            record.page = page
        summary.students.append(record)
    if summary.manual is not None:
        summary.manual.finish([s.student_id for s in summary.students], unreadable)
    summary.files["manual_template"] = out_dir / manual_grades.TEMPLATE_NAME
    summary.files["manual_template"].write_text(_template(template), "utf-8", newline="")
    if compare_code:
        summary.similarity = similarity.compare_class(
            submissions={
                s.student_id: s.results_path.parent / SUBMISSION_FOLDER for s in summary.students
            },
            threshold=similarity_threshold,
            boilerplate=Path(boilerplate) if boilerplate and Path(boilerplate).is_dir() else None,
            reference=Path(reference) if reference else None,
        )
        summary.files.update(similarity.write_outputs(summary.similarity, out_dir))

    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    gradebook = out_dir / "gradebook.csv"
    gradebook.write_text(_gradebook(summary.students), encoding="utf-8", newline="")
    summary.files["gradebook"] = gradebook
    histogram = None
    if summary.students:
        summary.files["histogram"] = out_dir / HISTOGRAM_NAME
        histogram = _histogram(summary.students, summary.files["histogram"])
    summary.files["markdown"] = out_dir / "class-summary.md"
    summary.files["markdown"].write_text(_markdown(summary, generated=generated), encoding="utf-8")
    summary.files["html"] = out_dir / "class-summary.html"
    summary.files["html"].write_text(
        _html(summary, generated=generated, histogram=histogram), encoding="utf-8"
    )
    return summary


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m autograder collect",
        description="Collect many students' results.json into a gradebook and a class summary.",
        epilog="Each DIR is one student's folder (results.json at its top or in "
        "outputs/grading/) or a folder of student folders; the folder name is the student id.",
    )
    parser.add_argument("inputs", nargs="+", type=Path, metavar="DIR")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("outputs", "class"),
        metavar="OUTDIR",
        help="where to write gradebook.csv and class-summary.* (default: outputs/class)",
    )
    parser.add_argument(
        "--no-pages", action="store_true", help="do not write one report page per student"
    )
    parser.add_argument(
        "--manual",
        type=Path,
        metavar="FILE",
        help="a TA's CSV (student,check,score,comment), e.g. a filled-in manual-template.csv",
    )
    parser.add_argument(
        "--similarity",
        action="store_true",
        help="compare every pair of students' code per exercise (regrade's submission/ copies)",
    )
    parser.add_argument(
        "--reference",
        type=Path,
        metavar="DIR",
        help="with --similarity: the model solutions, to flag copies of the model answer",
    )
    parser.add_argument(
        "--boilerplate",
        type=Path,
        default=GRADER_STUBS,
        metavar="DIR",
        help="with --similarity: the released stubs, removed before comparing "
        "(default: the grader's exercises/)",
    )
    parser.add_argument(
        "--similarity-threshold",
        type=float,
        default=similarity.DEFAULT_THRESHOLD,
        metavar="X",
        help=f"with --similarity: flag pairs at or above X ({similarity.DEFAULT_THRESHOLD})",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """``python -m autograder collect``: 0 when any student was collected, 1 when none, 2 for
    a DIR that does not exist."""
    args = _parser().parse_args(argv)
    missing = [str(p) for p in args.inputs if not p.is_dir()]
    if args.reference is not None:
        missing += [f"--reference {args.reference}"] if not args.reference.is_dir() else []
    if missing:
        print(f"collect: not a folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    if args.manual is not None and not args.manual.is_file():
        print(f"collect: --manual: not a file: {args.manual}", file=sys.stderr)
        return 2
    if not 0 <= args.similarity_threshold <= 1:
        print("collect: --similarity-threshold must be between 0 and 1", file=sys.stderr)
        return 2
    summary = collect(
        inputs=args.inputs,
        out_dir=args.out,
        pages=not args.no_pages,
        manual=args.manual,
        compare_code=args.similarity or args.reference is not None,
        reference=args.reference,
        boilerplate=args.boilerplate,
        similarity_threshold=args.similarity_threshold,
    )
    for skipped in summary.skipped:
        print(skipped, file=sys.stderr)
    for folder in summary.without_results:
        print(f"no results file: {folder}", file=sys.stderr)
    if summary.manual is not None:
        for problem in summary.manual.problems:
            print(f"manual: {args.manual}: {problem} (row skipped)", file=sys.stderr)
        print(
            f"TA scores: {len(summary.manual.applied)} applied, "
            f"{len(summary.manual.problems)} row(s) skipped"
        )
    if summary.similarity is not None:
        if summary.similarity.boilerplate is None:
            print(
                f"similarity: no stubs at {args.boilerplate}: the released stub code was not "
                "removed before comparing (give --boilerplate DIR)",
                file=sys.stderr,
            )
        flagged = summary.similarity.flagged()
        print(
            f"similarity: {len(summary.similarity.pairs)} pairs compared, {len(flagged)} at or "
            f"above {summary.similarity.threshold:.2f} (leads, not penalties)"
        )
    print(
        f"collected {len(summary.students)} student(s), skipped {len(summary.skipped)} file(s); "
        f"wrote {', '.join(str(p) for p in summary.files.values())}"
    )
    return 0 if summary.students else 1


if __name__ == "__main__":
    raise SystemExit(main())
