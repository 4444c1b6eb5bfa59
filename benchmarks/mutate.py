"""Mutation testing of the grader's decision modules with cosmic-ray (``make mutate``).

Each target is one small module and the fast tests that must notice any change to it.
cosmic-ray edits the module in place for every mutant, so the run happens in a copy of
this checkout (tracked and untracked files, ``.venv`` linked), never in the checkout
itself, and each target's session is kept under ``outputs/mutation/`` with a summary.
Mutants inside type annotations are skipped before the run: with ``from __future__ import
annotations`` they are never evaluated, so each is equivalent by construction. Surviving
mutants are triaged in docs/testing.md. Not part of ``make test``: a run costs minutes per
module. It runs with the Python that has cosmic-ray (the ``dev`` extra):

    python -m benchmarks.mutate [TARGET ...]        # every target when none is named
    python -m benchmarks.mutate compare --tests "tests/test_other.py"   # another selection
"""

from __future__ import annotations

import argparse
import ast
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from autograder.spec import paths

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / paths.OUTPUTS_FOLDER / "mutation"
PYTEST = "python -m benchmarks.bounded_pytest -x -q -p no:cacheprovider -p no:randomly"


@dataclass(frozen=True)
class Target:
    module: str  # the file cosmic-ray mutates
    tests: str  # pytest arguments: the fast tests that guard it
    only: tuple[str, ...] = ()  # mutate only these functions (all when empty)


