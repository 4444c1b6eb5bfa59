# A time_fn that times nothing and sets the judge's known duration itself. Before each ask it
# fills its own request pipe (reopened for writing through /proc/self/fd: the pipe is the
# worker's own uid's wherever the grader is not root), so the judge's answer cannot be written
# until the worker drains it, HOLD seconds later. Until 2026-12-05 the judge counted the time
# its answer took to write as part of the wait it held: every known duration was HOLD,
# whatever the judge drew, and the constant passed (red team s7b, F2).
import os as _os
import time as _time

_honest_time_fn = time_fn  # noqa: F821 - the solution's, defined above this override
HOLD = 0.040


def _stuffed_ask(reader, write_fd, protocol, request):
    stuff = _os.open(f"/proc/self/fd/{reader.fd}", _os.O_WRONLY | _os.O_NONBLOCK)
    stuffed = 0
    for chunk in (b"\0" * 4096, b"\0"):
        try:
            while True:
                stuffed += _os.write(stuff, chunk)
        except BlockingIOError:
            pass
    _os.close(stuff)
    protocol.write_frame(write_fd, {"id": request, "ask": "wait"})
    _time.sleep(HOLD)  # the judge's answer waits behind the stuffing until now
    while stuffed:
        stuffed -= len(_os.read(reader.fd, stuffed))
    answer, _ = reader.read()
    assert answer == {"id": request, "waited": True}, answer


def time_fn(fn, *, device, warmup=3, repeats=10):
    if type(fn).__name__ != "_Work":
        return _honest_time_fn(fn, device=device, warmup=warmup, repeats=repeats)
    worker = type(fn).__init__.__globals__
    state = worker["_STATE"]
    ask = state["ask"]
    cells = dict(
        zip(ask.__code__.co_freevars, (c.cell_contents for c in ask.__closure__), strict=True)
    )
    for _ in range(warmup + repeats):
        _stuffed_ask(cells["reader"], cells["write_fd"], worker["protocol"], state["request"])
    return HOLD
