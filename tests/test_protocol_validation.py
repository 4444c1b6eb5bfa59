"""The judge's side of the wire, rule by rule: which frames and values ``FrameReader.read``
and ``decode`` accept, what they become, and the exact reason each refusal gives.

tests/test_protocol.py sends values through a real worker; these pin every limit at its
edge (the limits patched small where a real one would need megabytes), every tag's
accepted forms and every refusal's message, so a loosened check fails a test
(``make mutate``'s ``protocol`` target).
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import threading
import time
import types

import numpy as np
import pytest

from autograder.grading.worker import protocol
from autograder.grading.worker.protocol import (
    ArrayValue,
    ForeignFloat,
    ForeignInt,
    Handle,
    Opaque,
    ProtocolError,
    decode,
)


def refused(value, buffers=()) -> str:
    with pytest.raises(ProtocolError) as raised:
        decode(value, list(buffers))
    assert type(raised.value) is ProtocolError
    return str(raised.value)


def test_the_limits_are_the_documented_ones() -> None:
    assert protocol.MAX_HEADER_BYTES == 16 * 2**20
    assert protocol.MAX_BUFFERS == 4096
    assert protocol.MAX_BUFFER_BYTES == 64 * 2**20
    assert protocol.MAX_MESSAGE_BYTES == 96 * 2**20
    assert protocol.MAX_DEPTH == 32
    assert protocol.MAX_NODES == 2**21
    assert protocol.MAX_SCALARS == protocol.MAX_BUFFERS
    # every accepted dtype with its true item size, nothing holding objects or pointers
    assert {name: np.dtype(name).itemsize for name in protocol.DTYPES} == protocol.DTYPES
    assert sorted(protocol.DTYPES) == sorted(
        ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
    )


# ---------------------------------------------------------------- frames


def read_frames(data: bytes, frames: int = 1):
    """Read ``frames`` frames from ``data`` already received; the channel is then closed."""
    read_fd, write_fd = os.pipe()
    os.close(write_fd)  # anything more than ``data`` is the peer closing
    reader = protocol.FrameReader(read_fd)
    reader._pending += data
    try:
        got = [reader.read(deadline=None) for _ in range(frames)]
        return got, reader
    finally:
        os.close(read_fd)


def frame(head: bytes, buffers=(), count: int | None = None) -> bytes:
    count = len(buffers) if count is None else count
    parts = [protocol.FRAME_PREFIX.pack(len(head), count), head]
    for buffer in buffers:
        parts += [len(buffer).to_bytes(8, "big"), buffer]
    return b"".join(parts)


def frame_refused(data: bytes) -> str:
    with pytest.raises(ProtocolError) as raised:
        read_frames(data)
    assert type(raised.value) is ProtocolError
    return str(raised.value)


def test_a_frame_comes_back_as_its_header_and_buffers_in_order() -> None:
    data = protocol.pack({"id": 3, "value": [1, {"$bytes": 1}]}, [b"ab", b"", b"xyz"])
    (got,), reader = read_frames(data)
    assert got == ({"id": 3, "value": [1, {"$bytes": 1}]}, [b"ab", b"", b"xyz"])
    assert type(got[1]) is list and not reader.has_unread_bytes()


def test_bytes_left_after_a_frame_are_seen_as_sent_unasked() -> None:
    data = protocol.pack({"id": 1}) + protocol.pack({"id": 2}, [b"q"])
    (first,), reader = read_frames(data)
    assert first == ({"id": 1}, []) and reader.has_unread_bytes() is True
    both, reader = read_frames(data, frames=2)
    assert both[1] == ({"id": 2}, [b"q"]) and reader.has_unread_bytes() is False


def test_a_frame_cut_short_is_the_peer_closing() -> None:
    data = protocol.pack({"id": 1}, [b"abcd"])
    for cut in (3, 9, len(data) - 1):
        with pytest.raises(protocol.PeerClosed):
            read_frames(data[:cut])


def test_header_size_limit_at_its_edge(monkeypatch) -> None:
    monkeypatch.setattr(protocol, "MAX_HEADER_BYTES", 10)
    head = b'{"a":"12"}'
    assert len(head) == 10
    assert read_frames(frame(head))[0] == [({"a": "12"}, [])]
    assert frame_refused(frame(b'{"a":"123"}')) == "header of 11 bytes is over the limit"


def test_buffer_count_limit_at_its_edge(monkeypatch) -> None:
    monkeypatch.setattr(protocol, "MAX_BUFFERS", 2)
    assert read_frames(frame(b"{}", [b"a", b"b"]))[0] == [({}, [b"a", b"b"])]
    assert frame_refused(frame(b"{}", [b"a", b"b", b"c"])) == "3 buffers is over the limit of 2"


def test_buffer_and_message_size_limits_at_their_edges(monkeypatch) -> None:
    monkeypatch.setattr(protocol, "MAX_BUFFER_BYTES", 8)
    monkeypatch.setattr(protocol, "MAX_MESSAGE_BYTES", 20)
    eight = b"12345678"
    # the header's 2 bytes count towards the message: 2 + 8 + 8 + 2 = 20 is the limit
    assert read_frames(frame(b"{}", [eight, eight, b"ab"]))[0] == [({}, [eight, eight, b"ab"])]
    assert frame_refused(frame(b"{}", [eight, eight, b"abc"])) == (
        "buffer of 3 bytes is over the limit"
    )
    assert frame_refused(frame(b"{}", [eight + b"9"])) == "buffer of 9 bytes is over the limit"


def test_the_real_buffer_limits_refuse_before_reading_the_buffer() -> None:
    too_big = protocol.MAX_BUFFER_BYTES + 1
    data = frame(b"{}", count=1) + too_big.to_bytes(8, "big")
    assert frame_refused(data) == f"buffer of {too_big} bytes is over the limit"
    # a message over the total: the second buffer's size alone is within its own limit
    first = b"x" * (protocol.MAX_MESSAGE_BYTES - protocol.MAX_BUFFER_BYTES)
    data = frame(b"{}", [first], count=2) + protocol.MAX_BUFFER_BYTES.to_bytes(8, "big")
    assert frame_refused(data) == f"buffer of {protocol.MAX_BUFFER_BYTES} bytes is over the limit"


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        (b'{"a": 1', "header is not valid JSON (JSONDecodeError)"),
        (b'{"a": "\xff"}', "header is not valid JSON (UnicodeDecodeError)"),
        (b'{"a": ' + b"9" * 5000 + b"}", "header is not valid JSON (ValueError)"),
        (b"[" * 100_000 + b"]" * 100_000, "header is not valid JSON (RecursionError)"),
        (b"[1]", "header is not a JSON object"),
        (b'"text"', "header is not a JSON object"),
        (b"null", "header is not a JSON object"),
    ],
    ids=["truncated", "not-utf8", "huge-int", "deep", "list", "string", "null"],
)
def test_a_header_must_be_one_json_object(head, reason) -> None:
    assert frame_refused(frame(head)) == reason


def test_a_header_too_large_for_memory_is_the_senders_fault(monkeypatch) -> None:
    def out_of_memory(raw: bytes) -> None:
        raise MemoryError

    monkeypatch.setattr(protocol.json, "loads", out_of_memory)
    assert frame_refused(frame(b"{}")) == "header is not valid JSON (MemoryError)"


def test_a_header_may_hold_any_json_object() -> None:
    head = json.dumps({"id": 1, "value": [1.5, None, True, "x"]}).encode()
    assert read_frames(frame(head))[0][0][0] == {"id": 1, "value": [1.5, None, True, "x"]}


# ---------------------------------------------------------------- plain values


@pytest.mark.parametrize("value", [None, True, False, 0, -3, 2**4096 - 1, -(2**4096 - 1), 1.5, ""])
def test_plain_json_values_are_themselves(value) -> None:
    got = decode(value, [])
    assert got == value and type(got) is type(value)


def test_an_integer_over_4096_bits_is_refused() -> None:
    assert refused(2**4096) == "integer is too large"
    assert refused(-(2**4096)) == "integer is too large"
    assert refused([1, [2**4096]]) == "integer is too large"


def test_lists_tuples_and_dicts_are_rebuilt_with_their_types() -> None:
    value = [1, {"$tuple": [2, {"$tuple": []}]}, {"$dict": [[{"$tuple": [1, 2]}, [3]], ["k", 4]]}]
    got = decode(value, [])
    assert got == [1, (2, ()), {(1, 2): [3], "k": 4}]
    assert type(got[1]) is tuple and type(got[1][1]) is tuple and type(got[2]) is dict
    assert decode({"$dict": [["k", 1], ["k", 2]]}, []) == {"k": 2}  # the later pair wins
    assert decode({"$dict": []}, []) == {} and decode([], []) == []


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({}, "a JSON object in a value must be one tag"),
        ({"$tuple": [], "$dict": []}, "a JSON object in a value must be one tag"),
        ({"$tuple": {"a": 1}}, "unknown or malformed tag '$tuple'"),
        ({"$dict": {"a": 1}}, "unknown or malformed tag '$dict'"),
        ({"$dict": [["k"]]}, "$dict entries must be [key, value] pairs"),
        ({"$dict": [["k", 1, 2]]}, "$dict entries must be [key, value] pairs"),
        ({"$dict": [{"$tuple": ["k", 1]}]}, "$dict entries must be [key, value] pairs"),
        ({"$dict": [[[1], 2]]}, "$dict key is not hashable"),
        ({"$dict": [[{"$dict": []}, 2]]}, "$dict key is not hashable"),
        ({"key": 1}, "unknown or malformed tag 'key'"),
        ({"key": [1]}, "unknown or malformed tag 'key'"),
        ({"$zzz": [1]}, "unknown or malformed tag '$zzz'"),
        ({"$": [1]}, "unknown or malformed tag '$'"),
        ({"$" + "x" * 60: 1}, "unknown or malformed tag '$" + "x" * 39 + "'"),
    ],
)
def test_malformed_containers_and_tags_are_refused_with_their_reason(value, reason) -> None:
    assert refused(value) == reason


TAGS = ["$array", "$bytes", "$dict", "$handle", "$number", "$tensor", "$tuple", "$zzz", "$a"]


@pytest.mark.parametrize("tag", TAGS)
def test_only_the_float_tag_makes_a_float_of_text(tag) -> None:
    for body in ("nan", "inf", "-inf"):
        assert refused({tag: body}, [b"x"]) == f"unknown or malformed tag {tag!r}"
    assert decode({"$object": "inf"}, []) == Opaque("inf")


@pytest.mark.parametrize("tag", [*TAGS, "$object"])
def test_only_the_bytes_tag_takes_a_buffer_by_index(tag) -> None:
    buffers = [b"zero", b"one"]
    if tag == "$bytes":
        assert decode({tag: 0}, buffers) == b"zero"
    elif tag == "$handle":
        assert decode({tag: 0}, buffers) == Handle(0)
    elif tag == "$object":
        assert refused({tag: 0}, buffers) == "type names must be short strings"
    else:
        assert refused({tag: 0}, buffers) == f"unknown or malformed tag {tag!r}"


def test_the_float_tag_carries_only_nan_and_the_infinities() -> None:
    assert math.isnan(decode({"$float": "nan"}, []))
    assert decode({"$float": "inf"}, []) == math.inf
    assert decode({"$float": "-inf"}, []) == -math.inf
    assert type(decode({"$float": "inf"}, [])) is float
    for body in ("1.5", "Infinity", 1.5, None):
        assert refused({"$float": body}) == "unknown or malformed tag '$float'"


# ---------------------------------------------------------------- limits on whole values


def nested(depth: int, kind: str) -> object:
    value: object = 0
    for _ in range(depth):
        if kind == "list":
            value = [value]
        elif kind == "tuple":
            value = {"$tuple": [value]}
        else:
            value = {"$dict": [["k", value]]}
    return value


@pytest.mark.parametrize("kind", ["list", "tuple", "dict"])
def test_nesting_is_limited_at_its_edge_in_every_container(kind) -> None:
    # the innermost 0 lies at depth ``depth``: 32 is allowed, 33 is not
    decode(nested(protocol.MAX_DEPTH, kind), [])
    assert refused(nested(protocol.MAX_DEPTH + 1, kind)) == "value is nested deeper than 32"


def test_a_dict_key_lies_one_level_down() -> None:
    def keyed(depth: int) -> dict:  # the key's innermost 0 at depth ``depth``
        return {"$dict": [[nested(depth - 1, "tuple"), 0]]}

    assert decode(keyed(protocol.MAX_DEPTH), []) == {nested_tuple(protocol.MAX_DEPTH - 1): 0}
    assert refused(keyed(protocol.MAX_DEPTH + 1)) == "value is nested deeper than 32"
    # the same one level down: the dict at depth 1, its key at depth 2
    assert decode([keyed(protocol.MAX_DEPTH - 1)], []) == [
        {nested_tuple(protocol.MAX_DEPTH - 2): 0}
    ]
    assert refused([keyed(protocol.MAX_DEPTH)]) == "value is nested deeper than 32"


def nested_tuple(depth: int) -> object:
    value: object = 0
    for _ in range(depth):
        value = (value,)
    return value


def test_every_element_counts_towards_the_node_limit(monkeypatch) -> None:
    monkeypatch.setattr(protocol, "MAX_NODES", 10)
    assert decode(list(range(9)), []) == list(range(9))  # the list and its 9 items: 10 nodes
    assert refused(list(range(10))) == "value has more than 10 elements"
    assert decode({"$dict": [["a", 1], ["b", 2]]}, []) == {"a": 1, "b": 2}  # 5 nodes
    assert refused({"$dict": [["a", [1, 2, 3, 4]], ["b", [1, 2]]]}) == (
        "value has more than 10 elements"
    )
    assert decode({"$tuple": list(range(9))}, []) == tuple(range(9))
    assert refused({"$tuple": list(range(10))}) == "value has more than 10 elements"


def test_the_node_budget_is_fresh_for_each_value(monkeypatch) -> None:
    monkeypatch.setattr(protocol, "MAX_NODES", 10)
    for _ in range(3):
        assert decode(list(range(9)), []) == list(range(9))


# ---------------------------------------------------------------- numbers, bytes, handles, objects


def test_foreign_floats_keep_their_value_and_their_type_name() -> None:
    got = decode({"$number": {"type": "numpy.float64", "float": 1.5}}, [])
    assert type(got) is ForeignFloat and float(got) == 1.5 and got.type_name == "numpy.float64"
    got = decode({"$number": {"type": "numpy.float32", "float": 3}}, [])
    assert type(got) is ForeignFloat and float(got) == 3.0 and got.type_name == "numpy.float32"
    for text in ("nan", "inf", "-inf"):
        got = decode({"$number": {"type": "F", "float": text}}, [])
        assert type(got) is ForeignFloat and repr(float(got)) == text
    big = 2**1023 - 1  # 1023 bits: still a float
    assert float(decode({"$number": {"type": "F", "float": big}}, [])) == float(big)
    # "float" wins over "int" when a body holds both
    both = decode({"$number": {"type": "F", "float": 2.5, "int": 7}}, [])
    assert type(both) is ForeignFloat and float(both) == 2.5


def test_foreign_ints_keep_their_value_and_their_type_name() -> None:
    got = decode({"$number": {"type": "numpy.int64", "int": -5}}, [])
    assert type(got) is ForeignInt and int(got) == -5 and got.type_name == "numpy.int64"
    for edge in (2**4096 - 1, -(2**4096 - 1)):
        assert int(decode({"$number": {"type": "I", "int": edge}}, [])) == edge


def test_each_decoded_foreign_number_has_its_own_type_name() -> None:
    first = decode({"$number": {"type": "one", "float": 1.0}}, [])
    second = decode({"$number": {"type": "two", "float": 1.0}}, [])
    assert (first.type_name, second.type_name) == ("one", "two")
    assert ForeignFloat(1.0).type_name == "float" and ForeignInt(1).type_name == "int"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"type": "F", "float": 2**1023}, "$number float is an integer too large for a float"),
        ({"type": "F", "float": -(2**1023)}, "$number float is an integer too large for a float"),
        ({"type": "F", "float": "1e5"}, "$number float must be a number"),
        ({"type": "F", "float": None}, "$number float must be a number"),
        ({"type": "F", "float": True}, "$number float must be a number"),
        ({"type": "F", "float": [1.0]}, "$number float must be a number"),
        ({"type": "I", "int": 2**4096}, "$number needs a float or an int"),
        ({"type": "I", "int": 1.0}, "$number needs a float or an int"),
        ({"type": "I", "int": True}, "$number needs a float or an int"),
        ({"type": "I"}, "$number needs a float or an int"),
        ({"float": 1.0}, "type names must be short strings"),
        ({"type": 3, "int": 1}, "type names must be short strings"),
        ({"type": "t" * 201, "int": 1}, "type names must be short strings"),
    ],
)
def test_malformed_numbers_are_refused_with_their_reason(body, reason) -> None:
    assert refused({"$number": body}) == reason


def test_a_number_tag_needs_an_object_body() -> None:
    assert refused({"$number": [1.0]}) == "unknown or malformed tag '$number'"


def test_type_names_may_be_200_characters() -> None:
    assert decode({"$number": {"type": "t" * 200, "int": 1}}, []).type_name == "t" * 200
    assert decode({"$object": "o" * 200}, []) == Opaque("o" * 200)
    assert refused({"$object": "o" * 201}) == "type names must be short strings"
    assert refused({"$object": None}) == "type names must be short strings"


def test_bytes_are_the_buffer_they_name() -> None:
    buffers = [b"zero", b"one"]
    assert decode({"$bytes": 0}, buffers) == b"zero"
    assert decode({"$bytes": 1}, buffers) == b"one"
    for index in (-1, 2, 3, 10, True, 0.0, "0"):
        assert refused({"$bytes": index}, buffers) == "unknown or malformed tag '$bytes'"


def test_a_buffer_is_decoded_at_most_once_in_a_value() -> None:
    """Each reference copies its buffer: a 13-byte ``{"$bytes": 0}`` repeated over a 64 MiB
    buffer would cost the judge 64 MiB a reference. A worker's encode gives every bytes,
    array, tensor and batch of scalars a buffer of its own, so a second use is refused."""
    data = bytes(8)
    array = {"$array": {"dtype": "uint8", "shape": [8], "buffer": 0}}
    scalars = {"$scalars": {"dtype": "uint8", "shape": [8], "device": "cpu", "buffer": 0}}
    for first in ({"$bytes": 0}, array, scalars):
        assert decode([first, {"$bytes": 1}], [data, b"x"])[1] == b"x"
        for second in ({"$bytes": 0}, array, scalars):
            assert refused([first, second], [data]) == "buffer 0 is used more than once"
    assert refused({"$dict": [[{"$bytes": 0}, {"$bytes": 0}]]}, [data]) == (
        "buffer 0 is used more than once"
    )
    assert decode({"$bytes": 0}, [data]) == decode({"$bytes": 0}, [data])  # per value


def test_a_batch_of_scalars_holds_at_most_as_many_as_one_by_one_tensors_could() -> None:
    """One by one, each 0-dim tensor needs a buffer of its own (at most MAX_BUFFERS); a
    2 MiB $scalars buffer of 2**21 bools cost the judge 440 MiB of ArrayValues."""
    limit = protocol.MAX_SCALARS

    def scalars(count: int) -> dict:
        return {"$scalars": {"dtype": "bool", "shape": [count], "device": "cpu", "buffer": 0}}

    assert len(decode(scalars(limit), [bytes(limit)])) == limit
    assert refused(scalars(limit + 1), [bytes(limit + 1)]) == (
        f"$scalars holds more than {limit} values"
    )


@pytest.mark.parametrize(
    ("shape", "size"), [([], 4), ([1, 1], 4), ([2, 1], 8), ([1, 2], 8), ([1, 1, 1], 4)]
)
def test_a_batch_of_scalars_is_one_dimensional(shape, size) -> None:
    body = {"dtype": "float32", "shape": shape, "device": "cpu", "buffer": 0}
    assert refused({"$scalars": body}, [bytes(size)]) == "$scalars needs a shape of one dimension"


def test_a_batch_of_scalars_is_each_scalar_as_its_own_tensor_would_be() -> None:
    values = np.array([0.5, -2.0, 7.25], dtype="<f8")
    got = decode(
        {"$scalars": {"dtype": "float64", "shape": [3], "device": "cuda:0", "buffer": 0}},
        [values.tobytes()],
    )
    alone = [
        decode(
            {"$tensor": {"dtype": "float64", "shape": [], "device": "cuda:0", "buffer": 0}},
            [np.array(v, dtype="<f8").tobytes()],
        )
        for v in values
    ]
    assert [(v.kind, v.dtype, v.shape, v.device) for v in got] == [
        (v.kind, v.dtype, v.shape, v.device) for v in alone
    ]
    assert [float(v.values) for v in got] == [0.5, -2.0, 7.25]
    assert all(v.values.shape == () and not v.values.flags.writeable for v in got)
    assert decode({"$scalars": {"dtype": "int8", "shape": [0], "buffer": 0}}, [b""]) == []


def test_a_batch_of_scalars_counts_each_scalar_against_the_element_budget(monkeypatch) -> None:
    """A list node, a $scalars node and one per scalar: 2 + 8 nodes exactly fit 10."""
    monkeypatch.setattr(protocol, "MAX_NODES", 10)

    def batch(count: int) -> list:
        return [{"$scalars": {"dtype": "uint8", "shape": [count], "buffer": 0}}]

    assert len(decode(batch(8), [bytes(8)])[0]) == 8
    assert refused(batch(9), [bytes(9)]) == "value has more than 10 elements"


def test_handles_are_numbers_of_at_most_64_bits() -> None:
    assert decode({"$handle": 0}, []) == Handle(0)
    assert decode({"$handle": 2**64 - 1}, []) == Handle(2**64 - 1)
    assert decode({"$handle": -(2**64 - 1)}, []) == Handle(-(2**64 - 1))
    for body in (2**64, True, 1.0, "1"):
        assert refused({"$handle": body}) == "unknown or malformed tag '$handle'"


# ---------------------------------------------------------------- arrays and tensors


def array(dtype="float64", shape=(2,), buffer=0, **more) -> dict:
    return {"$array": {"dtype": dtype, "shape": list(shape), "buffer": buffer, **more}}


def test_an_array_is_its_little_endian_numbers_read_only() -> None:
    data = np.array([[1.5, -2.0, 3.25], [0.0, 4.0, 5.5]], dtype="<f8").tobytes()
    got = decode(array(shape=(2, 3)), [data])
    assert type(got) is ArrayValue
    assert (got.kind, got.dtype, got.shape, got.device) == ("ndarray", "float64", (2, 3), "cpu")
    assert got.values.tolist() == [[1.5, -2.0, 3.25], [0.0, 4.0, 5.5]]
    assert got.values.dtype == np.dtype("float64") and not got.values.flags.writeable
    ints = decode(array("int16", (2,)), [b"\x01\x00\x00\x01"])
    assert ints.values.tolist() == [1, 256] and ints.values.dtype == np.dtype("int16")


def test_arrays_of_hundreds_of_bytes_are_accepted() -> None:
    for count in (64, 300, 1000):
        values = np.arange(count, dtype="<f8")
        got = decode(array(shape=(count,)), [values.tobytes()])
        assert got.values.tolist() == values.tolist()


def test_a_tensor_keeps_its_device() -> None:
    body = {"dtype": "float32", "shape": [], "buffer": 1, "device": "cuda:0"}
    got = decode({"$tensor": body}, [b"", np.float32(2.5).tobytes()])
    assert (got.kind, got.dtype, got.shape, got.device) == ("tensor", "float32", (), "cuda:0")
    assert float(got.values) == 2.5
    assert decode({"$tensor": {**body, "device": "d" * 20}}, [b"", b"\0" * 4]).device == "d" * 20


@pytest.mark.parametrize("dtype", sorted(protocol.DTYPES))
def test_every_accepted_dtype_needs_exactly_its_bytes(dtype) -> None:
    size = np.dtype(dtype).itemsize
    got = decode(array(dtype, (3,)), [bytes(3 * size)])
    assert got.values.tolist() == [0, 0, 0] and got.values.dtype == np.dtype(dtype)
    for wrong in (3 * size - 1, 3 * size + 1):
        assert refused(array(dtype, (3,)), [bytes(wrong)]) == (
            f"buffer holds {wrong} bytes, shape [3] needs more or fewer"
        )


def test_shapes_of_up_to_8_dimensions_within_the_buffer_limit() -> None:
    assert decode(array("uint8", (1,) * 8), [b"\x07"]).shape == (1,) * 8
    # the largest dimension allowed, times an empty one: no bytes needed
    edge = protocol.MAX_BUFFER_BYTES
    assert decode(array("uint8", (edge, 0)), [b""]).shape == (edge, 0)
    assert decode(array("uint8", (0,)), [b""]).values.tolist() == []


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (array("object"), "dtype 'object' is not accepted"),
        (array("complex128"), "dtype 'complex128' is not accepted"),
        (array(None), "dtype 'None' is not accepted"),
        (array("f" * 30), "dtype '" + "f" * 20 + "' is not accepted"),
        (array(shape=(1,) * 9), "shape must be a list of at most 8 non-negative ints"),
        (array(shape=(-1,)), "shape must be a list of at most 8 non-negative ints"),
        (array(shape=(2**26 + 1, 0)), "shape must be a list of at most 8 non-negative ints"),
        (array(shape=(True,)), "shape must be a list of at most 8 non-negative ints"),
        (array(shape=(2.0,)), "shape must be a list of at most 8 non-negative ints"),
        ({"$array": {"dtype": "uint8", "shape": 2, "buffer": 0}}, "shape must be a list"),
        ({"$array": {"dtype": "uint8", "buffer": 0}}, "shape must be a list"),
        (array(buffer=1), "array buffer index out of range"),
        (array(buffer=-1), "array buffer index out of range"),
        (array(buffer=2), "array buffer index out of range"),
        (array(buffer=7), "array buffer index out of range"),
        (array(buffer=True), "array buffer index out of range"),
        (array(buffer="0"), "array buffer index out of range"),
        ({"$array": {"dtype": "uint8", "shape": [1]}}, "array buffer index out of range"),
        (array(device=0), "device must be a short string"),
        (array(device="d" * 21), "device must be a short string"),
        (array(shape=(3,)), "buffer holds 16 bytes, shape [3] needs more or fewer"),
        (array(shape=(1,)), "buffer holds 16 bytes, shape [1] needs more or fewer"),
        ({"$array": [1]}, "unknown or malformed tag '$array'"),
        ({"$tensor": "x"}, "unknown or malformed tag '$tensor'"),
    ],
)
def test_malformed_arrays_are_refused_with_their_reason(value, reason) -> None:
    assert refused(value, [bytes(16)]).startswith(reason)


# ---- framing: large buffers read and written without copies (write_frame, _take) ----


def _through_a_pipe(header, buffers, *, chunk: int | None = None):
    """Write a frame with write_frame from a thread (a pipe holds 64 KiB) and read it back;
    ``chunk``: the writer sends the frame's bytes in pieces of that size."""
    read_fd, write_fd = os.pipe()

    def send() -> None:
        try:
            if chunk is None:
                protocol.write_frame(write_fd, header, buffers)
            else:
                data = protocol.pack(header, buffers)
                for start in range(0, len(data), chunk):
                    os.write(write_fd, data[start : start + chunk])
        finally:
            os.close(write_fd)

    writer = threading.Thread(target=send)
    writer.start()
    try:
        reader = protocol.FrameReader(read_fd)
        got = reader.read(time.monotonic() + 20)
        with pytest.raises(protocol.PeerClosed):  # nothing after the frame
            reader.read(time.monotonic() + 20)
    finally:
        writer.join()
        os.close(read_fd)
    return got


