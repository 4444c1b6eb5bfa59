"""The command line: a thin layer over keyword-only library functions.

python -m autograder grade    grade a submission folder (or a student repository)
python -m autograder stubs    regenerate exercises/ from solutions/
python -m autograder report   one student's results as HTML / Markdown
python -m autograder collect  a class's results as a gradebook and summary
python -m autograder regrade  grade a whole class (clones or folders), resumably, N at a time
python -m autograder merge    merge a CPU and a GPU results file
python -m autograder release  the student repository, the nbgrader course, Gradescope's zip
python -m autograder gradescope-results  convert a results file to Gradescope's results.json
python -m autograder nbgrader-regrade    the grader's scores into an nbgrader gradebook
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.spec.registry import EXERCISES

COMMANDS = {
    "grade": "grade a submission folder and write results JSON, JUnit XML and a summary",
    "stubs": "regenerate exercises/ from solutions/ (--check: fail if out of sync)",
    "report": "render one results file as a self-contained HTML page and Markdown",
    "collect": "gradebook CSV and class summary from many students' results",
    "merge": "merge CPU and GPU results files into one",
    "regrade": "grade a class of repositories or submission folders into DIR/<student>/",
    "release": "write the student repository and the nbgrader course",
    "gradescope-results": "convert a results file to Gradescope's results.json (IN OUT)",
    "nbgrader-regrade": "after nbgrader autograde: the grader's scores into the gradebook",
}


class OneLineParser(argparse.ArgumentParser):
    """Usage errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def grade_parser() -> OneLineParser:
    parser = OneLineParser(prog="python -m autograder grade", description=COMMANDS["grade"])
    parser.add_argument(
        "--submission",
        type=Path,
        default=Path("exercises"),
        help="folder holding the exercise modules (default: exercises)",
    )
    parser.add_argument(
        "--repo",
        type=Path,
        default=None,
        help="a student's repository: grade its exercises/ and check the "
        "release manifest for tampered files",
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        default=None,
        help="with --repo: the instructor's .release-manifest.json "
        "(default: $AUTOGRADER_RELEASE_MANIFEST, else the repository's own copy)",
    )
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument(
        "--only", nargs="+", metavar="EXERCISE", help=f"grade only these: {', '.join(EXERCISES)}"
    )
    parser.add_argument("--results", type=Path, default=Path("outputs/grading/results.json"))
    parser.add_argument("--junit", type=Path, default=None)
    parser.add_argument("--summary", type=Path, default=None, help="Markdown summary file")
    parser.add_argument(
        "--fail-under",
        type=float,
        default=None,
        metavar="PCT",
        help="exit 1 when the score is below PCT percent of max_score",
    )
    parser.add_argument("--seed", type=int, default=None, help="reproduce a run's inputs")
    parser.add_argument(
        "--settings",
        type=Path,
        default=None,
        help="grading settings TOML (default: autograder/grading.toml)",
    )
    parser.add_argument(
        "--sandbox",
        default="auto",
        choices=("auto", "bubblewrap", "none"),
        help="where workers run student code: bubblewrap, none, or auto (bubblewrap when it "
        "can start here, else none; what ran is always reported)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser


def run_grade(argv: list[str]) -> int:
    from autograder.grading.grade import UsageError, grade, print_progress
    from autograder.results.build import below_pass_mark, terminal_checks, terminal_table
    from autograder.spec.settings import load_settings

    args = grade_parser().parse_args(argv)
    try:
        settings = load_settings(args.settings)
        extra = None
        submission = args.submission
        if args.repo is not None:
            from autograder.course.release import repo_submission

            submission, extra = repo_submission(args.repo, manifest_path=args.manifest)
        document = grade(
            submission=submission,
            device=args.device,
            only=args.only,
            results_path=args.results,
            junit_path=args.junit,
            summary_path=args.summary,
            seed=args.seed,
            settings=settings,
            extra_findings=extra,
            progress=None if args.quiet else print_progress,
            sandbox=args.sandbox,
        )
    except (UsageError, ValueError) as error:
        print(f"python -m autograder grade: error: {error}", file=sys.stderr)
        return 2
    checks = terminal_checks(document)
    if checks:
        print("checks not passed (FAIL: lost points; wait: pending a GPU run or a TA):")
        print(checks)
    print(terminal_table(document))
    sandbox = document["extra_data"].get("sandbox", {})
    print(f"sandbox: {sandbox.get('kind')} ({sandbox.get('reason')})")
    print(f"results: {args.results}")
    return 1 if below_pass_mark(document, args.fail_under) else 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "grade":
        return run_grade(rest)
    if command == "stubs":
        from autograder.course.stubs import main as stubs_main

        return stubs_main(rest)
    if command == "report":
        from autograder.reports.report import main as report_main

        return report_main(rest)
    if command == "collect":
        from autograder.course.collect import main as collect_main

        return collect_main(rest)
    if command == "regrade":
        from autograder.course.regrade import main as regrade_main

        return regrade_main(rest)
    if command == "merge":
        from autograder.results.merge import main as merge_main

        return merge_main(rest)
    if command == "release":
        from autograder.course.release import main as release_main

        return release_main(rest)
    if command == "gradescope-results":
        from autograder.course.gradescope import results_main

        if len(rest) != 2 or rest[0].startswith("-"):
            print(f"usage: python -m autograder {command} IN OUT", file=sys.stderr)
            return 2
        return results_main(Path(rest[0]), Path(rest[1]))
    if command == "nbgrader-regrade":
        from autograder.course.nbgrader_scores import main as regrade_main

        return regrade_main(rest)
    print(
        f"python -m autograder: error: unknown command {command!r} "
        f"(choose from {', '.join(COMMANDS)})",
        file=sys.stderr,
    )
    return 2
