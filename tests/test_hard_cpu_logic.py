"""The hard exercise's other decisions (``checks/test_hard.py``) on a fake worker: the torch
ports' values on the CPU and on CUDA, the timed outputs' checks, the CPU sweep against the
judge's timing, the plot's wrapper and the written answer.

Each check runs as the judge runs it, with only the worker's replies and the judge's
stopwatch replaced (tests/test_cuda_logic.py covers the CUDA timing decisions the same way).
No worker starts and nothing is timed (``make mutate``'s ``hard_cpu`` target).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from judge_context import call_check, failure, judge_context

from autograder.grading.judge.checks import hard_values, support
from autograder.grading.judge.checks import test_hard as hard
from autograder.grading.judge.checks.support import CheckFailed, SubmissionError, describe
from autograder.grading.judge.checks.timing import Contender, Medians
from autograder.grading.judge.checks.timing import windows as timing_windows
from autograder.grading.sandbox import Sandbox
from autograder.grading.worker.protocol import ArrayValue, TensorArg, TensorWindow
from autograder.spec.settings import load_settings

TOL = load_settings().tolerances_for("cpu")
PNG = b"\x89PNG\r\n\x1a\n" + b"rest of the image"


@pytest.fixture
def context(tmp_path: Path) -> support.GradingContext:
    return judge_context(tmp_path, exercise="hard", device="cpu")


def tensor(value: float, *, device: str = "cpu", shape: tuple = ()) -> ArrayValue:
    return ArrayValue("tensor", "float32", shape, device, np.asarray(value, dtype=np.float64))


def mean_of(arg: TensorArg) -> float:
    return float(arg.values.astype(np.float64).mean())


class FakeSub:
    """The submission's worker: each reply computed by the test, never a real process."""

    def __init__(self, **replies: Callable[..., Any]) -> None:
        self.replies, self.calls, self.plots = replies, [], []

    def call(self, function: str, *args: Any) -> Any:
        self.calls.append((function, args))
        return self.replies[function](*args)

    def call_timed(self, function: str, *args: Any) -> tuple[Any, float]:
        self.calls.append((function, args))
        return self.replies[function](*args)

    def plot(self, function: str, rows: list, path: str, *, keep: bool) -> dict:
        self.plots.append((function, rows, path, keep))
        return self.replies["plot"](rows, path, keep)


def ports(
    attention: Callable[[TensorArg], Any] | None = None,
    rnn: Callable[[TensorArg], Any] | None = None,
) -> FakeSub:
    """attention_style_torch / rnn_style_torch: the model's values unless a reply is given."""

    def model_attention(arg: TensorArg) -> ArrayValue:
        return tensor(mean_of(arg), device=arg.device)

    def model_rnn(arg: TensorArg) -> ArrayValue:
        return tensor(hard_values.rnn_reference(arg.values), device=arg.device)

    return FakeSub(
        attention_style_torch=attention or model_attention, rnn_style_torch=rnn or model_rnn
    )


def draws(check_id: str) -> np.random.Generator:
    """The check's numpy generator, seeded from the run's seed (7) as the check seeds it."""
    return np.random.default_rng(random.Random(f"7:{check_id}").getrandbits(62))


# ---------------------------------------------------------------- helpers


def test_the_rnn_reference_is_the_recurrence_in_closed_form() -> None:
    assert hard_values.rnn_reference(np.array([1.0, 2.0, 3.0])) == pytest.approx(0.81 + 1.8 + 3.0)
    assert hard_values.rnn_reference(np.array([4.0])) == 4.0
    assert hard_values.rnn_reference(np.array([], dtype=np.float32)) == 0.0
    values = np.random.default_rng(1).standard_normal(300).astype(np.float32)
    h = 0.0
    for v in values.astype(np.float64):
        h = 0.9 * h + v
    assert hard_values.rnn_reference(values) == pytest.approx(h, rel=1e-12)


@pytest.mark.parametrize(
    ("expected", "got", "rel", "close"),
    [
        (0.5, 0.5 + 0.99e-4, 1e-4, True),
        (0.5, 0.5 - 1.01e-4, 1e-4, False),  # below 1 in size: an absolute 1e-4
        (1000.0, 1000.0 + 0.099, 1e-4, True),
        (1000.0, 1000.0 - 0.101, 1e-4, False),
        (-1000.0, -1000.0 + 0.099, 1e-4, True),
        (-1000.0, -1000.0 - 0.101, 1e-4, False),
        (4.0, 5.0, 0.25, True),  # exactly at the bound (binary fractions: no rounding)
        (0.5, 0.25, 0.25, True),  # exactly at the floor of 1
        (0.0, float("nan"), 1e-4, False),
    ],
)
def test_values_are_close_within_rel_times_at_least_one(expected, got, rel, close) -> None:
    assert hard_values.close(expected, got, rel) is close