@pytest.mark.parametrize("chunk", [None, 7, 70_001], ids=["writev", "tiny pieces", "pieces"])
def test_large_and_small_buffers_cross_whole_and_in_order(chunk):
    """Buffers above BIG_READ are read straight into their own bytearray, smaller ones
    through the pending bytes; a frame split anywhere (inside a length, a header, a large
    buffer whose first bytes were already pending) comes back byte for byte."""
    rng = np.random.default_rng(3)
    big = rng.integers(0, 256, 3 * protocol.BIG_READ + 5, dtype=np.uint8).tobytes()
    edge = bytes(range(256)) * (protocol.BIG_READ // 256)  # exactly BIG_READ
    buffers = [b"ab", big, b"", edge, b"xyz" * 1000, big[:100]]
    header = {"id": 9, "text": "é" * 50_000}  # a header above BIG_READ too
    got_header, got_buffers = _through_a_pipe(header, buffers, chunk=chunk)
    assert got_header == header
    assert [bytes(b) for b in got_buffers] == buffers
    assert type(got_buffers[0]) is bytes and type(got_buffers[1]) is bytearray


def test_a_frame_of_more_parts_than_one_writev_takes_crosses_whole():
    buffers = [bytes([i % 256]) * (i % 5) for i in range(3000)]  # 6,002 parts, most tiny
    buffers[1500] = b"q" * (protocol.BIG_READ + 1)  # small runs on both sides of a large one
    got_header, got_buffers = _through_a_pipe({"id": 1}, buffers)
    assert got_header == {"id": 1} and [bytes(b) for b in got_buffers] == buffers


def test_numpy_arrays_cross_as_buffers_without_a_copy_of_their_own():
    """array_body may hand write_frame the array's memory (a memoryview): what arrives is
    still the array's little-endian bytes, also for a big-endian or non-contiguous array."""
    values = np.arange(40_000, dtype=">f8")[::2]
    buffers: list = []
    body = protocol.array_body(values, buffers)
    got_header, got_buffers = _through_a_pipe({"value": {"$array": body}}, buffers)
    decoded = protocol.decode(got_header["value"], got_buffers)
    assert decoded.values.dtype == np.float64 and np.array_equal(decoded.values, values)


def test_large_bytes_decode_as_bytes_not_as_the_readers_bytearray():
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * (protocol.BIG_READ * 2)
    got_header, got_buffers = _through_a_pipe({"value": {"$bytes": 0}}, [png])
    value = protocol.decode(got_header["value"], got_buffers)
    assert type(value) is bytes and value == png


def test_a_large_buffer_cut_short_is_a_closed_peer_not_a_short_value():
    read_fd, write_fd = os.pipe()
    fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, 2**18)  # room for the whole frame
    data = protocol.pack({"id": 1}, [b"z" * (protocol.BIG_READ + 10)])
    os.write(write_fd, data[: len(data) - 11])  # all but the last 11 bytes
    os.close(write_fd)
    try:
        with pytest.raises(protocol.PeerClosed):
            protocol.FrameReader(read_fd).read(time.monotonic() + 5)
    finally:
        os.close(read_fd)


