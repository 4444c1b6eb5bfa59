"""``merge``: one results file from a CPU run and a GPU run of the same submission.

``python -m autograder merge A.json B.json ... --out OUT [--summary MD] [--junit XML]
[--fail-under PCT]``

The student workflow grades every exercise on a CPU runner and only the checks that need CUDA
on a self-hosted GPU runner (``grade --gpu-only``); neither file alone is the grade. Merging
keeps each check id exactly once and picks, for each, the result that means most:

1. a result that ran (passed or failed) beats a pending one, so a GPU check graded on the
   GPU replaces its "needs a CUDA device" placeholder from the CPU run;
2. when both ran, the run on the check's own device wins: ``gpu``-tagged checks from a CUDA
   run (``extra_data.device.used == "cuda"``), every other check from a CPU run, so timing
   verdicts are those measured where the check was designed to be measured;
3. otherwise the earlier input wins. A passed result never beats a failed one for being a
   pass: re-running until something passes must not pay.

A GPU check that no CUDA run graded stays pending, with a message saying why, and is never
counted as passed. Scores and the summary line are recomputed with
:func:`autograder.results.build.assemble`; each run's own numbers are kept under
``extra_data.runs``. The fetch record (``extra_data.fetch``: when the instructor took the
graded state, for deadlines) is kept when every run carries the same one. Artifact paths in a
results file are relative to that file's folder, so the plots are copied next to the merged
file and the paths rewritten.
"""

from __future__ import annotations

import datetime
import json
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.results import build, provenance
from autograder.results.schema import (
    MAX_PLOT_BYTES,
    ExtraData,
    ResultsDocument,
    ResultsFileError,
    check_id,
    load_results_as_written,
    normalise_results,
    results_problems,
)
from autograder.results.write import write_outputs
from autograder.spec.registry import CHECKS, CHECKS_BY_ID

__all__ = ["MergeError", "merge", "signed_if_verified", "write_merged"]

RAN = ("passed", "failed")

NO_GPU_RUN = (
    "pending: no GPU results were merged (the GPU job failed, was skipped or has not run), "
    "so this check was not graded on a CUDA device; it is not counted as passed"
)

MISSING = (
    "not graded: this check is missing from every merged results file "
    "(a results file was edited, or the grader versions differ)"
)


class MergeError(ValueError):
    """An input that cannot be merged (missing, corrupt, duplicate ids): exit status 2."""


@dataclass
class _Run:
    """One input results file and what merging needs to know about it.

    Decisions read the normalised document (``normalised``, ``extra``); what the merged file
    copies (its results, run records, manual answers, integrity lists) comes from
    ``document`` and ``raw_extra`` as written, so merging adds no keys an input did not have.
    """

    index: int
    label: str  # the path as given, or "input N" for an in-memory document
    document: dict[str, Any]
    folder: Path | None  # the results file's folder: artifact paths are relative to it
    normalised: ResultsDocument = field(init=False)

    def __post_init__(self) -> None:
        self.normalised = normalise_results(self.document)

    @property
    def extra(self) -> ExtraData:
        return self.normalised["extra_data"]

    @property
    def raw_extra(self) -> dict[str, Any]:
        extra = self.document.get("extra_data")
        return extra if isinstance(extra, dict) else {}

    @property
    def device(self) -> str:
        """'cuda' for a run on a CUDA device, else 'cpu' (the rule from the results format)."""
        return "cuda" if self.extra["device"]["used"] == "cuda" else "cpu"


def _load(inputs: Sequence[Path | str | Mapping[str, Any]]) -> list[_Run]:
    if not inputs:
        raise MergeError("no results files to merge")
    runs = []
    for index, item in enumerate(inputs):
        if isinstance(item, Mapping):
            document = dict(item)
            problems = results_problems(document)
            if problems:
                raise MergeError(f"input {index}: not a results file: {'; '.join(problems[:3])}")
            run = _Run(index=index, label=f"input {index}", document=document, folder=None)
        else:
            path = Path(item)
            try:
                document = load_results_as_written(path=path)
            except ResultsFileError as error:
                raise MergeError(f"{path}: {error}") from error
            run = _Run(index=index, label=str(path), document=document, folder=path.parent)
        seen: set[str] = set()
        for result in run.document["tests"]:
            result_id = check_id(result)
            if result_id in seen:
                raise MergeError(f"{run.label}: check {result_id!r} appears twice")
            seen.add(result_id)
        runs.append(run)
    return runs


