"""The judge's side of a worker: start it, send requests, validate every reply.

Runs in the judge. A :class:`WorkerProxy` owns one worker process at a time (a
fresh one after a crash, a timeout or a broken reply) and turns replies into
judge-side values with :func:`protocol.decode`. What a reply can do to a check:
give it a value to compare, or make it raise :class:`SubmissionError` (with the
submission's exception, exit, crash or protocol violation as the reason), or a
:class:`CheckFailed` for a name the module does not define. Nothing else.

Durations are the judge's own clock around whole requests; traced calls come back
as a log of operations that :meth:`WorkerProxy.trace` replays on the judge's tape.
The parts: :mod:`~autograder.grading.judge.spawn` starts a worker on its job folder,
:mod:`~autograder.grading.judge.replies` reads a reply and
:mod:`~autograder.grading.judge.trace` replays a traced call's log.
"""

from __future__ import annotations

import contextlib
import math
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from autograder.grading.judge.cpu_window import ThreadClock, TreeClock
from autograder.grading.judge.replies import (
    REPLY_KEYS,
    checked_raised,
    describe_raised,
    reply_value,
)
from autograder.grading.judge.spawn import WorkerSpec, prepare_job, start_worker
from autograder.grading.judge.timed import Timed, run_timed
from autograder.grading.judge.trace import issue_handles, replay_operation, resolve_handles
from autograder.grading.judge.verdicts import CheckFailed, SubmissionError
from autograder.grading.judge.waits import JudgeWaits, answer_ask, direct_ask
from autograder.grading.processes import supervisor
from autograder.grading.worker import protocol

REFERENCE_MODULE = Path(__file__).with_name("reference.py")  # the reference worker's
_WORKER_PIDS: set[int] = set()  # every live worker this judge started: the rest are strays