def test_expect_close_names_both_values_and_the_input() -> None:
    hard_values.expect_close(1.0, 1.0 + 0.5e-5, what="f", rel=1e-5, given="g")
    with pytest.raises(CheckFailed) as failed:
        hard_values.expect_close(1.0, 1.5, what="f (n=3)", rel=1e-4, given="three numbers")
    assert str(failed.value) == "f (n=3): expected 1.0, got 1.5 (input: three numbers)"


@pytest.mark.parametrize(
    ("got", "device", "message"),
    [
        (None, "cpu", "f should return a torch.Tensor, got None"),
        (0.5, "cpu", "f should return a torch.Tensor, got 0.5"),
        (
            ArrayValue("ndarray", "float32", (), "cpu", np.asarray(0.5)),
            "cpu",
            "f should return a torch.Tensor, got <numpy.ndarray of shape (), dtype float32, "
            "on cpu>",
        ),
        (tensor(0.5, shape=(1,)), "cpu", "f should return a 0-dim tensor, got shape (1,)"),
        (tensor(0.5, device="cuda:0"), "cpu", "f returned a tensor on cuda:0, expected cpu"),
        (tensor(0.5, device="cpu"), "cuda", "f returned a tensor on cpu, expected cuda"),
        (tensor(0.5, device="meta"), "cuda", "f returned a tensor on meta, expected cuda"),
    ],
)
def test_a_scalar_is_a_0_dim_tensor_on_the_device(got, device, message) -> None:
    with pytest.raises(CheckFailed) as failed:
        hard_values.scalar(got, what="f", device=device)
    assert str(failed.value) == message


def test_a_scalar_on_any_cuda_index_is_read_as_a_float() -> None:
    assert hard_values.scalar(tensor(0.25, device="cuda:1"), what="f", device="cuda") == 0.25
    assert hard_values.scalar(tensor(0.25), what="f", device="cpu") == 0.25
    assert type(hard_values.scalar(tensor(0.25), what="f", device="cpu")) is float


# ---------------------------------------------------------------- the ports' values on the CPU


ATTENTION_CPU = [(1, "float32", 1e-5), (64, "float32", 1e-5), (65536, "float32", 1e-4)]
ATTENTION_CPU.append((1000, "float64", 1e-10))


def test_the_model_passes_both_cpu_value_checks_on_the_runs_draws(context) -> None:
    sub = ports()
    call_check(hard.test_attention_correct_cpu, sub, context)
    call_check(hard.test_rnn_correct_cpu, sub, context)
    rng = draws("hard.attention_correct_cpu")
    expected = [rng.standard_normal(n).astype(dtype) for n, dtype, _ in ATTENTION_CPU]
    rng = draws("hard.rnn_correct_cpu")
    expected += [rng.standard_normal(n).astype(np.float32) for n in (1, 2, 5, 300)]
    sent = [args[0] for _, args in sub.calls]
    assert [fn for fn, _ in sub.calls] == ["attention_style_torch"] * 4 + ["rnn_style_torch"] * 4
    assert all(type(arg) is TensorArg and arg.device == "cpu" for arg in sent)
    assert [arg.values.dtype for arg in sent] == [e.dtype for e in expected]
    assert all(np.array_equal(arg.values, e) for arg, e in zip(sent, expected, strict=True))


def off_at(n: int, by: float, truth: Callable[[TensorArg], float]) -> Callable:
    """A port right at every length but ``n``, where it is ``by`` x max(1, |value|) off."""

    def reply(arg: TensorArg) -> ArrayValue:
        value = truth(arg)
        if len(arg.values) == n:
            value += by * max(1.0, abs(value))
        return tensor(value, device=arg.device)

    return reply


