"""The ``grade`` command: its arguments, one grading run, the terminal summary."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.results.schema import DEFAULT_RESULTS_PATH
from autograder.spec.registry import EXERCISES


def add_arguments(parser: argparse.ArgumentParser) -> None:
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
    parser.add_argument(
        "--gpu-only",
        action="store_true",
        help="grade only the checks that need CUDA (the GPU job's run; the CPU job grades "
        "the rest and merge combines the two); without a CUDA device they stay pending",
    )
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS_PATH)
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


def run(args: argparse.Namespace) -> int:
    """0 once grading has finished; 1 only with --fail-under and a lower score; 2 usage."""
    from autograder.grading.grade import UsageError, grade, print_progress
    from autograder.reports.terminal import report_command, terminal_checks, terminal_table
    from autograder.results.build import below_pass_mark
    from autograder.spec.settings import load_settings

    try:
        settings = load_settings(args.settings)
        tamper_check = None
        submission = args.submission
        if args.repo is not None:
            from autograder.course.release.student_repo import repo_submission

            submission, tamper_check = repo_submission(args.repo, manifest_path=args.manifest)
        document = grade(
            submission=submission,
            device=args.device,
            only=args.only,
            results_path=args.results,
            junit_path=args.junit,
            summary_path=args.summary,
            seed=args.seed,
            settings=settings,
            tamper_check=tamper_check,
            progress=None if args.quiet else print_progress,
            sandbox=args.sandbox,
            gpu_only=args.gpu_only,
        )
    except (UsageError, ValueError) as error:
        print(f"python -m autograder grade: error: {error}", file=sys.stderr)
        return 2
    checks = terminal_checks(document)
    if checks:
        print("checks not passed (FAIL: lost points; wait: pending a GPU run or a TA):")
        print(checks)
    print(terminal_table(document))
    if args.quiet:  # otherwise the progress lines began with it: once per run
        sandbox = document["extra_data"].get("sandbox", {})
        print(f"sandbox: {sandbox.get('kind')} ({sandbox.get('reason')})")
    print(f"results: {args.results}")
    print(report_command(args.results))
    return 1 if below_pass_mark(document, args.fail_under) else 0
