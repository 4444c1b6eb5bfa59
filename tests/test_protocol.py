"""The judge/worker wire format and the worker proxy: data in, data out, everything validated."""

from __future__ import annotations

import ast
import math
import os
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from judge_context import unconfined_spec

from autograder.grading.judge.checks import support
from autograder.grading.judge.proxy import WorkerProxy, encode_calls
from autograder.grading.judge.spawn import WorkerSpec
from autograder.grading.judge.trace import ForgedHandle, TraceInputs
from autograder.grading.judge.verdicts import CheckFailed, NotImplementedYet, SubmissionError
from autograder.grading.worker import main as worker
from autograder.grading.worker import protocol
from autograder.grading.worker.protocol import ArrayValue, ForeignFloat, Opaque, ProtocolError
from reference.tracer import Tape, max_depth


def wire(value):
    """A value as the judge sees it after the worker encoded it and it crossed a pipe."""
    buffers: list[bytes] = []
    header = {"value": worker.encode(value, buffers)}
    read_fd, write_fd = os.pipe()
    try:
        data = protocol.pack(header, buffers)
        os.write(write_fd, data)
        got, got_buffers = protocol.FrameReader(read_fd).read(time.monotonic() + 5)
    finally:
        os.close(read_fd)
        os.close(write_fd)
    return protocol.decode(got["value"], got_buffers)


class EqList(list):
    def __eq__(self, other):
        return True


class LyingFloat(float):
    def __float__(self):
        return 42.0


def test_plain_values_keep_their_exact_types():
    value = [1, 2.5, "s", None, True, (1, (2.0,)), {3: [4]}, math.inf, b"raw"]
    got = wire(value)
    assert got[:5] == [1, 2.5, "s", None, True]
    assert type(got[5]) is tuple and type(got[5][1]) is tuple
    assert got[6] == {3: [4]} and got[7] == math.inf and got[8] == b"raw"
    assert math.isnan(wire(float("nan")))


def test_arrays_and_tensors_cross_as_numbers_with_dtype_shape_and_device():
    array = wire(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert type(array) is ArrayValue and array.kind == "ndarray"
    assert array.shape == (2, 3) and array.dtype == "float32"
    assert array.values.tolist() == [[0, 1, 2], [3, 4, 5]]
    scalar = wire(torch.tensor(2.5, dtype=torch.float64))
    assert scalar.kind == "tensor" and scalar.shape == () and scalar.device == "cpu"
    assert float(scalar.values) == 2.5


def test_objects_that_claim_other_values_cross_as_what_they_are():
    assert wire(EqList([1])) == Opaque(f"{__name__}.EqList")
    liar = wire(LyingFloat(1.5))
    assert type(liar) is ForeignFloat and float.__float__(liar) == 1.5
    assert wire(np.float64(0.25)).type_name == "numpy.float64"
    assert type(wire(object())) is Opaque


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"$pickle": "gASV"}, "unknown or malformed tag"),
        ({"a": 1, "b": 2}, "must be one tag"),
        ({"$array": {"dtype": "object", "shape": [1], "buffer": 0}}, "not accepted"),
        ({"$array": {"dtype": "float64", "shape": [3], "buffer": 0}}, "buffer holds"),
        ({"$array": {"dtype": "float64", "shape": [1], "buffer": 7}}, "out of range"),
        ({"$dict": [[[1], 2]]}, "not hashable"),
        ({"$number": {"type": "x"}}, "needs a float or an int"),
        ({"$scalars": {"dtype": "float64", "shape": [], "buffer": 0}}, "one dimension"),
        ({"$scalars": {"dtype": "float32", "shape": [1, 2], "buffer": 0}}, "one dimension"),
        ({"$scalars": {"dtype": "float64", "shape": [2], "buffer": 0}}, "buffer holds"),
        ({"$scalars": {"dtype": "object", "shape": [1], "buffer": 0}}, "not accepted"),
        ({"$scalars": [0]}, "unknown or malformed tag"),
    ],
)
def test_malformed_values_are_rejected_with_a_reason(value, reason):
    with pytest.raises(ProtocolError, match=reason):
        protocol.decode(value, [b"12345678"])


