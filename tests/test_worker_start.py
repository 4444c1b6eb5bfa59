"""The judge starts its workers before pytest collects the checks and waits for their imports
only before the first check: the imports overlap the judge's own start, and no check pays."""

from __future__ import annotations

from judge_context import judge_context

from autograder.grading.judge.checks import support
from autograder.spec.registry import EXERCISES

GATED_MODULE = """\
import pathlib
import time

while not pathlib.Path({gate!r}).exists():  # the import ends only when the test says so
    time.sleep(0.01)

def ready():
    return "loaded"
"""


def test_workers_start_without_waiting_and_are_ready_before_the_first_check(tmp_path):
    gate = tmp_path / "gate"
    module = tmp_path / f"{EXERCISES['hard']}.py"
    module.write_text(GATED_MODULE.format(gate=str(gate)))
    (tmp_path / "judge").mkdir()
    ctx = judge_context(tmp_path / "judge", exercise="hard", device="cpu")
    ctx.module_source = module
    try:
        workers = support.start_workers(ctx)  # returns with the import still blocked
        assert [w.spec.label for w in workers] == ["submission", "reference"]
        assert all(w.pid is not None and not w.fatal_import for w in workers)
        assert workers[1].spec.preload == support.REFERENCE_IMPORTS["hard"]
        gate.write_text("")
        support.await_workers(ctx)
        assert [w.load_failure for w in workers] == [None, None]
        assert workers[0].call("ready") == "loaded"
    finally:
        ctx.close()


def test_an_exercise_without_timing_starts_only_the_submissions_worker(tmp_path):
    module = tmp_path / f"{EXERCISES['medium']}.py"
    module.write_text("def ready():\n    return 1\n")
    (tmp_path / "judge").mkdir()
    ctx = judge_context(tmp_path / "judge", exercise="medium", device="cpu")
    ctx.module_source = module
    try:
        assert [w.spec.label for w in support.start_workers(ctx)] == ["submission"]
        support.await_workers(ctx)
        assert ctx.workers["submission"].call("ready") == 1
    finally:
        ctx.close()
