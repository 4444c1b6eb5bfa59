"""One student's report as plain data: what both the Markdown and the HTML templates show.

Built once from the typed results document (:func:`autograder.results.schema.
normalise_results`, its totals derived from its results), with every string already made
display text (:func:`~autograder.reports.text.display_text`) and long texts already cut, so
the two formats cannot drift apart: a template only lays the view out and escapes it.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from autograder.reports.integrity import finding_line, tamper_line
from autograder.reports.text import cut_text, display_text, format_points, percent
from autograder.results.rescore import exercise_totals
from autograder.results.schema import (
    MAX_PLOT_BYTES,
    STATUSES,
    ExtraData,
    ManualAnswer,
    ResultsDocument,
    pending_kind,
)
from autograder.spec.registry import EXERCISES

__all__ = [
    "MAX_ANSWER_CHARS",
    "MAX_OUTPUT_CHARS",
    "MAX_PLOT_BYTES",
    "Answer",
    "Exercise",
    "PendingGroup",
    "Plot",
    "Report",
    "Result",
    "build_report",
    "sandbox_text",
]

MAX_OUTPUT_CHARS = 4_000
"""A check's output is cut after this many characters: enough for expected/got/input and the
hint, short enough that a submission printing megabytes cannot bury the rest of the page."""

MAX_ANSWER_CHARS = 20_000
"""A written answer is cut after this many characters (a TA has to read it whole)."""

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

PENDING_LABELS = (("gpu", "Needs a GPU"), ("manual", "Needs a TA"), ("other", "Other"))


@dataclass
class Result:
    """One result (an element of the document's ``tests``: a check's verdict, points and
    output) as the report shows it."""

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

    @property
    def shown_output(self) -> tuple[str, int]:
        """(the output as shown, characters cut from it)."""
        return cut_text(self.output or "(no output)", limit=MAX_OUTPUT_CHARS)


@dataclass
class Exercise:
    """One row of the score table."""

    name: str
    score: float = 0.0
    max_score: float = 0.0
    extra_credit: bool = False
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    incidents: list[str] = field(default_factory=list)

    @property
    def notes(self) -> list[str]:
        """The notes column: extra credit first, then what went wrong while grading."""
        extra = f"{format_points(self.score)} / {format_points(self.max_score)} extra credit"
        return ([extra] if self.extra_credit else []) + self.incidents


@dataclass
class Plot:
    """The sweep plot as the report shows it: embedded bytes, or why there are none."""

    declared: str  # path as written in the results file ('' when there is none)
    png: bytes | None = None
    problem: str = ""

    @property
    def link(self) -> str:
        """The declared path as a relative URL (the Markdown links the file beside it)."""
        return urllib.parse.quote(self.declared)


@dataclass
class Answer:
    """One written answer of the manual grading queue."""

    check: str
    points: str
    question: str
    text: str  # the answer, stripped and cut at MAX_ANSWER_CHARS
    left_out: int  # characters cut from it
    rubric: list[str]
    ta_score: str | None  # a TA's points (collect --manual), None while ungraded
    ta_comment: str


@dataclass
class PendingGroup:
    """Pending results by what their checks wait for; 'other' is shown only when it has
    results."""

    kind: str  # gpu | manual | other
    label: str
    results: list[Result]


@dataclass
class Report:
    """Everything one report page shows, in display text."""

    title: str
    submission: str
    score: float
    max_score: float
    results: list[Result]
    exercises: list[Exercise]
    manual: list[Answer]
    tamper: list[str]
    findings: list[tuple[str, str, str]]
    sandbox: str  # what the workers ran in ('' when the file does not say)
    sandbox_confined: bool
    environment: list[tuple[str, str]]
    plot: Plot
    output: str
    provenance: str = ""  # collect: why the document is not verified as the course's own

    @property
    def failed(self) -> list[Result]:
        """Results that lost points, less those a TA scored (shown with the answers)."""
        return [r for r in self.results if r.status == "failed" and not r.ta_grade]

    def pending(self, kind: str) -> list[Result]:
        """Pending results by what their checks wait for: 'gpu', 'manual' or 'other'."""
        return [r for r in self.results if r.status == "pending" and pending_kind(r.tags) == kind]

    @property
    def pending_groups(self) -> list[PendingGroup]:
        groups = [PendingGroup(kind, label, self.pending(kind)) for kind, label in PENDING_LABELS]
        return [g for g in groups if g.results or g.kind != "other"]

    @property
    def pending_count(self) -> int:
        return sum(e.counts["pending"] for e in self.exercises)

    @property
    def percent(self) -> str:
        return percent(self.score, self.max_score)

    @property
    def extra_credit(self) -> str:
        """The extra credit earned, e.g. "3 / 10 extra credit"; "" when none."""
        rows = [e for e in self.exercises if e.extra_credit]
        if not rows:
            return ""
        earned = format_points(sum(e.score for e in rows))
        return f"{earned} / {format_points(sum(e.max_score for e in rows))} extra credit"

    @property
    def flagged(self) -> bool:
        return bool(self.tamper or self.findings)


def _results(document: ResultsDocument) -> list[Result]:
    return [
        Result(
            id=display_text(result["id"]),
            name=display_text(result["name"]),
            exercise=display_text(result["exercise"]),
            score=result["score"],
            max_score=result["max_score"],
            status=result["status"],
            output=display_text(result["output"]),
            tags=[display_text(tag) for tag in result["tags"]],
            extra_credit=result["extra_credit"],
            duration=result["duration"],
            ta_grade=result["ta_grade"] is not None,
        )
        for result in document["tests"]
    ]


def _exercises(document: ResultsDocument) -> list[Exercise]:
    """A row per exercise with results, in the lesson's order: its totals as the document
    derives them (:func:`~autograder.results.rescore.rescore`), its counts, its incidents."""
    declared = document["extra_data"]["exercises"]  # listing every exercise with results
    counts = exercise_totals(document["tests"])
    names = [n for n in EXERCISES if n in declared]
    names += sorted(set(counts) - set(names))
    exercises = []
    for name in names:
        info, total = declared[name], counts.get(name)
        exercises.append(
            Exercise(
                name=display_text(name),
                score=info["score"] or 0.0,
                max_score=info["max_score"] or 0.0,
                extra_credit=bool(info["extra_credit"]),
                counts={s: total[s] if total else 0 for s in STATUSES},
                incidents=[display_text(i) for i in info["incidents"]],
            )
        )
    return exercises


def sandbox_text(extra: ExtraData) -> str:
    """What the workers ran in, and why: "bubblewrap (...)" or "none (...)"."""
    sandbox = extra["sandbox"]
    if not (sandbox["kind"] or sandbox["reason"]):
        return ""
    kind = display_text(sandbox["kind"]) or "?"
    reason = display_text(sandbox["reason"])
    return f"{kind} ({reason})" if reason else kind


def _device_text(extra: ExtraData) -> str:
    device = extra["device"]
    if not (device["used"] or device["name"] or device["requested"]) and (
        device["cuda_available"] is None
    ):
        return ""
    used = display_text(device["used"]) or "?"
    name = display_text(device["name"])
    text = used + (f" ({name})" if name and name != used else "")
    if device["requested"]:
        text += f", requested {display_text(device['requested'])}"
    if device["cuda_available"] is not None:
        text += f", CUDA {'available' if device['cuda_available'] else 'absent'}"
    return text


def _environment(document: ResultsDocument) -> list[tuple[str, str]]:
    extra = document["extra_data"]
    env = extra["environment"]
    time = document["execution_time"]
    rows = [
        ("sandbox", sandbox_text(extra)),
        ("python", display_text(env["python"])),
        ("torch", display_text(env["torch"])),
        ("numpy", display_text(env["numpy"])),
        ("device", _device_text(extra)),
        ("seed", display_text(extra["seed"])),
        ("graded at", display_text(extra["graded_at"])),
        ("grader version", display_text(extra["grader_version"])),
        ("platform", display_text(env["platform"])),
        ("execution time", f"{time:.1f} s" if time is not None else ""),
    ]
    return [(key, value) for key, value in rows if value]


def _plot(extra: ExtraData, results_dir: Path | None) -> Plot:
    """Find the sweep plot, refusing anything outside the results folder or not a PNG.

    The path comes from the results file, which a student could forge: without these
    checks, a TA's page could end up embedding any file the TA can read.
    """
    declared = display_text(extra["artifacts"].get("sweep_plot"))
    plot = Plot(declared=declared)
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


def _answer(written: ManualAnswer) -> Answer:
    text, left_out = cut_text(display_text(written["answer"]).strip(), limit=MAX_ANSWER_CHARS)
    ta_score = written["ta_score"]
    return Answer(
        check=display_text(written["check"]) or "?",
        points=format_points(written["points"]),
        question=display_text(written["question"]),
        text=text,
        left_out=left_out,
        rubric=[display_text(point) for point in written["rubric"]],
        ta_score=None if ta_score is None else format_points(ta_score),
        ta_comment=display_text(written["ta_comment"]).strip(),
    )


def _title(extra: ExtraData, student: str | None) -> tuple[str, str]:
    """(title, submission line): results files carry no student id, so the default title is
    the submission path; ``collect`` and ``--student`` pass the student's name."""
    submission = display_text(extra["submission"])
    who = student or display_text(extra["student"]) or submission or "submission"
    return who, "" if who == submission else submission


def build_report(
    document: ResultsDocument, *, results_dir: Path | None, student: str | None
) -> Report:
    """The view of one normalised results document; ``results_dir`` (the results file's
    folder) lets the sweep plot be found, ``student`` overrides the name in the title."""
    extra = document["extra_data"]
    title, submission = _title(extra, student)
    return Report(
        title=title,
        submission=submission,
        score=document["score"],
        max_score=document["max_score"],
        results=_results(document),
        exercises=_exercises(document),
        manual=[_answer(written) for written in extra["manual"]],
        tamper=[tamper_line(entry) for entry in extra["integrity"]["tamper"]],
        findings=[finding_line(finding) for finding in extra["integrity"]["findings"]],
        sandbox=sandbox_text(extra),
        sandbox_confined=extra["sandbox"]["kind"] == "bubblewrap",
        environment=_environment(document),
        plot=_plot(extra, results_dir),
        output=display_text(document["output"]),
    )