def test_nesting_and_size_limits():
    deep: list = []
    for _ in range(protocol.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(ProtocolError, match="nested deeper"):
        protocol.decode(deep, [])
    with pytest.raises(ProtocolError, match="too large"):
        protocol.decode(2**5000, [])


def test_frame_reader_limits_and_truncation():
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, protocol.FRAME_PREFIX.pack(protocol.MAX_HEADER_BYTES + 1, 0))
        with pytest.raises(ProtocolError, match="over the limit"):
            protocol.FrameReader(read_fd).read(time.monotonic() + 2)
    finally:
        os.close(read_fd)
        os.close(write_fd)
    read_fd, write_fd = os.pipe()
    os.write(write_fd, protocol.pack({"id": 1})[:5])
    os.close(write_fd)
    with pytest.raises(protocol.PeerClosed):
        protocol.FrameReader(read_fd).read(time.monotonic() + 2)
    os.close(read_fd)
    read_fd, write_fd = os.pipe()
    with pytest.raises(protocol.Timeout):
        protocol.FrameReader(read_fd).read(time.monotonic() + 0.2)
    os.close(read_fd)
    os.close(write_fd)


MODULE = """
import operator
VALUE = "text"
NOT_A_FUNCTION = 3

def add(a, b):
    return a + b

def fails(x):
    raise KeyError("nope")

def stub():
    raise NotImplementedError("stub_module.stub is not implemented yet")

def scan(xs, op):
    out = list(xs)
    k = 1
    while k < len(out):
        out = out[:k] + [op(out[j - k], out[j]) for j in range(k, len(out))]
        k *= 2
    return out

_SAVED = []

def reuse(xs, op):
    if _SAVED:
        return _SAVED[0]
    _SAVED.append(list(xs))
    return list(xs)

def mean(xs):
    return xs.mean()
"""


spec_for = unconfined_spec


@pytest.fixture
def proxy(tmp_path):
    source = tmp_path / "stub_module.py"
    source.write_text(MODULE)
    made = WorkerProxy(
        spec_for(source, "stub_module", tmp_path), deadline=lambda: time.monotonic() + 60
    )
    yield made
    made.remove()


def test_calls_return_data_and_exceptions_become_reasons(proxy):
    assert proxy.call("add", 2, 3) == 5
    assert proxy.call("add", (1,), (2.0,)) == (1, 2.0)
    assert proxy.get("VALUE") == "text"
    with pytest.raises(SubmissionError, match="KeyError: 'nope'"):
        proxy.call("fails", 1)
    with pytest.raises(NotImplementedYet, match="not implemented yet"):
        proxy.call("stub")
    with pytest.raises(CheckFailed, match="does not define missing"):
        proxy.call("missing")
    with pytest.raises(CheckFailed, match="should be a function"):
        proxy.call("NOT_A_FUNCTION")
    raised, value = proxy.raised("fails", 1)
    assert raised["type"] == "KeyError" and "LookupError" in raised["mro"] and value is None


def test_traced_call_is_replayed_by_the_judge(proxy):
    tape = Tape()
    got = proxy.trace(
        "scan", TraceInputs(tuple(range(1, 9))), protocol.OpArg("op"), tape=tape, ops={"op": max}
    )
    assert [v.value for v in got] == list(range(1, 9))
    assert max_depth(got) == 3 and tape.work == 7 + 6 + 4
    assert all(tape.owns(v) for v in got)


def test_handles_from_another_call_have_no_value(proxy):
    first = proxy.trace(
        "reuse", TraceInputs((1, 2)), protocol.OpArg("op"), tape=Tape(), ops={"op": max}
    )
    assert all(not isinstance(v, ForgedHandle) for v in first)
    second_tape = Tape()
    second = proxy.trace(
        "reuse", TraceInputs((1, 2)), protocol.OpArg("op"), tape=second_tape, ops={"op": max}
    )
    assert all(isinstance(v, ForgedHandle) for v in second)
    assert not any(second_tape.owns(v) for v in second)


def test_timed_batches_come_back_with_outputs_and_cpu_time(proxy):
    calls = [[protocol.TensorArg(np.full(64, float(i), dtype=np.float32))] for i in range(50)]
    timed = proxy.timed("mean", calls, device="cpu")
    assert timed.count == 50 and len(timed.outputs) == 50
    assert [float(o.values) for o in timed.outputs] == [float(i) for i in range(50)]
    assert timed.run_seconds > 0 and timed.cpu_seconds >= 0
    assert proxy.ping() < 1.0


def test_a_worker_that_dies_is_replaced(proxy, tmp_path):
    assert proxy.call("add", 1, 1) == 2
    os.kill(proxy.pid, 9)
    with pytest.raises(SubmissionError, match="killed by SIGKILL"):
        proxy.call("add", 1, 1)
    assert proxy.call("add", 2, 2) == 4
    assert proxy.starts == 2


