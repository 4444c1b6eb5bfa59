"""How long ``collect --similarity`` takes for a class, and where copies and independent code lie.

``python -m benchmarks.bench_similarity [--students N]``

Writes N synthetic students (default 200) as ``regrade`` leaves them (a results file and a
``submission/`` folder): half are disguised variants of the reference solutions, half of the
complete other-style modules (benchmarks/variants.py: locals renamed, functions reordered,
reformatted, each with its own seed). Times ``collect --similarity`` (target < 60 s) and prints
the similarity of pairs from the same base (disguised copies of each other) and from
different bases, per exercise: the measurement behind ``similarity.DEFAULT_THRESHOLD``. In the
easy and hard exercises the other-style modules keep some of the reference's functions
(tests/submissions/other_styles/ overrides only part of them), so those cross-base pairs share
real code; medium and challenge are wholly independent.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from autograder.course.collect.command import collect
from autograder.spec import paths
from benchmarks.submissions import ROOT, SOLUTIONS_DIR
from benchmarks.variants import disguised_student, other_style_student

RESULTS = ROOT / "tests" / "fixtures" / "results" / "stub" / paths.RESULTS_NAME


def make_class(folder: Path, *, students: int) -> tuple[Path, dict[str, str]]:
    """The class folder and each student's base ('reference' or 'other')."""
    bases = {"reference": SOLUTIONS_DIR, "other": other_style_student(folder / "bases" / "other")}
    klass = folder / "class"
    base_of = {}
    for index in range(students):
        base = "reference" if index % 2 == 0 else "other"
        student = f"s{index:03d}"
        base_of[student] = base
        (klass / student).mkdir(parents=True)
        shutil.copyfile(RESULTS, klass / student / paths.RESULTS_NAME)
        disguised_student(bases[base], klass / student / paths.SUBMISSION_FOLDER, seed=index)
    return klass, base_of


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_similarity")
    parser.add_argument("--students", type=int, default=200)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-similarity-") as tmp:
        klass, base_of = make_class(Path(tmp), students=args.students)
        start = time.perf_counter()
        summary = collect(
            inputs=[klass],
            out_dir=Path(tmp, "out"),
            pages=False,
            compare_code=True,
            reference=SOLUTIONS_DIR,
        )
        seconds = time.perf_counter() - start
        report = summary.similarity
        assert report is not None
        html_kib = summary.files["similarity_html"].stat().st_size / 1024
    print(
        f"collect --similarity: {args.students} students, {len(report.pairs)} pairs in "
        f"{seconds:.1f} s (target < 60 s); {len(report.flagged())} flagged at "
        f"{report.threshold:.2f}; similarity.html {html_kib:.0f} KiB"
    )
    print("| exercise | same base (copies): min / median | different bases: median / max |")
    print("|---|---:|---:|")
    for exercise in ("easy", "medium", "hard", "challenge"):
        same = [
            p.similarity
            for p in report.pairs
            if p.exercise == exercise and base_of[p.student_a] == base_of[p.student_b]
        ]
        other = [
            p.similarity
            for p in report.pairs
            if p.exercise == exercise and base_of[p.student_a] != base_of[p.student_b]
        ]
        print(
            f"| {exercise} | {min(same):.2f} / {statistics.median(same):.2f} "
            f"| {statistics.median(other):.2f} / {max(other):.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
