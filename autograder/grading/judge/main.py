"""The judge: runs one exercise's checks and decides every verdict. Never runs submission code.

Started by :mod:`autograder.grading.exercise` as ``python -I``. It reads its job
(:class:`~autograder.grading.judge.job.JudgeJob`, one JSON line) from stdin, makes itself
non-dumpable and a subreaper, then runs the exercise's check module with pytest (trusted
code: the checks ask workers for data through :mod:`~autograder.grading.judge.proxy`). The
checks get the grading context from :class:`VerdictPlugin` as the session fixture
``grading``. Each verdict goes to the grader as one JSON line on an inherited pipe that no
worker can reach.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from autograder.grading.judge.job import JobError, JudgeJob

if TYPE_CHECKING:
    from autograder.grading.judge.checks.support import GradingContext


def main() -> None:
    try:
        job = JudgeJob.from_json(sys.stdin.readline())
    except JobError as error:  # the grader fails the run's checks with the judge's exit
        print(error, file=sys.stderr)
        os._exit(2)
    sys.stdin.close()

    from autograder.grading.processes import supervisor

    supervisor.make_non_dumpable()
    supervisor.become_subreaper()

    from autograder.grading.judge.checks import support
    from autograder.grading.judge.checks.support import GradingContext

    pipe = os.fdopen(job.pipe_fd, "wb", buffering=0)

    def emit(message: dict[str, Any]) -> None:
        pipe.write((json.dumps(message, default=str) + "\n").encode())

    from autograder.grading.processes import device_lease

    ctx = GradingContext(
        exercise=job.exercise,
        module_source=job.module_source,
        work_dir=job.work_dir,
        seed=job.seed,
        device=job.device,
        settings=job.settings,
        sandbox=job.sandbox,
    )
    waits = _Waits(ctx, emit)
    device_lease.configure(job.lease, on_wait=waits.ended, on_wait_start=waits.started)
    plugin = VerdictPlugin(ctx, list(job.check_ids), emit)
    here = Path(__file__).resolve().parent
    args = [
        str(here / "checks" / f"test_{job.exercise}.py"),
        "-c",
        str(here.parents[1] / "pytest-grader.ini"),
        "--rootdir",
        str(job.work_dir),
        "--noconftest",
        "-p",
        "no:cacheprovider",
        "-p",
        "pytest_timeout",
        "-q",
        "--no-header",
        "-rN",
    ]
    # On CUDA, the GPU's lease from before any worker exists until they are all killed: one
    # grading's student code at a time on the device, so a co-tenant's kernels cannot blur a
    # wall-clock GPU timing. (A judge killed meanwhile releases it as it dies.)
    gpu_lease = contextlib.ExitStack()
    if job.device == "cuda":
        gpu_lease.enter_context(device_lease.device_lease("cuda"))
    try:
        try:  # their imports run while pytest starts and collects the checks
            support.start_workers(ctx)
        except Exception as error:  # the checks start them again, one by one
            print(f"starting workers failed: {type(error).__name__}: {error}", file=sys.stderr)
        pytest.main(args, plugins=[plugin])
    finally:
        incidents = [i for w in ctx.workers.values() for i in w.incidents]
        incidents += device_lease.incidents()
        restarts = {label: w.starts for label, w in ctx.workers.items()}
        ctx.close()
        supervisor.kill_strays()
        gpu_lease.close()
        emit({"event": "workers", "incidents": incidents, "starts": restarts})
        emit({"event": "done"})
        pipe.close()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


class _Waits:
    """Waiting for another grading's timed window costs no time limit, however long it
    lasts: the grader's watch stops while the judge says it waits, pytest-timeout's alarm
    (signal method) is stopped for the wait, and the check's deadline moves by it."""

    def __init__(self, ctx: GradingContext, emit: Any) -> None:
        self.ctx, self.emit = ctx, emit
        self.alarm = 0.0  # seconds the stopped alarm had left

    def started(self) -> None:
        import signal

        self.alarm, _ = signal.setitimer(signal.ITIMER_REAL, 0)
        self.emit({"event": "waiting"})

    def ended(self, seconds: float) -> None:
        import signal

        if self.ctx.check_deadline is not None:
            self.ctx.check_deadline += seconds
        if self.alarm > 0:
            signal.setitimer(signal.ITIMER_REAL, self.alarm)
        self.alarm = 0.0
        self.emit({"event": "lease_wait", "seconds": seconds})


