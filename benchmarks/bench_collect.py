"""How long ``collect`` takes for a large class: the target is 1,000 results in under 10 s,
and under 2 s more with a TA's manual CSV.

``python -m benchmarks.bench_collect [--students N] [--repeats R]``

Generates N synthetic students (each a results.json with random check outcomes, integrity
findings for a few, and a sweep plot PNG, as the grader writes them) in a temporary folder,
then times ``collect`` over the class folder R times and prints the median. The per-student
pages are included (each embeds its student's plot), since that is the default TAs get.
Then the same with ``--manual``: a CSV scoring both written answers of every student, with
one bad row in fifty (a score above the maximum), as a TA's filled-in template would be.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from autograder.course.collect.command import collect
from autograder.spec import paths
from autograder.spec.registry import CHECKS, EXTRA_CREDIT

FIXTURE_PLOT = (
    Path(__file__).resolve().parents[1] / "tests/fixtures/results/full_marks" / paths.SWEEP_PLOT
)


def synthetic_results(*, rng: random.Random, index: int) -> dict:
    """One plausible results file: random passes and failures, GPU and manual checks pending."""
    tests = []
    for check in CHECKS:
        if check.manual or (check.gpu and index % 3):
            status = "pending"
        else:
            status = "passed" if rng.random() < 0.8 else "failed"
        tests.append(
            {
                "id": check.id,
                "name": f"{check.id}: {check.title}",
                "exercise": check.exercise,
                "score": float(check.points) if status == "passed" else 0.0,
                "max_score": float(check.points),
                "status": status,
                "output": ""
                if status != "failed"
                else f"expected 10, got {rng.randint(11, 2000)}\nHint: {check.hint}",
                "tags": list(check.tags),
                "visibility": check.visibility,
                "extra_credit": check.exercise in EXTRA_CREDIT,
                "duration": round(rng.random(), 3),
            }
        )
    findings = []
    if index % 50 == 0:
        findings = [
            {
                "exercise": "medium",
                "file": "medium_parallel_scan.py",
                "line": 3,
                "construct": "import gc",
                "why": "can reach the grader's objects",
            }
        ]
    return {
        "score": sum(t["score"] for t in tests),
        "max_score": sum(t["max_score"] for t in tests if not t["extra_credit"]),
        "execution_time": 40.0,
        "output": "",
        "tests": tests,
        "extra_data": {
            "schema": "why-transformers-results/1",
            "graded_at": "2026-11-26T06:00:00+00:00",
            "seed": index,
            "integrity": {"tamper": [], "findings": findings},
            "manual": [
                {
                    "check": c.id,
                    "exercise": c.exercise,
                    "points": c.points,
                    "question": c.title,
                    "answer": "The serial curve is linear in n. " * 20,
                    "rubric": list(c.rubric),
                }
                for c in CHECKS
                if c.manual
            ],
            "artifacts": {"sweep_plot": paths.SWEEP_PLOT},
        },
    }


def make_class(*, folder: Path, students: int, seed: int = 0) -> Path:
    """Write ``students`` student folders under ``folder``/class; return the class folder."""
    rng = random.Random(seed)
    class_dir = folder / "class"
    for index in range(students):
        student_dir = class_dir / f"student{index:04d}"
        student_dir.mkdir(parents=True)
        results = synthetic_results(rng=rng, index=index)
        (student_dir / paths.RESULTS_NAME).write_text(json.dumps(results), encoding="utf-8")
        if FIXTURE_PLOT.is_file():
            shutil.copyfile(FIXTURE_PLOT, student_dir / paths.SWEEP_PLOT)
    return class_dir


def manual_csv(*, path: Path, students: int, seed: int = 0) -> Path:
    """A TA's sheet: a score for both written answers of every student, 2% of rows bad."""
    rng = random.Random(seed)
    manual = [check for check in CHECKS if check.manual]
    lines = ["student,check,score,comment"]
    for index in range(students):
        for check in manual:
            score = check.points + 1 if rng.random() < 0.02 else rng.randint(0, int(check.points))
            lines.append(f'student{index:04d},{check.id},{score},"ok, see rubric"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_collect")
    parser.add_argument("--students", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-collect-") as tmp:
        class_dir = make_class(folder=Path(tmp), students=args.students)
        sheet = manual_csv(path=Path(tmp, "ta.csv"), students=args.students)
        for label, manual, target in (("", None, "10 s"), (" with --manual", sheet, "2 s")):
            seconds = []
            for repeat in range(args.repeats):
                out_dir = Path(tmp, f"out{repeat}{bool(manual)}")
                start = time.perf_counter()
                summary = collect(inputs=[class_dir], out_dir=out_dir, manual=manual)
                seconds.append(time.perf_counter() - start)
                assert len(summary.students) == args.students, summary.skipped[:3]
            median = statistics.median(seconds)
            applied = (
                f", {len(summary.manual.applied)} TA scores applied, "
                f"{len(summary.manual.problems)} bad rows listed"
                if summary.manual
                else ""
            )
            print(
                f"collect{label}: {args.students} results files in {median:.2f} s (median of "
                f"{args.repeats}: {', '.join(f'{s:.2f}' for s in seconds)}; target < {target})"
                f"{applied}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