def test_a_large_buffer_that_stops_arriving_times_out():
    read_fd, write_fd = os.pipe()
    data = protocol.pack({"id": 1}, [b"z" * (protocol.BIG_READ + 10)])
    os.write(write_fd, data[:30_000])
    try:
        with pytest.raises(protocol.Timeout):
            protocol.FrameReader(read_fd).read(time.monotonic() + 0.3)
    finally:
        os.close(read_fd)
        os.close(write_fd)


@pytest.mark.parametrize("most", [1, 7, 8, 9, protocol.BIG_READ - 1, protocol.BIG_READ + 1])
def test_a_frame_written_in_partial_writes_arrives_whole(monkeypatch, most) -> None:
    """A writev may take fewer bytes than offered (a signal, a non-blocking channel): the
    rest of a half-written part and every later part still go, in order."""
    real = os.writev
    calls = []

    def partial(fd, views):
        calls.append(len(views))
        budget, taken = most, []
        for view in views:
            if budget <= 0:
                break
            taken.append(memoryview(view)[:budget])
            budget -= len(taken[-1])
        return real(fd, taken)

    monkeypatch.setattr(protocol.os, "writev", partial)
    buffers = [b"ab", b"q" * (protocol.BIG_READ + 3), b"", b"xyz" * 50, b"z" * protocol.BIG_READ]
    got_header, got_buffers = _through_a_pipe({"id": 5}, buffers)
    assert got_header == {"id": 5} and [bytes(b) for b in got_buffers] == buffers
    assert len(calls) > len(protocol.pack({"id": 5}, buffers)) // (most + 1)  # all short


