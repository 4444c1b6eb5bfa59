"""One view of the whole class: a gradebook, a class summary and one report page per student.

``python -m autograder collect DIR... [--out OUTDIR] [--no-pages] [--manual FILE]
[--roster FILE] [--feedback DIR] [--lms-columns total|exercises] [--lms-name NAME]
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
``manual-template.csv`` (the written answers still waiting for a TA). ``--manual FILE``
merges the TA's scores (:mod:`autograder.course.collect.manual_grades`); ``--similarity``
compares the students' code (:mod:`autograder.course.collect.similarity`), read from the
``submission/`` folder ``regrade`` writes beside each results file.
"""

from __future__ import annotations

import argparse
import os
import urllib.parse
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from autograder.course.collect import (
    feedback,
    late_work,
    lms_export,
    manual_grades,
    roster,
    similarity,
)
from autograder.course.collect.collected import (
    HISTOGRAM_NAME,
    CollectSummary,
    Skipped,
    student_record,
    summary_view,
)
from autograder.course.collect.deadlines import Deadlines, DeadlinesError, load_deadlines
from autograder.course.collect.gradebook import course_max_score, gradebook_csv, gradebook_rows
from autograder.course.collect.printout import print_summary
from autograder.course.collect.roster_gaps import apply_roster
from autograder.course.release import released_stubs
from autograder.reports import class_summary
from autograder.reports.histogram import score_histogram
from autograder.reports.html import render_html
from autograder.results import provenance
from autograder.results.rescore import score_from_registry
from autograder.results.schema import (
    DEFAULT_RESULTS_PATH,
    RESULTS_NAME,
    ResultsFileError,
    load_results_as_written,
    normalise_results,
)
from autograder.spec.paths import SUBMISSION_FOLDER
from autograder.spec.registry import ASSIGNMENT
from reference.cli_support import UsageError

__all__ = [
    "collect",
    "find_results",
    "run",
]

PAGES_FOLDER = "students"


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
    return (folder / RESULTS_NAME).exists() or (folder / DEFAULT_RESULTS_PATH).exists()


