"""Run one registry check inside a Jupyter notebook: what the nbgrader grade cells call.

The nbgrader version of the exercises (``python -m autograder release``) has one grade cell
per automatic check, and each holds one line::

    run_check("medium.depth_measured")

which runs the very test function the command-line judge runs (the one marked
``@check("medium.depth_measured")`` in ``autograder/grading/judge/checks/test_medium.py``) on the
functions the notebook defined, through an in-process worker
(:class:`~autograder.grading.judge.proxy.InProcessWorker`): the same requests and the same
data-only replies, answered in the kernel. These are feedback for the student, not scores of
record: the kernel runs the student's cells, which can rewrite anything in it. The scores of
record come from the judge regrading the notebook files (see docs/release.md).

nbgrader scores a grade cell by its output alone: full points when it runs without an error,
zero when it raises *or writes anything to stderr*. So this module

* passes the notebook's own namespace as the submission: a module whose ``__dict__`` is the
  notebook's globals;
* sends everything written to stderr while the check runs (progress lines, ``warnings.warn``,
  output of C extensions) to stdout, so correct code that warns keeps its points;
* raises :class:`NotebookCheckFailed` (an ``AssertionError``) with the check's message and
  hint for every verdict other than "passed": a failure, an exception of the student's code,
  ``NotImplementedError``, a timeout, a GPU or TA check (those are not grade cells);
* returns ``None``: a grade cell whose last value is a number would be read by nbgrader as
  partial credit.

Inputs are drawn from a seed chosen once per kernel and printed with every verdict;
``AUTOGRADER_SEED=<int>`` in the kernel's environment reproduces a run. Settings (tolerances,
timeout scale) are the packaged ``grading.toml``.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib
import importlib.util
import inspect
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from types import ModuleType
from typing import Any

from autograder.grading.judge.checks import support
from autograder.grading.judge.main import EXCEPTION_HINT
from autograder.grading.judge.proxy import REFERENCE_MODULE, InProcessWorker
from autograder.grading.sandbox import Sandbox
from autograder.spec import paths
from autograder.spec.registry import CHECKS_BY_ID, Check
from autograder.spec.settings import load_settings

__all__ = ["NotebookCheckFailed", "find_check_function", "run_check", "session_seed", "time_limit"]

SEED_VARIABLE = "AUTOGRADER_SEED"
_CONTEXTS: dict[str, support.GradingContext] = {}  # one per exercise, shared by its grade cells
# per context: the submission module and the values of its check module's fixtures (what
# pytest's module scope holds in a judge), kept while the cells grade the same module
_FIXTURE_VALUES: dict[str, tuple[Any, dict[str, Any]]] = {}


class NotebookCheckFailed(AssertionError):
    """A check that did not pass; IPython shows only its message, not the grader's traceback."""

    def _render_traceback_(self) -> list[str]:  # IPython's hook for custom error displays
        first, *rest = str(self).splitlines() or [""]
        return [f"{type(self).__name__}: {first}", *rest]


class _CheckTimedOut(Exception):
    """Raised by the alarm when a check runs past its registry timeout."""


