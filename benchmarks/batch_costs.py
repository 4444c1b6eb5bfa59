"""What a timed sample's bulk data costs outside the measured window: drawing the inputs,
staging them in the worker and fetching the outputs.

``python -m benchmarks.batch_costs [--sandbox bubblewrap|none] [--reps N]``

A real :class:`WorkerProxy` on the hard exercise's reference solution (``solutions/``), as the
judge starts one. For each batch shape (length n, K calls of ``attention_style_torch``): the
judge drawing K disjoint windows of one pool (``timing.windows``), the ``stage`` request, a
ping and the ``run`` request, and the ``fetch`` request with the outputs decoded; medians in
milliseconds. None of it is in a timed window; all of it is in a grading's wall time.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from autograder.grading import sandbox
from autograder.grading.judge.checks.timing import windows
from autograder.grading.judge.proxy import WorkerProxy
from benchmarks.protocol_costs import worker

MODULE = "hard_gpu_sweep"
FUNCTION = "attention_style_torch"
SHAPES = ((65536, 32), (65536, 64), (4096, 800), (256, 800), (64, 2000))


def one_batch(proxy: WorkerProxy, rng: np.random.Generator, n: int, count: int) -> dict:
    """Seconds of each part of one sample of ``count`` calls on length-``n`` inputs."""
    started = time.perf_counter()
    calls = [[window] for window in windows(rng, n, count, np.float32)]
    drawn = time.perf_counter()
    slot, _ = proxy.stage_inputs(calls, device="cpu", function=FUNCTION)
    staged = time.perf_counter()
    proxy.request({"op": "ping"}, what="answering a ping")
    proxy.request({"op": "run", "slot": slot, "function": FUNCTION, "device": "cpu"}, what="run")
    ran = time.perf_counter()
    reply, buffers = proxy.request({"op": "fetch", "slot": slot}, what="fetch")
    outputs = proxy.value(reply, buffers, name=FUNCTION)
    fetched = time.perf_counter()
    if len(outputs) != count:
        raise RuntimeError(f"{count} calls gave {len(outputs)} outputs")
    return {
        "draw": drawn - started,
        "stage": staged - drawn,
        "ping_run": ran - staged,
        "fetch": fetched - ran,
    }


def measure(box: sandbox.Sandbox, shapes=SHAPES, reps: int = 8, seed: int = 1) -> list[dict]:
    """Median milliseconds of each part, per batch shape, in one worker."""
    rng = np.random.default_rng(seed)
    rows = []
    with tempfile.TemporaryDirectory() as tmp, worker(MODULE, box, Path(tmp)) as proxy:
        for n, count in shapes:
            parts = [one_batch(proxy, rng, n, count) for _ in range(reps)]
            medians = {key: statistics.median(p[key] for p in parts) * 1e3 for key in parts[0]}
            rows.append({"n": n, "calls": count, "mib": 4 * n * count / 2**20} | medians)
    return rows


def table(rows: list[dict], kind: str) -> str:
    lines = [
        "| n | calls | MiB | draw (ms) | stage (ms) | ping + run (ms) | fetch (ms) | sandbox |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['n']:,} | {row['calls']:,} | {row['mib']:.1f} | {row['draw']:.1f} | "
            f"{row['stage']:.1f} | {row['ping_run']:.1f} | {row['fetch']:.1f} | {kind} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.batch_costs", description=__doc__)
    parser.add_argument("--sandbox", default="bubblewrap", choices=("bubblewrap", "none"))
    parser.add_argument("--reps", type=int, default=8, help="samples per batch shape (8)")
    args = parser.parse_args(argv)
    box = sandbox.resolve(args.sandbox)
    print(table(measure(box, reps=args.reps), box.kind))


if __name__ == "__main__":
    main()