@pytest.mark.parametrize(("n", "dtype", "rel"), ATTENTION_CPU)
@pytest.mark.parametrize("share", [0.9, 1.1])
def test_attention_on_the_cpu_at_each_lengths_tolerance(context, n, dtype, rel, share) -> None:
    sub = ports(attention=off_at(n, share * rel, mean_of))
    if share < 1:
        call_check(hard.test_attention_correct_cpu, sub, context)
        return
    error = failure(hard.test_attention_correct_cpu, sub, context)
    arg = sub.calls[-1][1][0]
    got = off_at(n, share * rel, mean_of)(arg)
    assert str(error) == (
        f"attention_style_torch (n={n}): expected {mean_of(arg)!r}, "
        f"got {float(got.values)!r} (input: {n} standard normal values, dtype {dtype})"
    )


def rnn_of(arg: TensorArg) -> float:
    return hard_values.rnn_reference(arg.values)


@pytest.mark.parametrize("n", [1, 2, 5, 300], ids=["first", "2", "middle", "last"])
@pytest.mark.parametrize("share", [0.9, 1.1])
def test_the_rnn_on_the_cpu_at_each_lengths_tolerance(context, n, share) -> None:
    sub = ports(rnn=off_at(n, share * 1e-4, rnn_of))
    if share < 1:
        call_check(hard.test_rnn_correct_cpu, sub, context)
        return
    error = failure(hard.test_rnn_correct_cpu, sub, context)
    arg = sub.calls[-1][1][0]
    got = off_at(n, share * 1e-4, rnn_of)(arg)
    assert str(error) == (
        f"rnn_style_torch (n={n}): expected {rnn_of(arg)!r}, got {float(got.values)!r} "
        f"(input: {describe(arg.values.tolist())})"
    )


def test_a_port_that_returns_no_tensor_fails_its_check(context) -> None:
    sub = ports(attention=lambda arg: mean_of(arg))
    assert str(failure(hard.test_attention_correct_cpu, sub, context)).startswith(
        "attention_style_torch should return a torch.Tensor, got "
    )
    sub = ports(rnn=lambda arg: tensor(rnn_of(arg), shape=(1,)))
    assert str(failure(hard.test_rnn_correct_cpu, sub, context)) == (
        "rnn_style_torch should return a 0-dim tensor, got shape (1,)"
    )


# ---------------------------------------------------------------- the ports' values on CUDA


def test_the_model_passes_the_cuda_value_check(context) -> None:
    sub = ports()
    call_check(hard.test_correct_cuda, sub, context)
    rng = draws("hard.correct_cuda")
    lengths = [(fn, len(args[0].values)) for fn, args in sub.calls]
    assert lengths == [
        *[("attention_style_torch", n) for n in (1, 64, 1000, 65536)],
        *[("rnn_style_torch", n) for n in (1, 5, 300)],
    ]
    expected = [rng.standard_normal(n).astype(np.float32) for n in (1, 64, 1000, 65536, 1, 5, 300)]
    sent = [args[0] for _, args in sub.calls]
    assert all(arg.device == "cuda" and arg.values.dtype == np.float32 for arg in sent)
    assert all(np.array_equal(arg.values, e) for arg, e in zip(sent, expected, strict=True))


@pytest.mark.parametrize("n", [1, 64, 1000, 65536], ids=["first", "64", "1000", "last"])
@pytest.mark.parametrize("share", [0.9, 1.1])
def test_attention_on_cuda_is_compared_to_1e_4(context, n, share) -> None:
    sub = ports(attention=off_at(n, share * 1e-4, mean_of))
    if share < 1:
        call_check(hard.test_correct_cuda, sub, context)
        return
    error = failure(hard.test_correct_cuda, sub, context)
    arg = sub.calls[-1][1][0]
    got = off_at(n, share * 1e-4, mean_of)(arg)
    assert str(error) == (
        f"attention_style_torch (n={n}): expected {mean_of(arg)!r}, got {float(got.values)!r} "
        f"(input: {n} standard normal float32 values on cuda)"
    )


@pytest.mark.parametrize("n", [1, 5, 300], ids=["first", "middle", "last"])
@pytest.mark.parametrize("share", [0.9, 1.1])
def test_the_rnn_on_cuda_is_compared_to_1e_4(context, n, share) -> None:
    sub = ports(rnn=off_at(n, share * 1e-4, rnn_of))
    if share < 1:
        call_check(hard.test_correct_cuda, sub, context)
        return
    error = failure(hard.test_correct_cuda, sub, context)
    arg = sub.calls[-1][1][0]
    got = off_at(n, share * 1e-4, rnn_of)(arg)
    assert str(error) == (
        f"rnn_style_torch (n={n}): expected {rnn_of(arg)!r}, got {float(got.values)!r} "
        f"(input: {describe(arg.values.tolist())})"
    )


