"""The grading child: runs one exercise's checks on a submission, in its own process.

Started by :mod:`autograder.runner` as ``python -I -c ...`` inside a fresh
sandbox. It reads its job (and the key that signs its messages) from stdin
before any submission code exists in the process, binds the grader's clock and
tracer, blocks imports of ``solutions``, then runs pytest with the grader's own
configuration and reports each check over the signed pipe.
"""

from __future__ import annotations

import importlib.abc
import json
import os
import sys
from pathlib import Path
from typing import Any

BLOCKED_PACKAGES = ("solutions", "exercises")


class _BlockSolutions(importlib.abc.MetaPathFinder):
    """Submissions may not import the hidden reference solutions (or the stubs)."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname.split(".")[0] in BLOCKED_PACKAGES:
            raise ImportError(f"{fullname!r} is not available to submissions")
        return None


def _isolate_imports(trusted_dir: str) -> None:
    """Trusted grader code first on the path; no editable-install finder pointing at the repo."""
    sys.path[:] = [trusted_dir] + [entry for entry in sys.path if entry]
    sys.meta_path[:] = [_BlockSolutions()] + [
        finder for finder in sys.meta_path if "__editable__" not in type(finder).__module__
    ]
    sys.path_hooks[:] = [h for h in sys.path_hooks if "__editable__" not in repr(h)]
    sys.path_importer_cache.clear()
    for name in list(sys.modules):
        if name.split(".")[0] in ("autograder", "reference"):
            del sys.modules[name]


def main() -> None:
    job = json.loads(sys.stdin.readline())
    key = bytes.fromhex(job["key"])
    _isolate_imports(job["trusted_dir"])
    sys.stdin.close()

    import pytest

    from autograder import channel
    from autograder.checks import support
    from autograder.settings import settings_from_dict

    pipe = os.fdopen(job["pipe_fd"], "wb", buffering=0)

    def emit(message: dict[str, Any]) -> None:
        pipe.write(channel.sign(key, message))

    support.CONTEXT = support.GradingContext(
        exercise=job["exercise"],
        submission_dir=Path(job["submission_dir"]),
        artifacts_dir=Path(job["artifacts_dir"]),
        seed=job["seed"],
        device=job["device"],
        settings=settings_from_dict(job["settings"]),
        emit=emit,
    )
    plugin = ReportingPlugin(job["check_ids"], emit)
    checks_file = Path(job["trusted_dir"]) / "autograder" / "checks" / f"test_{job['exercise']}.py"
    args = [
        str(checks_file),
        "-c",
        str(Path(job["trusted_dir"]) / "autograder" / "pytest-grader.ini"),
        "--rootdir",
        job["sandbox_dir"],
        "--noconftest",
        "-p",
        "no:cacheprovider",
        "-p",
        "pytest_timeout",
        "-q",
        "--no-header",
        "-rN",
    ]
    pytest.main(args, plugins=[plugin])
    emit({"event": "integrity", "changes": support.integrity_changes()})
    emit({"event": "done"})
    pipe.close()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # no submission atexit handler runs after grading


class ReportingPlugin:
    """Maps pytest items to registry checks and streams each verdict to the grader."""

    def __init__(self, check_ids: list[str], emit: Any) -> None:
        self.wanted = check_ids
        self.emit = emit
        self.outcomes: dict[str, dict[str, Any]] = {}

    @staticmethod
    def _check_id(item: Any) -> str | None:
        marker = item.get_closest_marker("check")
        return marker.args[0] if marker else None

    def pytest_collection_modifyitems(self, session: Any, config: Any, items: list) -> None:
        import pytest

        from autograder.checks import support
        from autograder.registry import CHECKS_BY_ID

        scale = support.context().settings.limits.timeout_scale
        order = {check_id: index for index, check_id in enumerate(self.wanted)}
        selected = [item for item in items if self._check_id(item) in order]
        deselected = [item for item in items if item not in selected]
        selected.sort(key=lambda item: order[self._check_id(item)])
        for item in selected:
            timeout = CHECKS_BY_ID[self._check_id(item)].timeout * scale
            item.add_marker(pytest.mark.timeout(timeout))
        if deselected:
            config.hook.pytest_deselected(items=deselected)
        items[:] = selected

    def pytest_runtest_setup(self, item: Any) -> None:
        from autograder.checks import support

        check_id = self._check_id(item)
        support.context().current_check = check_id
        self.emit({"event": "start", "id": check_id})

    def pytest_runtest_logreport(self, report: Any) -> None:
        from autograder.checks import support

        check_id = support.context().current_check
        outcome = self.outcomes.setdefault(check_id, {"status": "passed", "output": ""})
        outcome["duration"] = outcome.get("duration", 0.0) + report.duration
        if report.failed and outcome["status"] == "passed":
            outcome.update(self._verdict(report))
        if report.when == "teardown":
            records = support.context().records.get(check_id, {})
            captured = (report.capstdout or "") + (report.capstderr or "")
            if captured:
                outcome["printed"] = captured[-4000:]
            self.emit({"event": "result", "id": check_id, **outcome, "records": records})

    @staticmethod
    def _verdict(report: Any) -> dict[str, Any]:
        """Status and student-facing message from a failed phase, no grader traceback."""
        from autograder.checks.support import CheckFailed, Pending, SubmissionError

        excinfo = getattr(report, "_grader_excinfo", None)
        error = excinfo.value if excinfo is not None else None
        if isinstance(error, Pending):
            return {"status": "pending", "output": str(error)}
        if isinstance(error, CheckFailed | SubmissionError):
            return {"status": "failed", "output": str(error)}
        if isinstance(error, NotImplementedError):
            detail = str(error)
            if "not implemented yet" in detail:
                return {"status": "failed", "output": detail}
            return {"status": "failed", "output": f"not implemented yet: {detail or 'stub'}"}
        text = str(report.longrepr)
        if "Timeout" in text and "pytest-timeout" in text:
            return {"status": "failed", "output": "timed out: " + text.strip().splitlines()[-1]}
        if error is not None:
            from autograder.checks.support import describe_exception

            return {"status": "failed", "output": f"unexpected error: {describe_exception(error)}"}
        return {"status": "failed", "output": text[-2000:]}

    import pytest as _pytest

    @_pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: Any, call: Any) -> Any:
        report = yield
        if call.excinfo is not None:
            report._grader_excinfo = call.excinfo
        return report


if __name__ == "__main__":
    main()
