"""What the judge/worker protocol costs: a round trip, a traced call, a timed window.

``python -m benchmarks.protocol_costs [--pings 500] [--trace-runs 15]`` prints the figures;
``make bench`` includes them (section 3 of docs/benchmarks.md). Every figure comes from a
real :class:`WorkerProxy` on the reference solution modules (``solutions/``), in bubblewrap
where it starts and without a sandbox, measured in the same run:

* **round trip**: one empty request (``ping``), judge's wall clock, median of many; and the
  worker's own CPU time per ping (what an empty request adds to a CPU-time window);
* **traced call**: ``hillis_steele_scan`` on 1,024 traced inputs (9,217 applications of
  ``op``), split into the request (the worker runs the scan on opaque handles and logs every
  operation; the log crosses the pipe as JSON), the judge's replay of that log on a fresh
  :class:`reference.tracer.Tape` (timed alone), and the rest (handles, resolving the result);
  beside the same scan called untraced through the worker and in this process;
* **timed window**: the share of a timed window the round trip takes, with the window the
  harness sizes (``sample_window`` in autograder/grading/judge/checks/timing.py: on the CPU
  ``min_sample_s``; on CUDA also at least the round trip over ``OVERHEAD_SHARE``), and in real timed
  batches of the easy reference's ``rnn_style_vector_numpy`` sized the same way.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import math
import operator
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograder.grading import sandbox
from autograder.grading.judge.checks.timing import (
    OVERHEAD_SHARE,
    interleaved_medians,
    sample_window,
)
from autograder.grading.judge.proxy import WorkerProxy
from autograder.grading.judge.spawn import WorkerSpec
from autograder.grading.judge.trace import TraceInputs, replay_operation
from autograder.grading.worker.protocol import FnArg, OpArg
from benchmarks.submissions import SOLUTIONS_DIR
from reference.tracer import Tape, max_depth

SCAN_MODULE = "medium_parallel_scan"
TIMED_MODULE = "easy_vector_state"
TRACE_N = 1024
MIN_SAMPLE_S = inspect.signature(interleaved_medians).parameters["min_sample_s"].default


def scan_work(n: int) -> int:
    """Applications of op in a Hillis-Steele scan of n elements (9,217 at n = 1,024)."""
    return sum(n - 2**k for k in range(math.ceil(math.log2(n))))


def harness_window(ping_seconds: float) -> float:
    """The timed window (seconds) the harness aims at on the CPU for this round trip."""
    return sample_window("cpu", ping_seconds, MIN_SAMPLE_S)


@contextmanager
def worker(module: str, box: sandbox.Sandbox, work: Path) -> Iterator[WorkerProxy]:
    """A worker on one reference solution module, as the judge starts one, removed on exit."""
    spec = WorkerSpec(
        module_source=SOLUTIONS_DIR / f"{module}.py",
        module_name=module,
        device="cpu",
        log_path=work / f"{module}-{box.kind}.log",
        memory_mib=4096,
        file_size_mib=64,
        import_timeout_s=120,
        sandbox=box,
        label=f"bench-{box.kind}",
    )
    proxy = WorkerProxy(spec, deadline=lambda: time.monotonic() + 120)
    try:
        proxy.request({"op": "ping"}, what="starting")  # start and import before any timing
        yield proxy
    finally:
        proxy.remove()


def ping_once(proxy: WorkerProxy) -> float:
    started = time.perf_counter()
    proxy.request({"op": "ping"}, what="answering a ping")
    return time.perf_counter() - started


@dataclass
class TraceSplit:
    """One traced call, taken apart (seconds)."""

    total: float  # WorkerProxy.trace, whole
    request: float  # the traced request: worker runs and logs, log crosses, JSON parsed
    replay: float  # replaying the log alone on a fresh Tape (the judge's share)
    log_bytes: int
    log_parse: float  # json.loads of the log alone (inside ``request``)


def _handles(encoded: Any) -> list[int]:
    """Handle numbers in an encoded request value, in order."""
    if type(encoded) is dict:
        if set(encoded) == {"$handle"}:
            return [encoded["$handle"]]
        return [number for value in encoded.values() for number in _handles(value)]
    if type(encoded) is list:
        return [number for value in encoded for number in _handles(value)]
    return []


def replay_alone(header: dict[str, Any], log: list, values: list[Any]) -> tuple[float, Tape]:
    """Replay a recorded traced request's log on a fresh tape: (seconds, the tape)."""
    tape = Tape()
    known: dict[int, Any] = dict(zip(_handles(header["args"]), tape.inputs(values), strict=True))
    base = header["trace"]["base"]
    ops = {"op": tape.wrap(operator.add)}
    started = time.perf_counter()
    for index, entry in enumerate(log):
        known[base + index] = replay_operation(entry, index, known, ops)
    return time.perf_counter() - started, tape


