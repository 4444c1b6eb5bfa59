"""The data-only wire format between the judge and a worker (both sides import it).

A message is a frame: an 8-byte prefix (header length, buffer count), a UTF-8 JSON
header, then each raw buffer with an 8-byte length. Values inside the header are
JSON, and every JSON object is a *tag* with exactly one key starting with ``$``:

    {"$tuple": [...]}      {"$dict": [[k, v], ...]}      {"$float": "nan" | "inf" | "-inf"}
    {"$number": {"type": "numpy.float64", "float": 1.5}}  (a float/int subclass or numpy scalar)
    {"$array": {"dtype", "shape", "buffer"}}   {"$tensor": {"dtype", "shape", "device", "buffer"}}
    {"$bytes": index}      {"$handle": n}      {"$object": "module.Type"}   (anything else)
    {"$scalars": {"dtype", "shape": [count], "device", "buffer"}}  (a list of 0-dim tensors)
    judge to worker only: {"$op": name} (traced)  {"$fn": name} (a fixed plain function)
    {"$window": [pool, offset, n]} (a stage request's pool number, listed in its "pools")
    {"$work": {"kind": "wait"}} (time_fn's work: each call asks the judge, judge/waits.py)

Nothing here unpickles, evaluates or imports what it reads. :func:`decode` (judge
side) checks every tag, dtype, shape, buffer length, nesting depth and element
count against fixed limits and raises :class:`ProtocolError` on anything else,
so a hostile worker can send wrong values but never objects, code or oversized data.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import select
import struct
import time
from dataclasses import dataclass
from typing import Any

MAX_HEADER_BYTES = 16 * 2**20
MAX_BUFFERS = 4096
MAX_BUFFER_BYTES = 64 * 2**20
MAX_MESSAGE_BYTES = 96 * 2**20
MAX_DEPTH = 32
MAX_NODES = 2**21
MAX_SCALARS = MAX_BUFFERS  # one by one, each 0-dim tensor needs a buffer of its own
DTYPES = {  # numpy dtype name -> item size; nothing with objects or pointers
    "bool": 1,
    "uint8": 1,
    "int8": 1,
    "int16": 2,
    "int32": 4,
    "int64": 8,
    "float16": 2,
    "float32": 4,
    "float64": 8,
}
FRAME_PREFIX = struct.Struct(">II")  # before each frame: header length, buffer count
_LENGTH = struct.Struct(">Q")
BIG_READ = 2**16  # parts at least this long cross without being copied into a joined message
_IOV_MAX = 512  # parts per writev call (the kernel's limit is 1,024)


class ProtocolError(Exception):
    """A frame or value that breaks the format: the reply is rejected with this reason."""


class PeerClosed(ProtocolError):
    """The other side closed its end (a worker that exited or was killed)."""


class Timeout(ProtocolError):
    """No complete reply before the deadline."""


# ---- framing ----


def pack(header: dict[str, Any], buffers: list[bytes] | tuple[bytes, ...] = ()) -> bytes:
    return b"".join(_parts(header, buffers))


def _parts(header: dict[str, Any], buffers: Any) -> list[Any]:
    head = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    parts: list[Any] = [FRAME_PREFIX.pack(len(head), len(buffers)), head]
    for buffer in buffers:
        parts += [_LENGTH.pack(len(buffer)), buffer]
    return parts


def write_frame(fd: int, header: dict[str, Any], buffers: list[bytes] | tuple = ()) -> None:
    """Write one frame. Large buffers go to the kernel as they are (no copy into one message:
    a 16 MiB batch of inputs was copied twice); runs of small parts are joined first."""
    views: list[memoryview] = []
    small: list[Any] = []
    for part in _parts(header, buffers):
        if len(part) < BIG_READ:
            small.append(part)
            continue
        if small:
            views.append(memoryview(b"".join(small)))
            small = []
        views.append(memoryview(part).cast("B"))
    if small:
        views.append(memoryview(b"".join(small)))
    while views:
        written = os.writev(fd, views[:_IOV_MAX])
        while views and written >= len(views[0]):
            written -= len(views.pop(0))
        if written:
            views[0] = views[0][written:]


class FrameReader:
    """Reads whole frames from a file descriptor, enforcing sizes and a deadline."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._pending = bytearray()

    def _take(self, count: int, deadline: float | None, poll: Any = None) -> bytes | bytearray:
        """``count`` bytes: a large part is read straight into a buffer of its own size (a
        bytearray, not copied again), a small one through the pending bytes."""
        if count >= BIG_READ and len(self._pending) < count:
            data = bytearray(count)
            have = len(self._pending)
            data[:have] = self._pending
            self._pending.clear()
            view = memoryview(data)
            while have < count:
                self._wait(deadline, poll)
                got = os.readv(self.fd, [view[have:]])
                if not got:
                    raise PeerClosed("the other side closed the channel")
                have += got
            return data
        while len(self._pending) < count:
            self._wait(deadline, poll)
            chunk = os.read(self.fd, BIG_READ)
            if not chunk:
                raise PeerClosed("the other side closed the channel")
            self._pending += chunk
        data = bytes(self._pending[:count])
        del self._pending[:count]
        return data

    def _wait(self, deadline: float | None, poll: Any) -> None:
        """Until the channel has bytes to read; ``poll`` every 0.1 s; Timeout at the deadline."""
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            step = wait if poll is None or wait is None else min(wait, 0.1)
            if poll is not None and step is None:
                step = 0.1
            ready, _, _ = select.select([self.fd], [], [], step)
            if ready:
                return
            if poll is not None:
                poll()
            if deadline is not None and time.monotonic() >= deadline:
                raise Timeout("no reply in time")

    def has_unread_bytes(self) -> bool:
        """Bytes already read from the channel that no frame has taken yet (sent unasked)."""
        return bool(self._pending)

    def read(self, deadline: float | None = None, poll: Any = None) -> tuple[dict, list[bytes]]:
        """One frame: (header, buffers). ``poll`` runs every 0.1 s while waiting."""
        head_len, count = FRAME_PREFIX.unpack(self._take(FRAME_PREFIX.size, deadline, poll))
        if head_len > MAX_HEADER_BYTES:
            raise ProtocolError(f"header of {head_len} bytes is over the limit")
        if count > MAX_BUFFERS:
            raise ProtocolError(f"{count} buffers is over the limit of {MAX_BUFFERS}")
        raw = self._take(head_len, deadline, poll)
        try:
            header = json.loads(raw)
        except (ValueError, RecursionError, MemoryError) as error:
            # ValueError covers bad UTF-8, bad JSON and integers over Python's 4,300-digit
            # conversion limit: all of them the sender's fault, never the reader's
            raise ProtocolError(f"header is not valid JSON ({type(error).__name__})") from None
        if type(header) is not dict:
            raise ProtocolError("header is not a JSON object")
        buffers, total = [], head_len
        for _ in range(count):
            (size,) = _LENGTH.unpack(self._take(_LENGTH.size, deadline, poll))
            total += size
            if size > MAX_BUFFER_BYTES or total > MAX_MESSAGE_BYTES:
                raise ProtocolError(f"buffer of {size} bytes is over the limit")
            buffers.append(self._take(size, deadline, poll))
        return header, buffers


