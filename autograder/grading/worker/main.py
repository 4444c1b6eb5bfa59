"""The worker: the only process that imports and runs submission code.

Started by the judge (:mod:`autograder.grading.judge.proxy`) as ``python -I`` inside the
sandbox, with this folder (:mod:`autograder.grading.worker`) copied into its job folder. It
moves the protocol to private descriptors, points fd 1 and 2 at the output log, imports one
module (the submission's, or the judge's reference implementation), then answers requests:
call a function, read an attribute, run a traced call, stage and run timed calls, render a
figure. Every reply is data (:mod:`~autograder.grading.worker.protocol`).

Everything here can be rewritten by the submission it runs; the judge assumes so.
Nothing a worker says is a verdict: the judge compares its values with what it
expects, replays its traced-operation log itself and times it with its own clock.
"""

from __future__ import annotations

import gc
import importlib.util
import io
import math
import os
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

from autograder.grading.worker import protocol, seccomp
from autograder.grading.worker.tracing import FUNCTIONS, TRACE, Traced

REQUEST_DEADLINE = None  # the judge decides how long it waits; the worker just answers
PNG_LIMIT = 8 * 2**20
SVG_LIMIT = 8 * 2**20


# ---- values: the worker's view ----


def _decode_request_value(value: Any, buffers: list[bytes], context: dict) -> Any:
    """Judge data into objects submission code gets: lists, tensors, traced values, ops."""
    kind = type(value)
    if kind is list:
        return [_decode_request_value(v, buffers, context) for v in value]
    if kind is not dict:
        return value
    ((tag, body),) = value.items()
    if tag == "$tuple":
        return tuple(_decode_request_value(v, buffers, context) for v in body)
    if tag == "$dict":
        return {
            _decode_request_value(k, buffers, context): _decode_request_value(v, buffers, context)
            for k, v in body
        }
    if tag == "$float":
        return float(body)
    if tag == "$array":
        return _owned_array(body, buffers)
    if tag == "$list":
        import numpy as np

        data = buffers[body["buffer"]]
        return np.frombuffer(data, dtype=body["dtype"]).reshape(body["shape"]).tolist()
    if tag == "$tensor":
        import torch

        return torch.from_numpy(_owned_array(body, buffers)).to(body.get("device", "cpu"))
    if tag == "$window":
        return _window(body, context)
    if tag == "$handle":
        return Traced(body)
    if tag == "$op":
        return TRACE.op(body)
    if tag == "$fn":
        return FUNCTIONS[body]
    if tag == "$work":
        return _Work(body)
    raise protocol.ProtocolError(f"unknown tag {tag}")


def decode_calls(request: dict[str, Any], buffers: list[bytes]) -> list[Any]:
    """A stage request's argument lists; its window pools built on their device once each.
    A call of one window (a timed batch's: 2,000 of them at n=64) skips the general walk."""
    pools = [_decode_request_value({"$tensor": body}, buffers, {}) for body in request["pools"]]
    context = {"pools": pools, "lengths": [], "arrays": []}
    for pool in pools:
        context["lengths"].append(pool.shape[0] if pool.dim() == 1 else None)
        try:  # a CPU pool's numbers, sliced and copied faster as numpy than as a tensor
            context["arrays"].append(pool.numpy())
        except (TypeError, RuntimeError):  # on a GPU, or of a dtype numpy lacks
            context["arrays"].append(None)
    calls = []
    for args in request["calls"]:
        if type(args) is list and len(args) == 1 and type(args[0]) is dict and len(args[0]) == 1:
            body = args[0].get("$window")
            if body is not None:
                calls.append([_window(body, context)])
                continue
        calls.append(_decode_request_value(args, buffers, context))
    return calls


