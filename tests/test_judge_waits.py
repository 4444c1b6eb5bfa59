"""The judge's waits for ``time_fn`` (``judge/waits.py``): a work object whose duration only
the judge knows, and every ask a worker sends validated.

The waits are held for 0 s (or on a fake clock): nothing here depends on timing. The
protocol tests run a real, unconfined worker whose module sends asks the way hostile code
would: outside a time_fn call, more than a call may make, malformed.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import pytest
from judge_context import unconfined_spec

from autograder.grading.judge.proxy import InProcessWorker, WorkerProxy
from autograder.grading.judge.verdicts import SubmissionError
from autograder.grading.judge.waits import JudgeWaits, answer_ask
from autograder.grading.worker.protocol import WorkArg

WAIT = WorkArg((("kind", "wait"),))


# ---------------------------------------------------------------- the judge's side alone


@pytest.mark.parametrize("write_s", [0.001, 0.5])
def test_each_ask_is_held_then_answered_and_the_time_held_recorded(judge_time, write_s):
    """The time held is the judge's sleep, not the answer's write: a worker that fills its
    own request pipe stalls that write as long as it likes, and so set the known duration
    (red team s7b, F2: tests/submissions/time_fn_stuffs_its_pipe)."""
    waits, sent = JudgeWaits(0.0125, limit=3), []

    def send(answer: dict) -> None:
        sent.append((answer, judge_time.now))
        judge_time.now += write_s  # writing the answer takes the judge this long

    waits.answer({"id": 4, "ask": "wait"}, [], 4, send)
    waits.answer({"id": 4, "ask": "wait"}, [], 4, send)
    assert judge_time.slept == [0.0125, 0.0125]
    assert [answer for answer, _ in sent] == [{"id": 4, "waited": True}] * 2
    assert [at for _, at in sent] == pytest.approx([0.0125, 0.025 + write_s])  # after its wait
    assert waits.waits == pytest.approx([0.0125, 0.0125])  # the sleeps alone


def test_a_request_id_is_compared_by_value_however_large(judge_time):
    """Ids past the small-int cache arrive as new int objects from the JSON reader."""
    import json

    waits, sent = JudgeWaits(0.001, limit=1), []
    waits.answer(json.loads('{"id": 1000001, "ask": "wait"}'), [], int("1000001"), sent.append)
    assert sent == [{"id": 1000001, "waited": True}]


def test_one_timed_call_is_enough_for_a_known_duration():
    waits = JudgeWaits(0.001, limit=3)
    waits.waits = [0.02]
    assert waits.known(1) == 0.02  # time_fn(fn, repeats=1)
    assert waits.known(2) is None


@pytest.mark.parametrize(
    "ask",
    [
        {"id": 5, "ask": "wait"},  # another request's
        {"id": True, "ask": "wait"},  # JSON true is not request 1
        {"id": 4, "ask": "sleep"},
        {"id": 4, "ask": ["wait"]},
        {"ask": "wait"},
        {"id": 4, "ask": "wait", "seconds": 0.001},  # a worker cannot set the wait either
        {"id": 4, "ask": "wait", "value": 0.02},
    ],
)
def test_a_malformed_ask_is_refused_unanswered(judge_time, ask):
    waits, sent = JudgeWaits(0.01, limit=3), []
    request_id = 1 if ask.get("id") is True else 4
    with pytest.raises(SubmissionError, match="malformed request to wait"):
        waits.answer(ask, [], request_id, sent.append)
    assert sent == [] and waits.waits == [] and judge_time.slept == []
    assert str(waits.refused) == "the worker sent a malformed request to wait for fn"


def test_an_ask_with_buffers_is_refused(judge_time):
    waits = JudgeWaits(0.01, limit=3)
    with pytest.raises(SubmissionError, match="malformed"):
        waits.answer({"id": 4, "ask": "wait"}, [b"x"], 4, lambda answer: None)


def test_asks_beyond_the_limit_are_refused(judge_time):
    waits, sent = JudgeWaits(0.01, limit=3), []
    for _ in range(3):
        waits.answer({"id": 4, "ask": "wait"}, [], 4, sent.append)
    with pytest.raises(SubmissionError, match="called fn more than 3 times in one call"):
        waits.answer({"id": 4, "ask": "wait"}, [], 4, sent.append)
    assert len(sent) == 3 and len(waits.waits) == 3


def test_an_ask_with_no_time_fn_call_running_is_refused():
    with pytest.raises(SubmissionError, match="outside a time_fn call"):
        answer_ask(None, {"id": 4, "ask": "wait"}, [], 4, lambda answer: None)


def test_the_known_duration_is_the_median_of_the_last_repeats_waits():
    waits = JudgeWaits(0.01, limit=10)
    waits.waits = [9.0, 0.010, 0.012, 0.011, 0.5, 0.013]
    assert waits.known(5) == 0.012  # the warm-up's 9 s left out, the 0.5 s outvoted
    assert waits.known(6) == pytest.approx((0.012 + 0.013) / 2)
    assert waits.known(7) is None  # fn ran fewer times than the repeats
    assert waits.known(0) is None


# ---------------------------------------------------------------- through a real worker

MODULE = '''
import os
import sys
import contextlib
import time

WORKER = sys.modules["autograder.grading.worker.main"]


def time_fn(fn, *, device, warmup=3, repeats=10):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return sorted(samples)[len(samples) // 2]


def calls(fn, count):
    for _ in range(count):
        fn()
    return count


def swallowing(fn, count):
    for _ in range(count):
        try:
            fn()
        except BaseException:
            pass
    return 0.02


def what_fn_holds(fn):
    return sorted((k, repr(v)) for k, v in vars(fn).items())


def ask(header):
    """An ask on the worker's channel from submission code, not from the work object."""
    return WORKER._STATE["ask"](header)