class VerdictPlugin:
    """Maps pytest items to registry checks, streams each verdict to the grader, and gives
    the checks the grading context (the ``grading`` fixture)."""

    def __init__(self, ctx: GradingContext, check_ids: list[str], emit: Any) -> None:
        self.ctx = ctx
        self.wanted = check_ids
        self.emit = emit
        self.verdicts: dict[str, dict[str, Any]] = {}  # check id -> verdict so far
        self.log_offset = 0

    @pytest.fixture(scope="session")
    def grading(self) -> GradingContext:
        """This judge's grading context: every check takes it and hands it on as ``ctx``."""
        return self.ctx

    @staticmethod
    def _check_id(item: Any) -> str | None:
        marker = item.get_closest_marker("check")
        return marker.args[0] if marker else None

    def pytest_collection_modifyitems(self, session: Any, config: Any, items: list) -> None:
        from autograder.spec.registry import CHECKS_BY_ID

        limits = self.ctx.settings.limits
        order = {check_id: index for index, check_id in enumerate(self.wanted)}
        selected = [item for item in items if self._check_id(item) in order]
        deselected = [item for item in items if item not in selected]
        selected.sort(key=lambda item: order[self._check_id(item)])
        for item in selected:
            own = CHECKS_BY_ID[self._check_id(item)].timeout * limits.timeout_scale
            # pytest-timeout is the backstop: the worker proxy stops at the check's own limit,
            # which a worker restarted during the check extends by its import time
            item.add_marker(
                pytest.mark.timeout(own + limits.import_timeout_s + limits.check_grace_s / 2)
            )
        if deselected:
            config.hook.pytest_deselected(items=deselected)
        items[:] = selected

    def pytest_collection_finish(self, session: Any) -> None:
        """The workers' imports end before the first check starts its clock."""
        from autograder.grading.judge.checks import support

        try:
            support.await_workers(self.ctx)
        except Exception as error:  # a check starts its worker again
            print(f"starting workers failed: {type(error).__name__}: {error}", file=sys.stderr)

    def pytest_runtest_setup(self, item: Any) -> None:
        from autograder.spec.registry import CHECKS_BY_ID

        ctx = self.ctx
        check_id = self._check_id(item)
        ctx.current_check = check_id
        ctx.check_deadline = (
            time.monotonic() + CHECKS_BY_ID[check_id].timeout * ctx.settings.limits.timeout_scale
        )
        self.log_offset = _size(ctx.log_path)
        self.emit({"event": "start", "id": check_id})

    def pytest_runtest_logreport(self, report: Any) -> None:
        from autograder.grading.processes import supervisor

        ctx = self.ctx
        check_id = ctx.current_check
        verdict = self.verdicts.setdefault(check_id, {"status": "passed", "output": ""})
        verdict["duration"] = verdict.get("duration", 0.0) + report.duration
        if report.failed and verdict["status"] == "passed":
            verdict.update(self._failed_phase(report))
        if report.when == "teardown":
            ctx.check_deadline = None
            for worker in ctx.workers.values():
                worker.check_channel()
            supervisor.kill_strays(keep=[w.pid for w in ctx.workers.values() if w.pid])
            printed = supervisor.read_log_tail(ctx.log_path, 4000, self.log_offset)
            if printed:
                verdict["printed"] = printed
            records = ctx.records.get(check_id, {})
            self.emit({"event": "result", "id": check_id, **verdict, "records": records})

    @staticmethod
    def _failed_phase(report: Any) -> dict[str, Any]:
        """Status and student-facing message from a failed phase, no judge traceback."""
        from autograder.grading.judge.verdicts import (
            CheckFailed,
            NotImplementedYet,
            Pending,
            SubmissionError,
        )

        excinfo = getattr(report, "_grader_excinfo", None)
        error = excinfo.value if excinfo is not None else None
        if isinstance(error, Pending):
            return {"status": "pending", "output": str(error)}
        if isinstance(error, NotImplementedYet):
            return {"status": "failed", "output": str(error)}
        if isinstance(error, CheckFailed):
            hint = {"hint": error.hint} if isinstance(error.hint, str) and error.hint else {}
            return {"status": "failed", "output": str(error), **hint}
        if isinstance(error, SubmissionError):
            return {"status": "failed", "output": str(error), "hint": EXCEPTION_HINT}
        text = str(report.longrepr)
        if "Timeout" in text and "pytest-timeout" in text:
            return {"status": "failed", "output": "timed out: " + text.strip().splitlines()[-1]}
        if error is not None:
            return {
                "status": "failed",
                "output": "the grader failed to run this check "
                f"({type(error).__name__}: {str(error)[:300]}); tell your TA",
            }
        return {"status": "failed", "output": text[-2000:]}

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: Any, call: Any) -> Any:
        report = yield
        if call.excinfo is not None:
            report._grader_excinfo = call.excinfo
        return report


EXCEPTION_HINT = (
    "Your code stopped with the error above (an exception, an exit, a time-out or a crash) "
    "before this check could compare anything: call the function yourself on a small input "
    "like the one named and fix that first."
)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


if __name__ == "__main__":
    main()