def test_a_worker_with_no_module_fails_every_call(tmp_path):
    made = WorkerProxy(spec_for(None, "absent", tmp_path))
    with pytest.raises(SubmissionError, match=r"has no file absent\.py"):
        made.call("anything")
    made.remove()
    assert not Path(made.job_dir).exists()


@pytest.mark.parametrize("shape", [(300, 256), (3, 1), (0, 4), (5,)])
def test_a_list_argument_reaches_submission_code_as_nested_python_floats(shape):
    """``ListArg`` travels as bytes and arrives as ``values.tolist()``: lists of plain floats,
    exactly what a JSON list would have given, every bit of every value kept."""
    values = np.random.default_rng(3).uniform(-1, 1, shape)
    values.flat[: min(values.size, 3)] = [5e-324, -0.0, 1.7976931348623157e308][: values.size]
    buffers: list[bytes] = []
    sent = protocol.encode_plain([protocol.ListArg(values)], buffers)
    assert len(buffers) == 1 and len(buffers[0]) == values.size * 8  # bytes, not JSON numbers
    (got,) = worker._decode_request_value(sent, buffers, {})
    assert got == values.tolist()
    rows = got if len(shape) == 2 else [got]
    assert all(type(row) is list for row in rows)
    assert all(type(x) is float for row in rows for x in row)
    assert [math.copysign(1, x) for x in values.flat] == [
        math.copysign(1, x) for row in rows for x in row
    ]


def test_the_reference_fetches_outputs_of_the_timed_functions_kind(tmp_path):
    """The base of the bound on a sample's untimed part stages the same inputs and fetches
    one output per call of the timed functions' own kind: a 0-dim tensor for the hard
    exercise, a row of d floats (list or array) for the easy one."""
    from autograder.grading.judge.proxy import REFERENCE_MODULE
    from autograder.grading.worker.protocol import ListArg, TensorArg

    reference = WorkerProxy(
        spec_for(REFERENCE_MODULE, "reference_implementations", tmp_path),
        deadline=lambda: time.monotonic() + 60,
    )
    try:
        rows = np.arange(12.0).reshape(3, 4)
        tensor = reference.timed(
            "last_element", [[TensorArg(np.ones(5, np.float32))]] * 3, device="cpu"
        )
        as_list = reference.timed("last_element", [[ListArg(rows)]] * 2, device="cpu")
        as_array = reference.timed("last_element", [[rows]], device="cpu")
    finally:
        reference.remove()
    assert [(type(o), o.shape) for o in tensor.outputs] == [(ArrayValue, ())] * 3
    assert as_list.outputs == [[8.0, 9.0, 10.0, 11.0]] * 2
    assert type(as_array.outputs[0]) is ArrayValue and as_array.outputs[0].shape == (4,)
    for timed in (tensor, as_list, as_array):
        assert timed.outside_cpu_seconds > 0  # staging and fetching, read from the kernel


def test_windows_of_one_pool_cross_as_the_pool_once_and_arrive_as_tensors_of_their_own():
    """A timed sample's K inputs are windows of one pool: one buffer on the wire, however
    many windows; each arrives as a contiguous tensor with its own storage, equal to its
    slice of the pool, so writing to one input changes no other."""
    pool = np.arange(40, dtype=np.float32)
    other = np.arange(40, 80, dtype=np.float32)
    windows = [protocol.TensorWindow(pool, offset, 8) for offset in (0, 3, 32)]
    windows.append(protocol.TensorWindow(other, 5, 8))
    buffers: list[bytes] = []
    pools: dict = {}
    sent = [protocol.encode_plain([window], buffers, pools) for window in windows]
    assert [len(b) for b in buffers] == [40 * 4, 40 * 4]  # each pool once
    assert [args[0]["$window"] for args in sent] == [[0, 0, 8], [0, 3, 8], [0, 32, 8], [1, 5, 8]]
    request = {"pools": protocol.pool_bodies(pools), "calls": sent}
    assert [body["buffer"] for body in request["pools"]] == [0, 1]
    got = [args[0] for args in worker.decode_calls(request, buffers)]
    for tensor, window in zip(got, windows, strict=True):
        assert type(tensor) is torch.Tensor and tensor.dtype == torch.float32
        assert tensor.is_contiguous() and tensor.shape == (8,)
        assert tensor.tolist() == window.values.tolist()
    assert len({t.untyped_storage().data_ptr() for t in got}) == len(got)
    got[0].add_(100)
    assert got[1].tolist() == pool[3:11].tolist()  # windows 0 and 1 overlap in the pool


