"""Checks of the hard exercise: PyTorch ports, the student's stopwatch, the sweep and its plot.

Inputs are drawn by the judge (numpy) and sent as tensor data; every timing verdict
is a ratio of two durations the judge measured in the same run, or of the student's
figure to the judge's, with tolerances from ``grading.toml``. Checks tagged ``gpu``
only run when the run grades on CUDA. The judge never imports torch or matplotlib
for these: tensors come back as numbers, figures as SVG text it parses itself (plot_svg.py).
"""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

from autograder.grading.judge.checks import support
from autograder.grading.judge.checks.hard_values import (
    REFERENCES,
    ROW_KEYS,
    VERIFY,
    expect_close,
    rnn_reference,
    scalar,
    validate_rows,
)
from autograder.grading.judge.checks.manual import written_answer
from autograder.grading.judge.checks.numbers import (
    at_least,
    at_most,
    between,
    ratio,
)
from autograder.grading.judge.checks.plot_svg import inspect_svg
from autograder.grading.judge.checks.support import CheckFailed, check, describe
from autograder.grading.judge.checks.time_fn import (
    LateFigure,
    expect_time_fn,
    expect_time_fn_waits,
    wait_plan,
)
from autograder.grading.judge.checks.timing import (
    Contender,
    Medians,
    interleaved_medians,
    interleaved_timings,
    loglog_slope,
    windows,
)
from autograder.grading.processes.device_lease import device_lease
from autograder.grading.worker.protocol import TensorArg
from autograder.spec import paths

EXPECTED_LENGTHS = tuple(2**k for k in range(6, 17))
# a figure beyond its bound is measured up to this many more times (the best kept): a CI
# machine at a load of 4 on 2 cores once failed the model solution's CPU curves after one
# retry; on CUDA one retry was enough in every H200 run (docs/gpu-validation.md), and each
# costs a broken submission's loop reduction seconds of GPU
REMEASURE = {"cpu": 2, "cuda": 1}
# samples per contender of the reduction's ratio to the reference. CPU: 5 (9 until
# 2026-12-05): with 5, honest 0.725-1.27 against the bound of 3 and a loop or a tree at
# least 6.6 under load (docs/benchmarks.md, sections 4-5); CUDA keeps the 9 it was validated with
REDUCTION_REPEATS = {"cpu": 5, "cuda": 9}


@pytest.fixture(scope="module")
def sub(grading):
    return support.submission(grading)


CORRECTNESS_LENGTHS = {
    "attention_style_torch": (1, 64, 1000, 65536),
    "rnn_style_torch": (1, 5, 300),
}


def _rng(ctx: support.GradingContext, check_id: str) -> np.random.Generator:
    return np.random.default_rng(support.rng(ctx, check_id).getrandbits(62))


def _check_functions(ctx: support.GradingContext, sub, device: str, check_id: str) -> None:
    rng = _rng(ctx, check_id)
    for function, lengths in CORRECTNESS_LENGTHS.items():
        for n in lengths:
            values = rng.standard_normal(n).astype(np.float32)
            got = sub.call(function, TensorArg(values, device))
            given = (
                describe(values.tolist())
                if function == "rnn_style_torch"
                else f"{n} standard normal float32 values on {device}"
            )
            expect_close(
                REFERENCES[function](values),
                scalar(got, what=function, device=device),
                what=f"{function} (n={n})",
                rel=1e-4,
                given=given,
            )


@check("hard.attention_correct_cpu")
def test_attention_correct_cpu(sub, grading):
    rng = _rng(grading, "hard.attention_correct_cpu")
    for n, dtype, rel in (
        (1, np.float32, 1e-5),
        (64, np.float32, 1e-5),
        (65536, np.float32, 1e-4),
        (1000, np.float64, 1e-10),
    ):
        values = rng.standard_normal(n).astype(dtype)
        got = sub.call("attention_style_torch", TensorArg(values, "cpu"))
        expect_close(
            float(values.astype(np.float64).mean()),
            scalar(got, what="attention_style_torch", device="cpu"),
            what=f"attention_style_torch (n={n})",
            rel=rel,
            given=f"{n} standard normal values, dtype {np.dtype(dtype).name}",
        )