def test_a_cuda_port_must_return_a_tensor_on_cuda(context) -> None:
    sub = ports(rnn=lambda arg: tensor(rnn_of(arg), device="cpu"))
    assert str(failure(hard.test_correct_cuda, sub, context)) == (
        "rnn_style_torch returned a tensor on cpu, expected cuda"
    )
    sub = ports(attention=lambda arg: tensor(mean_of(arg), device="cpu"))
    assert str(failure(hard.test_correct_cuda, sub, context)) == (
        "attention_style_torch returned a tensor on cpu, expected cuda"
    )


# ---------------------------------------------------------------- timed outputs


@pytest.mark.parametrize("function", ["attention_style_torch", "rnn_style_torch"])
def test_a_timed_output_is_checked_to_1e_3(function) -> None:
    values = np.random.default_rng(3).standard_normal(50).astype(np.float32)
    verify = hard_values.VERIFY[function]
    truth = (mean_of if function == "attention_style_torch" else rnn_of)(TensorArg(values))
    args = [TensorArg(values)]
    bound = 1e-3 * max(1.0, abs(truth))
    assert verify(args, tensor(truth)) is None
    assert verify(args, tensor(truth + 0.99 * bound)) is None
    assert verify(args, tensor(truth - 0.99 * bound)) is None
    assert verify(args, tensor(truth + 1.01 * bound)) == (
        f"expected {truth!r}, got {truth + 1.01 * bound!r}"
    )
    assert verify(args, tensor(truth - 1.01 * bound)) == (
        f"expected {truth!r}, got {truth - 1.01 * bound!r}"
    )
    shaped = tensor(truth, shape=(1,))
    assert verify(args, shaped) == f"got {describe(shaped)}"
    assert verify(args, truth) == f"got {truth!r}"
    assert verify(args, None) == "got None"


@pytest.mark.parametrize("function", ["attention_style_torch", "rnn_style_torch"])
def test_windows_of_one_pool_are_checked_against_each_windows_own_reference(function) -> None:
    """The references of a batch's windows are computed for the whole pool at once; each
    window still gets its own value, a new pool (even of the same size and at the same
    place in memory order) gets new ones, and a window not aligned to its length falls
    back to the window's own numbers."""
    reference = hard_values.REFERENCES[function]
    verify = hard_values.verifier(reference, hard_values.ROW_REFERENCES[function])
    rng = np.random.default_rng(11)
    for _ in range(2):  # a second pool of the same shape: no stale references
        batch = timing_windows(rng, 40, 6, np.float32)
        for window in batch:
            truth = reference(window.values)
            bound = 1e-3 * max(1.0, abs(truth))
            assert verify([window], tensor(truth + 0.5 * bound)) is None
            message = verify([window], tensor(truth + 1.5 * bound))
            expected, got = message.removeprefix("expected ").split(", got ")
            assert float(expected) == pytest.approx(truth, rel=1e-12, abs=1e-15)
            assert got == repr(truth + 1.5 * bound)
    pool = rng.standard_normal(100).astype(np.float32)
    for offset, n in ((3, 40), (0, 30), (40, 60)):  # not i * n, or a pool not n's multiple
        window = TensorWindow(pool, offset, n)
        truth = reference(pool[offset : offset + n])
        assert verify([window], tensor(truth)) is None
        assert verify([window], tensor(truth + 0.01 * max(1.0, abs(truth)))) is not None


def test_aligned_windows_are_checked_from_one_pass_over_their_pool() -> None:
    """Every window i * n of a pool a multiple of n long: one pass over the pool (per pool and
    length), no reference call per window; any other input: its own reference call."""
    passes: list[tuple[int, int]] = []
    alone: list[int] = []

    def of_rows(rows: np.ndarray) -> np.ndarray:
        passes.append(rows.shape)
        return hard_values.mean_references(rows)

    def of_one(values: np.ndarray) -> float:
        alone.append(len(values))
        return hard_values.mean_reference(values)

    verify = hard_values.verifier(of_one, of_rows)
    pool = np.random.default_rng(2).standard_normal(120).astype(np.float32)
    for n in (10, 10, 20, 10):  # the same pool at another length is another pass
        for offset in range(0, 120, n):
            window = TensorWindow(pool, offset, n)
            assert verify([window], tensor(pool[offset : offset + n].mean())) is None
    assert passes == [(12, 10), (6, 20), (12, 10)] and alone == []
    for window in (TensorWindow(pool, 5, 10), TensorWindow(pool[:115], 0, 10)):
        assert verify([window], tensor(window.values.mean())) is None
    assert verify([TensorArg(pool[:7])], tensor(pool[:7].mean())) is None
    assert alone == [10, 10, 7] and len(passes) == 3