def _window(body: Any, context: dict) -> Any:
    """``pool[offset:offset + n]`` of a stage request's pool, in storage of its own (as a
    ``$tensor`` has): no call can reach another call's numbers through its input."""
    pools = context.get("pools", [])  # a stage request's (decode_calls)
    if not (type(body) is list and len(body) == 3 and all(type(v) is int for v in body)):
        raise protocol.ProtocolError("a window needs a pool number, an offset and a length")
    number, offset, n = body
    length = context["lengths"][number] if 0 <= number < len(pools) else None
    if length is None:
        raise protocol.ProtocolError(f"window of pool {number}: no such pool of numbers")
    if not (n >= 0 and 0 <= offset <= length - n):
        raise protocol.ProtocolError(f"window {offset}+{n} is outside its pool")
    array = context["arrays"][number]
    if array is not None:
        import torch

        return torch.from_numpy(array[offset : offset + n].copy())
    return pools[number][offset : offset + n].clone()


def _owned_array(body: dict[str, Any], buffers: list[Any]) -> Any:
    """A writable array of a buffer's numbers. A large buffer arrives in a bytearray of its
    own (:class:`~protocol.FrameReader`), which the array takes over; bytes are copied."""
    import numpy as np

    data = buffers[body["buffer"]]
    array = np.frombuffer(data, dtype=body["dtype"]).reshape(body["shape"])
    if type(data) is bytearray:
        buffers[body["buffer"]] = b""  # one owner: a second use of the index gets no numbers
        return array
    return array.copy()


class _Work:
    """Work for ``time_fn``. A ``wait`` asks the judge and blocks until it answers
    (judge/waits.py): how long a call lasts is known only to the judge, who also counts the
    calls. A ``cuda_sleep`` queues a GPU kernel of the cycles given."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec

    def __call__(self) -> None:
        if self.spec["kind"] == "wait":
            _ask_judge()
        elif self.spec["kind"] == "cuda_sleep":
            import torch

            torch.cuda._sleep(int(self.spec["cycles"]))


def _ask_judge() -> None:
    """One ask of the request being answered; returns when the judge's answer arrives."""
    ask, request = _STATE["ask"], _STATE["request"]
    if ask is None:
        raise RuntimeError("no judge to ask: this worker has no channel")
    answer = ask({"id": request, "ask": "wait"})
    if answer != {"id": request, "waited": True}:
        raise protocol.ProtocolError("the judge's answer to a wait is not for this request")


def encode(value: Any, buffers: list[bytes], depth: int = 0) -> Any:
    """Any object into protocol data, by exact type; anything else crosses as its type name."""
    if depth > protocol.MAX_DEPTH - 2:
        return {"$object": "<nested too deep>"}
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:
        return value if math.isfinite(value) else {"$float": repr(value)}
    if kind is list:
        return [encode(item, buffers, depth + 1) for item in value]
    if kind is tuple:
        return {"$tuple": [encode(item, buffers, depth + 1) for item in value]}
    if kind is dict:
        return {
            "$dict": [
                [encode(k, buffers, depth + 1), encode(v, buffers, depth + 1)]
                for k, v in dict.items(value)
            ]
        }
    if kind is bytes:
        buffers.append(value)
        return {"$bytes": len(buffers) - 1}
    if kind is Traced:
        return {"$handle": value.number}
    name = f"{kind.__module__}.{kind.__qualname__}"
    if isinstance(value, float):
        number = float.__float__(value)
        return {
            "$number": {"type": name, "float": number if math.isfinite(number) else repr(number)}
        }
    if isinstance(value, int) and not isinstance(value, bool):
        return {"$number": {"type": name, "int": int.__index__(value)}}
    module = kind.__module__
    if module == "numpy" and kind.__name__ == "ndarray":
        return {"$array": protocol.array_body(value, buffers)}
    if module == "numpy" and hasattr(value, "dtype") and value.dtype.kind in "fiub":
        item = value.item()
        key = "float" if value.dtype.kind == "f" else "int"
        item = float(item) if key == "float" else int(item)
        if key == "float" and not math.isfinite(item):
            item = repr(item)
        return {"$number": {"type": name, key: item}}
    if module == "torch" and kind.__name__ == "Tensor":
        cpu = value.detach().to("cpu").contiguous()
        body = protocol.array_body(cpu.numpy(), buffers)
        return {"$tensor": {**body, "device": str(value.device)}}
    return {"$object": name}