def traced_call(proxy: WorkerProxy, values: list[int]) -> TraceSplit:
    """One ``hillis_steele_scan`` on traced inputs, with its request and replay timed apart."""
    seen: dict[str, Any] = {}
    plain_request = proxy.request

    def spy(header: dict[str, Any], buffers: Any = (), **kwargs: Any) -> Any:
        started = time.perf_counter()
        reply = plain_request(header, buffers, **kwargs)
        seen.update(header=header, reply=reply[0], seconds=time.perf_counter() - started)
        return reply

    proxy.request = spy  # type: ignore[method-assign]
    try:
        tape = Tape()
        started = time.perf_counter()
        got = proxy.trace(
            "hillis_steele_scan",
            TraceInputs(tuple(values)),
            OpArg("op"),
            tape=tape,
            ops={"op": operator.add},
        )
        total = time.perf_counter() - started
    finally:
        del proxy.request
    n = len(values)
    if type(got) is not list or len(got) != n or tape.work != scan_work(n):
        raise RuntimeError(f"the traced scan of {n} gave work {tape.work}, not {scan_work(n)}")
    if max_depth(got) != math.ceil(math.log2(n)):
        raise RuntimeError(f"the traced scan of {n} has depth {max_depth(got)}")
    log = seen["reply"]["log"]
    replay, replayed = replay_alone(seen["header"], log, values)
    if replayed.work != tape.work:
        raise RuntimeError("the replay alone did not redo the same work")
    text = json.dumps(log)
    started = time.perf_counter()
    json.loads(text)
    parse = time.perf_counter() - started
    return TraceSplit(total, seen["seconds"], replay, len(text.encode()), parse)