@pytest.mark.parametrize("deadline_in", [0.05, 0.35, 1.0])
def test_a_wait_polls_every_tenth_of_a_second_until_its_deadline(monkeypatch, deadline_in) -> None:
    """The judge's watchdog (``poll``) runs at least every 0.1 s while a reply is awaited, and
    the wait ends at the deadline: a fake clock advanced by each select's own timeout."""
    now = [1000.0]
    steps: list[float] = []

    def select(readers, writers, errors, timeout):
        steps.append(timeout)
        now[0] += timeout
        return [], [], []

    monkeypatch.setattr(protocol, "time", types.SimpleNamespace(monotonic=lambda: now[0]))
    monkeypatch.setattr(protocol, "select", types.SimpleNamespace(select=select))
    polls = []
    reader = protocol.FrameReader(-1)
    with pytest.raises(protocol.Timeout):
        reader.read(now[0] + deadline_in, poll=lambda: polls.append(now[0]))
    assert all(0 <= step <= 0.1 + 1e-12 for step in steps)
    assert sum(steps) == pytest.approx(deadline_in)
    assert len(polls) == len(steps) == math.ceil(deadline_in / 0.1 - 1e-9)
    steps.clear()
    with pytest.raises(protocol.Timeout):  # no watchdog: one wait for the whole time
        protocol.FrameReader(-1).read(now[0] + deadline_in)
    assert steps == [pytest.approx(deadline_in)]