def encode_outputs(outputs: list[Any], buffers: list[bytes]) -> Any:
    """A timed batch's outputs: a run of 0-dim tensors of one dtype and device (a reduction's
    thousands of outputs) as one ``$scalars`` buffer, anything else one by one."""
    torch = sys.modules.get("torch")
    first = outputs[0] if outputs else None
    if torch is None or type(first) is not torch.Tensor:
        return encode(outputs, buffers)
    dtype = first.dtype  # stack would promote mixed dtypes: each must be the first's
    if not all(type(output) is torch.Tensor and output.dtype == dtype for output in outputs):
        return encode(outputs, buffers)
    try:  # one device and one shape, or it raises
        stacked = torch.stack(outputs).detach()
    except RuntimeError:
        return encode(outputs, buffers)
    if stacked.shape != (len(outputs),):  # not 0-dim tensors
        return encode(outputs, buffers)
    device = stacked.device
    body = protocol.array_body(stacked.to("cpu").numpy(), buffers)
    return {"$scalars": {**body, "device": str(device)}}


# ---- requests ----

_STATE: dict[str, Any] = {
    "module": None,
    "slots": {},
    "path": None,
    "request": None,  # the id of the request being answered (a work object's asks carry it)
    "ask": None,  # sends the judge an ask and returns its answer (serve, handle_for_module)
}


def _raised(error: BaseException) -> dict[str, Any]:
    where = ""
    path = _STATE["path"]
    frames = traceback.extract_tb(error.__traceback__)
    mine = [f for f in frames if path and f.filename == path]
    if mine:
        last = mine[-1]
        where = f"{Path(last.filename).name}:{last.lineno} in {last.name}"
    if isinstance(error, SyntaxError):
        where = f"{Path(error.filename or '?').name}, line {error.lineno}"
    try:
        message = str(error)
    except BaseException:
        message = "<message could not be shown>"
    code = None
    if isinstance(error, SystemExit):
        code = repr(error.code)[:100]
    return {
        "type": type(error).__name__,
        "mro": [c.__name__ for c in type(error).__mro__ if c.__module__ == "builtins"],
        "message": message[:2000],
        "where": where,
        "exit_code": code,
    }


def _function(name: str) -> Any:
    module = _STATE["module"]
    if not hasattr(module, name):
        raise LookupError(name)
    return getattr(module, name)