def find_results(
    *,
    inputs: Iterable[Path],
    summary: CollectSummary,
    every: dict[str, list[Path]] | None = None,
) -> list[tuple[str, Path]]:
    """(student id, results file) for every student under ``inputs``, one file each.

    Folders without any results file go to ``summary.without_results``; several files in
    one student's folder, and the same student id under two inputs, go to ``summary.notes``.
    ``every`` (when given) gets each student's file under every input (``--deadlines``: one
    input per fetch).
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
            if every is not None:
                every.setdefault(student_id, []).append(chosen)
            elif student_id in found:
                older, chosen = sorted((found[student_id], chosen), key=_newest_key)
                summary.notes.append(f"{student_id}: found twice, used {chosen}, not {older}")
            found[student_id] = chosen
    return sorted(found.items())


# --------------------------------------------------------------------------- collecting


def collect(
    *,
    inputs: list[Path],
    out_dir: Path,
    pages: bool = True,
    manual: Path | None = None,
    compare_code: bool = False,
    reference: Path | None = None,
    boilerplate: Path | None = None,
    similarity_threshold: float = similarity.DEFAULT_THRESHOLD,
    count_unverified: bool = False,
    roster_file: Path | None = None,
    lms_parts: str = "total",
    lms_name: str = ASSIGNMENT,
    feedback_dir: Path | None = None,
    deadlines: Deadlines | None = None,
) -> CollectSummary:
    """Read every student's results under ``inputs`` and write the class views to ``out_dir``.

    A bad file never stops the collection: it is named in ``summary.skipped`` (and in the
    written summary) and the other students are still collected. ``pages`` also writes one
    report page per student under ``out_dir/students/`` (linked from the class summary).
    ``manual`` is a TA's filled-in CSV (its bad rows are in ``summary.manual.problems``);
    ``compare_code`` writes the similarity views, comparing with the model solutions in
    ``reference`` when given, after removing the stub code in ``boilerplate`` (default: the
    released stubs, generated from ``solutions/`` into ``out_dir/released-stubs``; a
    working-tree ``exercises/`` that differs is named in ``summary.notes``).

    Every score is recomputed from the verdicts and the registry (:mod:`~autograder.results.
    rescore`), and every document's signature checked with the course key
    (:mod:`~autograder.results.provenance`): an unverified one is marked so (gradebook,
    banners) and its grade columns are empty unless ``count_unverified``.

    ``roster_file`` (:mod:`~autograder.course.collect.roster`): every roster student gets one
    gradebook row, 0 with the reason when there is no usable result. The Canvas and Moodle
    import files (:mod:`~autograder.course.collect.lms_export`) hold ``lms_parts`` ("total" or
    "exercises") under the column name ``lms_name``. ``feedback_dir``: one page per student
    to send back (:mod:`~autograder.course.collect.feedback`). ``deadlines``: the state of record
    among each student's files under the inputs (one input per fetch) and its late penalty
    (:mod:`~autograder.course.collect.late_work`).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = CollectSummary(out_dir=out_dir, count_unverified=count_unverified)
    try:
        key = provenance.load_course_key()
    except provenance.CourseKeyError as error:
        key = None
        summary.notes.append(f"course key unusable: {error}")
    summary.key_configured = key is not None  # without one: the banner and one stderr line
    if roster_file is not None:
        summary.roster = roster.read_roster(Path(roster_file))
    if manual is not None:
        summary.manual = manual_grades.read_sheet(Path(manual))
    if pages:
        (out_dir / PAGES_FOLDER).mkdir(exist_ok=True)
    unreadable: dict[str, str] = {}  # student id -> why their results could not be read
    template: list[dict[str, str]] = []
    every: dict[str, list[Path]] | None = {} if deadlines is not None else None
    for student_id, path in find_results(inputs=inputs, summary=summary, every=every):
        decision = None
        if deadlines is not None and every is not None:
            decision = late_work.choose_state(
                student_id, every[student_id], deadlines, key=key, count_unverified=count_unverified
            )
            path = decision.attempt.path if decision is not None else path
        if path.is_symlink():  # a link in a student's folder could name a TA-side file
            summary.skipped.append(Skipped(path, "a symbolic link: not read"))
            unreadable[student_id] = "a symbolic link: not read"
            continue
        try:
            written = load_results_as_written(path=path)
            document = normalise_results(written)
            beside = path.parent / SUBMISSION_FOLDER
            verification = provenance.verify(
                written,
                key=key,
                student=student_id,
                # always checked: without the copies beside it (or with a link there), a
                # document signed for a submission does not verify (an older grading replayed)
                submission=provenance.submission_sha256(beside),
            )
            for result in document["tests"]:  # only collect --manual gives a written answer points
                result["ta_grade"] = None
            if summary.manual is not None:
                grades = summary.manual.for_student(student_id)
                manual_grades.apply_grades(document, grades, summary.manual)
            document, refused = score_from_registry(document)
            record = student_record(student_id, path, document)
            record.verified, record.provenance, record.refused = (
                verification.verified,
                verification.reason,
                refused,
            )
            if deadlines is not None:
                late_work.apply_decision(record, decision, deadlines)
        except ResultsFileError as error:
            summary.skipped.append(Skipped(path, str(error)))
            unreadable[student_id] = str(error)
            continue
        template.extend(manual_grades.template_rows(student_id, document))
        if pages:
            page = out_dir / PAGES_FOLDER / f"{student_id}.html"
            html_text = render_html(
                document, results_dir=path.parent, student=student_id, unverified=record.provenance
            )
            page.write_text(html_text, encoding="utf-8")
            record.page = page
        summary.students.append(record)
    if summary.manual is not None:
        summary.manual.finish([s.student_id for s in summary.students], list(unreadable))
    apply_roster(summary, unreadable)
    summary.files["manual_template"] = out_dir / manual_grades.TEMPLATE_NAME
    summary.files["manual_template"].write_text(
        manual_grades.template_csv(template), "utf-8", newline=""
    )
    if compare_code:
        if boilerplate is None:
            stubs_dir = out_dir / released_stubs.RELEASED_STUBS_FOLDER
            boilerplate, warnings = released_stubs.released_stubs(out=stubs_dir)
            summary.notes.extend(warnings)
        summary.similarity = similarity.compare_class(
            submissions={
                s.student_id: s.results_path.parent / SUBMISSION_FOLDER for s in summary.students
            },
            threshold=similarity_threshold,
            boilerplate=Path(boilerplate) if boilerplate and Path(boilerplate).is_dir() else None,
            reference=Path(reference) if reference else None,
        )
        hrefs = {  # similarity.html sits in out_dir, beside students/
            s.student_id: urllib.parse.quote(s.page.relative_to(out_dir).as_posix())
            for s in summary.students
            if s.page is not None
        }
        summary.files.update(similarity.write_outputs(summary.similarity, out_dir, hrefs))

    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = gradebook_rows(
        summary.students,
        count_unverified=count_unverified,
        roster=summary.roster,
        missing=summary.missing,
        deadlines=deadlines,
    )
    gradebook = out_dir / "gradebook.csv"
    gradebook.write_text(
        gradebook_csv(rows),
        encoding="utf-8",
        newline="",
    )
    summary.files["gradebook"] = gradebook
    written = lms_export.write_lms_files(
        rows, out_dir, roster=summary.roster, parts=lms_parts, name=lms_name
    )
    summary.files.update({f"lms_{lms}": path for lms, path in written.items()})
    if feedback_dir is not None:
        pages = feedback.write_feedback(summary, Path(feedback_dir), max_score=course_max_score())
        summary.files["feedback"] = Path(feedback_dir)
        summary.notes.append(f"feedback: {len(pages) // 2} student page(s) in {feedback_dir}")
    if summary.roster is None:
        summary.notes.append(
            "no --roster: the Canvas and Moodle files have no LMS ids, so neither can match a row"
        )
    histogram = None
    if summary.students:
        summary.files["histogram"] = out_dir / HISTOGRAM_NAME
        percents = [s.percent for s in summary.students]
        histogram = score_histogram(percents, summary.files["histogram"])
    view = summary_view(summary, generated=generated, histogram=histogram)
    summary.files["markdown"] = out_dir / "class-summary.md"
    summary.files["markdown"].write_text(class_summary.render_markdown(view), encoding="utf-8")
    summary.files["html"] = out_dir / "class-summary.html"
    summary.files["html"].write_text(class_summary.render_html(view), encoding="utf-8")
    return summary