# ---- values: the judge's view ----


@dataclass(frozen=True)
class Opaque:
    """An object the worker could not send as data: only its type's name crosses."""

    type_name: str


class ForeignFloat(float):
    """A float subclass or numpy float scalar: its value, and the type it came as."""

    type_name: str = "float"


class ForeignInt(int):
    """An int subclass or numpy integer scalar: its value, and the type it came as."""

    type_name: str = "int"


@dataclass(frozen=True)
class Handle:
    """A traced value named by number; only the judge's replay gives it a value."""

    number: int


@dataclass(frozen=True)
class ArrayValue:
    """A numpy array or torch tensor as sent: dtype, shape, device and the numbers (numpy)."""

    kind: str  # "ndarray" or "tensor"
    dtype: str
    shape: tuple[int, ...]
    device: str
    values: Any  # numpy.ndarray on the judge, read-only copy of the buffer


def _foreign(kind: type, value: Any, type_name: str) -> Any:
    made = kind(value)
    made.type_name = type_name
    return made


def decode(value: Any, buffers: list[bytes]) -> Any:
    """Judge side: rebuild a value from a reply, validating everything (ProtocolError)."""
    budget = [MAX_NODES]
    return _decode(value, buffers, 0, budget, set())


def _decode(value: Any, buffers: list[bytes], depth: int, budget: list[int], used: set[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise ProtocolError(f"value has more than {MAX_NODES} elements")
    if depth > MAX_DEPTH:
        raise ProtocolError(f"value is nested deeper than {MAX_DEPTH}")
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        if kind is int and value.bit_length() > 4096:
            raise ProtocolError("integer is too large")
        return value
    if kind is list:
        return [_decode(item, buffers, depth + 1, budget, used) for item in value]
    if kind is not dict or len(value) != 1:
        raise ProtocolError("a JSON object in a value must be one tag")
    ((tag, body),) = value.items()
    if tag == "$tuple" and type(body) is list:
        return tuple(_decode(item, buffers, depth + 1, budget, used) for item in body)
    if tag == "$dict" and type(body) is list:
        out = {}
        for pair in body:
            if type(pair) is not list or len(pair) != 2:
                raise ProtocolError("$dict entries must be [key, value] pairs")
            key = _decode(pair[0], buffers, depth + 1, budget, used)
            try:
                hash(key)
            except TypeError:
                raise ProtocolError("$dict key is not hashable") from None
            out[key] = _decode(pair[1], buffers, depth + 1, budget, used)
        return out
    if tag == "$float" and body in ("nan", "inf", "-inf"):
        return float(body)
    if tag == "$number" and type(body) is dict:
        type_name = _name(body.get("type"))
        if "float" in body:
            number = body["float"]
            number = float(number) if number in ("nan", "inf", "-inf") else number
            if type(number) is int and number.bit_length() > 1023:
                raise ProtocolError("$number float is an integer too large for a float")
            if type(number) not in (int, float):
                raise ProtocolError("$number float must be a number")
            return _foreign(ForeignFloat, number, type_name)
        if type(body.get("int")) is int and body["int"].bit_length() <= 4096:
            return _foreign(ForeignInt, body["int"], type_name)
        raise ProtocolError("$number needs a float or an int")
    if tag in ("$array", "$tensor") and type(body) is dict:
        return _decode_array(tag, body, buffers, used)
    if tag == "$scalars" and type(body) is dict:
        return _decode_scalars(body, buffers, budget, used)
    if tag == "$bytes" and type(body) is int and 0 <= body < len(buffers):
        return bytes(_buffer(body, buffers, used))  # a large buffer arrives as a bytearray
    if tag == "$handle" and type(body) is int and body.bit_length() <= 64:
        return Handle(body)
    if tag == "$object":
        return Opaque(_name(body))
    raise ProtocolError(f"unknown or malformed tag {str(tag)[:40]!r}")


def _name(value: Any) -> str:
    if type(value) is not str or len(value) > 200:
        raise ProtocolError("type names must be short strings")
    return value


def _buffer(index: int, buffers: list[bytes], used: set[int]) -> bytes:
    """Buffer ``index``, once per value: each use is copied, so a worker naming one 64 MiB
    buffer a million times would cost the judge 64 TiB (a worker's encode never reuses one)."""
    if index in used:
        raise ProtocolError(f"buffer {index} is used more than once")
    used.add(index)
    return buffers[index]


def _decode_array(tag: str, body: dict, buffers: list[bytes], used: set[int]) -> ArrayValue:
    import numpy as np

    dtype, shape, index = body.get("dtype"), body.get("shape"), body.get("buffer")
    device = body.get("device", "cpu")
    if dtype not in DTYPES:
        raise ProtocolError(f"dtype {str(dtype)[:20]!r} is not accepted")
    if (
        type(shape) is not list
        or len(shape) > 8
        or not all(type(s) is int and 0 <= s <= MAX_BUFFER_BYTES for s in shape)
    ):
        raise ProtocolError("shape must be a list of at most 8 non-negative ints")
    if type(index) is not int or not 0 <= index < len(buffers):
        raise ProtocolError("array buffer index out of range")
    if type(device) is not str or len(device) > 20:
        raise ProtocolError("device must be a short string")
    count = math.prod(shape)
    data = _buffer(index, buffers, used)
    if len(data) != count * DTYPES[dtype]:
        raise ProtocolError(f"buffer holds {len(data)} bytes, shape {shape} needs more or fewer")
    native, little = _numpy_dtypes()[0][dtype]
    values = np.frombuffer(data, dtype=little, count=count).reshape(shape).astype(native)
    values.flags.writeable = False
    kind = "ndarray" if tag == "$array" else "tensor"
    return ArrayValue(kind, dtype, tuple(shape), device, values)


def _decode_scalars(
    body: dict, buffers: list[bytes], budget: list[int], used: set[int]
) -> list[ArrayValue]:
    """A list of 0-dim tensors sent as one buffer: the same list of :class:`ArrayValue` as
    their one-by-one encoding gives (each one a node of the budget), and no longer a list
    than that encoding could carry (MAX_SCALARS; a timed batch's MAX_CALLS fits)."""
    stacked = _decode_array("$tensor", body, buffers, used)
    if len(stacked.shape) != 1:
        raise ProtocolError("$scalars needs a shape of one dimension")
    if stacked.shape[0] > MAX_SCALARS:  # 2**21 of them cost the judge 440 MiB
        raise ProtocolError(f"$scalars holds more than {MAX_SCALARS} values")
    budget[0] -= stacked.shape[0]
    if budget[0] < 0:
        raise ProtocolError(f"value has more than {MAX_NODES} elements")
    return [  # each value a read-only 0-dim array, as a 0-dim tensor's own decoding gives
        ArrayValue("tensor", stacked.dtype, (), stacked.device, row.reshape(()))
        for row in stacked.values[:, None]
    ]


# ---- values: the judge's requests (judge encodes plain data it made itself) ----


def encode_plain(value: Any, buffers: list[bytes], pools: dict | None = None) -> Any:
    """Judge side: plain Python data, numpy arrays, :class:`TensorArg`, :class:`TensorWindow`
    and :class:`ListArg` into a value tree. ``pools`` holds the number and body of each
    window pool already added to ``buffers``: share it across a message, whose ``pools``
    key lists the bodies (:func:`pool_bodies`), each pool sent once."""
    import numpy as np

    pools = {} if pools is None else pools
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:
        return value if math.isfinite(value) else {"$float": repr(value)}
    if kind is list:
        return [encode_plain(item, buffers, pools) for item in value]
    if kind is tuple:
        return {"$tuple": [encode_plain(item, buffers, pools) for item in value]}
    if kind is dict:
        return {
            "$dict": [
                [encode_plain(k, buffers, pools), encode_plain(v, buffers, pools)]
                for k, v in value.items()
            ]
        }
    if kind is np.ndarray:
        return {"$array": array_body(value, buffers)}
    if kind is TensorArg:
        return {"$tensor": {**array_body(value.values, buffers), "device": value.device}}
    if kind is TensorWindow:
        key = (id(value.pool), value.device)  # the pool outlives the message: its id is its own
        if key not in pools:
            pools[key] = (len(pools), {**array_body(value.pool, buffers), "device": value.device})
        return {"$window": [pools[key][0], value.offset, value.n]}  # 2,000 a sample: short
    if kind is ListArg:
        return {"$list": array_body(value.values, buffers)}
    if kind is Handle:
        return {"$handle": value.number}
    if kind is OpArg:
        return {"$op": value.name}
    if kind is FnArg:
        return {"$fn": value.name}
    if kind is WorkArg:
        return {"$work": dict(value.spec)}
    raise TypeError(f"the judge cannot send {kind.__name__}")


def pool_bodies(pools: dict) -> list[dict[str, Any]]:
    """The window pools :func:`encode_plain` met, in their numbers' order (a stage's ``pools``)."""
    return [body for _, body in pools.values()]  # numbered in the order they were met


def array_body(values: Any, buffers: list[bytes]) -> dict[str, Any]:
    """An array's dtype, shape and the index of its little-endian bytes (added to buffers)."""
    import numpy as np

    array = np.asarray(values, order="C")  # keeps 0-dim arrays 0-dim
    by_name, by_char = _numpy_dtypes()
    name = by_char.get(array.dtype.char)
    if name is None:
        raise TypeError(f"dtype {array.dtype} cannot be sent")
    little = array.astype(by_name[name][1], copy=False)
    # a large array crosses as a view of its own memory: write_frame hands it to the kernel
    buffers.append(memoryview(little).cast("B") if little.nbytes >= BIG_READ else little.tobytes())
    return {"dtype": name, "shape": list(array.shape), "buffer": len(buffers) - 1}


@functools.cache
def _numpy_dtypes() -> tuple[dict[str, tuple[Any, Any]], dict[str, str]]:
    """({name: (native dtype, little-endian dtype)}, {dtype.char: name}) for DTYPES, made
    once: ``dtype.name`` costs more than encoding a 0-dim output (2,000 outputs a sample)."""
    import numpy as np

    by_name = {name: (np.dtype(name), np.dtype(name).newbyteorder("<")) for name in DTYPES}
    by_char = {}
    for char in np.typecodes["All"]:
        with contextlib.suppress(TypeError):
            if np.dtype(char).name in DTYPES:
                by_char[char] = np.dtype(char).name
    return by_name, by_char


@dataclass(frozen=True)
class TensorArg:
    """A tensor the worker builds from these numbers on ``device`` (judge to worker)."""

    values: Any  # numpy.ndarray
    device: str = "cpu"


@dataclass(frozen=True)
class TensorWindow:
    """``pool[offset:offset + n]`` as a tensor with its own storage on ``device`` (judge to
    worker). A timed sample's K fresh inputs are disjoint windows of one random pool
    (:func:`~autograder.grading.judge.checks.timing.windows`); sent as the pool once and K
    offsets, staging 1,500 inputs at n=64 sends one buffer instead of 1,500."""

    pool: Any  # 1-D numpy.ndarray
    offset: int
    n: int
    device: str = "cpu"

    @property
    def values(self) -> Any:
        """The window's numbers (a view of the pool), as the judge checks outputs against."""
        return self.pool[self.offset : self.offset + self.n]


@dataclass(frozen=True)
class ListArg:
    """Nested lists of Python floats the worker builds from an array's bytes (judge to worker).

    What submission code gets is ``values.tolist()``; sent as bytes, not as JSON numbers, so a
    300 x 256 input costs the worker about 2 ms to stage instead of about 0.5 s."""

    values: Any  # numpy.ndarray of float64


@dataclass(frozen=True)
class OpArg:
    """A traced binary operation the worker hands to submission code (judge to worker)."""

    name: str = "op"


@dataclass(frozen=True)
class FnArg:
    """One of the worker's fixed plain functions (``add``, ``matmul2``), not traced."""

    name: str


@dataclass(frozen=True)
class WorkArg:
    """Work for time_fn whose duration the judge knows: a wait it answers, a GPU kernel."""

    spec: tuple[tuple[str, Any], ...]
