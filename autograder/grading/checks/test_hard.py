"""Checks of the hard exercise: PyTorch ports, the student's stopwatch, the sweep and its plot.

Every timing verdict is a ratio of two measurements taken by the grader in the
same run (or of the student's figure to the grader's), with tolerances from
``grading.toml``. Checks tagged ``gpu`` only run when the run grades on CUDA.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest
import torch

from autograder.checks import support
from autograder.checks.manual import written_answer
from autograder.checks.support import CheckFailed, attribute, call, check, describe
from autograder.checks.timing import interleaved_medians, loglog_slope, synchronizer

EXPECTED_LENGTHS = tuple(2**k for k in range(6, 17))
ROW_KEYS = ("n", "rnn_seconds", "attention_seconds")
_SLEEP = support._ORIGINAL_TIME["sleep"]


@pytest.fixture(scope="module")
def sub():
    return support.submission("hard")


def rnn_reference(values: list[float]) -> float:
    h = 0.0
    for x in values:
        h = 0.9 * h + x
    return h


def _generator(check_id: str) -> torch.Generator:
    return torch.Generator().manual_seed(support.rng(check_id).getrandbits(62))


def _scalar(got, *, what: str, device: str) -> float:
    """The value of a 0-dim tensor on ``device``; anything else fails the check."""
    if type(got) is not torch.Tensor:
        raise CheckFailed(f"{what} should return a torch.Tensor, got {describe(got)}")
    if got.dim() != 0:
        raise CheckFailed(f"{what} should return a 0-dim tensor, got shape {tuple(got.shape)}")
    if got.device.type != torch.device(device).type:
        raise CheckFailed(f"{what} returned a tensor on {got.device}, expected {device}")
    return float(torch.Tensor.item(got.detach().to("cpu", torch.float64)))


def _expect_close(expected: float, got: float, *, what: str, rel: float, given: str) -> None:
    if not abs(expected - got) <= rel * max(1.0, abs(expected)):
        raise CheckFailed(f"{what}: expected {expected!r}, got {got!r} (input: {given})")


def _check_functions(sub, device: str, check_id: str) -> None:
    attention = attribute(sub, "attention_style_torch")
    rnn = attribute(sub, "rnn_style_torch")
    gen = _generator(check_id)
    for n in (1, 64, 1000, 65536):
        cpu_values = torch.randn(n, generator=gen)
        xs = cpu_values.to(device)
        got = _scalar(call(attention, xs), what="attention_style_torch", device=device)
        want = float(cpu_values.double().mean())
        _expect_close(
            want,
            got,
            what=f"attention_style_torch (n={n})",
            rel=1e-4,
            given=f"torch.randn({n}) on {device}",
        )
    for n in (1, 5, 300):
        cpu_values = torch.randn(n, generator=gen)
        got = _scalar(call(rnn, cpu_values.to(device)), what="rnn_style_torch", device=device)
        _expect_close(
            rnn_reference(cpu_values.double().tolist()),
            got,
            what=f"rnn_style_torch (n={n})",
            rel=1e-4,
            given=describe(cpu_values.tolist()),
        )


@check("hard.attention_correct_cpu")
def test_attention_correct_cpu(sub):
    attention = attribute(sub, "attention_style_torch")
    gen = _generator("hard.attention_correct_cpu")
    for n, dtype, rel in (
        (1, torch.float32, 1e-5),
        (64, torch.float32, 1e-5),
        (65536, torch.float32, 1e-4),
        (1000, torch.float64, 1e-10),
    ):
        xs = torch.randn(n, generator=gen, dtype=dtype)
        got = _scalar(call(attention, xs), what="attention_style_torch", device="cpu")
        _expect_close(
            float(xs.double().mean()),
            got,
            what=f"attention_style_torch (n={n})",
            rel=rel,
            given=f"torch.randn({n}, dtype={dtype})",
        )


@check("hard.rnn_correct_cpu")
def test_rnn_correct_cpu(sub):
    rnn = attribute(sub, "rnn_style_torch")
    gen = _generator("hard.rnn_correct_cpu")
    for n in (1, 2, 5, 300):
        xs = torch.randn(n, generator=gen)
        got = _scalar(call(rnn, xs), what="rnn_style_torch", device="cpu")
        _expect_close(
            rnn_reference(xs.double().tolist()),
            got,
            what=f"rnn_style_torch (n={n})",
            rel=1e-4,
            given=describe(xs.tolist()),
        )


def _expect_time_fn(sub, device: str, fn, known: float, label: str, tol: float) -> dict:
    time_fn = attribute(sub, "time_fn")
    calls = []

    def work():
        calls.append(1)
        fn()

    got = support.as_float(call(time_fn, work, device=device, warmup=1, repeats=5))
    if got is None:
        raise CheckFailed("time_fn should return seconds as a float")
    error = abs(got - known) / known
    data = {
        "known_seconds": known,
        "time_fn_seconds": got,
        "relative_error": error,
        "calls": len(calls),
        "tolerance": tol,
    }
    if len(calls) < 5:
        raise CheckFailed(f"time_fn(fn, repeats=5) called fn only {len(calls)} times")
    if error > tol:
        raise CheckFailed(
            f"time_fn on {label} of known duration {known * 1e3:.2f} ms returned "
            f"{got * 1e3:.3f} ms ({error:.0%} off, allowed {tol:.0%})"
        )
    return data


@check("hard.time_fn_accurate_cpu")
def test_time_fn_accurate_cpu(sub):
    rng = support.rng("hard.time_fn_accurate_cpu")
    tol = support.context().tolerances("cpu").time_fn_rel_error
    report = []
    for _ in range(2):
        seconds = rng.uniform(0.02, 0.05)  # long enough that a busy scheduler cannot blur it
        report.append(
            _expect_time_fn(sub, "cpu", lambda s=seconds: _SLEEP(s), seconds, "a sleep", tol)
        )
    support.record("timing", report)


def _validate_rows(rows, lengths) -> list[dict]:
    if type(rows) is not list or len(rows) != len(lengths):
        raise CheckFailed(
            f"sweep({list(lengths)}) should return {len(lengths)} rows, got {describe(rows)}"
        )
    clean = []
    for index, (row, n) in enumerate(zip(rows, lengths, strict=True)):
        if type(row) is not dict or not all(key in row for key in ROW_KEYS):
            raise CheckFailed(
                f"row {index} should be a dict with keys {ROW_KEYS}, got {describe(row)}"
            )
        values = {"n": row["n"]} | {k: support.as_float(row[k]) for k in ROW_KEYS[1:]}
        if type(values["n"]) is not int or values["n"] != n:
            raise CheckFailed(f"row {index}: expected n={n}, got {describe(row['n'])}")
        if not all(v is not None and v > 0 for v in (values[k] for k in ROW_KEYS[1:])):
            raise CheckFailed(f"row {index}: timings must be positive floats, got {describe(row)}")
        clean.append(values)
    return clean


def _numel(xs) -> int:
    return int(xs.numel()) if type(xs) is torch.Tensor else -1


def _expect_sweep_consistent(sub, device: str, lengths, check_id: str) -> list[dict]:
    """Each reported time must match the grader's timing of the very calls the sweep made."""
    tol = support.context().tolerances(device)
    names = {"rnn_seconds": "rnn_style_torch", "attention_seconds": "attention_style_torch"}
    with support.observed_calls(
        sub, tuple(names.values()), size=_numel, sync=synchronizer(device)
    ) as seen:
        claimed = _validate_rows(call(attribute(sub, "sweep"), list(lengths), device), lengths)
    comparison = []
    for row in claimed:
        for key, name in names.items():
            observed = support.median_duration(seen[name], row["n"])
            if observed is None:
                raise CheckFailed(
                    f"sweep reports {key} for n={row['n']}, but it never called {name} on a "
                    f"tensor of {row['n']} elements: report what you measured"
                )
            ratio = row[key] / observed
            comparison.append(
                {
                    "n": row["n"],
                    "curve": key,
                    "claimed": row[key],
                    "observed": observed,
                    "ratio": ratio,
                }
            )
            if not tol.reported_ratio_min <= ratio <= tol.reported_ratio_max:
                support.record("timing", comparison)
                raise CheckFailed(
                    f"sweep reports {key}={row[key]:.3g} s at n={row['n']}; the grader timed "
                    f"the {name} calls your sweep made at {observed:.3g} s ({ratio:.2f}x, "
                    f"allowed {tol.reported_ratio_min}..{tol.reported_ratio_max}x)"
                )
    support.record("timing", {"rows": claimed, "comparison": comparison})
    return claimed


