"""The grading bench works, and the CPU analogue of a no-wait time_fn fails its timing checks.

The bench itself (``make bench``) takes minutes; here it runs on a tiny configuration and its
figure extraction is checked against the grader's real record and message formats. No
timing figure is asserted: only that the machinery reads, summarises and reports them.
"""

from __future__ import annotations

import dataclasses
import json
import operator
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from judge_context import unconfined_spec

from autograder.grading.judge.checks import timing
from autograder.grading.judge.proxy import WorkerProxy
from autograder.grading.judge.trace import TraceInputs
from autograder.grading.sandbox import Sandbox
from autograder.grading.worker.protocol import OpArg
from autograder.spec.registry import CHECKS
from autograder.spec.settings import load_settings
from benchmarks import (
    batch_costs,
    grader_compare,
    old_grader,
    protocol_costs,
    sandbox_startup,
    validity,
    validity_quantities,
    validity_report,
)
from benchmarks.grading_time import (
    GradeRun,
    Spread,
    breakdown,
    grade_once,
    render_grading_time,
)
from benchmarks.report import Bench, keep_foreign_sections, render
from benchmarks.submissions import build_submission
from reference.tracer import Tape

ROOT = Path(__file__).resolve().parent.parent
CPU_TOLERANCES = load_settings().tolerances["cpu"]

FAST_SETTINGS = ROOT / "tests" / "fixtures" / "fast-grading.toml"


def grade(submission: Path, out: Path, *only: str) -> dict:
    """Grade on CPU through the CLI, as students and CI do, with the tests' short timeouts."""
    run = grade_once(
        submission, results_path=out / "results.json", seed=4321, only=only, settings=FAST_SETTINGS
    )
    return run.document


@pytest.fixture(scope="module")
def async_time_fn_results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The reference solution with time_fn_async_cpu's time_fn, graded once for the module."""
    folder = tmp_path_factory.mktemp("time_fn_async_cpu")
    submission = build_submission("time_fn_async_cpu", folder / "submission")
    return grade(submission, folder, "hard")


def test_time_fn_async_cpu_fails_only_its_timing_checks(async_time_fn_results: dict) -> None:
    """Timing only the thread's start is the CPU twin of a CUDA time_fn with no synchronize."""
    tests = {test["id"]: test for test in async_time_fn_results["tests"]}
    timed = tests["hard.time_fn_accurate_cpu"]
    assert timed["status"] == "failed", timed["output"]
    assert "% off" in timed["output"], timed["output"]
    changed = {
        check.id: tests[check.id]["status"]
        for check in CHECKS
        if check.exercise == "hard"
        and "timing" not in check.tags
        and tests[check.id]["status"] != validity.baseline_status(check)
    }
    assert not changed, changed


def test_broken_summary_reads_why_it_failed(async_time_fn_results: dict) -> None:
    run = GradeRun("time_fn_async_cpu", 4321, 1.0, async_time_fn_results)
    summary = validity.summarise_broken("time_fn_async_cpu", [run])
    assert summary.failed["hard.time_fn_accurate_cpu"] == 1
    errors = summary.readings["hard.time_fn_accurate_cpu"]["time_fn relative error"]
    assert errors and errors[0] > CPU_TOLERANCES.time_fn_rel_error
    table = validity_report.render_broken([summary], CPU_TOLERANCES)
    assert "| `time_fn_async_cpu` | `hard.time_fn_accurate_cpu` | fail | 1/1 |" in table
    assert "Non-timing checks of these submissions that lost the reference's status: 0." in (table)


GOLDEN_REPORT = Path(__file__).parent / "golden" / "benchmarks" / "report.md"


