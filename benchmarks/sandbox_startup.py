"""Start-up cost of the worker sandbox: ``python -I -c "import numpy"`` with and without bwrap.

``python -m benchmarks.sandbox_startup [--runs 10]`` prints the median and range of each, run
alternately so machine load falls on both alike. docs/sandbox.md quotes the figures. Each run is
one full worker start: Popen, (preexec and bwrap), the interpreter, and numpy's import.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.grading import sandbox

CODE = "import numpy"


def time_start(box: sandbox.Sandbox, job: Path, code: str = CODE) -> float:
    """Seconds for one worker to start, run ``code`` (import numpy) and exit."""
    argv, env, cwd, preexec = sandbox.worker_command(
        box, [sys.executable, "-I", "-c", code], job_dir=job, device="cpu", env={"PATH": "/usr/bin"}
    )
    started = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, preexec_fn=preexec, check=True)
    elapsed = time.perf_counter() - started
    if cwd is not None:
        shutil.rmtree(cwd, ignore_errors=True)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--code", default=CODE, help=f"what the worker runs (default {CODE!r})")
    args = parser.parse_args(argv)
    boxed = sandbox.resolve("bubblewrap")
    plain = sandbox.resolve("none")
    job = Path(tempfile.mkdtemp(prefix="sandbox-bench-"))
    try:
        time_start(boxed, job, args.code)  # warm the page cache for both
        time_start(plain, job, args.code)
        times: dict[str, list[float]] = {"none": [], "bubblewrap": []}
        for _ in range(args.runs):
            times["none"].append(time_start(plain, job, args.code))
            times["bubblewrap"].append(time_start(boxed, job, args.code))
    finally:
        shutil.rmtree(job, ignore_errors=True)
    print(f"{boxed.reason}\n`python -I -c {args.code!r}`, {args.runs} runs each, milliseconds:")
    print("| sandbox | median | min | max |\n|---|---|---|---|")
    for kind, values in times.items():
        ms = [v * 1000 for v in values]
        print(f"| {kind} | {statistics.median(ms):.0f} | {min(ms):.0f} | {max(ms):.0f} |")
    extra = statistics.median(times["bubblewrap"]) - statistics.median(times["none"])
    print(f"sandbox start-up cost: {extra * 1000:+.0f} ms per worker (median difference)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
