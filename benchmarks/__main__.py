"""``python -m benchmarks`` (``make bench``): grading time and grading validity on CPU.

Writes docs/benchmarks.md (and the raw figures as JSON) with:

1. the grading wall time of the reference solutions and of the stubs, and where it goes;
2. the reference solutions graded ``--runs`` times while the other core(s) spin: false
   failures of every timing check, and each observed ratio against its tolerance; the same
   for ``other_styles`` (correct code written differently);
3. the broken timing submissions and the bench's probes graded the same way, interleaved
   with (2): each must fail its timing checks in every run, and by how much is shown.

Use the figures to set ``[tolerances.cpu]`` in autograder/grading.toml (docs/calibration.md).
The whole bench takes about 10 minutes on 2 cores; ``--quick`` is a one-minute smoke run.
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
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

from autograder.registry import EXERCISES
from autograder.settings import load_settings
from benchmarks import validity
from benchmarks.grading_time import GradeRun, breakdown, render_grading_time, time_grading
from benchmarks.submissions import ROOT, SOLUTIONS_DIR

DEFAULT_OUT = ROOT / "docs" / "benchmarks.md"
DEFAULT_JSON = ROOT / "outputs" / "benchmarks" / "benchmarks.json"
KEPT_SECTION = "\n## 5. TA loop"  # this section and what follows survive a rerun
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
    p.add_argument("--wall-runs", type=int, default=5, help="unloaded wall-time runs each (5)")
    p.add_argument(
        "--quick", action="store_true", help="smoke run: 1 wall-time run, 3 loaded, 1 per case"
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


def render(
    *,
    args: argparse.Namespace,
    info: dict[str, Any],
    wall: dict[str, list[GradeRun]],
    loaded: validity.LoadedRuns,
) -> str:
    tol = load_settings(args.settings).tolerances["cpu"]
    settings_name = args.settings or "autograder/grading.toml"
    honest = validity.summarise_honest(loaded.honest, args.timing_only) if loaded.honest else None
    styles = {
        case: validity.summarise_honest(runs, validity.CASES[case].exercises)
        for case, runs in loaded.cases.items()
        if runs and validity.CASES[case].honest
    }
    broken = [
        validity.summarise_broken(case, runs)
        for case, runs in loaded.cases.items()
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
        "**A shared machine.** Other engineers ran test suites on this machine during these "
        "runs, so every figure includes that noise on top of the load the bench adds itself. "
        "That is the condition the timing checks must survive, but wall times are not those of "
        "an idle machine.",
        "",
    ]
    if wall:
        out += [
            "## 1. Grading wall time",
            "",
            f"`python -m autograder grade --submission DIR --device cpu` "
            f"(exercises: {' '.join(args.wall_only)}), each run in a fresh process with its own "
            "seed, nothing else added by the bench. The time is the whole command, "
            "interpreter start to exit.",
            "",
            render_grading_time(
                {name: breakdown(runs) for name, runs in wall.items()}, what=SUBMISSION_WHAT
            ),
        ]
    if honest:
        out += [
            "## 2. Timing checks of honest submissions under load",
            "",
            f"`--submission solutions --only {' '.join(args.timing_only)}`, {honest.runs} runs "
            f"(seeds {first}..{first + honest.runs - 1}) while {loaded.busy_processes} "
            f"busy-loop process(es) (`while True: pass`) kept the other core(s) busy "
            f"({loaded.busy_cpu_seconds:.0f} CPU seconds spun over {loaded.seconds:.0f} s of "
            "loaded runs, the other submissions' included). Any timing check that does not "
            "pass is a false failure. Grading time under this load: "
            f"{honest.wall.median:.1f} s median ({honest.wall.low:.1f}-{honest.wall.high:.1f}).",
            "",
            validity.render_honest(honest, tol),
        ]
    for case, summary in styles.items():
        out += [
            f"### `{case}` ({validity.CASES[case].what})",
            "",
            f"`tests/submissions/{case}/` over the reference, graded `--only "
            f"{' '.join(validity.CASES[case].exercises)}` {summary.runs} times in the same "
            "rounds and under the same load: correct code must pass every timing check too.",
            "",
            validity.render_honest(summary, tol),
        ]
    if broken:
        runs = sorted({summary.runs for summary in broken})
        out += [
            "## 3. Broken submissions under the same load",
            "",
            "Each is the reference solution with an override appended (as "
            "tests/test_grader_adversarial.py builds its cases), graded on its own exercises "
            f"{'/'.join(map(str, runs))} times, round-robin with the runs of section 2, with the "
            "same seeds and under the same busy loop. *must*: **fail** in every run, **pass** "
            "in every run (honest code in a broken submission), or *either* (not judged, see "
            "below). Project cases live in `tests/submissions/<case>/`; the *probes* are "
            "defined in `benchmarks/submissions.py` to measure the far side of bounds no "
            "project case reaches.",
            "",
        ]
        out += [f"- `{s.case}`: {validity.CASES[s.case].what}" for s in broken]
        out += ["", validity.render_broken(broken, tol)]
    out += [
        "## 4. GPU",
        "",
        "The CUDA counterparts (`hard.time_fn_synchronises_cuda`, `hard.sweep_rows_cuda`, "
        "`hard.curve_shapes_cuda`) and the `time_fn_no_sync` submission, which only matters on "
        "CUDA (a CPU call finishes before it returns), are measured by "
        "`benchmarks/gpu_validation.sh` on a GPU machine; the figures and the `[tolerances.cuda]` "
        "reasoning are in docs/gpu-validation.md.",
        "",
    ]
    return "\n".join(out)


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
                        {k: t.get(k) for k in ("id", "status", "duration", "output")}
                        for t in run.document["tests"]
                    ],
                    "extra_data": {
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


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    args.argv = argv
    if args.quick:
        args.wall_runs, args.runs, args.case_runs = 1, 3, 1
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    info = machine() | {"load_start": load_average()}
    started = time.monotonic()

    def say(line: str) -> None:
        print(f"[{time.monotonic() - started:6.0f} s] {line}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        work = Path(tmp)
        wall: dict[str, list[GradeRun]] = {}
        for name in ("solutions", "exercises") if args.wall_runs > 0 else ():
            wall[name] = time_grading(
                SOLUTIONS_DIR.parent / name,
                runs=args.wall_runs,
                work_dir=work,
                first_seed=args.seed,
                only=args.wall_only,
                settings=args.settings,
                label=f"wall-{name}",
            )
            say(f"wall time, {name}: {[round(r.wall_seconds, 1) for r in wall[name]]} s")
        loaded = validity.run_under_load(
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
    info |= {
        "load_end": load_average(),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "minutes": (time.monotonic() - started) / 60,
    }
    report = render(args=args, info=info, wall=wall, loaded=loaded)
    previous = args.out.read_text(encoding="utf-8") if args.out.is_file() else ""
    if KEPT_SECTION in previous:  # measured by other benches (the TA loop): not ours to drop
        report = report.rstrip("\n") + "\n" + previous[previous.index(KEPT_SECTION) :]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    raw = {
        "machine": info,
        "argv": argv,
        "wall": {name: _raw(runs) for name, runs in wall.items()},
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