@check("hard.rnn_correct_cpu")
def test_rnn_correct_cpu(sub, grading):
    rng = _rng(grading, "hard.rnn_correct_cpu")
    for n in (1, 2, 5, 300):
        values = rng.standard_normal(n).astype(np.float32)
        got = sub.call("rnn_style_torch", TensorArg(values, "cpu"))
        expect_close(
            rnn_reference(values),
            scalar(got, what="rnn_style_torch", device="cpu"),
            what=f"rnn_style_torch (n={n})",
            rel=1e-4,
            given=describe(values.tolist()),
        )


@check("hard.time_fn_accurate_cpu")
def test_time_fn_accurate_cpu(sub, grading):
    rng = support.rng(grading, "hard.time_fn_accurate_cpu")
    tol = grading.tolerances("cpu").time_fn_rel_error
    report = []
    for low, high in wait_plan(rng):  # each measurement's range drawn, both ranges present
        for attempt in range(1 + REMEASURE["cpu"]):
            wait = rng.uniform(low, high)  # long enough that a busy scheduler cannot blur it
            try:
                report.append(expect_time_fn_waits(sub, wait, tol))
                break
            except LateFigure:  # a late wake-up on a busy machine: again, from the same range
                if attempt == REMEASURE["cpu"]:
                    support.record(grading, "timing", report)
                    raise
            except CheckFailed:  # too small, far too large, fn not run: no noise does that
                support.record(grading, "timing", report)
                raise
    support.record(grading, "timing", report)


def _contender(worker, function: str, n: int, device: str, rng) -> Contender:
    def make_calls(count: int) -> list[list]:
        return [[window] for window in windows(rng, n, count, np.float32, device)]

    return Contender(worker, function, make_calls, VERIFY[function], payload_bytes=4 * n)


def _expect_sweep_consistent(
    ctx, sub, device: str, lengths, check_id: str, serial: support.Measurement | None = None
) -> list[dict]:
    """Each reported time must agree with the judge's timing of the same function and length.

    The judge times the whole ``sweep`` call (the rows cannot claim more time than it
    took), then times both functions at every length itself; ``serial``, the judge's timing
    of rnn_style_torch on the serial curve's lengths (:func:`_serial_timings`), serves the
    lengths it has.
    """
    tol = ctx.tolerances(device)
    with device_lease(device):  # the student's own timed windows
        rows, elapsed = sub.call_timed("sweep", list(lengths), device)
    claimed = validate_rows(rows, lengths)
    claimed_total = sum(row[key] for row in claimed for key in ROW_KEYS[1:])
    if not at_most(claimed_total, elapsed):
        raise CheckFailed(
            f"sweep reports {claimed_total * 1e3:.2f} ms of calls (one of each) but the whole "
            f"call took {elapsed * 1e3:.2f} ms: report what you measured"
        )
    rng = _rng(ctx, check_id)
    names = {"rnn_seconds": "rnn_style_torch", "attention_seconds": "attention_style_torch"}
    serial_seen = serial.result() if serial is not None else {}
    contenders = {
        f"{key}:{n}": _contender(sub, name, n, device, rng)
        for n in lengths
        for key, name in names.items()
        if not (key == "rnn_seconds" and n in serial_seen)
    }
    # a real measurement lies between the work's CPU time (the judge's verdict clock) and
    # the wall time the judge saw (larger on a busy machine): each bound with its slack
    observed = interleaved_timings(ctx, contenders, device=device, repeats=3)
    observed |= {f"rnn_seconds:{n}": serial_seen[n] for n in lengths if n in serial_seen}
    comparison = []
    for row in claimed:
        for key, name in names.items():
            seen = observed[f"{key}:{row['n']}"]
            low, high = ratio(row[key], seen.cpu), ratio(row[key], seen.wall)
            comparison.append(
                {
                    "n": row["n"],
                    "curve": key,
                    "claimed": row[key],
                    "observed_cpu": seen.cpu,
                    "observed_wall": seen.wall,
                    "ratio": low,
                    "ratio_to_wall": high,
                }
            )
            agrees = at_least(low, tol.reported_ratio_min) and at_most(high, tol.reported_ratio_max)
            if not agrees:
                support.record(ctx, "timing", {"rows": claimed, "comparison": comparison})
                raise CheckFailed(
                    f"sweep reports {key}={row[key]:.3g} s at n={row['n']}; the grader timed "
                    f"{name} on tensors of {row['n']} elements at {seen.cpu:.3g} s of CPU, "
                    f"{seen.wall:.3g} s of wall clock ({low:.2f}x and {high:.2f}x; allowed at "
                    f"least {tol.reported_ratio_min}x the CPU time and at most "
                    f"{tol.reported_ratio_max}x the wall time)"
                )
    support.record(
        ctx, "timing", {"rows": claimed, "comparison": comparison, "sweep_call_seconds": elapsed}
    )
    return claimed


