"""A fixed input for the benchmark report (tests/test_benchmarks.py): every measurement stubbed,
so the report's own text and layout can be compared byte for byte with a golden file."""

from __future__ import annotations

import argparse
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from benchmarks import (
    grader_compare,
    grading_time,
    protocol_costs,
    sandbox_startup,
    validity,
    validity_report,
)
from benchmarks.submissions import ROOT

RUN = SimpleNamespace(document={"extra_data": {"sandbox": {"reason": "bwrap started"}}})
STUBS: dict[Any, dict[str, Any]] = {
    grader_compare: {
        "render": lambda compared, what, baselines: f"[compare {sorted(compared)}]\n",
        "ratios": lambda runs: [SimpleNamespace(denominator="none", value=1.234, target=1.5)],
    },
    grading_time: {
        "breakdown": lambda runs: len(runs),
        "render_grading_time": lambda parts, what, totals: f"[time {sorted(what.items())}]\n",
    },
    sandbox_startup: {"render": lambda startup: "[startup]\n"},
    protocol_costs: {"render": lambda protocol: "[protocol]\n"},
    validity: {
        "summarise_honest": lambda runs, exercises: SimpleNamespace(
            runs=3, wall=SimpleNamespace(median=1.25, low=0.5, high=2.0), exercises=exercises
        ),
        "summarise_broken": lambda case, runs: SimpleNamespace(case=case, runs=len(runs) + 1),
    },
    validity_report: {
        "render_honest": lambda summary, tol: f"[honest {summary.exercises}]\n",
        "render_broken": lambda broken, tol: f"[broken {[s.case for s in broken]}]\n",
        "tolerance_sides": lambda honest, broken, tol: [len(honest), len(broken)],
        "render_tolerances": lambda sides: f"[tolerances {sides}]\n",
    },
}


def stub_measurements(monkeypatch: pytest.MonkeyPatch, *also: Any) -> None:
    """Replace every renderer the report calls; ``also``: modules importing grading_time's
    functions by name."""
    for module, names in STUBS.items():
        for name, stub in names.items():
            monkeypatch.setattr(module, name, stub)
            for other in also if module is grading_time else ():
                monkeypatch.setattr(other, name, stub)


def bench_inputs(bench_type: type, *, full: bool) -> tuple[argparse.Namespace, Any]:
    """``(args, bench)``: every section measured (``full``), or nothing but the machine."""
    args = argparse.Namespace(
        settings=None,
        seed=2026,
        argv=["--quick"] if full else [],
        json=ROOT / "outputs" / "benchmarks" / "benchmarks.json",
        wall_only=["easy", "medium"],
        timing_only=["easy", "hard"],
    )
    info = {
        "date": "2026-12-05 00:00 UTC",
        "minutes": 12.345,
        "cpu": "Test CPU",
        "cores": 2,
        "usable_cores": 2,
        "python": "3.11.0",
        "torch": "2.0",
        "numpy": "1.0",
        "pytest": "8.0",
        "platform": "Linux-test",
        "load_start": "0.1 0.2 0.3",
        "load_end": "1.0 2.0 3.0",
    }
    bench = bench_type(info)
    if not full:
        bench.old_missing = "skipped (`--old-commit none`)"
        return args, bench
    bench.loads = {
        phase: (f"{phase}-start", f"{phase}-end")
        for phase in ("compare", "startup", "protocol", "loaded")
    }
    bench.compared = {
        "solutions": {"old": [RUN], "bubblewrap": [RUN, RUN], "none": [RUN]},
        "exercises": {"old": [], "bubblewrap": [RUN], "none": [RUN]},
    }
    tree = Path("/nonexistent/old-tree")
    bench.old = SimpleNamespace(
        tree=tree, imports_from=tree / "autograder" / "__init__.py", commit="0123456789abcdef"
    )
    bench.kinds_missing = {"bubblewrap": "bwrap cannot start"}
    bench.startup = [SimpleNamespace(reason="bubblewrap started")]
    bench.startup_missing = "not on this machine"
    bench.protocol = object()
    bench.loaded = SimpleNamespace(
        honest=[RUN],
        cases={"other_styles": [RUN], "made_up_timings": [RUN], "patched_clock": [RUN, RUN]},
        busy_processes=1,
        busy_cpu_seconds=12.6,
        seconds=45.4,
    )
    assert validity.CASES["other_styles"].honest and not validity.CASES["patched_clock"].honest
    return args, bench
