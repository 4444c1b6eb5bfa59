"""Regrade throughput and timing validity at each ``--jobs``: students per minute, false failures.

``python -m benchmarks.bench_regrade [--students N] [--jobs 1 2] [--rounds R] [--json OUT]``

A class of N copies of the reference solutions (``solutions/``) is regraded, all exercises on
CPU with the packaged settings, once per ``--jobs`` value and round (rounds alternate the
values, so both see the same machine load). Every check of the reference that fails is a
false failure (pending GPU and TA checks are not counted): gradings running side by side
share the cores, and the timing checks (easy, hard) must survive that. Throughput is
students / wall minutes of the whole ``regrade`` command.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmarks.submissions import ROOT, SOLUTIONS_DIR


def make_class(folder: Path, *, students: int) -> Path:
    for index in range(students):
        shutil.copytree(SOLUTIONS_DIR, folder / f"ref{index:03d}")
    return folder


def regrade_once(class_dir: Path, out_dir: Path, *, jobs: int) -> dict:
    """One ``regrade`` run into a fresh folder: wall seconds and the failed checks."""
    command = [sys.executable, "-m", "autograder", "regrade", str(class_dir)]
    command += ["--out", str(out_dir), "--jobs", str(jobs), "--device", "cpu"]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    failed: Counter[str] = Counter()
    why: list[str] = []
    graded = 0
    for results in sorted(out_dir.glob("*/results.json")):
        graded += 1
        document = json.loads(results.read_text(encoding="utf-8"))
        for test in document["tests"]:
            if test["status"] == "failed":
                failed[test["id"]] += 1
                first = (test["output"].splitlines() or [""])[0]
                why.append(f"{results.parent.name} {test['id']}: {first[:300]}")
    return {
        "jobs": jobs,
        "students": graded,
        "exit_status": done.returncode,
        "wall_seconds": round(wall, 2),
        "students_per_minute": round(60 * graded / wall, 2),
        "false_failures": dict(failed),
        "why": why,
        "checks_graded": graded * _checks_per_run(out_dir),
    }


def _checks_per_run(out_dir: Path) -> int:
    first = next(iter(sorted(out_dir.glob("*/results.json"))), None)
    if first is None:
        return 0
    tests = json.loads(first.read_text(encoding="utf-8"))["tests"]
    return sum(t["status"] != "pending" for t in tests)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_regrade")
    parser.add_argument("--students", type=int, default=12)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="write the raw figures here")
    args = parser.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-regrade-") as tmp:
        class_dir = make_class(Path(tmp, "class"), students=args.students)
        for round_ in range(args.rounds):
            for jobs in args.jobs:
                out_dir = Path(tmp, f"out-{round_}-{jobs}")
                run = regrade_once(class_dir, out_dir, jobs=jobs) | {"round": round_ + 1}
                run["load_average"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
                runs.append(run)
                print(json.dumps(run), flush=True)
    print(f"cpus: {os.cpu_count()}")
    for jobs in args.jobs:
        mine = [r for r in runs if r["jobs"] == jobs]
        students = sum(r["students"] for r in mine)
        seconds = sum(r["wall_seconds"] for r in mine)
        failures: Counter[str] = Counter()
        for run in mine:
            failures.update(run["false_failures"])
        checks = sum(r["checks_graded"] for r in mine)
        print(
            f"--jobs {jobs}: {students} gradings in {seconds:.0f} s = "
            f"{60 * students / seconds:.2f} students/min; false failures "
            f"{sum(failures.values())}/{checks} checks {dict(failures) or ''}"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(runs, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