def _sync(device: str | None) -> None:
    if device and device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def handle(request: dict[str, Any], buffers: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
    """One request into one reply header and its buffers."""
    out: list[bytes] = []
    reply: dict[str, Any] = {"id": request.get("id")}
    _STATE["request"] = request.get("id")
    what = request.get("op")
    try:
        if what == "ping":
            reply["value"] = None
        elif what == "load":
            reply["value"] = _load(request["path"], request["name"], request.get("preload", []))
        elif what == "get":
            reply["value"] = encode(_function(request["name"]), out)
        elif what == "call":
            reply.update(_call(request, buffers, out))
        elif what == "stage":
            gc.freeze()  # no collection over the module's objects while staging or timing
            calls = decode_calls(request, buffers)
            _sync(request.get("device"))
            _STATE["slots"][request["slot"]] = {"calls": calls, "outputs": []}
            reply["value"] = len(calls)
        elif what == "run":
            slot = _STATE["slots"][request["slot"]]
            fn = _function(request["function"])
            outputs = slot["outputs"]
            for args in slot["calls"]:
                outputs.append(fn(*args))
            _sync(request.get("device"))
            reply["value"] = len(outputs)
        elif what == "drop":
            _STATE["slots"].pop(request["slot"], None)
            reply["value"] = None
        elif what == "fetch":
            slot = _STATE["slots"].pop(request["slot"])
            reply["value"] = encode_outputs(slot["outputs"], out)
        elif what == "plot":
            reply["value"] = encode(_plot(request, buffers), out)
        else:
            reply["error"] = f"unknown request {what!r}"
    except LookupError as missing:
        if what in ("call", "get", "run") and str(missing).strip("'") == request.get(
            "function", request.get("name")
        ):
            reply["missing"] = str(missing).strip("'")
        else:
            reply["raised"] = _raised(missing)
    except BaseException as error:  # the submission's exceptions, SystemExit included
        reply["raised"] = _raised(error)
    return reply, out


def handle_for_module(
    module: Any, request: dict[str, Any], buffers: list[bytes], ask: Any = None
) -> tuple[dict[str, Any], list[bytes]]:
    """:func:`handle` for a module imported elsewhere (the nbgrader kernel answers in-process);
    ``ask`` answers a work object's asks in place of the channel."""
    saved = _STATE["module"], _STATE["ask"]
    _STATE["module"], _STATE["ask"] = module, ask
    try:
        return handle(request, buffers)
    finally:
        _STATE["module"], _STATE["ask"] = saved


def _load(path: str, name: str, preload: list[str]) -> None:
    for module_name in preload:  # the judge's choice, e.g. torch for the reference's tensors
        importlib.import_module(module_name)
    _STATE["path"] = path
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    _STATE["module"] = module
    return None


def _call(request: dict[str, Any], buffers: list[bytes], out: list[bytes]) -> dict[str, Any]:
    fn = _function(request["function"])
    if not callable(fn):
        return {"not_callable": f"{type(fn).__module__}.{type(fn).__qualname__}"}
    cache: dict = {}
    trace = request.get("trace")
    if trace:
        TRACE.start(trace["base"], trace["limit"])
    args = _decode_request_value(request.get("args", []), buffers, cache)
    kwargs = _decode_request_value(request.get("kwargs", {"$dict": []}), buffers, cache)
    try:
        value = fn(*args, **kwargs)
    finally:
        log = TRACE.log if trace else None
        if trace:
            TRACE.start(0, 0)
    result: dict[str, Any] = {"value": encode(value, out)}
    if log is not None:
        result["log"] = log
    return result


def _plot(request: dict[str, Any], buffers: list[bytes]) -> dict[str, Any]:
    """Call the plotting function, then render what it returned as SVG (text kept as text);
    with ``keep``, return the file it saved instead: the report's copy needs no SVG."""
    fn = _function(request["function"])
    rows = _decode_request_value(request["rows"], buffers, {})
    path = Path(request["path"])
    figure = fn(rows, path)
    rendered: dict[str, Any] = {
        "returned": f"{type(figure).__module__}.{type(figure).__qualname__}"
    }
    from matplotlib.figure import Figure

    if isinstance(figure, Figure) and not request.get("keep"):
        import matplotlib

        with matplotlib.rc_context(
            {"svg.fonttype": "none", "svg.hashsalt": "judge", "path.simplify": False}
        ):
            svg = io.BytesIO()
            figure.savefig(svg, format="svg")
        data = svg.getvalue()
        rendered["svg"] = data if len(data) <= SVG_LIMIT else b""
    if path.is_file():
        size = path.stat().st_size
        rendered["saved_bytes"] = size
        if request.get("keep") and size <= PNG_LIMIT:
            rendered["saved"] = path.read_bytes()
    return rendered


def _channel_ask(reader: protocol.FrameReader, write_fd: int) -> Any:
    """An ask sent on the channel and its answer read from it, one thread at a time."""
    lock = threading.Lock()

    def ask(header: dict[str, Any]) -> dict[str, Any]:
        with lock:
            protocol.write_frame(write_fd, header)
            answer, _ = reader.read()
        return answer

    return ask


def serve(read_fd: int, write_fd: int) -> None:
    reader = protocol.FrameReader(read_fd)
    _STATE["ask"] = _channel_ask(reader, write_fd)
    while True:
        try:
            request, buffers = reader.read()
        except protocol.PeerClosed:
            return
        reply, out = handle(request, buffers)
        try:
            protocol.write_frame(write_fd, reply, out)
        except (TypeError, ValueError) as error:  # a value that would not encode
            protocol.write_frame(
                write_fd, {"id": request.get("id"), "error": f"reply not encodable: {error}"}
            )


def main() -> None:
    """Protocol on private copies of stdin/stdout; fd 1 and 2 go to the output log (fd 2)."""
    read_fd, write_fd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    os.close(devnull)
    sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", buffering=0), write_through=True)
    seccomp.forbid_sigchld_changes()  # before any submission code: no child reaped unseen
    serve(read_fd, write_fd)
    os._exit(0)


if __name__ == "__main__":
    main()
