"""Grading wall time of the old grader against the new one, and the sandbox's share of it.

One round grades each submission with every contender: the old grader (commit
``OLD_COMMIT``, one child per exercise importing the submission, see old_grader.py), the new
one with ``--sandbox bubblewrap`` and with ``--sandbox none``. The order of the contenders
rotates from round to round, so a burst of load on this shared machine falls on each alike;
the figures are medians over the rounds and the ratios are ratios of those medians.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.grading import sandbox
from autograder.spec import paths
from benchmarks.grading_time import GradeRun, Spread, grade_once
from benchmarks.old_grader import OldGrader

NEW_KINDS = ("bubblewrap", "none")
OLD = "old"
LABELS = {
    OLD: "old (`99a44a6`, no workers)",
    "bubblewrap": "new, `--sandbox bubblewrap`",
    "none": "new, `--sandbox none`",
}
NEW_OVER_OLD_TARGET = 1.5
SANDBOX_TARGET = 1.2


def available_kinds() -> tuple[list[str], dict[str, str]]:
    """The sandbox kinds the new grader can run here, and why any other cannot."""
    kinds, missing = [], {}
    for kind in NEW_KINDS:
        try:
            sandbox.resolve(kind)
        except sandbox.SandboxUnavailable as error:
            missing[kind] = str(error)
        else:
            kinds.append(kind)
    return kinds, missing


def contenders(old: OldGrader | None, kinds: Sequence[str] = NEW_KINDS) -> list[str]:
    return ([OLD] if old is not None else []) + list(kinds)


def rotated(items: Sequence[str], index: int) -> list[str]:
    """``items`` starting at position ``index`` (mod its length): each round leads with another."""
    shift = index % len(items)
    return list(items[shift:]) + list(items[:shift])


def compare(
    submissions: Mapping[str, Path],
    *,
    rounds: int,
    work_dir: Path,
    first_seed: int,
    old: OldGrader | None,
    kinds: Sequence[str] = NEW_KINDS,
    only: Sequence[str] | None = None,
    settings: Path | None = None,
    say: Callable[[str], None] = lambda line: None,
) -> dict[str, dict[str, list[GradeRun]]]:
    """submission name -> contender -> its runs, graded round-robin (see the module doc)."""
    names = contenders(old, kinds)
    runs: dict[str, dict[str, list[GradeRun]]] = {s: {c: [] for c in names} for s in submissions}
    for index in range(rounds):
        seed = first_seed + index
        for name, path in submissions.items():
            for contender in rotated(names, index):
                out = work_dir / f"compare-{name}-{contender}-{index}" / paths.RESULTS_NAME
                how = (
                    {"cwd": old.tree, "env": old.env}
                    if contender == OLD
                    else {"extra_args": ["--sandbox", contender]}
                )
                run = grade_once(
                    path,
                    results_path=out,
                    seed=seed,
                    only=only,
                    settings=settings,
                    label=f"{name}-{contender}",
                    **how,
                )
                ran = ran_in(run.document)
                if ran != contender:
                    raise RuntimeError(f"{name}, {contender}: the results say it ran as {ran}")
                runs[name][contender].append(run)
        say(
            f"round {index + 1}/{rounds}: "
            + ", ".join(
                f"{name} {c} {runs[name][c][-1].wall_seconds:.1f} s"
                for name in submissions
                for c in names
            )
        )
    return runs


def ran_in(document: dict[str, Any]) -> str:
    """Which contender wrote this results file: the old grader reports no sandbox."""
    sandbox = document.get("extra_data", {}).get("sandbox")
    return OLD if sandbox is None else str(sandbox.get("kind"))


def points(document: dict[str, Any]) -> float:
    return sum(float(test.get("score", 0.0)) for test in document["tests"])


def not_passed(runs: Sequence[GradeRun], baseline: Callable[[str], str | None]) -> list[str]:
    """'check: status (n runs)' for every check that missed its baseline status in some run."""
    missed: dict[tuple[str, str], int] = {}
    for run in runs:
        for test in run.document["tests"]:
            want = baseline(test["id"])
            if want is not None and test["status"] != want:
                key = (test["id"], test["status"])
                missed[key] = missed.get(key, 0) + 1
    total = len(runs)
    return [f"`{check}` {status} ({count}/{total})" for (check, status), count in missed.items()]


@dataclass(frozen=True)
class Ratio:
    numerator: str
    denominator: str
    value: float
    target: float

    @property
    def within(self) -> bool:
        return self.value <= self.target


def ratios(runs: Mapping[str, list[GradeRun]]) -> list[Ratio]:
    """new / old for each sandbox kind, and bubblewrap / none, from medians of wall time."""
    median = {c: statistics.median(r.wall_seconds for r in rs) for c, rs in runs.items() if rs}
    found = []
    if OLD in median:
        for kind in NEW_KINDS:
            if kind in median:
                found.append(Ratio(kind, OLD, median[kind] / median[OLD], NEW_OVER_OLD_TARGET))
    if "bubblewrap" in median and "none" in median:
        found.append(
            Ratio("bubblewrap", "none", median["bubblewrap"] / median["none"], SANDBOX_TARGET)
        )
    return found


def render(
    runs: Mapping[str, Mapping[str, list[GradeRun]]],
    *,
    what: Mapping[str, str],
    baselines: Mapping[str, Callable[[str], str | None]] | None = None,
) -> str:
    """Wall time per submission and contender, the ratios against their targets, and points."""
    lines = [
        "| submission | grader | runs | min (s) | median (s) | max (s) | points (median) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, by_contender in runs.items():
        for contender, graded in by_contender.items():
            if not graded:
                continue
            spread = Spread.of([r.wall_seconds for r in graded])
            score = statistics.median(points(r.document) for r in graded)
            lines.append(
                f"| {what.get(name, name)} | {LABELS.get(contender, contender)} | "
                f"{spread.count} | " + " | ".join(spread.cells()) + f" | {score:g} |"
            )
    lines += [
        "",
        "| submission | ratio of medians | value | target | |",
        "|---|---|---:|---:|---|",
    ]
    for name, by_contender in runs.items():
        for ratio in ratios(by_contender):
            label = (
                "sandbox cost: bubblewrap / none"
                if ratio.denominator == "none"
                else f"new ({ratio.numerator}) / old"
            )
            lines.append(
                f"| {what.get(name, name)} | {label} | **{ratio.value:.2f}x** | "
                f"<= {ratio.target:g}x | {'within' if ratio.within else '**over**'} |"
            )
    if baselines:
        missed = []
        for name, by_contender in runs.items():
            if name not in baselines:
                continue
            for contender, graded in by_contender.items():
                for note in not_passed(graded, baselines[name]):
                    missed.append(f"- {what.get(name, name)}, {LABELS[contender]}: {note}")
        lines += [
            "",
            "Checks of the reference solutions that missed their baseline status in these "
            "unloaded runs (a timing check here is a false failure on an ordinary machine): "
            + ("none." if not missed else ""),
        ]
        if missed:
            lines += ["", *missed]
    return "\n".join(lines) + "\n"