def test_a_stages_calls_encode_as_each_one_alone_would():
    """encode_calls writes a call of one window of a pool already sent directly; every other
    call (and a window's first, which sends its pool) as encode_plain does."""
    pool, other = np.arange(40, dtype=np.float32), np.arange(9, dtype=np.float64)
    calls = [
        [protocol.TensorWindow(pool, 0, 8)],
        [protocol.TensorWindow(pool, 8, 8)],
        [protocol.TensorWindow(pool, 8, 8), 3],
        [protocol.TensorWindow(pool, 16, 8, "cuda")],  # another device: another pool
        (protocol.TensorWindow(other, 1, 2),),
        [other, "x"],
        [],
    ]
    buffers: list = []
    pools: dict = {}
    plain_buffers: list = []
    plain_pools: dict = {}
    plain = [protocol.encode_plain(list(args), plain_buffers, plain_pools) for args in calls]
    assert encode_calls(calls, buffers, pools) == plain
    assert protocol.pool_bodies(pools) == protocol.pool_bodies(plain_pools)
    assert [bytes(b) for b in buffers] == [bytes(b) for b in plain_buffers]
    assert len(pools) == 3


def test_windows_at_any_offset_and_length_and_calls_with_more_than_a_window():
    """Windows whose offset and length share bits (5 + 7, not 5 | 7), an empty window, and
    calls that are not one window alone (decoded by the general walk) arrive as sent."""
    pool = np.arange(40, dtype=np.float32)
    buffers: list[bytes] = []
    pools: dict = {}
    sent = encode_calls(
        [
            [protocol.TensorWindow(pool, 5, 7)],
            [protocol.TensorWindow(pool, 13, 27)],
            [protocol.TensorWindow(pool, 40, 0)],
            [protocol.TensorWindow(pool, 3, 5), 3],
            [(protocol.TensorWindow(pool, 1, 2),)],
            [[1.5]],  # one argument that is no tagged value
        ],
        buffers,
        pools,
    )
    got = worker.decode_calls({"pools": protocol.pool_bodies(pools), "calls": sent}, buffers)
    assert [args[0].tolist() for args in got[:3]] == [
        list(range(5, 12)),
        list(range(13, 40)),
        [],
    ]
    assert got[3][0].tolist() == [3.0, 4.0, 5.0, 6.0, 7.0] and got[3][1] == 3
    assert type(got[4][0]) is tuple and got[4][0][0].tolist() == [1.0, 2.0]
    assert got[5] == [[1.5]]
    with pytest.raises(ValueError):  # one tag per tagged value, a window's too
        worker.decode_calls(
            {"pools": protocol.pool_bodies(pools), "calls": [[{"$window": [0, 0, 8], "x": 1}]]},
            buffers,
        )


@pytest.mark.parametrize("shape", [(), (5, 8)], ids=["0-dim", "2-dim"])
def test_a_window_of_a_pool_that_is_not_a_row_of_numbers_is_refused(shape):
    buffers: list[bytes] = []
    pools = [protocol.array_body(np.zeros(shape, np.float32), buffers)]
    with pytest.raises(ProtocolError, match="no such pool"):
        worker.decode_calls({"pools": pools, "calls": [[{"$window": [0, 0, 1]}]]}, buffers)


def test_a_window_of_a_pool_numpy_cannot_hold_is_cut_from_the_tensor():
    """A pool on a GPU (or of a dtype numpy lacks) is sliced and cloned as a tensor: still
    storage of its own, equal to its slice."""
    pool = torch.arange(40, dtype=torch.float32)
    context = {"pools": [pool], "lengths": [40], "arrays": [None]}
    got = worker._window([0, 5, 7], context)  # 5 + 7, not 5 | 7
    assert got.tolist() == list(range(5, 12)) and got.is_contiguous()
    assert got.untyped_storage().data_ptr() != pool.untyped_storage().data_ptr()
    assert got.untyped_storage().nbytes() == 7 * 4