@check("hard.sweep_rows_cpu")
def test_sweep_rows_cpu(sub):
    rows = _expect_sweep_consistent(sub, "cpu", (256, 1024, 4096), "hard.sweep_rows_cpu")
    support.context().shared["cpu_rows"] = rows


def _expect_shapes(sub, device: str, rnn_lengths, check_id: str) -> dict:
    tol = support.context().tolerances(device)
    rnn = attribute(sub, "rnn_style_torch")
    attention = attribute(sub, "attention_style_torch")
    gen = _generator(check_id)
    inputs = {n: torch.randn(n, generator=gen).to(device) for n in rnn_lengths}
    # all lengths round-robin in one measurement, so a drifting machine slows each alike
    medians = interleaved_medians(
        {str(n): (lambda xs=xs: call(rnn, xs)) for n, xs in inputs.items()},
        device=device,
        repeats=5,
        warmup=1,
    )
    rnn_times = [medians[str(n)] for n in rnn_lengths]
    slope = loglog_slope(rnn_lengths, rnn_times)
    ratios, student_at = {}, {}
    for n in (64, 65536):
        xs = torch.randn(n, generator=gen).to(device)
        medians = interleaved_medians(
            {"student": lambda xs=xs: call(attention, xs), "reference": lambda xs=xs: xs.mean()},
            device=device,
            repeats=15,
            warmup=3,
        )
        ratios[n] = medians["student"] / medians["reference"]
        student_at[n] = medians["student"]
    data = {
        "rnn_lengths": list(rnn_lengths),
        "rnn_seconds": rnn_times,
        "rnn_slope": slope,
        "reduction_ratio": {str(n): r for n, r in ratios.items()},
        "attention_seconds": {str(n): s for n, s in student_at.items()},
    }
    support.record("timing", data)
    if not tol.rnn_slope_min <= slope <= tol.rnn_slope_max:
        raise CheckFailed(
            f"rnn_style_torch's time grows like n^{slope:.2f} over n={rnn_lengths[0]}.."
            f"{rnn_lengths[-1]} (expected n^1, allowed {tol.rnn_slope_min}..{tol.rnn_slope_max}): "
            "one step per element"
        )
    worst = max(ratios, key=ratios.get)
    if ratios[worst] > tol.reduction_ratio_max:
        raise CheckFailed(
            f"attention_style_torch takes {ratios[worst]:.1f}x the time of the reference "
            f"reduction xs.mean() at n={worst} (allowed {tol.reduction_ratio_max}x): "
            "use one library reduction, not a loop"
        )
    return data