def _keep_sweep_plot(ctx: support.GradingContext, sub, rows: list[dict]) -> None:
    """The student's own plot of their own rows, for the report (no verdict)."""
    try:
        path = f"/tmp/{paths.SWEEP_PLOT}" if ctx.sandbox.kind == "bubblewrap" else paths.SWEEP_PLOT
        rendered = sub.plot("plot_sweep", rows, path, keep=True)
    except (CheckFailed, support.SubmissionError):
        return
    data = rendered.get("saved")
    if type(data) is bytes and data.startswith(b"\x89PNG\r\n\x1a\n"):
        artifacts = ctx.work_dir / paths.ARTIFACTS_FOLDER
        (artifacts / paths.SWEEP_PLOT).write_bytes(data)
        support.record(ctx, "artifact", paths.SWEEP_PLOT)


SWEEP_LENGTHS = {"cpu": (256, 1024, 4096), "cuda": (64, 256, 1024, 4096, 8192)}  # CUDA: a subset


def _sweep(
    ctx, sub, device: str, serial: support.Measurement | None = None
) -> support.Measurement[list[dict]]:
    """The student's sweep on ``device``, checked against the judge's own timing: measured by
    hard.sweep_rows_<device>; the plot check keeps the student's plot of it."""
    lengths, check_id = SWEEP_LENGTHS[device], f"hard.sweep_rows_{device}"
    return support.Measurement(
        lambda: _expect_sweep_consistent(ctx, sub, device, lengths, check_id, serial)
    )


SERIAL_LENGTHS = {"cpu": (256, 512, 1024, 2048, 4096), "cuda": (1024, 2048, 4096, 8192, 16384)}


def _serial_timings(ctx, sub, device: str, rng=None) -> dict[int, Medians]:
    """rnn_style_torch timed by the judge at each length of the serial curve, all lengths
    round-robin in one measurement (a drifting machine slows each alike). ``rng``: the inputs'
    generator (a check's own, so a re-measurement draws fresh inputs); by default one of
    the serial curve's own, for the measurement two checks share (:func:`cpu_serial`)."""
    lengths = SERIAL_LENGTHS[device]
    rng = rng if rng is not None else _rng(ctx, f"hard.serial_{device}")
    timings = interleaved_timings(
        ctx,
        {str(n): _contender(sub, "rnn_style_torch", n, device, rng) for n in lengths},
        device=device,
        repeats=5,
    )
    return {n: timings[str(n)] for n in lengths}


@pytest.fixture(scope="module")
def cpu_serial(grading, sub) -> support.Measurement[dict[int, Medians]]:
    """The CPU serial curve, measured once for two checks: its lengths hold the CPU sweep's
    (hard.sweep_rows_cpu compares the student's rows with it, hard.curve_shapes_cpu fits its
    slope): 0.2 s of timing less than measuring it twice."""
    return support.Measurement(lambda: _serial_timings(grading, sub, "cpu"))