def ask_now():
    return ask({"id": WORKER._STATE["request"], "ask": "wait"})


def ask_as(fn, header):
    return ask({"id": WORKER._STATE["request"]} | header)


def garbage_mid_call(fn):
    fd = next(c.cell_contents for c in WORKER._STATE["ask"].__closure__
              if type(c.cell_contents) is int)
    os.write(fd, b"\\x00\\x00\\x00\\x05\\x00\\x00\\x00\\x00{nope")
    fn()


def add(a, b):
    return a + b
'''


@pytest.fixture
def proxy(tmp_path):
    source = tmp_path / "asker.py"
    source.write_text(MODULE)
    spec = unconfined_spec(source, "asker", tmp_path)
    made = WorkerProxy(spec, deadline=lambda: time.monotonic() + 60)
    yield made
    made.remove()


def test_time_fn_times_the_judges_waits_and_fn_holds_no_duration(proxy):
    waits = JudgeWaits(0.0, limit=10)
    got, _ = proxy.call_timed("time_fn", WAIT, device="cpu", warmup=1, repeats=5, waits=waits)
    assert type(got) is float and got >= 0
    assert len(waits.waits) == 6  # one ask per call of fn, each answered
    held = proxy.call("what_fn_holds", WAIT)
    assert held == [("spec", "{'kind': 'wait'}")]  # no duration: the judge holds it
    assert proxy.starts == 1


def test_asks_beyond_the_bound_fail_the_call_and_the_worker_is_replaced(proxy):
    waits = JudgeWaits(0.0, limit=10)
    with pytest.raises(SubmissionError, match="called fn more than 10 times in one call"):
        proxy.call_timed("calls", WAIT, 50, waits=waits)
    assert len(waits.waits) == 10
    assert proxy.call("add", 2, 3) == 5  # the next check gets a fresh worker
    assert proxy.starts == 2


def test_a_refused_ask_fails_the_call_even_if_the_submission_catches_it(proxy):
    with pytest.raises(SubmissionError, match="more than 2 times"):
        proxy.call_timed("swallowing", WAIT, 5, waits=JudgeWaits(0.0, limit=2))
    assert proxy.call("add", 1, 1) == 2


@pytest.mark.parametrize(
    ("function", "args"),
    [
        ("ask_now", ()),  # a plain call, no work object anywhere
        ("calls", (WAIT, 1)),  # a work object, but not in a call the judge waits for
    ],
)
def test_an_ask_outside_a_time_fn_call_fails_that_call_only(proxy, function, args):
    with pytest.raises(SubmissionError, match="outside a time_fn call on its work object"):
        proxy.call(function, *args)
    assert proxy.call("add", 2, 2) == 4


@pytest.mark.parametrize(
    "header",
    [
        {"ask": "sleep"},
        {"ask": "wait", "seconds": 0.0},
        {"ask": {"$float": "nan"}},
        {"ask": "wait", "id": 1},  # the load request's id: not the call's
        {"ask": "wait", "id": True},
        {"ask": "wait", "id": 10**30},
    ],
)
def test_a_malformed_ask_mid_call_fails_the_call(proxy, header):
    waits = JudgeWaits(0.0, limit=10)
    with pytest.raises(SubmissionError, match="malformed request to wait"):
        proxy.call_timed("ask_as", WAIT, header, waits=waits)
    assert waits.waits == []
    assert proxy.call("add", 3, 3) == 6


def test_garbage_on_the_channel_mid_call_fails_the_call(proxy):
    with pytest.raises(SubmissionError, match="broke the protocol"):
        proxy.call_timed("garbage_mid_call", WAIT, waits=JudgeWaits(0.0, limit=10))
    assert proxy.call("add", 4, 4) == 8


# ---------------------------------------------------------------- in the notebook's kernel


class Module:
    """A submission answered in-process (nbgrader's InProcessWorker)."""

    @staticmethod
    def calls(fn: Any, count: int) -> int:
        for _ in range(count):
            fn()
        return count

    @staticmethod
    def swallowing(fn: Any, count: int) -> float:
        for _ in range(count):
            with contextlib.suppress(BaseException):  # the judge refuses all the same
                fn()
        return 0.02


def test_in_process_asks_are_held_by_the_same_waits(judge_time):
    waits = JudgeWaits(0.011, limit=10)
    value, _ = InProcessWorker(Module).call_timed("calls", WAIT, 6, waits=waits)
    assert value == 6 and waits.waits == pytest.approx([0.011] * 6)


def test_in_process_a_refused_ask_fails_the_call_even_if_caught(judge_time):
    with pytest.raises(SubmissionError, match="more than 3 times"):
        InProcessWorker(Module).call_timed("swallowing", WAIT, 8, waits=JudgeWaits(0.0, 3))


def test_the_worker_sends_the_ask_of_its_request_and_checks_the_answer(monkeypatch):
    """The worker's side: a wait's call asks with the request's id; a wrong answer raises."""
    from autograder.grading.worker import main as worker

    seen: list[dict] = []

    def judge(answer: dict[str, Any]) -> Any:
        def ask(header: dict[str, Any]) -> dict[str, Any]:
            seen.append(header)
            return answer

        return ask

    request = {"id": 12, "op": "call", "function": "calls"}
    request["args"] = [{"$work": {"kind": "wait"}}, 2]
    reply, _ = worker.handle_for_module(Module, request, [], judge({"id": 12, "waited": True}))
    assert reply["value"] == 2
    assert seen == [{"id": 12, "ask": "wait"}] * 2
    reply, _ = worker.handle_for_module(Module, request, [], judge({"id": 11, "waited": True}))
    assert reply["raised"]["type"] == "ProtocolError"


def test_a_work_object_with_no_judge_to_ask_raises():
    from autograder.grading.worker import main as worker

    request = {"id": 1, "op": "call", "function": "calls", "args": [{"$work": {"kind": "wait"}}, 1]}
    reply, _ = worker.handle_for_module(Module, request, [])
    assert reply["raised"]["type"] == "RuntimeError"
    assert "no judge to ask" in reply["raised"]["message"]
