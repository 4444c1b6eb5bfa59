"""Every number from a worker passes one gate; nothing non-finite or huge can pass a check or
break the results file, and malformed frames are the submission's fault, never the grader's."""

from __future__ import annotations

import contextlib
import json
import math
import os
import threading
import time

import pytest

from autograder.grading.judge.checks import numbers
from autograder.grading.judge.checks.support import CheckFailed
from autograder.grading.judge.trace import replay_operation
from autograder.grading.worker import protocol
from autograder.results.strict_json import strict_copy
from autograder.results.write import write_json
from reference.tracer import Tape


def short_id(value) -> str:
    text = f"{type(value).__name__}:{value!r}"
    return text if len(text) < 30 else text[:27] + "..."


HOSTILE_NUMBERS = [
    math.nan,
    math.inf,
    -math.inf,
    protocol.ForeignFloat(math.nan),
    10**400,
    -1.0,
    0.0,
    1e9,
    "0.01",
    True,
    None,
    protocol.Opaque("numpy.float64"),
    [0.01],
]


@pytest.mark.parametrize("value", HOSTILE_NUMBERS, ids=short_id)
def test_a_reported_duration_must_be_a_sane_positive_number(value):
    with pytest.raises(CheckFailed, match="time_fn"):
        numbers.worker_seconds(value, what="time_fn's result")


@pytest.mark.parametrize("value", [0.02, 1, protocol.ForeignFloat(0.5)], ids=short_id)
def test_honest_durations_pass_the_gate_as_plain_floats(value):
    got = numbers.worker_seconds(value, what="x")
    assert type(got) is float and got == float(value)


@pytest.mark.parametrize(
    "value", [math.nan, math.inf, 10**400, "1", None, protocol.Opaque("x")], ids=short_id
)
def test_a_returned_float_must_be_finite_and_sane(value):
    with pytest.raises(CheckFailed, match="fit_overhead's a"):
        numbers.worker_float(value, what="fit_overhead's a")


@pytest.mark.parametrize("value", [-1, 1.0, True, 10**12, protocol.ForeignInt(3)], ids=short_id)
def test_a_count_is_exactly_an_int_in_range(value):
    with pytest.raises(CheckFailed):
        numbers.worker_count(value, what="calls run")
    assert numbers.worker_count(3, what="calls run") == 3


def test_comparisons_never_pass_nan():
    nan = math.nan
    assert not numbers.at_most(nan, 0.2) and not numbers.at_least(nan, 11.0)
    assert not numbers.between(nan, 0.72, 1.5)
    assert numbers.at_most(0.1, 0.2) and numbers.at_least(12.0, 11.0)
    # a ratio that cannot be formed is NaN, which fails both kinds of bound
    for bad in (numbers.ratio(1.0, 0.0), numbers.ratio(1.0, -1.0), numbers.ratio(nan, 1.0)):
        assert math.isnan(bad)
    assert numbers.ratio(3.0, 2.0) == 1.5


def _read_frame(data: bytes):
    """Read one frame of ``data`` through a pipe, written from a thread (a frame can be
    larger than the pipe's buffer)."""
    read_fd, write_fd = os.pipe()

    def send() -> None:
        with contextlib.suppress(OSError):
            os.write(write_fd, data)
        os.close(write_fd)

    writer = threading.Thread(target=send, daemon=True)
    writer.start()
    try:
        return protocol.FrameReader(read_fd).read(time.monotonic() + 5)
    finally:
        os.close(read_fd)
        writer.join(5)


def _raw_frame(head: bytes) -> bytes:
    return protocol.FRAME_PREFIX.pack(len(head), 0) + head


@pytest.mark.parametrize(
    "head",
    [
        b'{"id": 1, "value": ' + b"9" * 5000 + b"}",  # over Python's 4,300-digit int limit
        b'{"id": 1, "value": "\xff\xfe"}',  # not UTF-8
        b"[" * 100_000 + b"]" * 100_000,  # deeper than the parser goes
        b'{"id": 1, "value": NaN',  # truncated
    ],
    ids=["huge-int", "not-utf8", "deep", "truncated"],
)
def test_a_malformed_header_is_a_protocol_error(head):
    with pytest.raises(protocol.ProtocolError):
        _read_frame(_raw_frame(head))


@pytest.mark.parametrize(
    "value",
    [
        {"$number": {"type": "numpy.float64", "float": 10**400}},
        {"$number": {"type": "numpy.int64", "int": 2**5000}},
        {"$number": {"type": "x", "float": "1e5"}},
        {"$what": 1},
        {"$handle": 2**80},
    ],
    ids=["float-too-big", "int-too-big", "float-as-text", "unknown-tag", "handle-too-big"],
)
def test_a_malformed_value_is_a_protocol_error(value):
    with pytest.raises(protocol.ProtocolError):
        protocol.decode(value, [])


def test_the_replay_refuses_integers_that_would_explode():
    tape = Tape()
    (start,) = tape.inputs([3])
    known = {7: start}
    with pytest.raises(CheckFailed, match="power over"):
        replay_operation(["**", 7, [10**6]], 0, known, {})
    with pytest.raises(CheckFailed, match="too large to use"):
        replay_operation(["*", 7, [2**5000]], 0, known, {})
    big = replay_operation(["*", 7, [2**4000]], 0, known, {})
    known[8] = big
    with pytest.raises(CheckFailed, match="over 4096 bits"):
        replay_operation(["*", 8, 8], 1, known, {})
    assert replay_operation(["+", 7, [1]], 2, known, {}).value == 4


def test_the_results_file_is_strict_json_whatever_numbers_and_text_it_holds(tmp_path):
    document = {
        "score": 1.0,
        "tests": [{"output": "lone \ud800 surrogate", "score": 1.0}],
        "extra_data": {
            "timings": {"hard.time_fn_accurate_cpu": {"time_fn_seconds": math.nan}},
            "files": ["name-\udcff.py"],
            "ratio": -math.inf,
        },
    }
    path = tmp_path / "results.json"
    write_json(document, path)
    raw = path.read_bytes()
    raw.decode("utf-8")  # valid UTF-8

    def refuse(token):
        raise AssertionError(f"bare {token} in the results file")

    loaded = json.loads(raw, parse_constant=refuse)
    timing = loaded["extra_data"]["timings"]["hard.time_fn_accurate_cpu"]
    assert timing["time_fn_seconds"] == "nan" and loaded["extra_data"]["ratio"] == "-inf"
    assert loaded["tests"][0]["output"] == "lone \\ud800 surrogate"
    assert loaded["extra_data"]["files"] == ["name-\\udcff.py"]
    notes = loaded["extra_data"]["json_notes"]
    assert len(notes) == 2 and "time_fn_seconds: nan written as a string" in notes[0]


def test_strict_copy_leaves_clean_documents_alone():
    document = {"a": [1, 2.5, "text", None, True, {"b": "ü"}]}
    assert strict_copy(document) == (document, [])
