"""Start-up cost of the worker sandbox: ``python -I -c "import numpy"`` with and without bwrap.

``python -m benchmarks.sandbox_startup [--runs 10]`` prints the median and range of each, run
alternately so machine load falls on both alike. docs/sandbox.md quotes the figures. Each run is
one full worker start: Popen, (preexec and bwrap), the interpreter, and numpy's import.
``make bench`` runs :func:`measure` for ``import numpy`` and for ``pass`` (section 2 of
docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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


@dataclass
class Startup:
    """Alternated worker starts with and without bubblewrap (seconds each)."""

    code: str
    reason: str  # how bubblewrap ran (sandbox.resolve's reason)
    none: list[float]
    bubblewrap: list[float]

    @property
    def extra_seconds(self) -> float:
        """What the sandbox adds to one worker start: the difference of the medians."""
        return statistics.median(self.bubblewrap) - statistics.median(self.none)


def measure(runs: int = 10, code: str = CODE) -> Startup:
    """``runs`` starts of each, alternated so machine load falls on both alike.

    Raises :class:`sandbox.SandboxUnavailable` where bubblewrap cannot start.
    """
    boxed = sandbox.resolve("bubblewrap")
    plain = sandbox.resolve("none")
    job = Path(tempfile.mkdtemp(prefix="sandbox-bench-"))
    try:
        time_start(boxed, job, code)  # warm the page cache for both
        time_start(plain, job, code)
        result = Startup(code, boxed.reason, [], [])
        for _ in range(runs):
            result.none.append(time_start(plain, job, code))
            result.bubblewrap.append(time_start(boxed, job, code))
    finally:
        shutil.rmtree(job, ignore_errors=True)
    return result


def render(results: list[Startup]) -> str:
    """One row per measured ``code``: medians and ranges (ms), and the difference."""
    lines = [
        "| what the worker runs | runs | none: median (min-max), ms "
        "| bubblewrap: median (min-max), ms | sandbox start-up cost (difference of medians) |",
        "|---|---:|---:|---:|---:|",
    ]
    for result in results:
        cells = []
        for values in (result.none, result.bubblewrap):
            ms = [v * 1000 for v in values]
            cells.append(f"{statistics.median(ms):.0f} ({min(ms):.0f}-{max(ms):.0f})")
        lines.append(
            f"| `{result.code}` | {len(result.none)} | {cells[0]} | {cells[1]} | "
            f"**{result.extra_seconds * 1000:+.0f} ms** |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--code", default=CODE, help=f"what the worker runs (default {CODE!r})")
    args = parser.parse_args(argv)
    result = measure(args.runs, args.code)
    print(f"{result.reason}\n`python -I -c {args.code!r}`, {args.runs} runs each:\n")
    print(render([result]))
    print(f"sandbox start-up cost: {result.extra_seconds * 1000:+.0f} ms per worker")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