def _result_device(result: Mapping[str, Any], run: _Run) -> str:
    """A merged file records each result's device; a plain results file has one device."""
    return result["device"] if result.get("device") in ("cpu", "cuda") else run.device


def _is_gpu_check(result_id: str, result: Mapping[str, Any]) -> bool:
    check = CHECKS_BY_ID.get(result_id)
    return check.gpu if check else "gpu" in (result.get("tags") or [])


def _choose(candidates: list[tuple[_Run, dict[str, Any]]], gpu: bool) -> tuple[_Run, dict]:
    """The rules of the module docstring: ran > pending, then matching device, then order."""

    def rank(candidate: tuple[_Run, dict[str, Any]]) -> tuple[bool, bool, int]:
        run, result = candidate
        device_matches = (_result_device(result, run) == "cuda") == gpu
        return (result.get("status") in RAN, device_matches, -run.index)

    return max(candidates, key=rank)


def _unique(items: list[Any]) -> list[Any]:
    """Items in first-seen order, duplicates (as canonical JSON) dropped."""
    seen: set[str] = set()
    kept = []
    for item in items:
        key = json.dumps(item, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


def _merge_integrity(runs: list[_Run]) -> dict[str, Any]:
    """Lists (tamper, findings, ...) are united without duplicates; other values: first seen."""
    merged: dict[str, Any] = {"tamper": [], "findings": []}
    for run in runs:
        integrity = run.raw_extra.get("integrity")  # copied as written
        if not isinstance(integrity, Mapping):
            continue
        for key, value in integrity.items():
            if isinstance(value, list):
                current = merged.get(key)
                merged[key] = _unique((current if isinstance(current, list) else []) + value)
            else:
                merged.setdefault(key, value)
    return merged


def _merge_sandbox(runs: list[_Run]) -> dict[str, str]:
    """The weakest confinement of any run ("none" if any ran without), with every reason."""
    found = [
        (run.device, run.extra["sandbox"])
        for run in runs
        if run.extra["sandbox"]["kind"] or run.extra["sandbox"]["reason"]
    ]
    if not found:
        return {"kind": "none", "reason": "the inputs do not say what their workers ran in"}
    kinds = {sandbox["kind"] for _, sandbox in found}
    kind = "bubblewrap" if kinds == {"bubblewrap"} and len(found) == len(runs) else "none"
    if len(found) == 1:
        return {"kind": kind, "reason": found[0][1]["reason"]}
    reason = "; ".join(
        f"{device} run: {sandbox['kind']} ({sandbox['reason']})" for device, sandbox in found
    )
    return {"kind": kind, "reason": reason}


def _merge_exercises(runs: list[_Run]) -> dict[str, dict[str, Any]]:
    """Per exercise: grading time and child runs summed, incidents labelled by device."""
    merged: dict[str, dict[str, Any]] = {}
    for run in runs:
        for name, info in run.extra["exercises"].items():
            row = merged.setdefault(name, {"wall_seconds": 0.0, "runs": 0, "incidents": []})
            if info["wall_seconds"] is not None:
                row["wall_seconds"] = round(row["wall_seconds"] + info["wall_seconds"], 3)
            if info["runs"] is not None:
                row["runs"] += info["runs"]
            prefix = f"{run.device} run: " if len(runs) > 1 else ""
            row["incidents"] += [f"{prefix}{i}" for i in info["incidents"]]
    return merged


def _copy_artifacts(
    runs: list[_Run], out_dir: Path | None, notes: list[str]
) -> tuple[dict[str, str], list[dict[str, str]]]:
    """Copy each run's artifacts next to the merged file; (top-level artifacts, per run).

    The top level points at the CUDA run's copy when there is one (the GPU sweep plot is the
    one the lesson is about). Paths that leave their results folder, or are not files, are
    skipped with a note: a forged results file must not make merge copy arbitrary files.
    """
    devices = [run.device for run in runs]
    per_run: list[dict[str, str]] = []
    for run in runs:
        copied: dict[str, str] = {}
        for key, declared in run.extra["artifacts"].items():
            if run.folder is None:
                copied[key] = declared  # no folder to resolve against: kept as written
                continue
            folder = run.folder.resolve()
            source = (folder / declared).resolve()
            if not source.is_relative_to(folder) or not source.is_file():
                notes.append(f"{run.label}: artifact {key} ({declared}) skipped: not a file there")
                continue
            if source.stat().st_size > MAX_PLOT_BYTES:
                notes.append(f"{run.label}: artifact {key} skipped: larger than {MAX_PLOT_BYTES}")
                continue
            if out_dir is None:
                copied[key] = str(source)
                continue
            tag = run.device if devices.count(run.device) == 1 else f"{run.device}{run.index}"
            target = out_dir / f"{tag}-{source.name}"
            out_dir.mkdir(parents=True, exist_ok=True)
            if not (target.exists() and target.samefile(source)):
                shutil.copyfile(source, target)
            copied[key] = target.name
        per_run.append(copied)
    top: dict[str, str] = {}
    for run in sorted(runs, key=lambda r: (r.device != "cuda", r.index)):
        for key, path in per_run[run.index].items():
            top.setdefault(key, path)
    return top, per_run


def _run_record(run: _Run, artifacts: dict[str, str]) -> dict[str, Any]:
    """What each input contributed, for TAs who want to see a run's own numbers (as written)."""
    extra = run.raw_extra
    return {
        "source": run.label,
        "device": extra.get("device"),
        "seed": extra.get("seed"),
        "graded_at": extra.get("graded_at"),
        "grader_version": extra.get("grader_version"),
        "execution_time": run.document.get("execution_time"),
        "score": run.document.get("score"),
        "max_score": run.document.get("max_score"),
        "tests": len(run.document["tests"]),
        "environment": extra.get("environment"),
        "exercises": extra.get("exercises"),
        "artifacts": artifacts,
    }


def merge(
    *,
    inputs: Sequence[Path | str | Mapping[str, Any]],
    out_dir: Path | None = None,
    output_limit: int = 8 * 1024,
) -> dict[str, Any]:
    """Merge results documents (paths, or documents already loaded) into one.

    ``out_dir`` is the folder the merged file will be written to: artifacts are copied
    there. Without it, artifact paths become absolute paths of the originals. Raises
    :class:`MergeError` for an input that cannot be merged.
    """
    runs = _load(inputs)
    notes: list[str] = []
    by_id: dict[str, list[tuple[_Run, dict[str, Any]]]] = {}
    for run in runs:
        for result in run.document["tests"]:
            by_id.setdefault(check_id(result), []).append((run, result))
    devices_used = {_result_device(result, run) for run in runs for result in run.document["tests"]}
    has_cuda_run = "cuda" in devices_used

    results: list[dict[str, Any]] = []
    chosen_from: dict[str, int] = {}
    for result_id, candidates in by_id.items():
        gpu = _is_gpu_check(result_id, candidates[0][1])
        run, chosen = _choose(candidates, gpu)
        result = dict(chosen, id=result_id, device=_result_device(chosen, run))
        if gpu and result.get("status") == "pending" and not has_cuda_run:
            result.update(output=NO_GPU_RUN, score=0.0)
        results.append(result)
        chosen_from[result_id] = run.index

    graded_exercises = {result["exercise"] for result in results}
    for check in CHECKS:
        if check.exercise in graded_exercises and check.id not in by_id:
            missing = build.result_from(check, {"status": "failed", "output": MISSING}, 10**6)
            results.append(missing | {"device": None})
            notes.append(f"{check.id}: missing from every input")

    versions = {run.raw_extra.get("grader_version") for run in runs}
    if len(versions) > 1:
        notes.append(f"inputs come from different grader versions: {sorted(map(str, versions))}")

    primary = next((run for run in runs if run.device == "cpu"), runs[0])
    top_artifacts, run_artifacts = _copy_artifacts(runs, out_dir, notes)
    selected = {
        result["id"]: runs[chosen_from[result["id"]]]
        for result in results
        if result["id"] in chosen_from
    }

    timings: dict[str, Any] = {}
    manual: list[dict[str, Any]] = []
    for result_id, run in selected.items():
        if result_id in run.extra["timings"]:
            timings[result_id] = run.extra["timings"][result_id]
        for item in run.raw_extra.get("manual") or []:  # copied as written
            if isinstance(item, Mapping) and item.get("check") == result_id:
                manual.append(dict(item))
                break

    device_names = _unique(
        [
            (run.raw_extra.get("device") or {}).get("name", run.device)
            if isinstance(run.raw_extra.get("device"), Mapping)
            else run.device
            for run in runs
        ]
    )
    used = sorted(devices_used | {run.device for run in runs}, key=["cpu", "cuda"].index)
    extra: dict[str, Any] = {
        "grader_version": primary.raw_extra.get("grader_version"),
        "graded_at": primary.raw_extra.get("graded_at"),
        "merged_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "submission": primary.raw_extra.get("submission"),
        "seed": primary.raw_extra.get("seed"),
        "device": {
            "requested": "merge",
            "used": "+".join(used),
            "cuda_available": has_cuda_run,
            "name": " + ".join(str(name) for name in device_names),
        },
        "sandbox": _merge_sandbox(runs),
        "environment": primary.raw_extra.get("environment"),
        "exercises": _merge_exercises(runs),
        "integrity": _merge_integrity(runs),
        "timings": timings,
        "manual": manual,
        "artifacts": top_artifacts,
        "runs": [_run_record(run, run_artifacts[run.index]) for run in runs],
        "merge": {
            "inputs": [run.label for run in runs],
            "gpu_results": has_cuda_run,
            "sources": {result_id: chosen_from[result_id] for result_id in sorted(chosen_from)},
            "notes": notes,
        },
    }
    fetches = _unique([run.raw_extra.get("fetch") for run in runs])
    if len(fetches) == 1 and fetches[0] is not None:  # the same fetched state in every run
        extra["fetch"] = fetches[0]
    elif any(fetch is not None for fetch in fetches):
        notes.append("the inputs were not graded from one fetch: no fetch record kept")
    execution_time = sum(run.normalised["execution_time"] or 0.0 for run in runs)
    for result in results:
        text = str(result.get("output", ""))
        if len(text) > output_limit:
            result["output"] = text[:output_limit] + f"\n[... cut at {output_limit} characters]"
    return build.assemble(
        build.registry_order(results), execution_time=execution_time, extra_data=extra
    )


def write_merged(
    document: dict[str, Any],
    *,
    out: Path,
    junit: Path | None,
    summary: Path | None,
    render_summary: Callable[[dict[str, Any]], str] | None = None,
) -> None:
    """Results JSON, and JUnit XML / Markdown when asked for, written as ``grade`` writes
    (``render_summary`` renders the Markdown: the command passes the reports' renderer)."""
    write_outputs(
        document,
        results_path=out,
        junit_path=junit,
        summary_path=summary,
        render_summary=render_summary,
    )


def signed_if_verified(document: dict[str, Any], inputs: Sequence[Path]) -> dict[str, Any]:
    """With a course key configured, the merged file is signed when every input verifies for
    the same student and submission (the course's own gradings, merged); otherwise it is
    left unsigned, so ``collect`` marks it unverified."""
    try:
        key = provenance.load_course_key()
    except provenance.CourseKeyError as error:
        raise MergeError(str(error)) from None
    if key is None:
        return document
    origin = provenance.common_origin(
        [load_results_as_written(path=Path(path)) for path in inputs], key=key
    )
    if origin is None:
        print("merge: not signed: an input is not verified as the course's own", file=sys.stderr)
        return document
    student, submission = origin
    return provenance.sign(document, key=key, student=student, submission=submission, by="merge")