@check("hard.curve_shapes_cpu")
def test_curve_shapes_cpu(sub):
    _expect_shapes(sub, "cpu", (256, 512, 1024, 2048, 4096), "hard.curve_shapes_cpu")


def _synthetic_rows() -> list[dict]:
    return [
        {"n": n, "rnn_seconds": 3e-6 * n, "attention_seconds": 8e-6 + 2e-11 * n}
        for n in EXPECTED_LENGTHS
    ]


def _inspect_figure(figure, rows: list[dict], path: Path) -> None:
    from matplotlib.figure import Figure

    if not isinstance(figure, Figure):
        raise CheckFailed(f"plot_sweep should return a matplotlib Figure, got {describe(figure)}")
    axes = [ax for ax in figure.get_axes() if ax.get_xscale() == "log" and ax.get_yscale() == "log"]
    if not axes:
        raise CheckFailed("no axes with a log scale on both x and y (use ax.loglog or set_xscale)")
    ax = axes[0]
    ns = [float(r["n"]) for r in rows]
    wanted = {key: [float(r[key]) for r in rows] for key in ROW_KEYS[1:]}
    found = {}
    for line in ax.get_lines():
        xdata = [float(v) for v in line.get_xdata()]
        ydata = [float(v) for v in line.get_ydata()]
        for key, values in wanted.items():
            if (
                xdata == ns
                and all(
                    abs(a - b) <= 1e-12 * max(abs(b), 1e-30) + 1e-30
                    for a, b in zip(ydata, values, strict=False)
                )
                and len(ydata) == len(values)
            ):
                found[key] = line
    missing = [key for key in wanted if key not in found]
    if missing:
        raise CheckFailed(f"no line plots {', '.join(missing)} against n (the rows passed in)")
    unlabelled = [key for key, line in found.items() if line.get_label().startswith("_")]
    if unlabelled:
        raise CheckFailed(f"the line for {', '.join(unlabelled)} has no label")
    if not ax.get_xlabel().strip() or not ax.get_ylabel().strip():
        raise CheckFailed("both axes need labels (ax.set_xlabel / ax.set_ylabel)")
    legend = ax.get_legend() or (figure.legends[0] if figure.legends else None)
    if legend is None or len(legend.get_texts()) < 2:
        raise CheckFailed("the plot needs a legend naming both curves")
    if not path.is_file() or path.stat().st_size == 0:
        raise CheckFailed(f"plot_sweep did not save the figure to {path.name}")


