"""The ``grade`` command: one grading run (a folder or a student repository), its summary
rendered as Markdown and printed for the terminal."""

from __future__ import annotations

import argparse

from reference.cli_support import UsageError


def run(args: argparse.Namespace) -> int:
    """0 once grading has finished; 1 only with --fail-under and a lower score; 2 usage."""
    from autograder.grading.grade import grade, print_progress
    from autograder.reports.markdown import render_markdown
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
            render_summary=render_markdown,
            seed=args.seed,
            settings=settings,
            tamper_check=tamper_check,
            progress=None if args.quiet else print_progress,
            sandbox=args.sandbox,
            gpu_only=args.gpu_only,
        )
    except ValueError as error:  # a UsageError, or settings that cannot be used
        raise UsageError(str(error)) from None
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