@pytest.mark.parametrize(("offset", "n"), [(33, 8), (-1, 8), (0, 41), (0, -1), (True, 8)])
def test_a_window_outside_its_pool_is_refused(offset, n):
    buffers: list[bytes] = []
    pools: dict = {}
    sent = protocol.encode_plain(
        [protocol.TensorWindow(np.zeros(40, np.float32), offset, n)], buffers, pools
    )
    with pytest.raises(ProtocolError, match="window"):
        worker.decode_calls({"pools": protocol.pool_bodies(pools), "calls": [sent]}, buffers)


@pytest.mark.parametrize(
    "window",
    [
        [1, 0, 8],
        [2, 0, 8],
        [-1, 0, 8],
        [0, 0],
        [0, 0, 8, 1],
        [0, 0.0, 8],
        {"offset": 0},
        [True, 0, 8],
    ],
)
def test_a_window_of_no_pool_or_of_another_shape_is_refused(window):
    buffers: list[bytes] = []
    pools = [protocol.array_body(np.zeros(40, np.float32), buffers)]
    bad = {"pools": pools, "calls": [[{"$window": window}]]}
    with pytest.raises(ProtocolError, match="window"):
        worker.decode_calls(bad, buffers)
    with pytest.raises(ProtocolError, match="window"):  # outside a stage: no pools at all
        worker._decode_request_value({"$window": [0, 0, 8]}, buffers, {})


def test_the_reference_worker_imports_its_preloads_before_any_sample(tmp_path):
    """The reference worker imports what its exercise's data needs (torch for tensors) as it
    starts: an import in its first staging was once the base of a bound (1.3 s, not 1 ms)."""
    from autograder.grading.judge.proxy import REFERENCE_MODULE

    probe = tmp_path / "probe.py"
    probe.write_text("import sys\n\ndef loaded(name):\n    return name in sys.modules\n")
    for preload, expected in (((), False), (("json", "torch"), True)):
        spec = spec_for(probe, "probe", tmp_path)
        spec = WorkerSpec(**{**vars(spec), "preload": preload})
        made = WorkerProxy(spec, deadline=lambda: time.monotonic() + 60)
        try:
            assert made.call("loaded", "torch") is expected
        finally:
            made.remove()
    # every import the reference's functions make lazily is one the timing exercise preloads,
    # and numpy (decoding arrays and lists) for each exercise with a reference worker
    tree = ast.parse(REFERENCE_MODULE.read_text())
    lazy = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert lazy == {"torch"}
    assert lazy <= set(support.REFERENCE_IMPORTS["hard"])
    assert all("numpy" in imports for imports in support.REFERENCE_IMPORTS.values())


def test_the_worker_takes_over_a_large_buffer_and_copies_small_ones():
    """A large input arrives in a bytearray of its own, which becomes the array (no copy);
    bytes are read-only and shared, so the array gets a copy. Both are writable and right."""
    values = np.arange(protocol.BIG_READ, dtype=np.float64)
    for data in (bytearray(values.tobytes()), values.tobytes()):
        buffers = [data]
        body = {"dtype": "float64", "shape": [values.size], "buffer": 0}
        got = worker._decode_request_value({"$array": body}, buffers, {})
        assert np.array_equal(got, values) and got.flags.writeable
        shares = np.shares_memory(got, np.frombuffer(data, dtype=np.uint8))
        assert shares is (type(data) is bytearray)
        tensor = worker._decode_request_value({"$tensor": body}, [data], {})
        assert torch.equal(tensor, torch.from_numpy(values)) and tensor.dtype == torch.float64


def test_a_plot_is_rendered_as_svg_for_the_check_and_returned_as_saved_for_the_report(
    tmp_path, monkeypatch
):
    """The check reads the SVG the worker renders; the report's copy (``keep``) is the file
    the student's function saved, with no second render."""
    import types

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    renders: list[str] = []
    monkeypatch.setattr(
        Figure, "savefig", lambda self, out, **kw: renders.append(kw.get("format", "png"))
    )

    def plot_sweep(rows, path):
        figure = Figure()
        figure.add_subplot().plot([row["n"] for row in rows], [1.0] * len(rows))
        Path(path).write_bytes(b"\x89PNG\r\n\x1a\n saved")
        return figure

    module = types.SimpleNamespace(plot_sweep=plot_sweep)
    rows = protocol.encode_plain([{"n": 1}, {"n": 2}], [])
    for keep in (False, True):
        renders.clear()
        request = {
            "op": "plot",
            "function": "plot_sweep",
            "rows": rows,
            "path": str(tmp_path / f"plot-{keep}.png"),
            "keep": keep,
        }
        reply, buffers = worker.handle_for_module(module, request, [])
        rendered = protocol.decode(reply["value"], buffers)
        assert rendered["returned"] == "matplotlib.figure.Figure"
        assert rendered["saved_bytes"] == 14
        if keep:
            assert renders == [] and "svg" not in rendered
            assert rendered["saved"] == b"\x89PNG\r\n\x1a\n saved"
        else:
            assert renders == ["svg"] and "saved" not in rendered


