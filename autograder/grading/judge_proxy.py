"""The judge's side of a worker: start it, send requests, validate every reply.

Runs in the judge. A :class:`WorkerProxy` owns one worker process at a time (a
fresh one after a crash, a timeout or a broken reply) and turns replies into
judge-side values with :func:`protocol.decode`. What a reply can do to a check:
give it a value to compare, or make it raise :class:`SubmissionError` (with the
submission's exception, exit, crash or protocol violation as the reason), or a
:class:`CheckFailed` for a name the module does not define. Nothing else.

Durations are the judge's own clock around whole requests; traced calls come back
as a log of operations that :meth:`WorkerProxy.trace` replays on the judge's tape.
"""

from __future__ import annotations

import contextlib
import math
import operator
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.grading import protocol, sandbox, supervisor
from autograder.grading.verdicts import CheckFailed, NotImplementedYet, SubmissionError

WORKER_CODE = ("__init__.py", "grading/__init__.py", "grading/protocol.py", "grading/worker.py")
REFERENCE_MODULE = Path(__file__).with_name("worker_reference.py")
REPLY_KEYS = {"id", "value", "raised", "missing", "not_callable", "error", "log", "work_calls"}
RAISED_KEYS = {"type", "mro", "message", "where", "exit_code"}
TRACE_BINARY = {  # the tracer's arithmetic the worker may log, replayed on the judge's tape
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
    "**": operator.pow,
}


@dataclass
class WorkerSpec:
    """What a worker loads and how it is confined."""

    module_source: Path | None  # the file to import (None: the submission has no such file)
    module_name: str
    device: str
    log_path: Path
    memory_mib: int
    file_size_mib: int
    import_timeout_s: float
    sandbox: sandbox.Sandbox
    label: str = "submission"


@dataclass
class Timed:
    """One timed batch: the judge's wall clock and the worker's CPU time around ``run``."""

    run_seconds: float
    stage_seconds: float
    cpu_seconds: float
    count: int
    outputs: list[Any] = field(default_factory=list)

    @property
    def per_call(self) -> float:
        return self.run_seconds / max(self.count, 1)


@dataclass(frozen=True)
class TraceInputs:
    """Placeholder in traced-call arguments: traced inputs with these values (list or tuple)."""

    values: tuple[Any, ...]
    container: type = list


class ForgedHandle:
    """A handle the judge never issued in this call: it has no value and no depth."""

    def __init__(self, number: int) -> None:
        self.number = number


