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
import re
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from autograder.grading import sandbox
from autograder.spec.registry import CHECKS_BY_ID, EXERCISES
from autograder.spec.settings import load_settings
from benchmarks import (
    grader_compare,
    old_grader,
    protocol_costs,
    sandbox_startup,
    validity,
    validity_report,
)
from benchmarks.grading_time import GradeRun, breakdown, render_grading_time
from benchmarks.submissions import ROOT, SOLUTIONS_DIR

DEFAULT_OUT = ROOT / "docs" / "benchmarks.md"
DEFAULT_JSON = ROOT / "outputs" / "benchmarks" / "benchmarks.json"
LOADED_SEED_OFFSET = 100  # loaded runs draw other inputs than the wall-time runs
SUBMISSION_WHAT = {
    "solutions": "reference solutions (`solutions/`)",
    "exercises": "stubs (`exercises/`)",
}


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


@dataclass
class Bench:
    """Everything one bench run measured, for :func:`render` and the JSON."""

    info: dict[str, Any]
    loads: dict[str, tuple[str, str]] = field(default_factory=dict)  # phase -> load at start, end
    compared: dict[str, dict[str, list[GradeRun]]] = field(default_factory=dict)
    old: old_grader.OldGrader | None = None
    old_missing: str | None = None  # why the old grader was not run
    kinds_missing: dict[str, str] = field(default_factory=dict)  # sandbox kind -> why not run
    startup: list[sandbox_startup.Startup] = field(default_factory=list)
    startup_missing: str | None = None
    protocol: protocol_costs.ProtocolCosts | None = None
    loaded: validity.LoadedRuns | None = None


def _load_note(bench: Bench, phase: str) -> str:
    start, end = bench.loads.get(phase, ("unknown", "unknown"))
    return f"Load average (1, 5, 15 min): {start} at the start of this part, {end} at its end."


def _reference_baseline(check_id: str) -> str | None:
    check = CHECKS_BY_ID.get(check_id)
    return validity.baseline_status(check) if check is not None else None


def _sandbox_of(runs: list[GradeRun]) -> str:
    kinds = sorted(
        {
            str(run.document.get("extra_data", {}).get("sandbox", {}).get("reason", "unknown"))
            for run in runs
        }
    )
    return "; ".join(kinds)