def test_a_contender_times_one_function_on_fresh_windows(context) -> None:
    worker = object()
    rng = np.random.default_rng(5)
    for function, verify in hard_values.VERIFY.items():
        contender = hard._contender(worker, function, 100, "cpu", rng)
        assert type(contender) is Contender
        assert contender.worker is worker and contender.function == function
        assert contender.verify is verify and contender.payload_bytes == 400
        calls = contender.make_calls(3)
        assert len(calls) == 3
        for call in calls:
            assert len(call) == 1 and type(call[0]) is TensorWindow and call[0].device == "cpu"
            assert call[0].values.dtype == np.float32 and call[0].values.shape == (100,)
        assert not np.array_equal(calls[0][0].values, calls[1][0].values)
        assert len({id(call[0].pool) for call in calls}) == 1  # one pool crosses once
    on_cuda = hard._contender(worker, "rnn_style_torch", 7, "cuda", rng)
    assert on_cuda.payload_bytes == 28
    assert [call[0].device for call in on_cuda.make_calls(2)] == ["cuda", "cuda"]


# ---------------------------------------------------------------- the CPU sweep


CPU_LENGTHS = (256, 1024, 4096)


def observed(name: str) -> Medians:
    """The judge's timing: rnn 3 us per element, the reduction 8 us; the wall 1.5x the CPU."""
    curve, n = name.split(":")
    cpu = 3e-6 * int(n) if curve == "rnn_seconds" else 8e-6
    return Medians(cpu, 1.5 * cpu)


def run_cpu_sweep(
    context, monkeypatch, rows, elapsed: float | None = None, made: dict | None = None
) -> tuple[FakeSub, dict]:
    """hard.sweep_rows_cpu on ``rows``: the submission and the contenders the judge timed
    (``made`` holds the module fixtures' values, the cpu_sweep measurement among them)."""
    seen = {}

    def interleaved_timings(ctx, contenders: dict, *, device: str, repeats: int) -> dict:
        assert device == "cpu"
        if repeats == 5:  # the serial curve (cpu_serial), which serves the sweep's rnn rows
            seen.update({f"serial:{name}": c for name, c in contenders.items()})
            return {name: observed(f"rnn_seconds:{name}") for name in contenders}
        assert repeats == 3
        seen.update(contenders)
        return {name: observed(name) for name in contenders}

    monkeypatch.setattr(hard, "interleaved_timings", interleaved_timings)
    total = sum(v for r in rows for k, v in r.items() if k != "n" and type(v) is float)
    sub = FakeSub(
        sweep=lambda lengths, device: (rows, total + 0.01 if elapsed is None else elapsed)
    )
    call_check(hard.test_sweep_rows_cpu, sub, context, made)
    return sub, seen


def cpu_rows(scale: float = 1.0, **changes: dict) -> list[dict]:
    rows = [
        {
            "n": n,
            "rnn_seconds": observed(f"rnn_seconds:{n}").cpu * scale,
            "attention_seconds": observed(f"attention_seconds:{n}").cpu * scale,
        }
        for n in CPU_LENGTHS
    ]
    for index, row in changes.get("rows", {}).items():
        rows[index] = rows[index] | row
    return rows


@pytest.mark.parametrize("scale", [1.0, TOL.reported_ratio_min, TOL.reported_ratio_max * 1.5])
def test_the_cpu_sweep_passes_between_its_bounds(context, monkeypatch, scale) -> None:
    """At least 0.25x the CPU time, at most 8x the wall time (12x the CPU time here)."""
    rows = cpu_rows(scale)
    made = {}
    sub, contenders = run_cpu_sweep(context, monkeypatch, rows, made=made)
    assert sub.calls == [("sweep", ([256, 1024, 4096], "cpu"))]
    assert made["cpu_sweep"].measured() == rows  # for the plot check
    # the reduction at the sweep's lengths; rnn_style_torch once, at the serial curve's
    # lengths, which hold the sweep's: the rnn rows are compared with those timings
    assert {name: (c.function, c.payload_bytes) for name, c in contenders.items()} == {
        f"attention_seconds:{n}": ("attention_style_torch", 4 * n) for n in CPU_LENGTHS
    } | {f"serial:{n}": ("rnn_style_torch", 4 * n) for n in (256, 512, 1024, 2048, 4096)}
    assert set(CPU_LENGTHS) <= set(hard.SERIAL_LENGTHS["cpu"])
    timing = context.records["?"]["timing"]
    assert timing["rows"] == rows and len(timing["comparison"]) == 6