@pytest.fixture(scope="module")
def cpu_sweep(grading, sub, cpu_serial) -> support.Measurement[list[dict]]:
    return _sweep(grading, sub, "cpu", cpu_serial)


@pytest.fixture(scope="module")
def cuda_sweep(grading, sub) -> support.Measurement[list[dict]]:
    return _sweep(grading, sub, "cuda")


@check("hard.sweep_rows_cpu")
def test_sweep_rows_cpu(cpu_sweep):
    cpu_sweep.result()


def _expect_shapes(
    ctx, sub, device: str, check_id: str, serial: support.Measurement | None = None
) -> dict:
    """The serial curve's slope and the reduction's ratio to the reference; ``serial``: the
    serial curve already measured (:func:`_serial_timings`), the first of its measurements."""
    tol = ctx.tolerances(device)
    rng = _rng(ctx, check_id)
    rnn_lengths = SERIAL_LENGTHS[device]

    def serial_slope(measured: dict[int, Medians] | None = None) -> tuple[float, list[float]]:
        if measured is None:  # measured again, on fresh inputs from this check's generator
            measured = _serial_timings(ctx, sub, device, rng)
        times = [measured[n].verdict for n in rnn_lengths]
        return loglog_slope(rnn_lengths, times), times

    def reduction(n: int) -> tuple[float, float]:
        medians = interleaved_medians(
            ctx,
            {
                "student": _contender(sub, "attention_style_torch", n, device, rng),
                "reference": _contender(reference, "attention_style_torch", n, device, rng),
            },
            device=device,
            repeats=REDUCTION_REPEATS[device],
            warmup=2,
        )
        return ratio(medians["student"], medians["reference"]), medians["student"]

    # a figure beyond its bound is measured again, up to REMEASURE times, and the best one
    # kept: a disturbance of a busy machine cannot fail honest code, while a wrong
    # implementation fails every time (docs/benchmarks.md)
    slope, rnn_times = serial_slope(serial.result() if serial is not None else None)
    for _ in range(REMEASURE[device]):
        if between(slope, tol.rnn_slope_min, tol.rnn_slope_max):
            break
        again = serial_slope()
        if abs(again[0] - 1) < abs(slope - 1) or math.isnan(slope):
            slope, rnn_times = again
    reference = support.reference_worker(ctx)
    ratios, student_at = {}, {}
    for n in (64, 65536):
        ratios[n], student_at[n] = reduction(n)
        for _ in range(REMEASURE[device]):
            if at_most(ratios[n], tol.reduction_ratio_max):
                break
            again = reduction(n)
            if at_most(again[0], ratios[n]) or math.isnan(ratios[n]):  # the better one
                ratios[n], student_at[n] = again
    data = {
        "rnn_lengths": list(rnn_lengths),
        "rnn_seconds": rnn_times,
        "rnn_slope": slope,
        "reduction_ratio": {str(n): r for n, r in ratios.items()},
        "attention_seconds": {str(n): s for n, s in student_at.items()},
    }
    support.record(ctx, "timing", data)
    if not between(slope, tol.rnn_slope_min, tol.rnn_slope_max):
        raise CheckFailed(
            f"rnn_style_torch's time grows like n^{slope:.2f} over n={rnn_lengths[0]}.."
            f"{rnn_lengths[-1]} (expected n^1, allowed {tol.rnn_slope_min}..{tol.rnn_slope_max}): "
            "one step per element"
        )
    failing = [n for n in ratios if not at_most(ratios[n], tol.reduction_ratio_max)]
    if failing:  # the worst one names the mistake best (a NaN ratio counts as the worst)
        worst = max(failing, key=lambda n: math.inf if math.isnan(ratios[n]) else ratios[n])
        raise CheckFailed(
            f"attention_style_torch takes {ratios[worst]:.1f}x the time of the reference "
            f"reduction xs.mean() at n={worst} (allowed {tol.reduction_ratio_max}x): "
            "use one library reduction, not a loop"
        )
    return data


@check("hard.curve_shapes_cpu")
def test_curve_shapes_cpu(sub, grading, cpu_serial):
    _expect_shapes(grading, sub, "cpu", "hard.curve_shapes_cpu", cpu_serial)