@check("hard.plot_content")
def test_plot_content(sub):
    ctx = support.context()
    plot_sweep = attribute(sub, "plot_sweep")
    rows = _synthetic_rows()
    path = ctx.artifacts_dir / "plot-check.png"
    _inspect_figure(call(plot_sweep, rows, path), rows, path)
    real_rows = ctx.shared.get("cuda_rows") or ctx.shared.get("cpu_rows")
    if real_rows:
        try:
            call(plot_sweep, real_rows, ctx.artifacts_dir / "sweep.png")
            support.record("artifact", "sweep.png")
        except Exception:
            pass


@check("hard.explanation")
def test_explanation(sub):
    written_answer(sub, "EXPLANATION", "hard.explanation")


# ---- GPU checks: only collected into a run on CUDA ----


@check("hard.correct_cuda")
def test_correct_cuda(sub):
    _check_functions(sub, "cuda", "hard.correct_cuda")


def _sleep_kernel_seconds(target: float) -> tuple[int, float]:
    """Cycles for torch.cuda._sleep that last about ``target`` s, and their measured duration."""

    def event_time(cycles: int) -> float:
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        torch.cuda._sleep(cycles)
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end) / 1e3

    event_time(1000)
    rate = 1_000_000 / statistics.median(event_time(1_000_000) for _ in range(3))
    cycles = int(rate * target)
    return cycles, statistics.median(event_time(cycles) for _ in range(5))


@check("hard.time_fn_synchronises_cuda")
def test_time_fn_synchronises_cuda(sub):
    tol = support.context().tolerances("cuda").time_fn_rel_error
    report = []
    for target in (0.004, 0.010):
        cycles, known = _sleep_kernel_seconds(target)
        report.append(
            _expect_time_fn(
                sub, "cuda", lambda c=cycles: torch.cuda._sleep(c), known, "a GPU kernel", tol
            )
        )
    support.record("timing", report)


@check("hard.sweep_rows_cuda")
def test_sweep_rows_cuda(sub):
    rows = _expect_sweep_consistent(sub, "cuda", EXPECTED_LENGTHS, "hard.sweep_rows_cuda")
    ctx = support.context()
    ctx.shared["cuda_rows"] = rows
    try:
        call(attribute(sub, "plot_sweep"), rows, ctx.artifacts_dir / "sweep.png")
        support.record("artifact", "sweep.png")
    except Exception:
        pass


@check("hard.curve_shapes_cuda")
def test_curve_shapes_cuda(sub):
    data = _expect_shapes(sub, "cuda", (1024, 2048, 4096, 8192, 16384), "hard.curve_shapes_cuda")
    tol = support.context().tolerances("cuda").attention_flatness_max
    seconds = data["attention_seconds"]
    flatness = seconds["65536"] / seconds["64"]
    if flatness > tol:
        raise CheckFailed(
            f"attention_style_torch at n=65,536 takes {flatness:.1f}x its time at n=64 "
            f"(allowed {tol}x): one reduction kernel should be nearly flat"
        )