TARGETS = {
    "compare": Target("autograder/grading/judge/checks/compare.py", "tests/test_compare.py"),
    "results_build": Target(
        "autograder/results/build.py",
        "tests/test_results_build.py tests/test_merge.py -m 'not slow'",
    ),
    # the totals every results file states (score, summary line, per-exercise figures), derived
    # wherever points change: building, merging, TA scores, reading; collect's registry points
    "rescore": Target(
        "autograder/results/rescore.py",
        "tests/test_rescore.py tests/test_results_build.py tests/test_manual_grades.py"
        " tests/test_results_schema.py",
    ),
    "merge": Target(
        "autograder/results/merge.py", "tests/test_merge_rules.py tests/test_merge.py -m 'not slow'"
    ),
    "manual_grades": Target(
        "autograder/course/collect/manual_grades.py", "tests/test_manual_grades.py"
    ),
    # the CUDA checks' judge-side decisions (the CPU checks are graded end to end only)
    "hard_cuda": Target(
        "autograder/grading/judge/checks/test_hard.py",
        "tests/test_cuda_logic.py tests/test_cpu_remeasure.py tests/test_hard_cpu_logic.py",
        only=(
            "test_time_fn_accurate_cpu",  # its re-measured sleeps
            "test_curve_shapes_cpu",
            "_sleep_kernel",
            "_expect_sweep_consistent",
            "_expect_shapes",
            "test_time_fn_synchronises_cuda",
            "test_sweep_rows_cuda",
            "test_curve_shapes_cuda",
            "kernel_seconds",  # nested in _sleep_kernel
            "serial_slope",  # nested in _expect_shapes
            "reduction",  # nested in _expect_shapes
        ),
    ),
    # the judge's side of the wire: what decides whether a worker's frame or value is accepted
    # (test_protocol.py's round trips through a real worker import torch: 3x slower a mutant)
    "protocol": Target(
        "autograder/grading/worker/protocol.py",
        "tests/test_protocol_validation.py tests/test_numeric_gate.py",
        only=(
            "read",  # FrameReader.read: sizes and the header's JSON
            "_take",  # the bytes of a part: large ones read straight into their own buffer
            "_wait",
            "write_frame",  # writev of large buffers as they are, small runs joined
            "_parts",
            "has_unread_bytes",
            "decode",
            "_decode",
            "_buffer",  # each buffer decoded once per value
            "_name",
            "_foreign",
            "_decode_array",
            "_decode_scalars",
        ),
    ),
    # the worker's side of a timed sample's bulk path: the windows it cuts, the outputs it
    # stacks (the judge re-checks every value; these decide what a submission is handed)
    # the judge-held waits of the CPU time_fn check, and the check's figures
    "time_fn_waits": Target(
        "autograder/grading/judge/waits.py", "tests/test_judge_waits.py tests/test_cpu_remeasure.py"
    ),
    "time_fn": Target(
        "autograder/grading/judge/checks/time_fn.py",
        "tests/test_cpu_remeasure.py tests/test_judge_waits.py tests/test_cuda_logic.py",
    ),
    "worker_batches": Target(
        "autograder/grading/worker/main.py",
        "tests/test_protocol.py",
        only=("decode_calls", "_window", "encode_outputs"),
    ),
    # the process tree a timed sample reads from the kernel, and the strays the judge kills
    "process_tree": Target(
        "autograder/grading/processes/supervisor.py",
        "tests/test_supervisor.py tests/test_cpu_window.py",
        only=("_children_lists", "_child_pids", "_scan_all", "process_table", "descendants"),
    ),
    "numbers": Target(
        "autograder/grading/judge/checks/numbers.py",
        "tests/test_numbers.py tests/test_numeric_gate.py",
    ),
    # the stopwatch's decisions, with the workers and the clock replaced by given figures
    "timing": Target(
        "autograder/grading/judge/checks/timing.py",
        "tests/test_timing_logic.py",
        only=(
            "sample_window",
            "windows",
            "_reference_outside",
            "verdict",
            "interleaved_medians",
            "interleaved_timings",
            "_sample",
            "loglog_slope",
        ),
    ),
    # the easy exercise's verdicts on injected replies and timings (no worker, no clock)
    "easy": Target("autograder/grading/judge/checks/test_easy.py", "tests/test_easy_logic.py"),
    # the medium and challenge checks on a fake worker whose traced runs use the judge's tape
    "medium": Target(
        "autograder/grading/judge/checks/test_medium.py", "tests/test_medium_logic.py"
    ),
    "challenge": Target(
        "autograder/grading/judge/checks/test_challenge.py", "tests/test_challenge_logic.py"
    ),
    # the hard exercise's expected values and the comparisons of returned ones
    "hard_values": Target(
        "autograder/grading/judge/checks/hard_values.py", "tests/test_hard_cpu_logic.py"
    ),
    # the hard exercise's other decisions: values, the CPU sweep, the plot (hard_cuda: the rest)
    "hard_cpu": Target(
        "autograder/grading/judge/checks/test_hard.py",
        "tests/test_hard_cpu_logic.py",
        only=(
            "_rng",
            "_check_functions",
            "test_attention_correct_cpu",
            "test_rnn_correct_cpu",
            "_contender",
            "make_calls",  # nested in _contender
            "_keep_sweep_plot",
            "_serial_timings",  # one measurement of the serial curve for two checks
            "_sandboxed",
            "test_sweep_rows_cpu",
            "_synthetic_rows",
            "test_plot_content",
            "test_explanation",
            "test_correct_cuda",
        ),
    ),
}


def _copy_checkout(destination: Path) -> None:
    """Tracked and untracked (not ignored) files, as the device tool and CI see them."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (entry.decode() for entry in listed)):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    (destination / ".venv").symlink_to((ROOT / ".venv").resolve())


def _config(target: Target, python: str) -> str:
    command = f"{python} {PYTEST.removeprefix('python ')} {target.tests}"
    return (
        "[cosmic-ray]\n"
        f'module-path = "{target.module}"\n'
        "timeout = 120.0\n"
        "excluded-modules = []\n"
        f'test-command = "{command}"\n\n'
        "[cosmic-ray.distributor]\n"
        'name = "local"\n'
    )


def _annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) of every type annotation: (line, column) as cosmic-ray counts them."""
    spans = []
    for node in ast.walk(ast.parse(source)):
        found = []
        if isinstance(node, ast.arg | ast.AnnAssign) and node.annotation is not None:
            found.append(node.annotation)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns:
            found.append(node.returns)
        spans += [
            ((a.lineno, a.col_offset), (a.end_lineno or a.lineno, a.end_col_offset or 0))
            for a in found
        ]
    return spans


