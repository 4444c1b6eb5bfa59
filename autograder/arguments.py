"""Every command's arguments, in one place: ``python -m autograder <command>`` and the
Gradescope entry point (``python -m autograder.course.gradescope run|results``).

An option more than one command takes (``--device``, ``--sandbox``, ``--only``, ``--seed``,
``--settings``, ``--gpu-only``, ``--manifest``, ``--summary``, ``--junit``, ``--fail-under``) is
defined once below and added where it is taken, so its spelling, choices and help cannot drift
between commands. A command's own constants (defaults, descriptions) are read from its module,
which :mod:`autograder.cli` has already imported when the parser is built: building one
command's parser imports nothing another command needs.

Standard library and :mod:`autograder.spec` only at import time: Gradescope's run starts here
even where ``setup.sh`` failed to install the grader's dependencies.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from autograder.spec import paths
from autograder.spec.registry import ASSIGNMENT, DEVICES, EXERCISES, SANDBOXES

__all__ = ["add_command_arguments", "add_gradescope_arguments"]

Parser = argparse.ArgumentParser


# ---- options shared by several commands, each defined once ----


def device_option(parser: Parser) -> None:
    parser.add_argument("--device", default="auto", choices=DEVICES)


def sandbox_option(parser: Parser, *, passed_on: bool = False) -> None:
    """``passed_on``: the command starts ``grade`` and passes the option only when given."""
    if passed_on:
        parser.add_argument(
            "--sandbox",
            default=None,
            choices=SANDBOXES,
            help="passed to grade (default: grade's own)",
        )
        return
    parser.add_argument(
        "--sandbox",
        default="auto",
        choices=SANDBOXES,
        help="where workers run student code: bubblewrap, none, or auto (bubblewrap when it "
        "can start here, else none; what ran is always reported)",
    )


def only_option(parser: Parser) -> None:
    parser.add_argument(
        "--only", nargs="+", metavar="EXERCISE", help=f"grade only these: {', '.join(EXERCISES)}"
    )


def gpu_only_option(parser: Parser) -> None:
    parser.add_argument(
        "--gpu-only",
        action="store_true",
        help="grade only the checks that need CUDA (the GPU job's run; the CPU job grades "
        "the rest and merge combines the two); without a CUDA device they stay pending",
    )


def seed_option(parser: Parser) -> None:
    parser.add_argument(
        "--seed", type=int, default=None, metavar="N", help="reproduce a run's inputs"
    )


def settings_option(parser: Parser) -> None:
    parser.add_argument(
        "--settings",
        type=Path,
        default=None,
        metavar="FILE",
        help="grading settings TOML (default: autograder/grading.toml)",
    )


def manifest_option(parser: Parser) -> None:
    parser.add_argument(
        "--manifest",
        type=Path,
        default=None,
        metavar="FILE",
        help="for a student's repository: the instructor's .release-manifest.json "
        "(default: $AUTOGRADER_RELEASE_MANIFEST, else the repository's own copy)",
    )


def outputs_options(parser: Parser) -> None:
    """``--summary``, ``--junit`` and ``--fail-under``: what ``grade`` and ``merge`` write."""
    parser.add_argument("--junit", type=Path, default=None, metavar="PATH", help="JUnit XML file")
    parser.add_argument(
        "--summary", type=Path, default=None, metavar="PATH", help="Markdown summary file"
    )
    parser.add_argument(
        "--fail-under",
        type=float,
        default=None,
        metavar="PCT",
        help="exit 1 when the score is below PCT percent of max_score",
    )


# ---- python -m autograder <command> ----


def _grade(parser: Parser) -> None:
    from autograder.results.schema import DEFAULT_RESULTS_PATH

    parser.add_argument(
        "--submission",
        type=Path,
        default=Path(paths.EXERCISES_FOLDER),
        help=f"folder holding the exercise modules (default: {paths.EXERCISES_FOLDER})",
    )
    parser.add_argument(
        "--repo",
        type=Path,
        default=None,
        help="a student's repository: grade its exercises/ and check the "
        "release manifest for tampered files",
    )
    manifest_option(parser)
    device_option(parser)
    only_option(parser)
    gpu_only_option(parser)
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS_PATH, metavar="PATH")
    outputs_options(parser)
    seed_option(parser)
    settings_option(parser)
    sandbox_option(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress lines")


def _stubs(parser: Parser) -> None:
    parser.description = (
        "Generate the student stubs in exercises/ from the solutions in solutions/."
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 listing the stubs that are out of sync with solutions/",
    )
    parser.add_argument(
        "--solutions",
        type=Path,
        default=paths.ROOT / paths.SOLUTIONS_FOLDER,
        help="folder of solution modules with solution markers (default: %(default)s)",
    )
    parser.add_argument(
        "--exercises",
        type=Path,
        default=paths.ROOT / paths.EXERCISES_FOLDER,
        help="folder the stubs are written to (default: %(default)s)",
    )


def _report(parser: Parser) -> None:
    parser.add_argument("results", type=Path, help="a results.json written by `grade`")
    parser.add_argument("--html", type=Path, metavar="OUT", help="write the HTML page here")
    parser.add_argument("--markdown", type=Path, metavar="OUT", help="write the Markdown here")
    parser.add_argument(
        "--student", metavar="NAME", help="name shown in the title (default: submission folder)"
    )


def _collect(parser: Parser) -> None:
    from autograder.course.collect import lms_export, similarity

    parser.description = "Collect many students' results.json into a gradebook and a class summary."
    parser.epilog = (
        "Each DIR is one student's folder (results.json at its top or in "
        "outputs/grading/) or a folder of student folders; the folder name is the student id."
    )
    parser.add_argument("inputs", nargs="+", type=Path, metavar="DIR")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(paths.OUTPUTS_FOLDER, "class"),
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
        "--roster",
        type=Path,
        metavar="FILE",
        help="the class list (CSV with a student column; optional name, email, section, "
        "lms_id): every roster student gets a gradebook row, 0 and the reason without results",
    )
    parser.add_argument(
        "--feedback",
        type=Path,
        metavar="DIR",
        help="write one feedback page per student (DIR/<student>.md and .html) to send back",
    )
    parser.add_argument(
        "--deadlines",
        type=Path,
        metavar="FILE",
        help="the course's deadline and late policy (TOML): each student's state of record "
        "among the DIRs (one per fetch) and its penalty",
    )
    parser.add_argument(
        "--extensions",
        type=Path,
        metavar="FILE",
        help="with --deadlines: per-student deadlines (CSV student,deadline)",
    )
    parser.add_argument(
        "--lms-columns",
        choices=lms_export.LMS_PARTS,
        default="total",
        help="grade columns of canvas-grades.csv and moodle-grades.csv: the total (default) "
        "or one per exercise",
    )
    parser.add_argument(
        "--lms-name",
        default=ASSIGNMENT,
        metavar="NAME",
        help="the LMS assignment's column name, e.g. Canvas's 'Lab 3 (12345)' to update an "
        f"existing assignment (default: {ASSIGNMENT}, a new one)",
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
        default=None,
        metavar="DIR",
        help="with --similarity: the released stubs, removed before comparing "
        "(default: generated from solutions/, never the working tree's exercises/)",
    )
    parser.add_argument(
        "--count-unverified",
        action="store_true",
        help="count results not verified as the course's own grading in total (default: their "
        "grade columns are empty; they are marked unverified either way)",
    )
    parser.add_argument(
        "--similarity-threshold",
        type=float,
        default=similarity.DEFAULT_THRESHOLD,
        metavar="X",
        help=f"with --similarity: flag pairs at or above X ({similarity.DEFAULT_THRESHOLD})",
    )


def _merge(parser: Parser) -> None:
    parser.add_argument("inputs", nargs="+", type=Path, metavar="RESULTS", help="results files")
    parser.add_argument("--out", type=Path, required=True, help="merged results JSON to write")
    outputs_options(parser)


def _sign(parser: Parser) -> None:
    parser.description = (
        "Sign results files as the course's own grading (with the course key): for the "
        "instructor's workflow, in a job that runs no student code, over results this run's "
        "grading jobs wrote. Each file is signed for the student named by its folder, and "
        "the submission/ copies beside it."
    )
    parser.add_argument("results", nargs="+", type=Path, metavar="RESULTS", help=paths.RESULTS_NAME)


def _fetch(parser: Parser) -> None:
    parser.description = "Clone each student's repository now and record when and which commit."
    parser.add_argument("sources", nargs="+", metavar="[STUDENT=]SOURCE")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    parser.add_argument(
        "--due",
        type=Path,
        metavar="DEADLINES_FILE",
        help="only the students due now: deadline (or extension) passed, grace not yet "
        "(the scheduled fetch at each deadline; the course's deadline TOML)",
    )


def _regrade(parser: Parser) -> None:
    from autograder.course.regrade.command import DEFAULT_JOBS, DEFAULT_TIMEOUT_S

    parser.description = (
        "Grade a class (repository clones or submission folders) into DIR/<student>/."
    )
    parser.add_argument(
        "sources",
        nargs="+",
        type=Path,
        metavar="SOURCE",
        help="a student's repository clone or submission folder, or a folder of them",
    )
    parser.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="writes DIR/<student>/results.json"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=DEFAULT_JOBS,
        metavar="N",
        help=f"gradings at once (default: one per core, here {DEFAULT_JOBS}; timed windows "
        "take turns through the device lease)",
    )
    device_option(parser)
    sandbox_option(parser, passed_on=True)
    manifest_option(parser)
    parser.add_argument("--shard", default=None, metavar="K/N", help="grade the K-th of N slices")
    parser.add_argument("--force", action="store_true", help="regrade students that are up to date")
    settings_option(parser)
    seed_option(parser)
    only_option(parser)
    gpu_only_option(parser)
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help=f"wall-clock limit per student ({DEFAULT_TIMEOUT_S:g})",
    )


def _release(parser: Parser) -> None:
    parser.description = (
        "Write the student template repository (DIR/student) and the nbgrader course "
        "(DIR/nbgrader) from solutions/."
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("release"),
        metavar="DIR",
        help="output folder: DIR/student and DIR/nbgrader (default: release)",
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=paths.ROOT,
        metavar="DIR",
        help="the instructor repository holding solutions/ (default: %(default)s)",
    )
    parser.add_argument(
        "--no-nbgrader",
        action="store_true",
        help="write only the student repository (no nbgrader course)",
    )
    parser.add_argument(
        "--gradescope",
        action="store_true",
        help="also write DIR/gradescope/autograder.zip and its manual questions",
    )


def _gradescope_results(parser: Parser) -> None:
    parser.usage = "%(prog)s IN OUT"  # the usage line the command printed before argparse
    parser.add_argument(
        "input", type=Path, metavar="IN", help="results JSON of python -m autograder grade"
    )
    parser.add_argument("output", type=Path, metavar="OUT", help="Gradescope results.json to write")


def _nbgrader_regrade(parser: Parser) -> None:
    parser.description = (
        "After nbgrader autograde: regrade every submitted notebook with the grader and write "
        "its scores into nbgrader's gradebook."
    )
    parser.add_argument("--course", type=Path, default=Path("."), help="the nbgrader course")
    parser.add_argument("--assignment", default=ASSIGNMENT, help="default: %(default)s")
    parser.add_argument("--student", nargs="+", metavar="ID", help="only these students")
    settings_option(parser)
    sandbox_option(parser, passed_on=True)


COMMAND_ARGUMENTS: dict[str, Callable[[Parser], None]] = {
    "grade": _grade,
    "stubs": _stubs,
    "report": _report,
    "collect": _collect,
    "merge": _merge,
    "sign": _sign,
    "fetch": _fetch,
    "regrade": _regrade,
    "release": _release,
    "gradescope-results": _gradescope_results,
    "nbgrader-regrade": _nbgrader_regrade,
}


def add_command_arguments(command: str, parser: Parser) -> None:
    """Add ``python -m autograder <command>``'s arguments (and description) to ``parser``."""
    COMMAND_ARGUMENTS[command](parser)


# ---- python -m autograder.course.gradescope run|results (Gradescope's run_autograder) ----


def add_gradescope_arguments(parser: Parser) -> None:
    """``run`` (what run_autograder starts) and ``results IN OUT`` (gradescope-results's)."""
    from autograder.course.gradescope.run import DEFAULT_ROOT, ROOT_VARIABLE, TIME_BUDGET_S

    commands = parser.add_subparsers(dest="command", required=True, parser_class=type(parser))
    grading = commands.add_parser(
        "run", help="grade ROOT/submission, write ROOT/results/results.json"
    )
    grading.add_argument(
        "--root",
        type=Path,
        default=None,
        help=f"the Gradescope folder (default: ${ROOT_VARIABLE}, else {DEFAULT_ROOT})",
    )
    grading.add_argument(
        "--python", type=Path, default=None, help="the grader's Python (default: ROOT/venv)"
    )
    only_option(grading)
    settings_option(grading)
    sandbox_option(grading, passed_on=True)
    grading.add_argument(
        "--budget", type=float, default=TIME_BUDGET_S, metavar="SECONDS", help="seconds for the run"
    )
    _gradescope_results(commands.add_parser("results", help="convert a results file"))