# --------------------------------------------------------------------------- the command


def _usage_problem(args: argparse.Namespace) -> str | None:
    """What makes the arguments unusable (the message after ``collect: ``), or None."""
    missing = [str(p) for p in args.inputs if not p.is_dir()]
    if args.reference is not None:
        missing += [f"--reference {args.reference}"] if not args.reference.is_dir() else []
    if missing:
        return f"not a folder: {', '.join(missing)}"
    for option in ("manual", "roster"):
        given = getattr(args, option)
        if given is not None and not given.is_file():
            return f"--{option}: not a file: {given}"
    if not 0 <= args.similarity_threshold <= 1:
        return "--similarity-threshold must be between 0 and 1"
    return None


def run(args: argparse.Namespace) -> int:
    """``python -m autograder collect``: 0 when any student was collected, 1 when none, 2 for
    a DIR that does not exist."""
    problem = _usage_problem(args)
    if problem is not None:
        raise UsageError(problem)
    try:
        deadlines = (
            load_deadlines(args.deadlines, extensions=args.extensions) if args.deadlines else None
        )
    except DeadlinesError as error:
        raise UsageError(f"--deadlines: {error}") from None
    summary = collect(
        inputs=args.inputs,
        out_dir=args.out,
        pages=not args.no_pages,
        manual=args.manual,
        compare_code=args.similarity or args.reference is not None,
        reference=args.reference,
        boilerplate=args.boilerplate,
        similarity_threshold=args.similarity_threshold,
        count_unverified=args.count_unverified,
        roster_file=args.roster,
        lms_parts=args.lms_columns,
        lms_name=args.lms_name,
        feedback_dir=args.feedback,
        deadlines=deadlines,
    )
    print_summary(summary, args)
    return 0 if summary.students else 1