def _outputs_wire(outputs):
    """A timed batch's outputs as the judge gets them from ``fetch``, and the encoded tree."""
    buffers: list = []
    tree = worker.encode_outputs(outputs, buffers)
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, protocol.pack({"value": tree}, buffers))  # well under 64 KiB
        got, got_buffers = protocol.FrameReader(read_fd).read(time.monotonic() + 5)
    finally:
        os.close(read_fd)
        os.close(write_fd)
    return protocol.decode(got["value"], got_buffers), tree


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.bool])
def test_a_batch_of_0_dim_tensors_crosses_as_one_buffer_and_arrives_as_each_one_would(dtype):
    outputs = [torch.tensor(value).to(dtype) for value in (0.5, -3.0, 7.25, 0.0)]
    got, tree = _outputs_wire(outputs)
    assert tree["$scalars"]["shape"] == [4]
    one_by_one = [wire(output) for output in outputs]
    assert len(got) == len(one_by_one) == 4
    for mine, theirs in zip(got, one_by_one, strict=True):
        assert (mine.kind, mine.dtype, mine.shape, mine.device) == (
            theirs.kind,
            theirs.dtype,
            theirs.shape,
            theirs.device,
        )
        assert type(mine.values) is np.ndarray and mine.values.shape == ()
        assert mine.values == theirs.values and not mine.values.flags.writeable


class MyTensor(torch.Tensor):
    pass


@pytest.mark.parametrize(
    "odd_one",
    [
        torch.tensor([1.0]),  # not 0-dim
        torch.tensor(1.0, dtype=torch.float64),  # another dtype
        torch.tensor(1.0).as_subclass(MyTensor),  # not exactly a Tensor
        1.0,
        np.float32(1.0),
    ],
    ids=["1-dim", "dtype", "subclass", "float", "numpy"],
)
def test_a_batch_with_any_other_output_crosses_one_by_one(odd_one):
    outputs = [torch.tensor(0.5), torch.tensor(1.5), odd_one]
    got, tree = _outputs_wire(outputs)
    assert type(tree) is list  # no $scalars
    assert [float(np.asarray(v.values)) for v in got[:2]] == [0.5, 1.5]
    assert repr(got[2]) == repr(wire(odd_one))
    assert _outputs_wire([]) == ([], [])


def test_a_batch_of_one_0_dim_tensor_is_a_batch_too():
    got, tree = _outputs_wire([torch.tensor(2.5)])
    assert tree["$scalars"]["shape"] == [1] and [float(v.values) for v in got] == [2.5]


def test_a_batch_of_one_element_tensors_crosses_one_by_one_and_a_graph_is_no_obstacle():
    buffers: list = []  # stack would make these (2, 1)
    assert type(worker.encode_outputs([torch.tensor([0.5]), torch.tensor([1.5])], buffers)) is list
    outputs = [torch.tensor(0.5, requires_grad=True) * 2, torch.tensor(1.5)]  # with a graph
    got, tree = _outputs_wire(outputs)
    assert "$scalars" in tree and [float(v.values) for v in got] == [1.0, 1.5]


def test_a_timed_batch_of_scalars_always_fits_the_scalars_limit():
    """A fetch returns one output per call: the most calls a sample makes must cross."""
    from autograder.grading.judge.checks import timing

    assert timing.MAX_CALLS <= protocol.MAX_SCALARS
    got, tree = _outputs_wire([torch.tensor(float(i)) for i in range(timing.MAX_CALLS)])
    assert "$scalars" in tree and [float(v.values) for v in got] == list(range(4000))


def test_a_batch_of_scalars_counts_each_one_against_the_element_budget(monkeypatch):
    monkeypatch.setattr(protocol, "MAX_NODES", 10)
    buffers: list = []
    tree = worker.encode_outputs([torch.tensor(1.0)] * 9, buffers)
    assert len(protocol.decode(tree, buffers)) == 9
    tree = worker.encode_outputs([torch.tensor(1.0)] * 10, buffers := [])
    with pytest.raises(ProtocolError, match="more than 10 elements"):
        protocol.decode(tree, buffers)