class WorkerProxy:
    """One submission (or reference) module, answered by a worker process."""

    def __init__(self, spec: WorkerSpec, deadline: Callable[[], float | None] = lambda: None):
        self.spec = spec
        self.deadline = deadline  # the running check's deadline (monotonic), set by the judge
        self.job_dir = prepare_job(
            Path(tempfile.mkdtemp(prefix=f"job-{spec.label}-")),
            spec.module_source,
            spec.module_name,
        )
        self.process: subprocess.Popen | None = None
        self.scratch: Path | None = None
        self.reader: protocol.FrameReader | None = None
        self.load_failure: str | None = None
        self.fatal_import: bool = False
        self.starts = 0
        self.incidents: list[str] = []
        self._next_id = 0
        self._load_id: int | None = None
        self._load_started = 0.0
        self.ping_seconds: float | None = None
        self._trusted_pids: tuple[int, ...] = ()  # the reference worker's processes, listed once

    # ---- process life ----

    def spawn(self) -> None:
        """Start the worker and send it the module to load, without waiting for the import."""
        spec = self.spec
        if spec.module_source is None:
            self.load_failure = f"the submission has no file {spec.module_name}.py"
            self.fatal_import = True
            return
        started = start_worker(spec, self.job_dir)
        self.process, self.scratch = started.process, started.scratch
        _WORKER_PIDS.add(self.process.pid)
        self._trusted_pids = ()
        self.starts += 1
        self.reader = protocol.FrameReader(self.process.stdout.fileno())
        self._next_id += 1
        self._load_id = self._next_id
        self._load_started = time.monotonic()
        module_path = started.visible_job_dir / "module" / f"{spec.module_name}.py"
        header = {
            "id": self._load_id,
            "op": "load",
            "path": str(module_path),
            "name": spec.module_name,
            "preload": list(spec.preload),
        }
        # on a broken pipe, the reply read in await_load reports how the process ended
        with contextlib.suppress(BrokenPipeError):
            protocol.write_frame(self.process.stdin.fileno(), header)

    def await_load(self) -> None:
        """Wait for the import to finish (its own time limit, not the check's)."""
        if self.process is None or self._load_id is None:
            return
        spec = self.spec
        try:
            reply, _ = self._read_reply(
                self._load_id,
                self._load_started + spec.import_timeout_s,
                what="importing the module",
            )
        except SubmissionError as error:
            self.load_failure = f"importing the submission: {error}"
            self.fatal_import = True
            self.incidents.append(f"the {spec.label} module's import: {error}")
            return
        finally:
            self._load_id = None
        if "raised" in reply:
            self.load_failure = (
                f"importing {spec.module_name}.py failed: {describe_raised(reply['raised'])}"
            )
            self.fatal_import = True

    def close(self) -> None:
        if self.process is not None:
            _WORKER_PIDS.discard(self.process.pid)
            supervisor.kill_child_tree(self.process)
            with contextlib.suppress(Exception):
                self.process.wait(timeout=5)
            for stream in (self.process.stdin, self.process.stdout):
                with contextlib.suppress(Exception):
                    stream.close()
        self.process, self.reader = None, None
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None

    def remove(self) -> None:
        self.close()
        shutil.rmtree(self.job_dir, ignore_errors=True)

    def _ensure(self) -> None:
        if self.fatal_import:
            raise SubmissionError(self.load_failure or "the module could not be loaded")
        if self.process is None:
            self.spawn()
        self.await_load()
        if self.fatal_import:
            raise SubmissionError(self.load_failure or "the module could not be loaded")

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def check_channel(self) -> None:
        """Between checks: a worker that sent anything unasked is replaced by a fresh one."""
        if self.process is None or self.reader is None:
            return
        import select

        pending = self.reader.has_unread_bytes()
        if not pending:
            ready, _, _ = select.select([self.process.stdout.fileno()], [], [], 0)
            pending = bool(ready)
        if pending:
            self.incidents.append(
                f"the {self.spec.label} worker sent data nobody asked for; it was replaced"
            )
            self.close()

    def cpu_seconds(self) -> float:
        """CPU time of the worker's processes so far (the kernel's accounting)."""
        return supervisor.tree_cpu_seconds(self.process.pid) if self.process else 0.0

    def window_clock(self, table: supervisor.ProcessTable | None = None) -> TreeClock | ThreadClock:
        """A CPU clock over this worker's whole tree for one timed sample (it is started);
        ``table``: a scan of /proc the caller has just taken."""
        self._ensure()
        assert self.process is not None
        workers = frozenset(_WORKER_PIDS)
        if self.spec.module_source != REFERENCE_MODULE:
            return TreeClock(self.process.pid, workers, table=table)
        if not self._trusted_pids:  # the reference starts no process: list them once
            self._trusted_pids = TreeClock(self.process.pid, workers).pids
        return TreeClock(self.process.pid, workers, pids=self._trusted_pids)

    # ---- one request ----

    def _exchange(
        self,
        header: dict[str, Any],
        buffers: Any,
        deadline: float | None,
        *,
        what: str,
        waits: JudgeWaits | None = None,
    ) -> tuple[dict[str, Any], list[bytes]]:
        """Send one request and read its reply; any failure kills the worker and says why."""
        assert self.process is not None and self.reader is not None
        self._next_id += 1
        header = {"id": self._next_id, **header}
        self._send(header, buffers)
        return self._read_reply(header["id"], deadline, what=what, waits=waits)

    def _send(self, header: dict[str, Any], buffers: Any = ()) -> None:
        assert self.process is not None
        # on a broken pipe, reading the reply reports how the process ended
        with contextlib.suppress(BrokenPipeError):
            protocol.write_frame(self.process.stdin.fileno(), header, buffers)

    def _read_reply(
        self, request_id: int, deadline: float | None, *, what: str, waits: JudgeWaits | None = None
    ) -> tuple[dict[str, Any], list[bytes]]:
        assert self.process is not None and self.reader is not None
        completed = False
        memory = self.spec.memory_mib * 2**20
        pid = self.process.pid

        def watchdog() -> None:
            if self.spec.device.startswith("cuda") and supervisor.tree_rss_bytes(pid) > memory:
                raise MemoryError

        try:
            try:
                reply, reply_buffers = self.reader.read(deadline, poll=watchdog)
                while "ask" in reply:  # a call of time_fn's work object (judge/waits.py)
                    answer_ask(waits, reply, reply_buffers, request_id, self._send)
                    reply, reply_buffers = self.reader.read(deadline, poll=watchdog)
            except protocol.PeerClosed:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=2)
                raise SubmissionError(
                    f"{supervisor.exit_reason(self.process.poll())} while {what}"
                ) from None
            except protocol.Timeout:
                raise SubmissionError(
                    f"timed out ({what} had its time limit); the process was killed"
                ) from None
            except MemoryError:
                raise SubmissionError(
                    f"used more than {self.spec.memory_mib} MiB of memory (killed)"
                ) from None
            except protocol.ProtocolError as error:
                raise SubmissionError(f"the worker's reply broke the protocol: {error}") from None
            if reply.get("id") != request_id:
                raise SubmissionError(
                    f"the worker's reply was out of order (answered {str(reply.get('id'))[:20]}, "
                    f"asked {request_id})"
                )
            unknown = set(reply) - REPLY_KEYS
            if unknown:
                raise SubmissionError(
                    f"the worker's reply has unknown fields {sorted(unknown)[:5]}"
                )
            completed = True
            return reply, reply_buffers
        finally:
            if not completed:
                self.close()

    def request(
        self,
        header: dict[str, Any],
        buffers: Any = (),
        *,
        what: str,
        timeout: float | None = None,
        waits: JudgeWaits | None = None,
    ) -> tuple[dict[str, Any], list[bytes]]:
        started = time.monotonic()
        self._ensure()
        deadline = self.deadline()
        if deadline is not None:  # a worker (re)started here: its import is not the check's
            deadline += time.monotonic() - started
        if timeout is not None:
            own = time.monotonic() + timeout
            deadline = own if deadline is None else min(deadline, own)
        return self._exchange(header, buffers, deadline, what=what, waits=waits)

    def value(self, reply: dict[str, Any], buffers: list[bytes], *, name: str) -> Any:
        """The decoded value of a reply, or the exception that decides the check instead."""
        return reply_value(reply, buffers, name=name)

    # ---- what checks ask for ----

    def call(self, function: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        """``function(*args, **kwargs)`` in the worker; its return value as judge-side data."""
        value, _ = self.call_timed(function, *args, timeout=timeout, **kwargs)
        return value

    def call_timed(
        self,
        function: str,
        *args: Any,
        timeout: float | None = None,
        waits: JudgeWaits | None = None,
        **kwargs: Any,
    ) -> tuple[Any, float]:
        """Like :meth:`call`, with the judge's wall-clock seconds for the whole request;
        ``waits`` holds the asks of a wait work object passed in ``args``."""
        buffers: list[bytes] = []
        header = {
            "op": "call",
            "function": function,
            "args": protocol.encode_plain(list(args), buffers),
            "kwargs": protocol.encode_plain(dict(kwargs), buffers),
        }
        started = time.perf_counter()
        reply, reply_buffers = self.request(
            header, buffers, what=f"calling {function}", timeout=timeout, waits=waits
        )
        elapsed = time.perf_counter() - started
        return self.value(reply, reply_buffers, name=function), elapsed

    def raised(self, function: str, *args: Any) -> tuple[dict[str, Any] | None, Any]:
        """``function(*args)``: (the exception it raised, None) or (None, its return value).

        The exception is its type's name, its builtin base classes and its message.
        """
        buffers: list[bytes] = []
        header = {
            "op": "call",
            "function": function,
            "args": protocol.encode_plain(list(args), buffers),
        }
        reply, reply_buffers = self.request(header, buffers, what=f"calling {function}")
        raised = reply.get("raised")
        if raised is not None:
            checked_raised(raised)
            if "NotImplementedError" not in (raised.get("mro") or ()):
                return raised, None
        return None, self.value(reply, reply_buffers, name=function)

    def get(self, name: str) -> Any:
        reply, buffers = self.request({"op": "get", "name": name}, what=f"reading {name}")
        return self.value(reply, buffers, name=name)

    def ping(self) -> float:
        """Seconds of one empty round trip (the protocol's fixed cost), best of five."""
        best = math.inf
        for _ in range(5):
            started = time.perf_counter()
            self.request({"op": "ping"}, what="answering a ping")
            best = min(best, time.perf_counter() - started)
        self.ping_seconds = best
        return best

    def timed(
        self,
        function: str,
        calls: list[list[Any]],
        *,
        device: str,
        table: supervisor.ProcessTable | None = None,
    ) -> Timed:
        """Run ``function`` once per argument list, timed by the judge's clock
        (:func:`~autograder.grading.judge.timed.run_timed`)."""
        return run_timed(self, function, calls, device=device, table=table)

    def stage_inputs(
        self, calls: list[list[Any]], *, device: str, function: str
    ) -> tuple[int, float]:
        """Send ``calls``' inputs to be decoded and kept in a slot: (the slot, seconds taken)."""
        slot = self._next_id + 1
        buffers: list[bytes] = []
        pools: dict = {}  # each window pool once, however many calls share it
        encoded = encode_calls(calls, buffers, pools)
        header = {
            "op": "stage",
            "slot": slot,
            "device": device,
            "pools": protocol.pool_bodies(pools),
            "calls": encoded,
        }
        started = time.perf_counter()
        reply, reply_buffers = self.request(header, buffers, what=f"staging inputs for {function}")
        seconds = time.perf_counter() - started
        self.value(reply, reply_buffers, name=function)
        return slot, seconds

    def plot(
        self, function: str, rows: list[dict[str, Any]], path: str, *, keep: bool
    ) -> dict[str, Any]:
        """Call a plotting function; the worker renders the returned figure as SVG text."""
        buffers: list[bytes] = []
        header = {
            "op": "plot",
            "function": function,
            "rows": protocol.encode_plain(rows, buffers),
            "path": path,
            "keep": keep,
        }
        reply, reply_buffers = self.request(header, buffers, what=f"calling {function}")
        rendered = self.value(reply, reply_buffers, name=function)
        if type(rendered) is not dict or type(rendered.get("returned")) is not str:
            raise SubmissionError(f"the worker's reply for {function} is malformed")
        return rendered

    def trace(
        self,
        function: str,
        *args: Any,
        tape: Any,
        ops: Mapping[str, Callable[[Any, Any], Any]],
        limit: int = 200_000,
    ) -> Any:
        """Call ``function`` on traced inputs; replay its operation log on ``tape``.

        Each :class:`TraceInputs` in ``args`` becomes a list of handles numbered from a
        random base; each name in ``ops`` becomes an operation the submission can call.
        The worker returns its result (handles in place of traced values) and the log of
        every operation it performed; the judge recomputes every value on its own tape,
        so values, depth and work exist only here. A handle the judge did not issue in
        this call (from another call, or made up) comes back as :class:`ForgedHandle`.
        """
        known: dict[int, Any] = {}
        buffers: list[bytes] = []
        sent_args = [issue_handles(arg, tape, known) for arg in args]
        results_base = secrets.randbits(48) << 12
        header = {
            "op": "call",
            "function": function,
            "args": protocol.encode_plain(sent_args, buffers),
            "trace": {"base": results_base, "limit": limit},
        }
        reply, reply_buffers = self.request(header, buffers, what=f"calling {function} (traced)")
        log = reply.get("log")
        value = self.value(reply, reply_buffers, name=function)
        if type(log) is not list or len(log) > limit:
            raise CheckFailed(f"{function}'s traced run returned no valid operation log")
        traced_ops = {name: tape.wrap(op) for name, op in ops.items()}
        for index, entry in enumerate(log):
            known[results_base + index] = replay_operation(entry, index, known, traced_ops)
        return resolve_handles(value, known)


class InProcessWorker(WorkerProxy):
    """The same requests, answered in this process: for the nbgrader kernel's own feedback.

    A notebook kernel already runs the student's code, so nothing is confined and its
    scores are not of record; the judge's regrade is. Replies still go through JSON and
    :func:`protocol.decode`, so the checks see exactly what a worker would send.
    """

    def __init__(self, module: Any) -> None:
        self.spec = None
        self.deadline = lambda: None
        self.module = module
        self.load_failure, self.fatal_import, self.starts = None, False, 0
        self.incidents: list[str] = []
        self._next_id = 0
        self.ping_seconds = None
        self.process = None

    def _ensure(self) -> None:
        return None

    def _exchange(self, header, buffers, deadline, *, what, waits=None):
        import json

        from autograder.grading.worker import main as worker

        self._next_id += 1
        request = {"id": self._next_id, **header}
        ask = direct_ask(waits, request["id"])
        reply, out = worker.handle_for_module(self.module, request, list(buffers), ask)
        if waits is not None and waits.refused is not None:  # even if the code caught it
            raise waits.refused
        return json.loads(json.dumps(reply)), out

    def cpu_seconds(self) -> float:
        return time.thread_time()  # the calls run in this thread; the kernel's others do not count

    def window_clock(self, table: supervisor.ProcessTable | None = None) -> ThreadClock:
        return ThreadClock()

    def close(self) -> None:
        return None

    def remove(self) -> None:
        return None


def encode_calls(calls: list[list[Any]], buffers: list[bytes], pools: dict) -> list[Any]:
    """A stage request's argument lists (:func:`~protocol.encode_plain` of each); a call of
    one :class:`~protocol.TensorWindow` of a pool already sent (a timed batch's) directly."""
    encoded = []
    for args in calls:
        if len(args) == 1 and type(args[0]) is protocol.TensorWindow:
            window = args[0]
            known = pools.get((id(window.pool), window.device))
            if known is not None:
                encoded.append([{"$window": [known[0], window.offset, window.n]}])
                continue
        encoded.append(protocol.encode_plain(list(args), buffers, pools))
    return encoded