@pytest.mark.parametrize(
    ("row", "key", "scale"),
    [
        (0, "rnn_seconds", TOL.reported_ratio_min * 0.99),  # 0.2475x the CPU time
        (1, "attention_seconds", TOL.reported_ratio_min * 0.99),
        (2, "rnn_seconds", TOL.reported_ratio_max * 1.5 * 1.01),  # 8.08x the wall time
    ],
    ids=["first row too short", "middle row too short", "last row too long"],
)
def test_a_cpu_sweep_row_past_its_bound_fails(context, monkeypatch, row, key, scale) -> None:
    n = CPU_LENGTHS[row]
    seen = observed(f"{key}:{n}")
    claimed = seen.cpu * scale
    rows = cpu_rows(rows={row: {key: claimed}})
    made = {}
    with pytest.raises(CheckFailed) as failed:
        run_cpu_sweep(context, monkeypatch, rows, made=made)
    name = "rnn_style_torch" if key == "rnn_seconds" else "attention_style_torch"
    assert str(failed.value) == (
        f"sweep reports {key}={claimed:.3g} s at n={n}; the grader timed {name} on "
        f"tensors of {n} elements at {seen.cpu:.3g} s of CPU, {seen.wall:.3g} s of wall clock "
        f"({claimed / seen.cpu:.2f}x and {claimed / seen.wall:.2f}x; allowed at least 0.25x the "
        "CPU time and at most 8.0x the wall time)"
    )
    assert made["cpu_sweep"].measured() is None  # no plot of rows that failed


def share_serial(context, monkeypatch, serial_failure: CheckFailed | None = None) -> list:
    """hard.sweep_rows_cpu, then hard.curve_shapes_cpu, for one submission (one ``made``):
    the judge's measurements they asked for, by the names of their contenders."""
    measured: list = []

    def timings(ctx, contenders: dict, *, device: str, repeats: int, **more: Any) -> dict:
        measured.append(sorted(contenders))
        if set(contenders) == {"student", "reference"}:  # the reduction's ratio
            return {name: Medians(8e-6, 8e-6) for name in contenders}
        if repeats == 5 and serial_failure is not None:
            raise serial_failure
        if repeats == 5:  # the serial curve: 3 us per element, a slope of 1
            return {name: observed(f"rnn_seconds:{name}") for name in contenders}
        return {name: observed(name) for name in contenders}

    def medians(*args: Any, **kwargs: Any) -> dict:
        return {name: m.verdict for name, m in timings(*args, **kwargs).items()}

    monkeypatch.setattr(hard, "interleaved_timings", timings)
    monkeypatch.setattr(hard, "interleaved_medians", medians)
    monkeypatch.setattr(support, "reference_worker", lambda ctx: object())
    rows = cpu_rows()
    sub = FakeSub(sweep=lambda lengths, device: (rows, 1.0))
    made: dict = {}
    outcomes = []
    for check in (hard.test_sweep_rows_cpu, hard.test_curve_shapes_cpu):
        try:
            call_check(check, sub, context, made)
            outcomes.append(None)
        except CheckFailed as failed:
            outcomes.append(str(failed))
    return [measured, outcomes]


SERIAL_NAMES = ["1024", "2048", "256", "4096", "512"]


def test_the_sweep_and_the_curve_share_one_measurement_of_the_serial_curve(
    context, monkeypatch
) -> None:
    measured, outcomes = share_serial(context, monkeypatch)
    assert outcomes == [None, None]
    assert measured.count(SERIAL_NAMES) == 1  # for both checks, by the first to ask
    assert measured[0] == SERIAL_NAMES  # before the sweep's own: the reduction's rows
    assert measured[1] == [f"attention_seconds:{n}" for n in (1024, 256, 4096)]
    assert context.records["?"]["timing"]["rnn_slope"] == pytest.approx(1.0)


