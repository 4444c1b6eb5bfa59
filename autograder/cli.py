"""The command line: one argparse tree; each command's arguments in :mod:`autograder.arguments`,
its ``run(args)`` in its own module.

python -m autograder grade    grade a submission folder (or a student repository)
python -m autograder stubs    regenerate exercises/ from solutions/
python -m autograder report   one student's results as HTML / Markdown
python -m autograder collect  a class's results as a gradebook and summary
python -m autograder fetch    clone each student's repository now, recording time and commit
python -m autograder regrade  grade a whole class (clones or folders), resumably, N at a time
python -m autograder merge    merge a CPU and a GPU results file
python -m autograder sign     sign results files as the course's own (the course key)
python -m autograder release  the student repository, the nbgrader course, Gradescope's zip
python -m autograder gradescope-results  convert a results file to Gradescope's results.json
python -m autograder nbgrader-regrade    the grader's scores into an nbgrader gradebook
"""

from __future__ import annotations

import importlib
import signal
import sys
from types import ModuleType

from autograder.arguments import add_command_arguments, add_gradescope_arguments
from autograder.results.sinks import terminal_text
from reference.cli_support import OneLineParser, UsageError

PROG = "python -m autograder"
GRADESCOPE_PROG = "python -m autograder.course.gradescope"

# command -> (module exporting run(args), one-line description)
COMMANDS: dict[str, tuple[str, str]] = {
    "grade": (
        "autograder.commands.grade",
        "grade a submission folder and write results JSON, JUnit XML and a summary",
    ),
    "stubs": (
        "autograder.course.release.stubs",
        "regenerate exercises/ from solutions/ (--check: fail if out of sync)",
    ),
    "report": (
        "autograder.reports.report",
        "render one results file as a self-contained HTML page and Markdown",
    ),
    "collect": (
        "autograder.course.collect.command",
        "gradebook CSV and class summary from many students' results",
    ),
    "merge": ("autograder.commands.merge", "merge CPU and GPU results files into one"),
    "sign": (
        "autograder.results.provenance",
        "sign results files as the course's own grading (needs the course key)",
    ),
    "fetch": (
        "autograder.course.regrade.fetch",
        "clone students' repositories now, recording the fetch time and commit (deadlines)",
    ),
    "regrade": (
        "autograder.course.regrade.command",
        "grade a class of repositories or submission folders into DIR/<student>/",
    ),
    "release": (
        "autograder.course.release.command",
        "write the student repository and the nbgrader course",
    ),
    "gradescope-results": (
        "autograder.results.gradescope",
        "convert a results file to Gradescope's results.json (IN OUT)",
    ),
    "nbgrader-regrade": (
        "autograder.course.nbgrader.scores",
        "after nbgrader autograde: the grader's scores into the gradebook",
    ),
}


COURSE_TOOLS = frozenset({"nbformat", "nbgrader", "nbconvert", "copydetect"})
"""The [course] extra's packages: make grade does not install them (pyproject.toml)."""


def command_module(name: str) -> ModuleType:
    """The module of one command, imported only when that command runs (``grade --repo``
    must not pay for nbformat, nor ``merge`` for torch)."""
    return importlib.import_module(COMMANDS[name][0])


def parser_for(name: str) -> OneLineParser:
    """The command tree, with the arguments of command ``name`` added to its subparser.

    Only that command's module is imported (``grade --repo`` must not pay for nbformat, nor
    ``merge`` for torch); the other subparsers carry their description alone.
    """
    parser = OneLineParser(prog=PROG, description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for command, (_, description) in COMMANDS.items():
        subparser = commands.add_parser(command, help=description, description=description)
        if command == name:
            add_command_arguments(name, subparser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Dispatch to one command; a usage error (the parser's, or a :class:`UsageError` its
    ``run`` raises) is one line on stderr and exit status 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.split("\n\n")[1].strip())
        return 0 if argv else 2
    name = argv[0]
    if name not in COMMANDS:
        print(
            f"{PROG}: error: unknown command {name!r} (choose from {', '.join(COMMANDS)})",
            file=sys.stderr,
        )
        return 2
    try:
        module = command_module(name)
    except ModuleNotFoundError as missing:
        return _course_tools_missing(name, missing)
    try:
        args, unknown = parser_for(name).parse_known_args(argv)
        if unknown:  # said by the command, not the root (argparse leaves these to the root)
            raise UsageError(f"unrecognized arguments: {' '.join(unknown)}", prog=f"{PROG} {name}")
    except UsageError as error:
        return _usage_error(error.prog, error)
    except SystemExit as stop:  # --help
        return int(stop.code or 0)
    # SIGTERM (a CI job cancelled, a TA's kill) unwinds like Ctrl-C: every finally runs, so
    # judges are stopped and no copy of a submission is left in the temporary folder
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        return module.run(args)
    except UsageError as error:
        return _usage_error(f"{PROG} {name}", error)
    except ModuleNotFoundError as missing:  # collect --similarity imports copydetect late
        return _course_tools_missing(name, missing)
    except KeyboardInterrupt:  # everything already unwound; one line, not a traceback
        print(f"{PROG} {name}: interrupted", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


def gradescope_main(argv: list[str] | None = None) -> int:
    """``python -m autograder.course.gradescope run|results``: what Gradescope's
    ``run_autograder`` starts; standard library only (see :mod:`autograder.arguments`)."""
    from autograder.course.gradescope import run

    parser = OneLineParser(
        prog=GRADESCOPE_PROG,
        description="Grade a Gradescope submission, or convert a results file for Gradescope.",
    )
    add_gradescope_arguments(parser)
    try:
        args = parser.parse_args(argv)
    except UsageError as error:
        return _usage_error(error.prog, error)
    try:
        return run.main(args)
    except UsageError as error:  # results IN OUT: an unreadable IN
        return _usage_error(f"{GRADESCOPE_PROG} {args.command}", error)


def _usage_error(prog: str, error: UsageError) -> int:
    """One line on stderr, neutralised (a message may quote a file's content); status 2."""
    print(terminal_text(f"{prog}: error: {error}"), file=sys.stderr)
    return 2


def _stop(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _course_tools_missing(name: str, missing: ModuleNotFoundError) -> int:
    """One line naming the fix when a course command runs where only grading is installed."""
    if missing.name not in COURSE_TOOLS:
        raise missing
    print(
        f"{PROG} {name}: error: needs the course tools ({missing.name} is not installed): "
        "pip install -e '.[course]' (make test installs them too)",
        file=sys.stderr,
    )
    return 2
