"""Work whose duration only the judge knows: the waits of the CPU ``time_fn`` check.

Runs in the judge. The work object a worker hands to ``time_fn`` (``{"$work": {"kind":
"wait"}}``) holds no duration: each call sends the judge an *ask*, ``{"id": request, "ask":
"wait"}``, in the middle of the ``call`` request it serves, and blocks until the judge
answers ``{"id": request, "waited": true}``. The judge holds each ask for ``seconds`` of its
own drawing (never sent) and records how long it held it, from reading the ask to the end of
its sleep. Not to the answer written: a worker that fills its own request pipe (reopened
through /proc/self/fd) delays that write as long as it likes, and so set every known
duration until 2026-12-05 (tests/submissions/time_fn_stuffs_its_pipe). The known duration
of a call is the median of the waits of the timed calls, the last ``repeats`` asks (warm-up
calls come first; every ask is held as long, so which ones a time_fn times hardly matters).
A worker can learn how long a call lasts only by timing one, which is what ``time_fn`` is
for.

Every ask is validated: one outside such a call, one that is malformed or for another
request, or more asks than the call could need (warm-up + repeats + a small slack) is the
submission's :class:`SubmissionError`, and the worker is replaced (:mod:`.proxy`). The
judge's part of one call is bounded: ``limit`` x ``seconds``.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from autograder.grading.judge.verdicts import SubmissionError

ASK_KEYS = {"id", "ask"}


class JudgeWaits:
    """The judge's waits for one ``time_fn`` call: how long it holds each ask, and how
    long it held them."""

    def __init__(self, seconds: float, limit: int) -> None:
        self.seconds = seconds  # the judge's draw; never sent to the worker
        self.limit = limit  # asks one call may make
        self.waits: list[float] = []  # seconds each ask was held, measured by the judge
        self.refused: SubmissionError | None = None  # why an ask was refused, if one was

    def answer(
        self,
        ask: dict[str, Any],
        buffers: list[Any],
        request_id: int,
        send: Callable[[dict[str, Any]], None],
    ) -> None:
        """Hold one ask for ``seconds``, then ``send`` its answer; record the time held."""
        if not (
            set(ask) == ASK_KEYS
            and type(ask["id"]) is int
            and ask["id"] == request_id
            and ask["ask"] == "wait"
            and not buffers
        ):
            self._refuse("the worker sent a malformed request to wait for fn")
        if len(self.waits) >= self.limit:
            self._refuse(f"time_fn called fn more than {self.limit} times in one call")
        started = time.perf_counter()
        time.sleep(self.seconds)
        held = time.perf_counter() - started  # not the answer's write: the worker can stall it
        send({"id": request_id, "waited": True})
        self.waits.append(held)

    def known(self, repeats: int) -> float | None:
        """The median wait of the last ``repeats`` calls; None if fn ran fewer times."""
        if repeats < 1 or len(self.waits) < repeats:
            return None
        return statistics.median(self.waits[-repeats:])

    def _refuse(self, reason: str) -> None:
        self.refused = SubmissionError(reason)
        raise self.refused


def answer_ask(
    waits: JudgeWaits | None,
    ask: dict[str, Any],
    buffers: list[Any],
    request_id: int,
    send: Callable[[dict[str, Any]], None],
) -> None:
    """A worker's ask read while a request was pending: held by ``waits``, or refused
    when the request is not a ``time_fn`` call on a wait."""
    if waits is None:
        raise SubmissionError(
            "the worker asked the judge to wait outside a time_fn call on its work object"
        )
    waits.answer(ask, buffers, request_id, send)


def direct_ask(waits: JudgeWaits | None, request_id: int) -> Callable[[dict], dict]:
    """Asks answered in this process (the nbgrader kernel's ``InProcessWorker``), through
    JSON as the channel carries them."""

    def ask(frame: dict[str, Any]) -> dict[str, Any]:
        answers: list[dict[str, Any]] = []
        answer_ask(waits, json.loads(json.dumps(frame)), [], request_id, answers.append)
        return json.loads(json.dumps(answers[0]))

    return ask