def prepare_job(job_dir: Path, module_source: Path | None, module_name: str) -> Path:
    """A folder with only the worker-side code, the lesson's ``reference`` package and (a copy
    of) the one module to load: nothing of the judge (checks, expected values) is there."""
    package = Path(__file__).resolve().parent.parent
    for relative in WORKER_CODE:
        target = job_dir / "code" / "autograder" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if relative == "grading/__init__.py" or relative == "__init__.py":
            target.write_text('"""Worker-side copy of the grader: protocol and worker only."""\n')
        else:
            shutil.copyfile(package / relative, target)
    # the lesson's own tools (reference/tracer.py...), which students may import
    shutil.copytree(
        package.parent / "reference",
        job_dir / "code" / "reference",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        dirs_exist_ok=True,
    )
    (job_dir / "module").mkdir(exist_ok=True)
    if module_source is not None:
        shutil.copyfile(module_source, job_dir / "module" / f"{module_name}.py")
    for path in [job_dir, *job_dir.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return job_dir


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

    # ---- process life ----

    def _start(self) -> None:
        self.spawn()
        self.await_load()

    def spawn(self) -> None:
        """Start the worker and send it the module to load, without waiting for the import."""
        spec = self.spec
        if spec.module_source is None:
            self.load_failure = f"the submission has no file {spec.module_name}.py"
            self.fatal_import = True
            return
        visible = sandbox.worker_job_dir(spec.sandbox, self.job_dir)
        boot = (
            f"import sys; sys.path.insert(0, {str(visible / 'code')!r}); "
            "from autograder.grading.worker import main; main()"
        )
        argv, env, cwd, preexec = sandbox.worker_command(
            spec.sandbox,
            [sys.executable, "-I", "-c", boot],
            job_dir=self.job_dir,
            device=spec.device,
            env=supervisor.scrubbed_env(),
        )
        self.scratch = cwd
        limits = supervisor.worker_limits(
            None if spec.device.startswith("cuda") else spec.memory_mib * 2**20,
            spec.file_size_mib * 2**20,
        )

        def preexec_all() -> None:
            limits()
            if preexec is not None:
                preexec()

        with open(spec.log_path, "ab") as log:
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                cwd=cwd,
                env=env,
                start_new_session=True,
                preexec_fn=preexec_all,
            )
        self.starts += 1
        self.reader = protocol.FrameReader(self.process.stdout.fileno())
        self._next_id += 1
        self._load_id = self._next_id
        self._load_started = time.monotonic()
        module_path = visible / "module" / f"{spec.module_name}.py"
        header = {
            "id": self._load_id,
            "op": "load",
            "path": str(module_path),
            "name": spec.module_name,
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
            supervisor.kill_tree(self.process.pid)
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

        pending = bool(self.reader._pending)
        if not pending:
            ready, _, _ = select.select([self.process.stdout.fileno()], [], [], 0)
            pending = bool(ready)
        if pending:
            self.incidents.append(
                f"the {self.spec.label} worker sent data nobody asked for; it was replaced"
            )
            self.close()

    def _cpu_seconds(self) -> float:
        """CPU time of the worker's processes so far (the kernel's accounting)."""
        return supervisor.tree_cpu_seconds(self.process.pid) if self.process else 0.0

    # ---- one request ----

    def _exchange(
        self, header: dict[str, Any], buffers: Any, deadline: float | None, *, what: str
    ) -> tuple[dict[str, Any], list[bytes]]:
        """Send one request and read its reply; any failure kills the worker and says why."""
        assert self.process is not None and self.reader is not None
        self._next_id += 1
        header = {"id": self._next_id, **header}
        # on a broken pipe, reading the reply reports how the process ended
        with contextlib.suppress(BrokenPipeError):
            protocol.write_frame(self.process.stdin.fileno(), header, buffers)
        return self._read_reply(header["id"], deadline, what=what)

    def _read_reply(
        self, request_id: int, deadline: float | None, *, what: str
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
        self, header: dict[str, Any], buffers: Any = (), *, what: str, timeout: float | None = None
    ) -> tuple[dict[str, Any], list[bytes]]:
        started = time.monotonic()
        self._ensure()
        deadline = self.deadline()
        if deadline is not None:  # a worker (re)started here: its import is not the check's
            deadline += time.monotonic() - started
        if timeout is not None:
            own = time.monotonic() + timeout
            deadline = own if deadline is None else min(deadline, own)
        return self._exchange(header, buffers, deadline, what=what)

    def value(self, reply: dict[str, Any], buffers: list[bytes], *, name: str) -> Any:
        """The decoded value of a reply, or the exception its outcome stands for."""
        if "raised" in reply:
            raised = reply["raised"]
            if type(raised) is not dict or set(raised) - RAISED_KEYS:
                raise SubmissionError("the worker's reply has a malformed exception")
            if "NotImplementedError" in (raised.get("mro") or ()):
                text = str(raised.get("message", ""))[:500]
                if not text:
                    text = (
                        f"{name} still raises NotImplementedError "
                        "(replace `# YOUR CODE HERE` and the raise)"
                    )
                raise NotImplementedYet(
                    text if "not implemented yet" in text else f"not implemented yet: {text}"
                )
            raise SubmissionError(describe_raised(raised))
        if "missing" in reply:
            raise CheckFailed(f"the submission does not define {name}")
        if "not_callable" in reply:
            raise CheckFailed(f"{name} should be a function, got {str(reply['not_callable'])[:80]}")
        if "error" in reply:
            raise SubmissionError(f"the worker could not answer: {str(reply['error'])[:300]}")
        if "value" not in reply:
            raise SubmissionError("the worker's reply has no value")
        try:
            return protocol.decode(reply["value"], buffers)
        except protocol.ProtocolError as error:
            raise SubmissionError(f"{name} returned a value that cannot be read: {error}") from None

    # ---- what checks ask for ----

    def call(self, function: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        """``function(*args, **kwargs)`` in the worker; its return value as judge-side data."""
        value, _ = self.call_timed(function, *args, timeout=timeout, **kwargs)
        return value

    def call_timed(
        self, function: str, *args: Any, timeout: float | None = None, **kwargs: Any
    ) -> tuple[Any, float]:
        """Like :meth:`call`, with the judge's wall-clock seconds for the whole request."""
        buffers: list[bytes] = []
        header = {
            "op": "call",
            "function": function,
            "args": protocol.encode_plain(list(args), buffers),
            "kwargs": protocol.encode_plain(dict(kwargs), buffers),
        }
        started = time.perf_counter()
        reply, reply_buffers = self.request(
            header, buffers, what=f"calling {function}", timeout=timeout
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
            if type(raised) is not dict or set(raised) - RAISED_KEYS:
                raise SubmissionError("the worker's reply has a malformed exception")
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

    def timed(self, function: str, calls: list[list[Any]], *, device: str) -> Timed:
        """Run ``function`` once per argument list, timed by the judge's clock.

        Three requests: ``stage`` (the worker decodes the inputs and moves them to the
        device), ``run`` (the calls back to back, then a device synchronisation: this
        window is the measurement) and ``fetch`` (the outputs, for the caller to check).
        The stage time is returned too, so the caller can bound work done ahead of
        ``run``; the worker tree's CPU time over ``run`` tells waiting from working.
        """
        slot, stage_seconds = self._stage(calls, device=device, function=function)
        # a ping first: the worker has finished everything after staging (freeing the
        # buffers...) and waits for the next request, so the CPU reading below is clean
        self.request({"op": "ping"}, what="answering a ping")
        cpu_before = self._cpu_seconds()
        started = time.perf_counter()
        reply, reply_buffers = self.request(
            {"op": "run", "slot": slot, "function": function, "device": device},
            what=f"timing {function}",
        )
        run_seconds = time.perf_counter() - started
        cpu_seconds = self._cpu_seconds() - cpu_before
        count = self.value(reply, reply_buffers, name=function)
        reply, reply_buffers = self.request(
            {"op": "fetch", "slot": slot}, what=f"returning {function}'s outputs"
        )
        outputs = self.value(reply, reply_buffers, name=function)
        if type(outputs) is not list or count != len(calls) or len(outputs) != len(calls):
            raise SubmissionError(f"the worker ran {function} {count} times, not {len(calls)}")
        return Timed(run_seconds, stage_seconds, cpu_seconds, len(calls), outputs)

    def stage_only(self, calls: list[list[Any]], *, device: str, function: str) -> float:
        """Seconds this worker takes to stage ``calls`` (then dropped): a staging baseline."""
        slot, seconds = self._stage(calls, device=device, function=function)
        self.request({"op": "drop", "slot": slot}, what="dropping staged inputs")
        return seconds

    def _stage(self, calls: list[list[Any]], *, device: str, function: str) -> tuple[int, float]:
        """Send ``calls``' inputs to be decoded and kept in a slot: (the slot, seconds taken)."""
        slot = self._next_id + 1
        buffers: list[bytes] = []
        header = {
            "op": "stage",
            "slot": slot,
            "device": device,
            "calls": [protocol.encode_plain(list(args), buffers) for args in calls],
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

        def placeholder(value: Any) -> Any:
            if type(value) is TraceInputs:
                base = secrets.randbits(48) << 12
                traced = tape.inputs(list(value.values))
                for index, item in enumerate(traced):
                    known[base + index] = item
                handles = [protocol.Handle(base + index) for index in range(len(traced))]
                return value.container(handles)
            if type(value) is list:
                return [placeholder(item) for item in value]
            if type(value) is tuple:
                return tuple(placeholder(item) for item in value)
            if type(value) is protocol.OpArg:
                return value
            return value

        sent_args = [placeholder(arg) for arg in args]
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
            known[results_base + index] = _replay(entry, index, known, traced_ops)
        return _resolve(value, known)


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

    def _exchange(self, header, buffers, deadline, *, what):
        import json

        from autograder.grading import worker

        self._next_id += 1
        saved = worker._STATE["module"]
        worker._STATE["module"] = self.module
        try:
            reply, out = worker.handle({"id": self._next_id, **header}, list(buffers))
        finally:
            worker._STATE["module"] = saved
        return json.loads(json.dumps(reply)), out

    def _cpu_seconds(self) -> float:
        return time.thread_time()  # the calls run in this thread; the kernel's others do not count

    def close(self) -> None:
        return None

    def remove(self) -> None:
        return None


def _operand(raw: Any, known: dict[int, Any], index: int) -> Any:
    if type(raw) is int:
        if raw not in known:
            raise CheckFailed(
                f"traced operation {index} uses a value the judge never issued in this call "
                "(a handle from another call, or made up)"
            )
        return known[raw]
    if type(raw) is list and len(raw) == 1:
        constant = raw[0]
        if constant in ("nan", "inf", "-inf"):
            return float(constant)
        if constant is None or type(constant) in (int, float):
            return constant
    raise CheckFailed(f"traced operation {index} has a malformed operand")


def _replay(entry: Any, index: int, known: dict[int, Any], ops: dict[str, Any]) -> Any:
    if type(entry) is not list or len(entry) != 3 or type(entry[0]) is not str:
        raise CheckFailed(f"traced operation {index} is malformed")
    opcode = entry[0]
    left, right = _operand(entry[1], known, index), _operand(entry[2], known, index)
    try:
        if opcode in ops:
            return ops[opcode](left, right)
        if opcode in TRACE_BINARY:
            return TRACE_BINARY[opcode](left, right)
        if opcode == "neg" and right is None:
            return -left
        if opcode == "abs" and right is None:
            return abs(left)
    except Exception as error:
        raise CheckFailed(
            f"traced operation {index} ({opcode}) failed when the judge replayed it: "
            f"{type(error).__name__}: {str(error)[:200]}"
        ) from None
    raise CheckFailed(f"traced operation {index} has an unknown operation {opcode[:20]!r}")


def _resolve(value: Any, known: dict[int, Any]) -> Any:
    if type(value) is protocol.Handle:
        return known.get(value.number, ForgedHandle(value.number))
    if type(value) is list:
        return [_resolve(item, known) for item in value]
    if type(value) is tuple:
        return tuple(_resolve(item, known) for item in value)
    return value


def describe_raised(raised: Any) -> str:
    """``Type: message (at file:line in function)`` from a worker's exception report."""
    if type(raised) is not dict:
        return "an exception the worker could not describe"
    kind = str(raised.get("type", "Exception"))[:80]
    message = str(raised.get("message", ""))
    message = message if len(message) <= 500 else message[:500] + "..."
    where = str(raised.get("where") or "")[:120]
    where = f" (at {where})" if where and "line" not in where else (f" ({where})" if where else "")
    if kind == "SystemExit":
        code = str(raised.get("exit_code"))[:40]
        return f"SystemExit({code}): the submission called sys.exit{where}"
    return f"{kind}: {message}{where}"
