"""docs/benchmarks.md from one bench run: the figures gathered here, the text in the Jinja2
template ``templates/benchmarks.md.j2`` (rendered like the grader's reports, through
:func:`autograder.reports.render.line_environment`); each measurement's table comes rendered
from its own module."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from autograder.reports.render import line_environment
from autograder.spec.registry import CHECKS_BY_ID
from autograder.spec.settings import load_settings
from benchmarks import (
    grader_compare,
    grading_time,
    old_grader,
    protocol_costs,
    sandbox_startup,
    validity,
    validity_report,
)
from benchmarks.grading_time import GradeRun
from benchmarks.submissions import ROOT

LOADED_SEED_OFFSET = 100  # loaded runs draw other inputs than the wall-time runs
SUBMISSION_WHAT = {
    "solutions": "reference solutions (`solutions/`)",
    "exercises": "stubs (`exercises/`)",
}
BENCH_HEADING = re.compile(r"^## \d+\. ")
TEMPLATE = "benchmarks.md.j2"


@dataclass
class Bench:
    """Everything one bench run measured, for :func:`render` and the JSON."""

    info: dict[str, Any]
    loads: dict[str, tuple[str, str]] = field(default_factory=dict)  # phase -> load at start, end
    compared: dict[str, dict[str, list[GradeRun]]] = field(default_factory=dict)
    old: old_grader.OldGrader | None = None
    old_missing: str | None = None  # why the old grader was not run
    kinds_missing: dict[str, str] = field(default_factory=dict)  # sandbox kind -> why not run
    startup: list[sandbox_startup.Startup] = field(default_factory=list)
    startup_missing: str | None = None
    protocol: protocol_costs.ProtocolCosts | None = None
    loaded: validity.LoadedRuns | None = None


def render(*, args: argparse.Namespace, bench: Bench) -> str:
    """The bench's sections of docs/benchmarks.md (see :func:`keep_foreign_sections`)."""
    environment = line_environment().overlay(loader=jinja2.PackageLoader("benchmarks", "templates"))
    return environment.get_template(TEMPLATE).render(**_context(args, bench))


def _context(args: argparse.Namespace, bench: Bench) -> dict[str, Any]:
    """The template's figures: each section's measured values and rendered tables, or None
    (or empty) for a section that was not measured."""
    tol = load_settings(args.settings).tolerances["cpu"]
    loaded = bench.loaded
    honest = (
        validity.summarise_honest(loaded.honest, args.timing_only)
        if loaded and loaded.honest
        else None
    )
    cases = loaded.cases if loaded else {}
    styles = {
        case: validity.summarise_honest(runs, validity.CASES[case].exercises)
        for case, runs in cases.items()
        if runs and validity.CASES[case].honest
    }
    broken = [
        validity.summarise_broken(case, runs)
        for case, runs in cases.items()
        if runs and not validity.CASES[case].honest
    ]
    command = " ".join(["python -m benchmarks", *args.argv])
    compared = {name: runs for name, runs in bench.compared.items() if any(runs.values())}
    return {
        "args": args,
        "bench": bench,
        "info": bench.info,
        "command": f"`{command}`" + ("" if args.argv else " (`make bench`)"),
        "json_path": _relative(args.json),
        "settings_name": args.settings or "autograder/grading.toml",
        "load_notes": {phase: _load_note(bench, phase) for phase in _PHASES},
        "what": SUBMISSION_WHAT,
        "compared": compared,
        "old_imports": (
            bench.old.imports_from.relative_to(bench.old.tree.resolve()) if bench.old else None
        ),
        "compare_table": compared
        and grader_compare.render(
            compared, what=SUBMISSION_WHAT, baselines={"solutions": _reference_baseline}
        ),
        "time_table": compared and _time_table(compared),
        "sandbox_ratios": [
            (name, ratio)
            for name, runs in compared.items()
            if (ratio := _sandbox_ratio(runs)) is not None
        ],
        "startup_table": bench.startup and sandbox_startup.render(bench.startup),
        "protocol_table": (
            protocol_costs.render(bench.protocol) if bench.protocol is not None else None
        ),
        "loaded": loaded,
        "honest": honest,
        "first_seed": args.seed + LOADED_SEED_OFFSET,
        "honest_sandbox": honest and _sandbox_of(loaded.honest),
        "honest_table": honest and validity_report.render_honest(honest, tol),
        "styles": [
            {
                "case": case,
                "what": validity.CASES[case].what,
                "exercises": validity.CASES[case].exercises,
                "summary": summary,
                "table": validity_report.render_honest(summary, tol),
            }
            for case, summary in styles.items()
        ],
        "broken": broken,
        "broken_runs": sorted({summary.runs for summary in broken}),
        "broken_cases": [(s.case, validity.CASES[s.case].what) for s in broken],
        "broken_table": broken and validity_report.render_broken(broken, tol),
        "tolerances_table": (
            validity_report.render_tolerances(
                validity_report.tolerance_sides([honest, *styles.values()], broken, tol)
            )
            if honest and broken
            else None
        ),
    }


_PHASES = ("compare", "startup", "protocol", "loaded")


def _time_table(compared: dict[str, dict[str, list[GradeRun]]]) -> str:
    """Where the time goes: the old grader's and the new (bubblewrap) grader's breakdowns."""
    parts = {}
    what = {}
    for name, runs in compared.items():
        for contender in (grader_compare.OLD, "bubblewrap"):
            if runs.get(contender):
                key = f"{name}:{contender}"
                parts[key] = grading_time.breakdown(runs[contender])
                what[key] = f"{SUBMISSION_WHAT[name]}, {grader_compare.LABELS[contender]}"
    return grading_time.render_grading_time(parts, what=what, totals=False)


def _sandbox_ratio(runs: dict[str, list[GradeRun]]) -> grader_compare.Ratio | None:
    """bubblewrap / none, when both ran."""
    return next((r for r in grader_compare.ratios(runs) if r.denominator == "none"), None)


def _load_note(bench: Bench, phase: str) -> str:
    start, end = bench.loads.get(phase, ("unknown", "unknown"))
    return f"Load average (1, 5, 15 min): {start} at the start of this part, {end} at its end."


def _reference_baseline(check_id: str) -> str | None:
    check = CHECKS_BY_ID.get(check_id)
    return validity.baseline_status(check) if check is not None else None


def _sandbox_of(runs: list[GradeRun]) -> str:
    kinds = sorted(
        {
            str(run.document.get("extra_data", {}).get("sandbox", {}).get("reason", "unknown"))
            for run in runs
        }
    )
    return "; ".join(kinds)


def _relative(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def keep_foreign_sections(report: str, previous: str | None) -> str:
    """The new report, followed by every ``## `` section of ``previous`` the bench does not write.

    The bench's own sections are numbered (``## 1. ...``); others (a class regrade, notes
    someone added) are kept verbatim, in their order, after the bench's.
    """
    if not previous:
        return report
    foreign: list[list[str]] = []
    current: list[str] | None = None
    fenced = False
    for line in previous.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            current = None if BENCH_HEADING.match(line) else [line]
            if current is not None:
                foreign.append(current)
            continue
        if current is not None:
            current.append(line)
    if not foreign:
        return report
    kept = "\n".join("\n".join(section).rstrip("\n") + "\n" for section in foreign)
    return report.rstrip("\n") + "\n\n" + kept