def test_report_text_is_the_golden_for_a_fixed_input(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every section's text around stubbed tables, byte for byte: everything measured, nothing
    but the machine, and no old grader (tests/bench_report_input.py holds the inputs)."""
    from bench_report_input import bench_inputs, stub_measurements

    stub_measurements(monkeypatch)
    reports = []
    for full in (True, False):
        args, bench = bench_inputs(Bench, full=full)
        reports.append(render(args=args, bench=bench))
    args, bench = bench_inputs(Bench, full=True)
    bench.old, bench.old_missing, bench.kinds_missing = None, "no git here", {}
    reports.append(render(args=args, bench=bench))
    golden = GOLDEN_REPORT.read_text(encoding="utf-8")
    assert "\n<!-- next input -->\n".join(reports) == golden


def test_bench_tiny_run_writes_every_section(tmp_path: Path) -> None:
    """One run of each phase on the smallest exercise: the report has all its parts, and a
    section someone else added to the report survives the rewrite."""
    out, raw = tmp_path / "bench.md", tmp_path / "bench.json"
    out.write_text("# old\n\n## 1. Old figures\n\nstale\n\n## Class regrade\n\nkept\n")
    command = [sys.executable, "-m", "benchmarks", "--wall-runs", "1", "--wall-only", "easy"]
    command += ["--runs", "1", "--timing-only", "easy", "--cases", "--busy", "1"]
    command += ["--startup-runs", "1", "--pings", "20", "--trace-runs", "1"]
    command += ["--out", str(out), "--json", str(raw)]
    completed = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = out.read_text()
    for heading in (
        "# Grading benchmarks (CPU)",
        "| CPU |",
        "**A shared machine.**",
        "## 1. Grading wall time: the old grader against the new",
        "### Where the time goes",
        "## 2. What the sandbox costs",
        "## 3. What the judge/worker protocol costs",
        "**Round trip**",
        "## 4. Timing checks of honest submissions under load",
        "| `easy.numpy_vectorised_over_d` |",
        "| numpy per-step time, d=256 over d=1 |",
        "## 6. GPU",
        "docs/gpu-validation.md",
        "## Class regrade\n\nkept",
    ):
        assert heading in report, heading
    assert "## 5." not in report  # no broken case was asked for
    assert "stale" not in report
    figures = json.loads(raw.read_text())
    assert len(figures["loaded"]["solutions"]) == 1
    assert set(figures["wall"]) == {"solutions", "exercises"}
    ran = set(figures["wall"]["solutions"])
    assert ran == {"old", "none"} | ({"bubblewrap"} - set(figures["sandbox_missing"]))
    assert figures["old_grader"]["commit"].startswith(old_grader.OLD_COMMIT)
    for run in figures["wall"]["solutions"]["old"]:
        assert run["document"]["extra_data"]["sandbox"] is None  # the old grader wrote it
    assert figures["protocol"]["ops"] == 9217


def test_busy_cores_spin_and_are_killed() -> None:
    with validity.busy_cores(1) as spinners:
        time.sleep(0.5)
        assert spinners[0].poll() is None
        assert (validity.cpu_seconds(spinners[0].pid) or 0.0) > 0.1
    assert spinners[0].poll() is not None


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


def test_busy_loop_stops_when_its_parent_dies() -> None:
    """Even a bench killed with SIGKILL (no cleanup runs) leaves no spinning process."""
    parent = (
        "from benchmarks.validity import start_busy_loop\n"
        "print(start_busy_loop().pid, flush=True)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", parent],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    pid = int(completed.stdout)
    deadline = time.monotonic() + 10
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    stopped = _gone(pid)
    if not stopped:
        os.kill(pid, 9)
    assert stopped, f"busy loop {pid} outlived its parent"


def _document(timings: dict, outputs: dict[str, str] | None = None) -> dict:
    """A results document holding only what the bench reads: statuses, records, messages."""
    outputs = outputs or {}
    tests = [
        {
            "id": check.id,
            "exercise": check.exercise,
            "status": "failed" if check.id in outputs else validity.baseline_status(check),
            "output": outputs.get(check.id, ""),
            "duration": 0.5,
        }
        for check in CHECKS
        if check.exercise in ("easy", "hard")
    ]
    exercises = {"easy": {"wall_seconds": 1.0}, "hard": {"wall_seconds": 4.0}}
    return {"tests": tests, "extra_data": {"timings": timings, "exercises": exercises}}


RECORDS = {
    "easy.numpy_vectorised_over_d": {"timing": {"ratio": 2.0}},
    "easy.python_grows_with_d": {"timing": {"ratio": 16.0}},
    "easy.serial_overhead_consistent": {
        "timing": {
            "python:d=4": {"ratio": 1.1, "ratio_to_wall": 0.9},
            "numpy:d=4": {"ratio": 0.5, "ratio_to_wall": 0.4},
        }
    },
    "hard.sweep_rows_cpu": {
        "timing": {
            "rows": [],
            "comparison": [
                {"curve": "rnn_seconds", "ratio": 1.5, "ratio_to_wall": 1.2},
                {"curve": "attention_seconds", "ratio": 0.9, "ratio_to_wall": 0.7},
            ],
        }
    },
    "hard.curve_shapes_cpu": {
        "timing": {"rnn_slope": 1.1, "reduction_ratio": {"64": 1.2, "65536": 2.0}}
    },
}


def test_quantities_and_margins_from_records_and_messages() -> None:
    """time_fn records nothing when it fails: its figure then comes from the message."""
    message = (
        "time_fn on a wait of known duration 8.00 ms returned 12.000 ms (50% off, allowed 25%)"
    )
    document = _document(RECORDS, {"hard.time_fn_accurate_cpu": message})
    summary = validity.summarise_honest([GradeRun("s", 1, 5.0, document)], ("easy", "hard"))
    assert summary.false_failures["hard.time_fn_accurate_cpu"] == 1
    assert summary.false_failures["easy.numpy_vectorised_over_d"] == 0
    assert summary.values["hard.time_fn_error"] == [0.5]
    assert summary.values["hard.reduction_ratio"] == [1.2, 2.0]
    assert summary.values["easy.reported_numpy"] == [0.5]
    assert summary.values["easy.reported_numpy_wall"] == [0.4]  # held to reported_ratio_max
    assert summary.values["hard.reported_rnn_wall"] == [1.2]
    tol = dataclasses.replace(
        CPU_TOLERANCES, numpy_growth_max=4.0, rnn_slope_min=0.7, rnn_slope_max=1.3
    )
    by_key = {q.key: q for q in validity_quantities.QUANTITIES}
    assert by_key["easy.numpy_growth"].margin([2.0], tol) == (2.0, "upper")
    room, side = by_key["hard.rnn_slope"].margin([1.1], tol)
    assert side == "upper" and room == pytest.approx(0.2)
    room, side = by_key["hard.time_fn_error"].margin([0.5], tol)
    assert side == "upper" and room < 0  # outside the bound: shown as a negative margin
    report = validity_report.render_honest(summary, tol)
    assert "| `hard.time_fn_accurate_cpu` | 1/1 |" in report
    assert "False failures seen:" in report


@pytest.mark.parametrize(
    ("output", "reason", "figure"),
    [
        (
            "time_fn on a wait of known duration 10.00 ms returned 0.100 ms (99% off, allowed 25%)",
            "time_fn relative error",
            0.99,
        ),
        (
            "sweep reports rnn_seconds=1.26e-05 s at n=256; the grader timed the rnn_style_torch "
            "calls your sweep made at 0.0013 s (0.01x, allowed 0.33..3.0x)",
            "claimed / observed",
            0.01,
        ),
        (
            "sweep reports rnn_seconds=0.00245 s at n=4096; the grader timed rnn_style_torch on "
            "tensors of 4096 elements at 0.0245 s of CPU, 0.049 s of wall clock (0.10x and 0.05x; "
            "allowed at least 0.25x the CPU time and at most 3.0x the wall time)",
            "claimed / judge CPU time",
            0.1,
        ),
        (
            "serial_overhead(impl='python') reports 1e-06 s per step at d=4; the grader timed "
            "rnn_style_vector on the same inputs at 1e-07 s of CPU, 2e-07 s of wall clock per "
            "step (10.00x and 5.00x; allowed at least 0.25x the CPU time and at most 3.0x the "
            "wall time)",
            "claimed / judge wall time",
            5.0,
        ),
        (
            "rnn_style_torch: staging 30 inputs took 8.6 ms in your worker against 0.8 ms in the "
            "reference worker: work was done before the timed calls",
            "work done ahead",
            10.75,
        ),
        (
            "sweep reports 10.78 ms of calls (one of each) but the whole call took 8.35 ms: "
            "report what you measured",
            "claimed more than the call took",
            None,
        ),
        (
            "attention_style_torch takes 119.0x the time of the reference reduction xs.mean() at "
            "n=65536 (allowed 4.0x): use one library reduction, not a loop",
            "reduction / xs.mean()",
            119.0,
        ),
        ("rnn_style_torch's time grows like n^0.41 over n=256..4096", "serial slope", 0.41),
        ("time.perf_counter was replaced: timings cannot be trusted", "clock replaced", None),
        ("sweep reports rnn_seconds for n=256, but it never called", "never ran", None),
    ],
)
def test_failure_reading_follows_the_grader_messages(output, reason, figure) -> None:
    got_reason, got_figure = validity_quantities.failure_reading(output)
    assert reason in got_reason
    assert got_figure == (None if figure is None else pytest.approx(figure))


def test_grading_time_breakdown_and_table() -> None:
    runs = [GradeRun("solutions", s, 5.0 + s, _document(RECORDS)) for s in range(3)]
    data = breakdown(runs, slowest=2)
    assert data.total == Spread(3, 5.0, 6.0, 7.0)
    assert data.exercises["hard"].median == 4.0
    assert len(data.slowest_checks) == 2
    table = render_grading_time({"solutions": data}, what={"solutions": "reference"})
    assert "| reference | 3 | 5.00 | 6.00 | 7.00 |" in table
    assert "| reference | hard | 4.00 (4.00-4.00) |" in table


def test_every_case_exists_and_names_registered_timing_checks(tmp_path: Path) -> None:
    """A renamed check or a deleted case must not leave the bench judging nothing."""
    timing = {check.id for check in CHECKS if "timing" in check.tags and not check.gpu}
    for name, case in validity.CASES.items():
        assert case.must_fail | case.may_fail <= timing, name
        assert {c.split(".")[0] for c in case.must_fail | case.may_fail} <= set(case.exercises)
        submission = build_submission(name, tmp_path / name)
        for module in submission.glob("*.py"):
            compile(module.read_text(), str(module), "exec")  # the override appends cleanly
        assert "# ---- override from" in "".join(
            module.read_text() for module in submission.glob("*.py")
        ), name


# ---- the old grader, the comparison, the sandbox and protocol figures -----------------------


def _git(repo: Path, *args: str) -> str:
    completed = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.strip()


@pytest.fixture
def fake_repo(tmp_path: Path) -> tuple[Path, str]:
    """A repository whose one commit holds an ``autograder`` package that says where it is."""
    repo = tmp_path / "repo"
    (repo / "autograder").mkdir(parents=True)
    (repo / "autograder" / "__init__.py").write_text("OLD = True\n")
    _git(repo, "init", "-q")
    _git(repo, "add", "autograder")
    _git(repo, "commit", "-q", "-m", "old grader")
    return repo, _git(repo, "rev-parse", "HEAD")


def test_old_grader_is_checked_out_detached_and_removed(fake_repo, tmp_path: Path) -> None:
    repo, commit = fake_repo
    with old_grader.old_grader(commit[:7], repo=repo, parent=tmp_path) as old:
        assert old.commit == commit
        assert old.imports_from == (old.tree / "autograder" / "__init__.py").resolve()
        assert old.env["PYTHONPATH"] == str(old.tree)
        assert _git(old.tree, "rev-parse", "HEAD") == commit
        assert str(old.tree) in _git(repo, "worktree", "list")
        tree = old.tree
    assert not tree.exists()
    assert str(tree) not in _git(repo, "worktree", "list")
    assert list(tmp_path.glob("bench-old-grader-*")) == []


def test_old_grader_unavailable_says_why(fake_repo, tmp_path: Path, monkeypatch) -> None:
    repo, _ = fake_repo
    missing = old_grader.old_grader("0123456789abcdef", repo=repo, parent=tmp_path)
    with pytest.raises(old_grader.OldGraderUnavailable, match="rev-parse"), missing:
        pass
    assert list(tmp_path.glob("bench-old-grader-*")) == []
    monkeypatch.setattr(old_grader.shutil, "which", lambda name: None)
    no_git = old_grader.old_grader("HEAD", repo=repo, parent=tmp_path)
    with pytest.raises(old_grader.OldGraderUnavailable, match="git is not installed"), no_git:
        pass


def test_the_old_grader_commit_imports_its_own_package() -> None:
    """This repository's old grader, from its worktree, is not this checkout's editable install.

    In a shallow clone old_grader fetches the commit from origin (the test below shows it)."""
    with old_grader.old_grader() as old:
        assert old.commit == old_grader.OLD_COMMIT
        assert old.imports_from.is_relative_to(old.tree.resolve())


def test_a_shallow_clone_fetches_the_old_commit_from_origin(fake_repo, tmp_path: Path) -> None:
    repo, old = fake_repo
    (repo / "autograder" / "__init__.py").write_text("NEW = True\n")
    _git(repo, "commit", "-q", "-am", "new grader")
    _git(repo, "config", "uploadpack.allowAnySHA1InWant", "true")  # as GitHub allows
    clone = tmp_path / "shallow"
    _git(tmp_path, "clone", "-q", "--depth=1", repo.as_uri(), str(clone))
    assert _git(clone, "rev-parse", "--is-shallow-repository") == "true"
    short = old_grader.old_grader(old[:7], repo=clone, parent=tmp_path)  # no fetch by prefix
    with pytest.raises(old_grader.OldGraderUnavailable, match="rev-parse"), short:
        pass
    with old_grader.old_grader(old, repo=clone, parent=tmp_path) as checked_out:
        assert checked_out.commit == old
        assert (checked_out.tree / "autograder" / "__init__.py").read_text() == "OLD = True\n"


def _run(label: str, wall: float, sandbox: str | None, score: float = 1.0) -> GradeRun:
    extra = {"exercises": {"easy": {"wall_seconds": wall - 0.5}}, "timings": {}}
    if sandbox is not None:
        extra["sandbox"] = {"kind": sandbox, "reason": f"{sandbox} for the test"}
    tests = [
        {"id": "easy.python_grows_with_d", "exercise": "easy", "status": "passed"},
        {"id": "easy.numpy_vectorised_over_d", "exercise": "easy", "status": "failed"},
    ]
    for test in tests:
        test |= {"score": score / 2, "duration": 0.1, "output": ""}
    return GradeRun(label, 1, wall, {"tests": tests, "extra_data": extra})


def test_comparison_ratios_and_table() -> None:
    runs = {
        "solutions": {
            "old": [_run("o", 2.0, None), _run("o", 4.0, None), _run("o", 3.0, None)],
            "bubblewrap": [_run("b", 5.0, "bubblewrap"), _run("b", 4.0, "bubblewrap")],
            "none": [_run("n", 4.0, "none"), _run("n", 3.6, "none")],
        }
    }
    assert grader_compare.ran_in(runs["solutions"]["old"][0].document) == "old"
    assert grader_compare.ran_in(runs["solutions"]["none"][0].document) == "none"
    found = {(r.numerator, r.denominator): r for r in grader_compare.ratios(runs["solutions"])}
    assert found["bubblewrap", "old"].value == pytest.approx(4.5 / 3.0)
    assert found["bubblewrap", "old"].within  # "at most 1.5x": 1.5 is within
    assert found["none", "old"].value == pytest.approx(3.8 / 3.0)
    assert found["bubblewrap", "none"].value == pytest.approx(4.5 / 3.8)
    table = grader_compare.render(
        runs,
        what={"solutions": "reference"},
        baselines={"solutions": lambda check_id: "passed"},
    )
    assert "| reference | old (`99a44a6`, no workers) | 3 | 2.00 | 3.00 | 4.00 | 1 |" in table
    assert "| reference | new (bubblewrap) / old | **1.50x** | <= 1.5x | within |" in table
    assert "| reference | sandbox cost: bubblewrap / none | **1.18x** | <= 1.2x | within |" in table
    assert "`easy.numpy_vectorised_over_d` failed (3/3)" in table


def test_contenders_rotate_from_round_to_round() -> None:
    names = ["old", "bubblewrap", "none"]
    assert [grader_compare.rotated(names, i)[0] for i in range(4)] == [
        "old",
        "bubblewrap",
        "none",
        "old",
    ]
    assert sorted(grader_compare.rotated(names, 5)) == sorted(names)


def test_foreign_sections_are_kept_and_the_bench_sections_replaced() -> None:
    previous = (
        "# Grading benchmarks (CPU)\n\nold intro\n\n## 1. Grading wall time\n\nold\n\n"
        "## Class regrade (2026-11-30)\n\n```\n## 2. inside a fence\n```\nregrade table\n\n"
        "## 4. GPU\n\nold gpu\n\n## Notes\n\nmore\n"
    )
    report = "# Grading benchmarks (CPU)\n\nnew\n\n## 1. Grading wall time\n\nnew\n"
    merged = keep_foreign_sections(report, previous)
    assert merged.startswith(report.rstrip("\n"))
    assert "old" not in merged.replace("regrade", "")
    assert "## Class regrade (2026-11-30)\n\n```\n## 2. inside a fence\n```\nregrade table" in (
        merged
    )
    assert merged.index("## Class regrade") < merged.index("## Notes\n\nmore")
    assert keep_foreign_sections(report, None) == report
    assert keep_foreign_sections(report, report) == report


def test_sandbox_startup_table() -> None:
    result = sandbox_startup.Startup("pass", "bwrap", [0.05, 0.06, 0.07], [0.08, 0.09, 0.2])
    assert result.extra_seconds == pytest.approx(0.03)
    table = sandbox_startup.render([result])
    assert "| `pass` | 3 | 60 (50-70) | 90 (80-200) | **+30 ms** |" in table


def test_batch_costs_measures_each_part_of_a_sample_in_a_real_worker() -> None:
    """``python -m benchmarks.batch_costs``: every part of a sample timed, in a real worker on
    the reference solution, and the table shows each shape's row."""
    rows = batch_costs.measure(Sandbox("none", "test"), shapes=((64, 50), (1024, 20)), reps=2)
    assert [(row["n"], row["calls"]) for row in rows] == [(64, 50), (1024, 20)]
    assert rows[1]["mib"] == pytest.approx(4 * 1024 * 20 / 2**20)
    for row in rows:
        assert all(row[part] > 0 for part in ("draw", "stage", "ping_run", "fetch"))
    table = batch_costs.table(rows, "none")
    assert "| 1,024 | 20 | 0.1 |" in table and table.count("| none |") == 2


def test_protocol_helpers() -> None:
    assert protocol_costs.scan_work(1024) == 9217
    assert protocol_costs.scan_work(2) == 1
    assert protocol_costs.harness_window(1e-4) == protocol_costs.MIN_SAMPLE_S
    assert protocol_costs.harness_window(1e-3) == protocol_costs.MIN_SAMPLE_S  # CPU time
    assert timing.sample_window("cuda", 1e-3) == pytest.approx(1e-3 / 0.05)  # wall time
    assert timing.sample_window("cuda", 1e-4) == 0.005
    assert timing.sample_window("cpu", 1.0, 0.002) == 0.002
    header = {
        "args": [[{"$handle": 8192}, {"$handle": 8193}, {"$handle": 8194}], {"$op": "op"}],
        "trace": {"base": 40960, "limit": 100},
    }
    log = [["op", 8192, 8193], ["op", 40960, 8194], ["+", 40961, [1]]]
    seconds, tape = protocol_costs.replay_alone(header, log, [1, 2, 3])
    assert seconds >= 0 and tape.work == 3  # arithmetic on traced values is traced too


@pytest.fixture
def scan_worker(tmp_path: Path):
    spec = unconfined_spec(
        ROOT / "solutions" / "medium_parallel_scan.py", "medium_parallel_scan", tmp_path
    )
    made = WorkerProxy(spec, deadline=lambda: time.monotonic() + 60)
    yield made
    made.remove()


def test_traced_call_split_replays_what_the_worker_logged(scan_worker) -> None:
    values = list(range(-8, 8)) * 4  # 64 inputs
    split = protocol_costs.traced_call(scan_worker, values)
    assert split.total >= split.request > 0 and split.replay > 0
    assert split.log_bytes > 0
    assert "request" not in vars(scan_worker)  # the spy is gone
    tape = Tape()
    got = scan_worker.trace(
        "hillis_steele_scan",
        TraceInputs(tuple(values)),
        OpArg("op"),
        tape=tape,
        ops={"op": operator.add},
    )
    assert len(got) == 64 and tape.work == protocol_costs.scan_work(64)  # the proxy still works


def test_protocol_costs_measure_and_render_without_sandbox() -> None:
    costs = protocol_costs.measure(pings=5, trace_runs=1, batch_repeats=1, kinds=("none",))
    assert [kind.kind for kind in costs.kinds] == ["none"]
    none = costs.kinds[0]
    assert len(none.pings) == 5 and none.batches and none.batches[0].calls >= 1
    report = protocol_costs.render(costs)
    for line in (
        "| | `--sandbox none` |",
        "| round trip, median (min-max), µs |",
        "| replay on the judge's tape, ms |",
        "| **round trip / window** |",
        "9,217 applications of `op`",
    ):
        assert line in report, line
    json.dumps(costs.to_json())


def test_tolerance_sides_from_honest_and_broken_figures() -> None:
    """Each bound gets the honest figures of its quantity and the broken ones beyond it."""
    honest_doc = _document(RECORDS)
    honest = validity.summarise_honest([GradeRun("s", 1, 5.0, honest_doc)], ("easy", "hard"))
    broken_doc = _document(
        {},
        {
            "easy.python_grows_with_d": "per-step time grew only 5.8x from d=1 to d=256 "
            "(expected at least 10.0x): rnn_style_vector should be the pure-Python loop",
            "hard.curve_shapes_cpu": "rnn_style_torch's time grows like n^0.29 over n=256..4096 "
            "(expected n^1, allowed 0.65..1.5): one step per element",
        },
    )
    broken = validity.summarise_broken("sleeps_for_ratio", [GradeRun("b", 1, 5.0, broken_doc)])
    sides = {s.key: s for s in validity_report.tolerance_sides([honest], [broken], CPU_TOLERANCES)}
    growth = sides["python_growth_min"]
    assert growth.honest == [16.0] and growth.broken == {"sleeps_for_ratio": [5.8]}
    assert growth.honest_room() == pytest.approx(16.0 / CPU_TOLERANCES.python_growth_min)
    assert growth.broken_room() == pytest.approx(CPU_TOLERANCES.python_growth_min / 5.8)
    slope = sides["rnn_slope_min"]
    assert slope.broken == {"sleeps_for_ratio": [0.29]} and not slope.upper
    assert sides["rnn_slope_max"].broken == {}
    assert sides["reported_ratio_max"].honest == [0.9, 0.4, 1.2, 0.7]
    table = validity_report.render_tolerances(list(sides.values()))
    bound = f"{CPU_TOLERANCES.python_growth_min:g}"
    assert f"| `python_growth_min` | >= {bound} | 16.0..16.0 | `sleeps_for_ratio` 5.8..5.8 |" in (
        table
    )
    assert f"| `rnn_slope_max` | <= {CPU_TOLERANCES.rnn_slope_max:g} |" in table
    assert "no broken figure beyond it" in table


def test_sleeps_for_ratio_is_a_case_with_its_two_checks() -> None:
    case = validity.CASES["sleeps_for_ratio"]
    assert case.must_fail == {"easy.python_grows_with_d", "hard.curve_shapes_cpu"}
    assert case.exercises == ("easy", "hard")