def render(*, args: argparse.Namespace, bench: Bench) -> str:
    info = bench.info
    tol = load_settings(args.settings).tolerances["cpu"]
    settings_name = args.settings or "autograder/grading.toml"
    loaded = bench.loaded
    honest = (
        validity.summarise_honest(loaded.honest, args.timing_only)
        if loaded and loaded.honest
        else None
    )
    cases = loaded.cases if loaded else {}
    styles = {
        case: validity.summarise_honest(runs, validity.CASES[case].exercises)
        for case, runs in cases.items()
        if runs and validity.CASES[case].honest
    }
    broken = [
        validity.summarise_broken(case, runs)
        for case, runs in cases.items()
        if runs and not validity.CASES[case].honest
    ]
    first = args.seed + LOADED_SEED_OFFSET
    command = " ".join(["python -m benchmarks", *args.argv])
    command = f"`{command}`" + ("" if args.argv else " (`make bench`)")
    out = [
        "# Grading benchmarks (CPU)",
        "",
        f"Generated by {command} on {info['date']} in {info['minutes']:.1f} minutes; raw "
        f"figures in `{_relative(args.json)}`. Tolerances judged against: `{settings_name}` "
        "`[tolerances.cpu]`. How to use these figures: docs/calibration.md.",
        "",
        "| machine | |",
        "|---|---|",
        f"| CPU | {info['cpu']} |",
        f"| cores | {info['cores']} (usable: {info['usable_cores']}) |",
        f"| Python | {info['python']} |",
        f"| torch / numpy / pytest | {info['torch']} / {info['numpy']} / {info['pytest']} |",
        f"| platform | {info['platform']} |",
        f"| load average (1, 5, 15 min) | {info['load_start']} at the start, "
        f"{info['load_end']} at the end |",
        "",
        "**A shared machine.** Others may run work on this machine during these runs (the "
        "load averages above and at each part's start and end say how much), on top of the "
        "load the bench adds itself. That is the condition the timing checks must survive, "
        "but wall times are not those of an idle machine: read the ratios, each taken between "
        "runs interleaved in the same stretch of time.",
        "",
    ]
    compared = {name: runs for name, runs in bench.compared.items() if any(runs.values())}
    if compared or bench.old_missing:
        out += [
            "## 1. Grading wall time: the old grader against the new",
            "",
            f"`python -m autograder grade --submission DIR --device cpu` (exercises: "
            f"{' '.join(args.wall_only)}), each run in a fresh process with its own seed, "
            "nothing else added by the bench; the time is the whole command, interpreter start "
            "to exit. *Old* is the grader before the judge/worker split (one child per "
            "exercise importing the submission), run with its own command line from a "
            "temporary detached git worktree (cwd and `PYTHONPATH` there",
        ]
        if bench.old is not None:
            out[-1] += (
                "; it imported the worktree's "
                f"`{bench.old.imports_from.relative_to(bench.old.tree.resolve())}`, commit "
                f"`{bench.old.commit[:12]}`, and its results carry no `extra_data.sandbox`"
            )
        out[-1] += (
            "); *new* is this checkout, with `--sandbox bubblewrap` and `--sandbox none`. "
            "Same Python, same submissions. One round grades each submission with each "
            "grader, leading with another one each round."
        )
        out += [""]
        if bench.old_missing:
            out += [f"**The old grader was not run**: {bench.old_missing}.", ""]
        for kind, why in bench.kinds_missing.items():
            out += [f"**The new grader with `--sandbox {kind}` was not run**: {why}", ""]
        if compared:
            out += [
                _load_note(bench, "compare"),
                "",
                grader_compare.render(
                    compared,
                    what=SUBMISSION_WHAT,
                    baselines={"solutions": _reference_baseline},
                ),
                "### Where the time goes",
                "",
            ]
            parts = {}
            what = {}
            for name, runs in compared.items():
                for contender in (grader_compare.OLD, "bubblewrap"):
                    if runs.get(contender):
                        key = f"{name}:{contender}"
                        parts[key] = breakdown(runs[contender])
                        what[key] = f"{SUBMISSION_WHAT[name]}, {grader_compare.LABELS[contender]}"
            out += [render_grading_time(parts, what=what, totals=False)]
    if compared or bench.startup or bench.startup_missing:
        out += ["## 2. What the sandbox costs", ""]
        for name, runs in compared.items():
            ratio = next((r for r in grader_compare.ratios(runs) if r.denominator == "none"), None)
            if ratio is not None:
                out += [
                    f"- Grading the {SUBMISSION_WHAT[name]}: bubblewrap / none = "
                    f"**{ratio.value:.2f}x** (target <= {ratio.target:g}x), medians of the "
                    "interleaved runs of section 1.",
                ]
        if bench.startup:
            out += [
                "",
                "One worker's start-up (`benchmarks/sandbox_startup.py`): Popen, the preexec "
                "and bwrap, the interpreter, the code below, exit; with and without the "
                f"sandbox, alternated. Sandbox: {bench.startup[0].reason}. "
                + _load_note(bench, "startup"),
                "",
                sandbox_startup.render(bench.startup),
            ]
        if bench.startup_missing:
            out += ["", f"Start-up not measured: {bench.startup_missing}.", ""]
        out += [""]
    if bench.protocol is not None:
        out += [
            "## 3. What the judge/worker protocol costs",
            "",
            "`benchmarks/protocol_costs.py`: a `WorkerProxy` on the reference solution "
            "modules, as the judge starts one, timed from this process (the judge's side). "
            + _load_note(bench, "protocol"),
            "",
            protocol_costs.render(bench.protocol),
        ]
    if honest:
        out += [
            "## 4. Timing checks of honest submissions under load",
            "",
            f"`--submission solutions --only {' '.join(args.timing_only)}`, {honest.runs} runs "
            f"(seeds {first}..{first + honest.runs - 1}) while {loaded.busy_processes} "
            f"busy-loop process(es) (`while True: pass`) kept the other core(s) busy "
            f"({loaded.busy_cpu_seconds:.0f} CPU seconds spun over {loaded.seconds:.0f} s of "
            "loaded runs, the other submissions' included). Any timing check that does not "
            "pass is a false failure. Grading time under this load: "
            f"{honest.wall.median:.1f} s median ({honest.wall.low:.1f}-{honest.wall.high:.1f}). "
            f"Workers ran in: {_sandbox_of(loaded.honest)}. " + _load_note(bench, "loaded"),
            "",
            "The new judge measures differently from the grader the tolerances were first set "
            "with (the worker's CPU time, fresh inputs per call, batches sized from CPU time), "
            "so these ranges are the ones to hold `[tolerances.cpu]` against now.",
            "",
            validity_report.render_honest(honest, tol),
        ]
    for case, summary in styles.items():
        out += [
            f"### `{case}` ({validity.CASES[case].what})",
            "",
            f"`tests/submissions/{case}/` over the reference, graded `--only "
            f"{' '.join(validity.CASES[case].exercises)}` {summary.runs} times in the same "
            "rounds and under the same load: correct code must pass every timing check too.",
            "",
            validity_report.render_honest(summary, tol),
        ]
    if broken:
        runs = sorted({summary.runs for summary in broken})
        out += [
            "## 5. Broken submissions under the same load",
            "",
            "Each is the reference solution with an override appended (as "
            "tests/test_grader_adversarial.py builds its cases), graded on its own exercises "
            f"{'/'.join(map(str, runs))} times, round-robin with the runs of section 4, with the "
            "same seeds and under the same busy loop. *must*: **fail** in every run, **pass** "
            "in every run (honest code in a broken submission), or *either* (not judged, see "
            "below). Project cases live in `tests/submissions/<case>/`; the *probes* are "
            "defined in `benchmarks/submissions.py` to measure the far side of bounds no "
            "project case reaches.",
            "",
        ]
        out += [f"- `{s.case}`: {validity.CASES[s.case].what}" for s in broken]
        out += ["", validity_report.render_broken(broken, tol)]
    if honest and broken:
        sides = validity_report.tolerance_sides([honest, *styles.values()], broken, tol)
        out += [
            "### Each tolerance: honest against broken",
            "",
            f"Every `[tolerances.cpu]` key of `{settings_name}` with the figures of this run on "
            "both of its sides.",
            "",
            validity_report.render_tolerances(sides),
        ]
    out += [
        "## 6. GPU",
        "",
        "The CUDA counterparts (`hard.time_fn_synchronises_cuda`, `hard.sweep_rows_cuda`, "
        "`hard.curve_shapes_cuda`) and the `time_fn_no_sync` submission, which only matters on "
        "CUDA (a CPU call finishes before it returns), are measured by "
        "`benchmarks/gpu_validation.sh` on a GPU machine; the figures and the `[tolerances.cuda]` "
        "reasoning are in docs/gpu-validation.md.",
        "",
    ]
    return "\n".join(out)


BENCH_HEADING = re.compile(r"^## \d+\. ")


def keep_foreign_sections(report: str, previous: str | None) -> str:
    """The new report, followed by every ``## `` section of ``previous`` the bench does not write.

    The bench's own sections are numbered (``## 1. ...``); others (a class regrade, notes
    someone added) are kept verbatim, in their order, after the bench's.
    """
    if not previous:
        return report
    foreign: list[list[str]] = []
    current: list[str] | None = None
    fenced = False
    for line in previous.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            current = None if BENCH_HEADING.match(line) else [line]
            if current is not None:
                foreign.append(current)
            continue
        if current is not None:
            current.append(line)
    if not foreign:
        return report
    kept = "\n".join("\n".join(section).rstrip("\n") + "\n" for section in foreign)
    return report.rstrip("\n") + "\n\n" + kept


def _relative(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


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