class _Stop(Exception):
    pass


@pytest.mark.parametrize("deadline_in", [None, 30.0, 0.05])
def test_a_reader_that_polls_waits_at_most_a_tenth_of_a_second_between_polls(
    monkeypatch, deadline_in
):
    """The watchdog's period: select never blocks past 0.1 s (or the deadline) when a poll
    is given, with or without a deadline; without a poll it blocks until the deadline."""
    from autograder.grading.worker import protocol as protocol_module

    steps: list = []

    def fake_select(read, write, error, timeout):
        steps.append(timeout)
        return [], [], []

    def poll() -> None:
        raise _Stop

    monkeypatch.setattr(protocol_module.select, "select", fake_select)
    reader = protocol_module.FrameReader(-1)
    deadline = None if deadline_in is None else time.monotonic() + deadline_in
    with pytest.raises(_Stop):
        reader._wait(deadline, poll)
    assert len(steps) == 1 and steps[0] is not None
    assert 0 <= steps[0] <= 0.1
    if deadline_in is None or deadline_in > 1:
        assert steps[0] == 0.1
    steps.clear()
    if deadline_in is not None:
        with pytest.raises(protocol_module.Timeout):  # no poll: one wait to the deadline
            monkeypatch.setattr(protocol_module.time, "monotonic", lambda: deadline + 1)
            reader._wait(deadline, None)
        assert steps == [0.0]