def skip_annotation_mutants(session: Path, module: Path, only: tuple[str, ...] = ()) -> int:
    """Mark the mutants inside annotations (and outside ``only``) as skipped; return how many."""
    from cosmic_ray.work_db import use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    spans = _annotation_spans(module.read_text(encoding="utf-8"))
    skipped = 0
    with use_db(str(session)) as db:
        for item in db.work_items:
            start = tuple(item.mutations[0].start_pos)
            outside = only and item.mutations[0].definition_name not in only
            if outside or any(low <= start < high for low, high in spans):
                db.set_result(item.job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED))
                skipped += 1
    return skipped


def summarise(session: Path, module: Path, cosmic_ray: Path) -> str:
    """Killed over run mutants, and each survivor with its line, for the triage."""
    dump = subprocess.run(
        [str(cosmic_ray / "cosmic-ray"), "dump", str(session)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = module.read_text(encoding="utf-8").splitlines()
    run = killed = skipped = 0
    survivors = []
    for row in dump.splitlines():
        job, result = json.loads(row)
        if not result:
            continue
        if result["worker_outcome"] == "skipped":
            skipped += 1
            continue
        run += 1
        if result["test_outcome"] == "killed":
            killed += 1
            continue
        mutation = job["mutations"][0]
        line, column = mutation["start_pos"]
        operator = mutation["operator_name"].split("/")[-1]
        survivors.append(
            f"  L{line}:{column} {operator} #{mutation['occurrence']}: "
            f"{lines[line - 1].strip()[:90]}"
        )
    score = 100.0 * killed / run if run else 0.0
    head = (
        f"{module.relative_to(ROOT)}: {killed}/{run} mutants killed ({score:.1f}%), "
        f"{len(survivors)} survived, {skipped} skipped (annotations, functions not targeted)"
    )
    return "\n".join([head, *sorted(survivors)]) + "\n"


def forget_survivors(session: Path) -> int:
    """Drop the survivors' results, so that a resumed run tries them again (new tests)."""
    db = sqlite3.connect(session)
    try:
        with db:  # one transaction, committed
            return db.execute("DELETE FROM work_results WHERE test_outcome = 'SURVIVED'").rowcount
    finally:
        db.close()


def run_target(
    name: str, target: Target, cosmic_ray: Path, *, resume: bool = False, survivors: bool = False
) -> str:
    """Run one target's mutants in a fresh copy; return the summary. ``resume`` goes on
    with the mutants an earlier, interrupted run of the same target left; ``survivors``
    also tries that run's surviving mutants again (after tests were added)."""
    OUT.mkdir(parents=True, exist_ok=True)
    session = OUT / f"{name}.sqlite"
    resume = (resume or survivors) and session.is_file()
    if resume and survivors:
        forget_survivors(session)
    if not resume:
        session.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="mutate-") as folder:
        tree = Path(folder)
        _copy_checkout(tree)
        config = tree / "cosmic-ray.toml"
        config.write_text(_config(target, str(tree / ".venv" / "bin" / "python")))
        command = [str(cosmic_ray / "cosmic-ray")]
        if not resume:
            subprocess.run([*command, "init", str(config), str(session)], cwd=tree, check=True)
            skip_annotation_mutants(session, tree / target.module, target.only)
        subprocess.run([*command, "exec", str(config), str(session)], cwd=tree, check=True)
    summary = summarise(session, ROOT / target.module, cosmic_ray)
    (OUT / f"{name}.txt").write_text(summary, encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.mutate", description=__doc__)
    parser.add_argument("targets", nargs="*", metavar="TARGET", help=", ".join(TARGETS))
    parser.add_argument(
        "--bin",
        type=Path,
        default=Path(sys.executable).parent,
        help="folder of the cosmic-ray command (default: this Python's)",
    )
    parser.add_argument("--tests", help="pytest arguments instead of the target's own")
    parser.add_argument(
        "--resume", action="store_true", help="go on with an interrupted run's mutants"
    )
    parser.add_argument(
        "--survivors", action="store_true", help="try the last run's survivors again"
    )
    args = parser.parse_args(argv)
    unknown = set(args.targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets {sorted(unknown)}; choose from {', '.join(TARGETS)}")
    for name in args.targets or list(TARGETS):
        target = TARGETS[name]
        if args.tests:
            target = Target(target.module, args.tests, target.only)
        summary = run_target(name, target, args.bin, resume=args.resume, survivors=args.survivors)
        print(summary, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
