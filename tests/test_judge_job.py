"""The judge's job and context: a typed job read back exactly, a context passed explicitly,
measurements shared through fixtures (made once, failures kept for every check that asks)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.grading.judge.checks import support
from autograder.grading.judge.checks.support import CheckFailed, Measurement, SubmissionError
from autograder.grading.judge.job import JobError, JudgeJob
from autograder.grading.processes.device_lease import LeaseConfig
from autograder.grading.sandbox import Sandbox
from autograder.spec.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent


def job(**changes) -> JudgeJob:
    return dataclasses.replace(
        JudgeJob(
            exercise="hard",
            check_ids=("hard.sweep_rows_cpu", "hard.plot_content"),
            seed=12345,
            device="cpu",
            settings=load_settings(),
            module_source=Path("/tmp/work/hard_gpu_sweep.py"),
            work_dir=Path("/tmp/work"),
            lease=LeaseConfig(directory="/tmp/leases", names={"cpu": "cpu-0"}, wait_max_s=60.0),
            sandbox=Sandbox("bubblewrap", "bwrap works", "/usr/bin/bwrap", "nobody"),
            pipe_fd=5,
        ),
        **changes,
    )


def edited(text: str, edit) -> str:
    data = json.loads(text)
    edit(data)
    return json.dumps(data)


@pytest.mark.parametrize("changes", [{}, {"module_source": None, "device": "cuda"}])
def test_a_job_is_read_back_exactly_as_it_was_sent(changes) -> None:
    sent = job(**changes)
    text = sent.to_json()
    assert "\n" not in text  # one line on the judge's stdin
    assert JudgeJob.from_json(text) == sent
    got = JudgeJob.from_json(text)
    assert type(got.check_ids) is tuple and type(got.work_dir) is type(Path())
    assert type(got.settings.limits.timeout_scale) is float


def test_the_job_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        job().seed = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(seed="12345"), "judge job.seed: expected an integer, got str"),
        (lambda d: d.update(seed=True), "judge job.seed: expected an integer, got bool"),
        (lambda d: d.update(check_ids="hard.plot_content"), "check_ids: expected a list"),
        (lambda d: d.update(check_ids=[1]), "judge job.check_ids[0]: expected a string, got int"),
        (lambda d: d.update(work_dir=None), "judge job.work_dir: expected a string, got null"),
        (
            lambda d: d["settings"]["limits"].update(memory_mib=1.5),
            "judge job.settings.limits.memory_mib: expected an integer, got float",
        ),
        (
            lambda d: d["settings"]["tolerances"]["cpu"].update(rnn_slope_min="0.8"),
            "settings.tolerances.cpu.rnn_slope_min: expected a finite number, got str",
        ),
        (lambda d: d["lease"].update(names=["cpu"]), "judge job.lease.names: expected an object"),
        (
            lambda d: d["sandbox"].update(bwrap=7),
            "judge job.sandbox.bwrap: expected a string, got int",
        ),
    ],
    ids=[
        "a string seed",
        "a bool seed",
        "one id, not a list",
        "a number id",
        "no work dir",
        "a fractional memory limit",
        "a tolerance as text",
        "lease names as a list",
        "a number for a path",
    ],
)
def test_a_field_of_the_wrong_type_is_refused_with_one_line(edit, message) -> None:
    with pytest.raises(JobError) as refused:
        JudgeJob.from_json(edited(job().to_json(), edit))
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(deadline=10), "judge job: unknown key(s) deadline"),
        (lambda d: d["sandbox"].update(uid=0), "judge job.sandbox: unknown key(s) uid"),
        (lambda d: d["settings"].pop("lease"), "judge job.settings: missing key(s) lease"),
        (lambda d: d.pop("pipe_fd"), "judge job: missing key(s) pipe_fd"),
    ],
    ids=["unknown", "unknown nested", "missing nested", "missing"],
)
def test_an_unknown_or_missing_key_is_refused(edit, message) -> None:
    with pytest.raises(JobError) as refused:
        JudgeJob.from_json(edited(job().to_json(), edit))
    assert str(refused.value) == message


@pytest.mark.parametrize("text", ["", "[1, 2]", "{", '"job"', "null"])
def test_what_is_not_a_job_object_is_refused(text) -> None:
    with pytest.raises(JobError, match=r"^judge job"):
        JudgeJob.from_json(text)


def test_a_judge_given_a_bad_job_exits_with_the_one_line() -> None:
    bad = edited(job().to_json(), lambda d: d.update(seed="x"))
    boot = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
        "from autograder.grading.judge.main import main; main()"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", boot], input=bad + "\n", capture_output=True, text=True
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "judge job.seed: expected an integer, got str"


# ---------------------------------------------------------------- shared measurements


def test_a_measurement_is_made_once_by_the_first_check_that_asks() -> None:
    runs = []
    measurement = Measurement(lambda: runs.append(1) or {"n": len(runs)})
    assert measurement.measured() is None  # asking whether it exists measures nothing
    assert runs == []
    assert measurement.result() == {"n": 1}
    assert measurement.result() == {"n": 1}
    assert measurement.measured() == {"n": 1}
    assert runs == [1]


@pytest.mark.parametrize(
    "error", [CheckFailed("wrong values", hint="fix them"), SubmissionError("crashed")]
)
def test_a_verdict_failure_is_kept_for_every_check_that_asks(error) -> None:
    runs = []

    def measure():
        runs.append(1)
        raise error

    measurement = Measurement(measure)
    for _ in range(2):
        with pytest.raises(type(error)) as failed:
            measurement.result()
        assert failed.value is error
    assert runs == [1]
    assert measurement.measured() is None


def test_any_other_failure_is_not_kept_so_the_next_check_measures_again() -> None:
    outcomes = iter([TimeoutError("alarm"), {"n": 2}])

    def measure():
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    measurement = Measurement(measure)
    with pytest.raises(TimeoutError):
        measurement.result()
    assert measurement.measured() is None
    assert measurement.result() == {"n": 2}


def test_call_check_gives_a_check_its_fixtures_by_name(tmp_path: Path) -> None:
    from autograder.grading.judge.checks import test_medium as medium

    ctx = support.GradingContext(
        exercise="medium",
        module_source=None,
        work_dir=tmp_path,
        seed=7,
        device="cpu",
        settings=load_settings(),
        sandbox=Sandbox("none", "test"),
    )
    measured = {n: (medium.hillis_steele_depth(n), 0) for n in medium.TRACED_LENGTHS}
    made = {"traced_scan": Measurement(lambda: measured)}
    support.call_check(medium.test_depth_measured, object(), ctx, made)
    assert ctx.records["?"]["measured"]["1025"] == {"depth": 11, "work": 0}

    class Crashing:  # the submission's worker: its scan crashes
        def trace(self, *args, **kwargs):
            raise SubmissionError("the worker exited")

    made = {}  # none given: made from the module's fixture, with the context and worker given
    with pytest.raises(SubmissionError, match="the worker exited"):
        support.call_check(medium.test_depth_measured, Crashing(), ctx, made)
    assert type(made["traced_scan"]) is Measurement and "sub" not in made