def test_a_serial_curve_that_fails_fails_both_checks_with_its_message(context, monkeypatch):
    wrong = CheckFailed("rnn_style_torch returned a wrong value while being timed (call 0)")
    measured, outcomes = share_serial(context, monkeypatch, wrong)
    assert outcomes == [str(wrong), str(wrong)]
    assert measured == [SERIAL_NAMES]  # measured once, not again for the second check


def test_a_cpu_sweep_claiming_more_than_its_call_took_fails(context, monkeypatch) -> None:
    rows = cpu_rows()
    total = sum(row["rnn_seconds"] + row["attention_seconds"] for row in rows)
    run_cpu_sweep(context, monkeypatch, rows, elapsed=total)  # exactly the call: allowed
    with pytest.raises(CheckFailed) as failed:
        run_cpu_sweep(context, monkeypatch, rows, elapsed=total * 0.99)
    assert str(failed.value) == (
        f"sweep reports {total * 1e3:.2f} ms of calls (one of each) but the whole call took "
        f"{total * 0.99 * 1e3:.2f} ms: report what you measured"
    )


@pytest.mark.parametrize("row", [0, 1, 2], ids=["first", "middle", "last"])
def test_a_cpu_sweep_row_with_the_wrong_n_fails(context, monkeypatch, row) -> None:
    rows = cpu_rows(rows={row: {"n": CPU_LENGTHS[row] + 1}})
    with pytest.raises(CheckFailed) as failed:
        run_cpu_sweep(context, monkeypatch, rows)
    assert str(failed.value) == (
        f"row {row}: expected n={CPU_LENGTHS[row]}, got {CPU_LENGTHS[row] + 1}"
    )


# ---------------------------------------------------------------- the plot


def test_synthetic_rows_wiggle_around_two_curves() -> None:
    rows = hard._synthetic_rows(np.random.default_rng(4))
    assert [row["n"] for row in rows] == [2**k for k in range(6, 17)] == list(hard.EXPECTED_LENGTHS)
    rnn = [row["rnn_seconds"] / (3e-6 * row["n"]) for row in rows]
    attention = [(row["attention_seconds"] - 2e-11 * row["n"]) / 8e-6 for row in rows]
    assert all(0.8 <= v <= 1.25 for v in rnn + attention)
    assert len(set(rnn)) == len(rnn) and len(set(attention)) == len(attention)
    rng = np.random.default_rng(4)
    expected = []
    for n in hard.EXPECTED_LENGTHS:
        rnn_share = rng.uniform(0.8, 1.25)
        expected.append((3e-6 * n * rnn_share, 8e-6 * rng.uniform(0.8, 1.25) + 2e-11 * n))
    assert [(row["rnn_seconds"], row["attention_seconds"]) for row in rows] == expected


def plotting(rendered: dict, kept: dict | None = None) -> FakeSub:
    return FakeSub(plot=lambda rows, path, keep: kept if keep else rendered)


def good_render(**changes: Any) -> dict:
    return {"returned": "Figure", "svg": b"<svg/>", "saved_bytes": 1000} | changes


@pytest.fixture
def inspected(monkeypatch) -> list:
    seen = []
    monkeypatch.setattr(
        hard, "inspect_svg", lambda svg, rows, *, curves: seen.append((svg, rows, curves))
    )
    return seen


def sweep(rows: list[dict] | None) -> support.Measurement:
    """A sweep measurement as hard.sweep_rows_cpu/_cuda leaves it: measured (``rows``), or
    not measured in this run (None)."""
    measurement = support.Measurement(lambda: rows)
    if rows is not None:
        measurement.result()
    return measurement


def test_the_plot_is_read_from_the_svg_of_the_rows_passed_in(context, inspected) -> None:
    sub = plotting(good_render())
    call_check(hard.test_plot_content, sub, context)
    rows = hard._synthetic_rows(draws("hard.plot_content"))
    assert sub.plots == [("plot_sweep", rows, "plot-check.png", False)]
    assert inspected == [(b"<svg/>", rows, ("rnn_seconds", "attention_seconds"))]
    assert "artifact" not in context.records.get("?", {})  # no sweep measured: none kept
    assert sub.calls == []  # and the plot check does not measure one itself
    call_check(
        hard.test_plot_content, plotting(good_render(saved_bytes=1)), context
    )  # one byte saved is a file


def test_in_the_sandbox_the_plot_is_saved_under_tmp(context, inspected) -> None:
    context.sandbox = Sandbox(kind="bubblewrap", reason="test")
    sub = plotting(good_render(), kept={"returned": "Figure", "saved": PNG})
    call_check(hard.test_plot_content, sub, context, {"cpu_sweep": sweep(cpu_rows())})
    assert [(path, keep) for _, _, path, keep in sub.plots] == [
        ("/tmp/plot-check.png", False),
        ("/tmp/sweep.png", True),
    ]