# ---- the plot, read from the SVG the worker rendered ----


def _synthetic_rows(rng) -> list[dict]:
    """Rows with random wiggles, so a plot cannot be drawn without the rows passed in."""
    return [
        {
            "n": n,
            "rnn_seconds": 3e-6 * n * rng.uniform(0.8, 1.25),
            "attention_seconds": 8e-6 * rng.uniform(0.8, 1.25) + 2e-11 * n,
        }
        for n in EXPECTED_LENGTHS
    ]


@check("hard.plot_content")
def test_plot_content(sub, grading, cpu_sweep, cuda_sweep):
    rows = _synthetic_rows(_rng(grading, "hard.plot_content"))
    path = "/tmp/plot-check.png" if grading.sandbox.kind == "bubblewrap" else "plot-check.png"
    rendered = sub.plot("plot_sweep", rows, path, keep=False)
    if rendered.get("svg") is None:
        raise CheckFailed(
            f"plot_sweep should return a matplotlib Figure, got <{rendered['returned']} object>"
        )
    if type(rendered["svg"]) is not bytes or not rendered["svg"]:
        raise CheckFailed("the figure plot_sweep returned could not be rendered")
    inspect_svg(rendered["svg"], rows, curves=ROW_KEYS[1:])
    if not (type(rendered.get("saved_bytes")) is int and rendered["saved_bytes"] > 0):
        raise CheckFailed("plot_sweep did not save the figure to the path it was given")
    real_rows = cuda_sweep.measured() or cpu_sweep.measured()
    if real_rows:
        _keep_sweep_plot(grading, sub, real_rows)


@check("hard.explanation")
def test_explanation(sub, grading):
    written_answer(grading, sub, "EXPLANATION")


# ---- GPU checks: only collected into a run on CUDA ----


@check("hard.correct_cuda")
def test_correct_cuda(sub, grading):
    _check_functions(grading, sub, "cuda", "hard.correct_cuda")


def _sleep_kernel(ctx: support.GradingContext, target: float) -> tuple[int, float]:
    """Cycles of torch.cuda._sleep lasting about ``target`` s, timed in the reference worker.

    The judge's clock around a reference call (kernel, then synchronise) gives the rate.
    """
    reference = support.reference_worker(ctx)
    reference.call("cuda_sleep", 1000)
    trip = reference.ping_seconds or reference.ping()

    def kernel_seconds(cycles: int) -> float:
        return reference.call_timed("cuda_sleep", cycles)[1] - trip

    rate = 1_000_000 / statistics.median(kernel_seconds(1_000_000) for _ in range(3))
    cycles = int(rate * target)
    return cycles, statistics.median(kernel_seconds(cycles) for _ in range(5))


@check("hard.time_fn_synchronises_cuda")
def test_time_fn_synchronises_cuda(sub, grading):
    tol = grading.tolerances("cuda").time_fn_rel_error
    report = []
    for target in (0.004, 0.010):
        cycles, known = _sleep_kernel(grading, target)
        work = {"kind": "cuda_sleep", "cycles": cycles}
        report.append(expect_time_fn(sub, "cuda", work, known, "a GPU kernel", tol))
    support.record(grading, "timing", report)


@check("hard.sweep_rows_cuda")
def test_sweep_rows_cuda(sub, grading, cuda_sweep):
    _keep_sweep_plot(grading, sub, cuda_sweep.result())


@check("hard.curve_shapes_cuda")
def test_curve_shapes_cuda(sub, grading):
    data = _expect_shapes(grading, sub, "cuda", "hard.curve_shapes_cuda")
    tol = grading.tolerances("cuda").attention_flatness_max
    seconds = data["attention_seconds"]
    flatness = ratio(seconds["65536"], seconds["64"])
    if not at_most(flatness, tol):
        raise CheckFailed(
            f"attention_style_torch at n=65,536 takes {flatness:.1f}x its time at n=64 "
            f"(allowed {tol}x): one reduction kernel should be nearly flat"
        )
