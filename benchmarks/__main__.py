"""``python -m benchmarks`` (``make bench``): grading time and grading validity on CPU.

Writes docs/benchmarks.md (and the raw figures as JSON) with:

1. the grading wall time of the reference solutions and of the stubs with the old grader
   (before the judge/worker split, checked out from git) and the new one, in bubblewrap and
   without a sandbox, round-robin in the same run; and where the time goes;
2. the sandbox's cost: bubblewrap against none in those runs, and one worker's start-up;
3. the judge/worker protocol's costs: a round trip, a traced call, a timed window's share;
4. the reference solutions graded ``--runs`` times while the other core(s) spin: false
   failures of every timing check, and each observed ratio against its tolerance; the same
   for ``other_styles`` (correct code written differently);
5. the broken timing submissions and the bench's probes graded the same way, interleaved
   with (4): each must fail its timing checks in every run, and by how much is shown.

The report's text is ``benchmarks/templates/benchmarks.md.j2`` (:mod:`benchmarks.report`).
Use the figures to set ``[tolerances.cpu]`` in autograder/grading.toml (docs/calibration.md).
Sections of docs/benchmarks.md that the bench does not write (headings not numbered "## N.")
are kept. ``--quick`` is a smoke run of a few minutes.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

from autograder.grading import sandbox
from autograder.spec import paths
from autograder.spec.registry import EXERCISES
from benchmarks import grader_compare, old_grader, protocol_costs, sandbox_startup, validity
from benchmarks.grading_time import GradeRun
from benchmarks.report import (
    LOADED_SEED_OFFSET,
    SUBMISSION_WHAT,
    Bench,
    keep_foreign_sections,
    render,
)
from benchmarks.submissions import ROOT, SOLUTIONS_DIR

DEFAULT_OUT = ROOT / "docs" / "benchmarks.md"
DEFAULT_JSON = ROOT / paths.OUTPUTS_FOLDER / "benchmarks" / "benchmarks.json"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=20, help="loaded runs of the reference (20)")
    p.add_argument(
        "--case-runs", type=int, default=10, help="loaded runs of each case in --cases (10)"
    )
    p.add_argument(
        "--wall-runs",
        type=int,
        default=5,
        help="unloaded wall-time rounds (5): each grades with the old grader and the new one "
        "in bubblewrap and without",
    )
    p.add_argument(
        "--old-commit",
        default=old_grader.OLD_COMMIT,
        help=f"the grader to compare with ({old_grader.OLD_COMMIT}; 'none' skips it)",
    )
    p.add_argument(
        "--startup-runs", type=int, default=10, help="sandboxed worker starts timed (10; 0 skips)"
    )
    p.add_argument("--pings", type=int, default=500, help="empty round trips timed (500; 0 skips)")
    p.add_argument("--trace-runs", type=int, default=15, help="traced calls timed (15)")
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 1 wall-time round, 3 loaded, 1 per case, short micro-benchmarks",
    )
    p.add_argument(
        "--cases",
        nargs="*",
        default=list(validity.CASES),
        choices=list(validity.CASES),
        metavar="CASE",
        help=f"submissions graded beside the reference (default: all: {', '.join(validity.CASES)})",
    )
    p.add_argument(
        "--wall-only",
        nargs="+",
        default=list(EXERCISES),
        choices=list(EXERCISES),
        metavar="EXERCISE",
        help="exercises graded for the wall-time figures (default: all)",
    )
    p.add_argument(
        "--timing-only",
        nargs="+",
        default=["easy", "hard"],
        choices=list(EXERCISES),
        metavar="EXERCISE",
        help="exercises graded under load (default: easy hard, the ones with timing checks)",
    )
    p.add_argument(
        "--busy",
        type=int,
        default=max(1, (os.cpu_count() or 2) - 1),
        help="spinning processes during the loaded runs (default: cores - 1)",
    )
    p.add_argument("--seed", type=int, default=2026, help="first seed; each run adds its index")
    p.add_argument("--settings", type=Path, default=None, help="grading settings TOML to judge by")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown report")
    p.add_argument("--json", type=Path, default=DEFAULT_JSON, help="raw figures")
    return p


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def machine() -> dict[str, Any]:
    versions = {}
    for package in ("torch", "numpy", "pytest"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        **versions,
    }


def _raw(runs: list[GradeRun]) -> list[dict[str, Any]]:
    """What the JSON keeps of a run: enough to recompute every figure without regrading."""
    keep = []
    for run in runs:
        extra = run.document["extra_data"]
        keep.append(
            asdict(run)
            | {
                "document": {
                    "tests": [
                        {
                            k: t.get(k)
                            for k in ("id", "exercise", "status", "score", "duration", "output")
                        }
                        for t in run.document["tests"]
                    ],
                    "extra_data": {
                        "sandbox": extra.get("sandbox"),
                        "exercises": {
                            name: {"wall_seconds": data["wall_seconds"]}
                            for name, data in extra["exercises"].items()
                        },
                        "timings": extra.get("timings", {}),
                    },
                }
            }
        )
    return keep


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through busy_cores, which kills its spinners


@contextmanager
def _phase(bench: Bench, name: str) -> Iterator[None]:
    """Record the load average at the start and end of one part of the bench."""
    start = load_average()
    try:
        yield
    finally:
        bench.loads[name] = (start, load_average())


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    args.argv = argv
    if args.quick:
        args.wall_runs, args.runs, args.case_runs = 1, 3, 1
        args.startup_runs = min(args.startup_runs, 3)
        args.pings, args.trace_runs = min(args.pings, 100), min(args.trace_runs, 3)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    bench = Bench(machine() | {"load_start": load_average()})
    started = time.monotonic()

    def say(line: str) -> None:
        print(f"[{time.monotonic() - started:6.0f} s] {line}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        if args.wall_runs > 0:
            if args.old_commit.lower() in ("", "none"):
                bench.old_missing = "skipped (`--old-commit none`)"
            else:
                try:
                    bench.old = stack.enter_context(
                        old_grader.old_grader(args.old_commit, parent=work)
                    )
                except old_grader.OldGraderUnavailable as error:
                    bench.old_missing = str(error)
            if bench.old_missing:
                say(f"old grader not run: {bench.old_missing}")
            kinds, bench.kinds_missing = grader_compare.available_kinds()
            for kind, why in bench.kinds_missing.items():
                say(f"new grader with --sandbox {kind} not run: {why}")
            with _phase(bench, "compare"):
                bench.compared = grader_compare.compare(
                    {name: SOLUTIONS_DIR.parent / name for name in SUBMISSION_WHAT},
                    rounds=args.wall_runs,
                    work_dir=work,
                    first_seed=args.seed,
                    old=bench.old,
                    kinds=kinds,
                    only=args.wall_only,
                    settings=args.settings,
                    say=say,
                )
            stack.close()  # the old grader's worktree is not needed any more
        if args.startup_runs > 0:
            with _phase(bench, "startup"):
                try:
                    for code in (sandbox_startup.CODE, "pass"):
                        bench.startup.append(sandbox_startup.measure(args.startup_runs, code))
                        say(f"start-up, {code}: {bench.startup[-1].extra_seconds * 1e3:+.0f} ms")
                except sandbox.SandboxUnavailable as error:
                    bench.startup_missing = str(error)
        if args.pings > 0:
            with _phase(bench, "protocol"):
                bench.protocol = protocol_costs.measure(
                    pings=args.pings, trace_runs=args.trace_runs, say=say
                )
        with _phase(bench, "loaded"):
            bench.loaded = validity.run_under_load(
                runs=args.runs,
                case_runs=args.case_runs,
                cases=args.cases,
                exercises=args.timing_only,
                work_dir=work,
                first_seed=args.seed + LOADED_SEED_OFFSET,
                busy=args.busy,
                settings=args.settings,
                say=say,
            )
    bench.info |= {
        "load_end": load_average(),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "minutes": (time.monotonic() - started) / 60,
    }
    report = render(args=args, bench=bench)
    previous = args.out.read_text(encoding="utf-8") if args.out.is_file() else None
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(keep_foreign_sections(report, previous), encoding="utf-8")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    loaded = bench.loaded
    raw = {
        "machine": bench.info,
        "argv": argv,
        "loads": bench.loads,
        "old_grader": (
            {"commit": bench.old.commit, "imports_from": str(bench.old.imports_from)}
            if bench.old
            else {"missing": bench.old_missing}
        ),
        "wall": {
            name: {contender: _raw(runs) for contender, runs in by.items()}
            for name, by in bench.compared.items()
        },
        "sandbox_missing": bench.kinds_missing,
        "startup": [asdict(result) for result in bench.startup],
        "protocol": bench.protocol.to_json() if bench.protocol else None,
        "loaded": {"solutions": _raw(loaded.honest)}
        | {case: _raw(runs) for case, runs in loaded.cases.items()},
        "busy_processes": loaded.busy_processes,
        "busy_cpu_seconds": loaded.busy_cpu_seconds,
    }
    args.json.write_text(json.dumps(raw, indent=1), encoding="utf-8")
    say(f"wrote {args.out} and {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