@pytest.mark.parametrize(
    ("rendered", "message"),
    [
        (
            {"returned": "list", "svg": None},
            "plot_sweep should return a matplotlib Figure, got <list object>",
        ),
        ({"returned": "Axes"}, "plot_sweep should return a matplotlib Figure, got <Axes object>"),
        (good_render(svg=b""), "the figure plot_sweep returned could not be rendered"),
        (good_render(svg="<svg/>"), "the figure plot_sweep returned could not be rendered"),
        (good_render(saved_bytes=0), "plot_sweep did not save the figure to the path it was given"),
        (good_render(saved_bytes=-1), "plot_sweep did not save the figure to the path"),
        (good_render(saved_bytes=None), "plot_sweep did not save the figure to the path"),
        (good_render(saved_bytes=True), "plot_sweep did not save the figure to the path"),
        (good_render(saved_bytes=10.0), "plot_sweep did not save the figure to the path"),
    ],
    ids=[
        "None",
        "no svg",
        "empty",
        "text",
        "nothing saved",
        "negative",
        "None saved",
        "True",
        "a float",
    ],
)
def test_a_plot_that_is_not_a_saved_figure_fails(context, inspected, rendered, message) -> None:
    assert str(failure(hard.test_plot_content, plotting(rendered), context)).startswith(message)


def test_an_svg_that_does_not_show_the_rows_fails_before_the_file_is_checked(context, monkeypatch):
    def refuse(svg, rows, *, curves):
        raise CheckFailed("no curve for rnn_seconds")

    monkeypatch.setattr(hard, "inspect_svg", refuse)
    sub = plotting(good_render(saved_bytes=0))
    assert str(failure(hard.test_plot_content, sub, context)) == "no curve for rnn_seconds"


@pytest.mark.parametrize(
    ("measured", "kept_rows"),
    [
        ({"cpu_sweep": "cpu"}, "cpu"),
        ({"cuda_sweep": "cuda", "cpu_sweep": "cpu"}, "cuda"),
        ({"cuda_sweep": None, "cpu_sweep": "cpu"}, "cpu"),
    ],
    ids=["cpu", "cuda first", "cuda not measured"],
)
def test_the_students_plot_of_the_measured_sweep_is_kept(
    context, inspected, measured, kept_rows
) -> None:
    made = {name: sweep(None if rows is None else [{"n": rows}]) for name, rows in measured.items()}
    sub = plotting(good_render(), kept={"returned": "Figure", "saved": PNG})
    call_check(hard.test_plot_content, sub, context, made)
    assert sub.plots[1] == ("plot_sweep", [{"n": kept_rows}], "sweep.png", True)
    assert (context.work_dir / "artifacts" / "sweep.png").read_bytes() == PNG
    assert context.records["?"]["artifact"] == "sweep.png"


@pytest.mark.parametrize(
    "kept",
    [
        {"returned": "Figure", "saved": b"GIF89a"},
        {"returned": "Figure", "saved": "\x89PNG\r\n\x1a\n"},
        {"returned": "Figure"},
    ],
    ids=["not a PNG", "text", "nothing"],
)
def test_only_a_png_is_kept(context, inspected, kept) -> None:
    sub = plotting(good_render(), kept=kept)
    call_check(hard.test_plot_content, sub, context, {"cpu_sweep": sweep([{"n": 1}])})
    assert not (context.work_dir / "artifacts" / "sweep.png").exists()
    assert "artifact" not in context.records.get("?", {})


@pytest.mark.parametrize("error", [CheckFailed("x"), SubmissionError("crashed")])
def test_a_failing_plot_of_the_sweep_costs_nothing(context, error) -> None:
    def plot(rows, path, keep):
        raise error

    hard._keep_sweep_plot(context, FakeSub(plot=plot), [{"n": 1}])
    assert not (context.work_dir / "artifacts" / "sweep.png").exists()


def test_the_explanation_is_the_written_answer(context, monkeypatch) -> None:
    asked = []
    monkeypatch.setattr(hard, "written_answer", lambda ctx, sub, name: asked.append((ctx, name)))
    call_check(hard.test_explanation, FakeSub(), context)
    assert asked == [(context, "EXPLANATION")]