def _in_process_scan() -> Callable[[list[Any]], list[Any]]:
    path = SOLUTIONS_DIR / f"{SCAN_MODULE}.py"
    spec = importlib.util.spec_from_file_location(f"bench_{SCAN_MODULE}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return lambda xs: module.hillis_steele_scan(xs, operator.add)


@dataclass
class WindowBatch:
    """One timed batch the way the harness sizes it (seconds)."""

    calls: int
    run_wall: float
    run_cpu: float


def timed_batches(proxy: WorkerProxy, ping: float, repeats: int, rng: Any) -> list[WindowBatch]:
    """``rnn_style_vector_numpy`` on fresh (2000, 1) inputs, K calls sized like the harness."""
    window = harness_window(ping)

    def calls(count: int) -> list[list[Any]]:
        return [[rng.uniform(-1, 1, (2000, 1))] for _ in range(count)]

    number = 1
    for _ in range(2):  # as interleaved_medians: warm-up batches size K from CPU time
        timed = proxy.timed("rnn_style_vector_numpy", calls(number), device="cpu")
        once = max(timed.cpu_seconds / timed.count, 1e-7)
        number = max(1, min(4000, math.ceil(window / once)))
    batches = []
    for _ in range(repeats):
        timed = proxy.timed("rnn_style_vector_numpy", calls(number), device="cpu")
        batches.append(WindowBatch(timed.count, timed.run_seconds, timed.cpu_seconds))
    return batches


@dataclass
class SandboxCosts:
    """All protocol figures of one sandbox kind."""

    kind: str
    reason: str
    pings: list[float]  # seconds, one empty round trip each
    worker_cpu_per_ping: float  # seconds of the worker's CPU per empty request
    cpu_reading: float  # seconds for the judge to read the worker tree's CPU time (median)
    traces: list[TraceSplit]
    untraced: list[float]  # the same scan, plain floats and operator.add, through the worker
    batches: list[WindowBatch]
    batch_ping: float  # the round trip of the easy worker the batches ran in (median)


@dataclass
class ProtocolCosts:
    n: int
    ops: int
    in_process: list[float]  # the scan in the judge's own interpreter (seconds)
    min_sample_s: float
    overhead_share: float
    kinds: list[SandboxCosts] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def measure(
    *,
    pings: int = 500,
    trace_runs: int = 15,
    batch_repeats: int = 7,
    kinds: tuple[str, ...] = ("bubblewrap", "none"),
    say: Callable[[str], None] = lambda line: None,
) -> ProtocolCosts:
    """Every figure, for each sandbox kind that starts here."""
    rng = random.Random(2026)
    values = [rng.randint(-9, 9) for _ in range(TRACE_N)]
    scan = _in_process_scan()
    costs = ProtocolCosts(TRACE_N, scan_work(TRACE_N), [], MIN_SAMPLE_S, OVERHEAD_SHARE)
    for _ in range(trace_runs):
        started = time.perf_counter()
        scan(list(values))
        costs.in_process.append(time.perf_counter() - started)
    with tempfile.TemporaryDirectory(prefix="bench-protocol-") as tmp:
        work = Path(tmp)
        for kind in kinds:
            try:
                box = sandbox.resolve(kind)
            except sandbox.SandboxUnavailable as error:
                costs.skipped.append(f"{kind}: {error}")
                continue
            with worker(SCAN_MODULE, box, work) as proxy:
                for _ in range(20):
                    ping_once(proxy)  # warm
                samples = [ping_once(proxy) for _ in range(pings)]
                before = proxy.cpu_seconds()
                for _ in range(pings):
                    ping_once(proxy)
                per_ping_cpu = (proxy.cpu_seconds() - before) / pings
                readings = []
                for _ in range(50):
                    started = time.perf_counter()
                    proxy.cpu_seconds()
                    readings.append(time.perf_counter() - started)
                traced_call(proxy, values)  # warm
                traces, untraced = [], []
                floats = [float(v) for v in values]
                for _ in range(trace_runs):  # alternated, so load falls on both alike
                    traces.append(traced_call(proxy, values))
                    _, seconds = proxy.call_timed("hillis_steele_scan", floats, FnArg("add"))
                    untraced.append(seconds)
            with worker(TIMED_MODULE, box, work) as proxy:
                batch_ping = statistics.median(ping_once(proxy) for _ in range(100))
                batches = timed_batches(proxy, batch_ping, batch_repeats, np.random.default_rng(7))
            costs.kinds.append(
                SandboxCosts(
                    box.kind,
                    box.reason,
                    samples,
                    per_ping_cpu,
                    statistics.median(readings),
                    traces,
                    untraced,
                    batches,
                    batch_ping,
                )
            )
            say(f"protocol costs, {kind}: ping {statistics.median(samples) * 1e6:.0f} us")
    return costs


# ---- Markdown -------------------------------------------------------------------------------


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f}"


def _med(values: list[float]) -> float:
    return statistics.median(values)