class _NamespaceModule(ModuleType):
    """A module view of a namespace dict: reads and writes go to the dict itself."""

    def __init__(self, namespace: MutableMapping[str, Any]) -> None:
        super().__init__("__notebook__")
        object.__setattr__(self, "_namespace", namespace)

    def __getattribute__(self, name: str) -> Any:
        namespace = object.__getattribute__(self, "_namespace")
        if name in namespace:
            return namespace[name]
        return object.__getattribute__(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        object.__getattribute__(self, "_namespace")[name] = value


@functools.cache
def session_seed() -> int:
    """The seed of this kernel's checks: ``AUTOGRADER_SEED`` if set, else drawn once."""
    chosen = os.environ.get(SEED_VARIABLE, "").strip()
    return int(chosen) if chosen else secrets.randbits(31)


def find_check_function(check_id: str) -> Callable[[Any], None]:
    """The test function bound to ``check_id`` by ``@check`` in its exercise's check module."""
    check = _registry_check(check_id)
    module = importlib.import_module(f"autograder.grading.judge.checks.test_{check.exercise}")
    for value in vars(module).values():
        marks = getattr(value, "pytestmark", []) if inspect.isfunction(value) else []
        if any(mark.name == "check" and mark.args[:1] == (check_id,) for mark in marks):
            return value
    raise LookupError(f"no test function in {module.__name__} is marked @check({check_id!r})")


def run_check(
    check_id: str,
    *,
    submission: Any = None,
    seed: int | None = None,
) -> None:
    """Run the automatic check ``check_id`` on the notebook's functions; raise unless it passes.

    ``submission`` is what the check's ``sub`` fixture would be: by default the namespace of
    the cell that calls this (the notebook's globals), else a module or a namespace dict.
    """
    check = _registry_check(check_id)
    if check.gpu or check.manual:
        kind = "a CUDA device (the GPU job grades it)" if check.gpu else "a TA"
        raise NotebookCheckFailed(f"{check_id} needs {kind}; it is not an automatic notebook check")
    module = _as_module(submission if submission is not None else _caller_globals())
    test_function = find_check_function(check_id)
    context = _context(check.exercise, seed if seed is not None else session_seed())
    context.current_check = check_id
    worker = InProcessWorker(module)
    context.workers["submission"] = worker
    limit_seconds = check.timeout * context.settings.limits.timeout_scale
    verdict: str | None = None
    hint = check.hint
    try:
        with _stderr_to_stdout(), time_limit(limit_seconds):
            support.call_check(test_function, worker, context, _fixtures(context, module))
    except support.Pending as pending:
        verdict = f"cannot be decided in a notebook: {pending}"
    except support.NotImplementedYet as error:
        text = str(error)
        verdict = text if text.startswith("not implemented yet") else f"not implemented yet: {text}"
    except support.CheckFailed as error:
        verdict, hint = str(error), error.hint or check.hint
    except support.SubmissionError as error:
        verdict, hint = str(error), EXCEPTION_HINT
    except NotImplementedError as error:
        verdict = _not_implemented(error)
    except _CheckTimedOut as error:
        verdict = str(error)
    except Exception as error:  # a failure the check did not wrap
        verdict = f"unexpected error: {type(error).__name__}: {str(error)[:500]}"
    where = f"[inputs drawn from seed {context.seed}; {SEED_VARIABLE}={context.seed} repeats them]"
    if verdict is not None:
        raise NotebookCheckFailed(
            f"{check_id} failed ({check.points:g} points): {verdict}\nHint: {hint}\n{where}"
        ) from None
    print(f"passed: {check_id} ({check.points:g} points): {check.title} {where}")


def _fixtures(context: support.GradingContext, module: Any) -> dict[str, Any]:
    """The fixture values made for ``module`` in this context: kept while the cells grade the
    same submission module, so a measurement one check owns serves the others as in a judge
    (a cell run on another namespace starts afresh)."""
    key = f"{context.exercise}:{context.seed}"
    held = _FIXTURE_VALUES.get(key)
    if held is None or held[0] is not module:
        held = _FIXTURE_VALUES[key] = (module, {})
    return held[1]


def _not_implemented(error: NotImplementedError) -> str:
    """Which function still raises, named from the traceback when the message is empty."""
    if str(error):
        return f"not implemented yet: {error}"
    frames = traceback.extract_tb(error.__traceback__)
    name = frames[-1].name if frames else "a function"
    return f"{name} still raises NotImplementedError: replace `# YOUR CODE HERE` and the raise"


def _registry_check(check_id: str) -> Check:
    if check_id not in CHECKS_BY_ID:
        raise LookupError(f"{check_id!r} is not a check of autograder/spec/registry.py")
    return CHECKS_BY_ID[check_id]


def _caller_globals() -> dict[str, Any]:
    """Globals of the code that called :func:`run_check` (a notebook cell's namespace)."""
    frame = inspect.currentframe()
    try:
        caller = frame.f_back.f_back if frame and frame.f_back else None
        if caller is None:
            raise RuntimeError("run_check could not find the calling namespace; pass submission=")
        return caller.f_globals
    finally:
        del frame


def _as_module(submission: Any) -> Any:
    """An object whose attribute reads and writes are the namespace the student's code uses.

    A module is used as it is; a namespace dict becomes IPython's ``__main__`` module when it
    is its ``__dict__``, else a module view of the dict. Anything else is passed through: a
    check that swaps a function on it then swaps it only there.
    """
    if isinstance(submission, ModuleType) or not isinstance(submission, MutableMapping):
        return submission
    main = sys.modules.get("__main__")
    if main is not None and vars(main) is submission:
        return main  # IPython's user module: its __dict__ is the notebook's globals
    return _NamespaceModule(submission)


def _context(exercise: str, seed: int) -> support.GradingContext:
    """One grading context per exercise and seed, as a judge has one per grading."""
    key = f"{exercise}:{seed}"
    if key not in _CONTEXTS:
        work_dir = Path(tempfile.mkdtemp(prefix=f"notebook-checks-{exercise}-"))
        atexit.register(shutil.rmtree, work_dir, True)  # gone when the kernel ends
        context = support.GradingContext(
            exercise=exercise,
            module_source=None,
            work_dir=work_dir,
            seed=seed,
            device="cpu",
            settings=load_settings(),
            sandbox=Sandbox("none", "a notebook kernel runs the student's code itself"),
        )
        (context.work_dir / paths.ARTIFACTS_FOLDER).mkdir()
        context.workers["reference"] = InProcessWorker(_reference_module())
        _CONTEXTS[key] = context
    return _CONTEXTS[key]


@functools.cache
def _reference_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("reference_implementations", REFERENCE_MODULE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FD_OUTPUT_SHOWN = 64 * 1024  # bytes of file-descriptor-level stderr shown in the cell


@contextlib.contextmanager
def _stderr_to_stdout() -> Iterator[None]:
    """Everything written to stderr while the block runs goes to stdout instead.

    nbgrader gives a grade cell zero points as soon as it shows any stderr output, so a
    warning or a progress line from correct code would cost points. Both Python-level
    writes (``sys.stderr``, ``warnings``) and file-descriptor-level ones (C extensions) move.
    File-descriptor 2 writes into a temporary file, printed to ``sys.stdout`` when the block
    ends: pointed at fd 1, they reached the cell through ipykernel's pipe-reading thread,
    which on a busy machine delivered them after the cell had ended (a CI run at a load of
    about 5 lost them from the cell).
    """
    sys.stdout.flush()
    sys.stderr.flush()
    with tempfile.TemporaryFile() as captured:
        saved_fd = None
        try:
            saved_fd = os.dup(2)
            os.dup2(captured.fileno(), 2)
        except OSError:
            saved_fd = None
        try:
            with contextlib.redirect_stderr(sys.stdout):
                yield
        finally:
            if saved_fd is not None:
                os.dup2(saved_fd, 2)
                os.close(saved_fd)
            size = captured.seek(0, os.SEEK_END)
            captured.seek(0)
            text = captured.read(FD_OUTPUT_SHOWN).decode("utf-8", "replace")
            if text:
                sys.stdout.write(text)
            if size > FD_OUTPUT_SHOWN:
                hidden = size - FD_OUTPUT_SHOWN
                sys.stdout.write(f"\n[... {hidden} more bytes of stderr not shown]\n")
            sys.stdout.flush()


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """The registry's per-check timeout, by SIGALRM (only possible on the main thread).

    An interval timer already running (pytest-timeout's, say) is left alone: it bounds the
    check already, and replacing it would cancel it.
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or not hasattr(signal, "SIGALRM")
        or signal.getitimer(signal.ITIMER_REAL)[0] > 0
    ):
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise _CheckTimedOut(f"timed out after {seconds:g} s (the check's limit)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