def render(costs: ProtocolCosts) -> str:
    """Three tables: round trip, traced call, timed window; one column per sandbox kind."""
    kinds = costs.kinds
    if not kinds:
        return "Not measured: " + "; ".join(costs.skipped) + "\n"
    head = "| | " + " | ".join(f"`--sandbox {k.kind}`" for k in kinds) + " |"
    rule = "|---|" + "---:|" * len(kinds)

    def row(label: str, cell: Callable[[SandboxCosts], str]) -> str:
        return f"| {label} | " + " | ".join(cell(k) for k in kinds) + " |"

    def spread_us(values: list[float]) -> str:
        return f"{_us(_med(values))} ({_us(min(values))}-{_us(max(values))})"

    lines = [
        "**Round trip** of an empty request (`ping`: header written, worker decodes and "
        "answers, reply read and validated), judge's wall clock:",
        "",
        head,
        rule,
        row(
            "pings",
            lambda k: f"{len(k.pings)}",
        ),
        row("round trip, median (min-max), µs", lambda k: spread_us(k.pings)),
        row("round trip, 90th percentile, µs", lambda k: _us(_percentile(k.pings, 0.9))),
        row("worker CPU per empty request, µs", lambda k: _us(k.worker_cpu_per_ping)),
        row("judge reading the worker's CPU time once, µs", lambda k: _us(k.cpu_reading)),
        "",
        f"**Traced call**: `hillis_steele_scan` on {costs.n:,} traced inputs, "
        f"{costs.ops:,} applications of `op`, {len(kinds[0].traces)} calls each, medians. "
        "*Request*: the worker runs the scan on opaque handles, logs every operation and "
        "sends the log as JSON, which the judge reads and parses. *Replay*: the judge "
        "recomputing every value on its own tape, timed alone on the recorded log with a "
        "fresh `reference.tracer.Tape`. *Rest*: handles for the inputs, resolving the "
        "result. The untraced call is the same scan through the worker on plain floats with "
        "`operator.add` (`FnArg('add')`); in process, the judge's interpreter runs it "
        f"directly: {_ms(_med(costs.in_process))} ms.",
        "",
        head,
        rule,
        row("traced call, whole, ms", lambda k: _ms(_med([t.total for t in k.traces]))),
        row(
            "per op, µs",
            lambda k: f"{_med([t.total for t in k.traces]) / costs.ops * 1e6:.1f}",
        ),
        row(
            "request (worker runs and logs; log crosses), ms",
            lambda k: _ms(_med([t.request for t in k.traces])),
        ),
        row(
            "of which parsing the log's JSON in the judge, ms",
            lambda k: _ms(_med([t.log_parse for t in k.traces])),
        ),
        row("replay on the judge's tape, ms", lambda k: _ms(_med([t.replay for t in k.traces]))),
        row(
            "rest (inputs, result), ms",
            lambda k: _ms(_med([t.total - t.request - t.replay for t in k.traces])),
        ),
        row("log size, KiB", lambda k: f"{_med([t.log_bytes for t in k.traces]) / 1024:.0f}"),
        row("untraced call through the worker, ms", lambda k: _ms(_med(k.untraced))),
        row(
            "tracing overhead in the worker: request - untraced, per op, µs",
            lambda k: f"{_tracing_overhead(k) / costs.ops * 1e6:.1f}",
        ),
        "",
        "**Timed window**: the harness (`interleaved_medians`) makes each sample at least "
        f"`min_sample_s` = {costs.min_sample_s * 1e3:g} ms and, on CUDA, at least the round "
        f"trip over `OVERHEAD_SHARE` = {costs.overhead_share:g} (target: the round trip at "
        f"most {costs.overhead_share:.0%} of a window). On the CPU the window is the worker's "
        "CPU time, which the round trip does not enter, so K calls per sample are sized from "
        "`min_sample_s` alone. Measured batches: "
        "`rnn_style_vector_numpy` of the easy reference on fresh (2000, 1) inputs, sized that "
        "way, in its own worker.",
        "",
        head,
        rule,
        row("round trip (median, scan worker), µs", lambda k: _us(_med(k.pings))),
        row(
            "window the harness aims at, ms",
            lambda k: f"{harness_window(_med(k.pings)) * 1e3:g}",
        ),
        row(
            "**round trip / window**",
            lambda k: f"**{_med(k.pings) / harness_window(_med(k.pings)):.1%}**",
        ),
        row(
            "worker CPU per request / window",
            lambda k: f"{k.worker_cpu_per_ping / harness_window(_med(k.pings)):.2%}",
        ),
        row(
            "measured batches: K calls, median run window (wall / CPU), ms",
            lambda k: (
                f"K={k.batches[0].calls}: "
                f"{_ms(_med([b.run_wall for b in k.batches]))} / "
                f"{_ms(_med([b.run_cpu for b in k.batches]))}"
            ),
        ),
        row(
            "round trip (easy worker) / measured wall window",
            lambda k: f"{k.batch_ping / _med([b.run_wall for b in k.batches]):.1%}",
        ),
    ]
    if costs.skipped:
        lines += ["", "Not measured: " + "; ".join(costs.skipped)]
    return "\n".join(lines) + "\n"


def _tracing_overhead(kind: SandboxCosts) -> float:
    """Seconds the traced request takes over the untraced call (logging, the longer reply)."""
    return _med([t.request for t in kind.traces]) - _med(kind.untraced)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pings", type=int, default=500)
    parser.add_argument("--trace-runs", type=int, default=15)
    args = parser.parse_args(argv)
    costs = measure(
        pings=args.pings,
        trace_runs=args.trace_runs,
        say=lambda line: print(line, file=sys.stderr, flush=True),
    )
    print(render(costs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
