"""Golden files: every rendered output, byte for byte, from fixed inputs.

The net under refactors of the results and reports code: the per-student report (Markdown
and HTML), the JUnit XML, the terminal table, ``merge``'s outputs, and ``collect``'s
gradebook, manual template, class summaries and similarity views, each produced by the
command a user runs, from the hand-made fixtures in tests/fixtures/results/. Paths of the
temporary folder and of this checkout, the generation time and embedded PNG bytes are
normalised; everything else must match ``tests/golden/``. ``GOLDEN_UPDATE=1 pytest
tests/test_golden.py`` rewrites the files after a deliberate change (review the diff).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "results"
GOLDEN = ROOT / "tests" / "golden"
STUDENTS = ["failures", "full_marks", "gpu_pending", "stub"]
UPDATE = os.environ.get("GOLDEN_UPDATE") == "1"


def normalise(text: str, tmp: Path) -> str:
    for form in (str(tmp.resolve()), str(tmp)):
        text = text.replace(form, "<TMP>").replace(form.replace("_", "\\_"), "<TMP>")
    text = text.replace(str(ROOT), "<ROOT>")
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "data:image/png;base64,<PNG>", text)
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00", "<NOW>", text)
    return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", "<GENERATED>", text)


def assert_golden(name: str, text: str, tmp: Path) -> None:
    text = normalise(text, tmp)
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"no golden file {path}: run with GOLDEN_UPDATE=1"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} differs from tests/golden/{name}"


def autograder(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    run = subprocess.run(
        [sys.executable, "-m", "autograder", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert run.returncode in (0, 1), run.stderr
    return run


@pytest.mark.parametrize("student", STUDENTS)
def test_report_markdown_and_html(student: str, tmp_path: Path) -> None:
    folder = tmp_path / student
    shutil.copytree(FIXTURES / student, folder)
    md, page = tmp_path / "report.md", tmp_path / "report.html"
    run = autograder("report", folder / "results.json", "--markdown", md, "--html", page)
    assert_golden(f"report/{student}.md", md.read_text("utf-8"), tmp_path)
    assert_golden(f"report/{student}.html", page.read_text("utf-8"), tmp_path)
    printed = autograder("report", folder / "results.json").stdout
    assert printed == md.read_text("utf-8")
    assert run.stdout.count("wrote") == 2


@pytest.mark.parametrize("student", STUDENTS)
def test_merge_writes_results_junit_and_summary(student: str, tmp_path: Path) -> None:
    folder = tmp_path / student
    shutil.copytree(FIXTURES / student, folder)
    out = tmp_path / "merged"
    run = autograder(
        "merge",
        folder / "results.json",
        "--out",
        out / "results.json",
        "--junit",
        out / "junit.xml",
        "--summary",
        out / "summary.md",
    )
    merged = json.loads((out / "results.json").read_text("utf-8"))
    merged["execution_time"] = 0.0
    assert_golden(f"merge/{student}.json", json.dumps(merged, indent=1, sort_keys=True), tmp_path)
    assert_golden(f"merge/{student}.junit.xml", (out / "junit.xml").read_text("utf-8"), tmp_path)
    assert_golden(f"merge/{student}.summary.md", (out / "summary.md").read_text("utf-8"), tmp_path)
    assert_golden(f"merge/{student}.stdout.txt", run.stdout, tmp_path)


def class_folder(tmp_path: Path) -> Path:
    """The four fixture students, with code under submission/ (as regrade leaves it)."""
    folder = tmp_path / "class"
    for student in STUDENTS:
        shutil.copytree(FIXTURES / student, folder / student)
    for student, source in (("full_marks", "solutions"), ("failures", "solutions")):
        shutil.copytree(ROOT / source, folder / student / "submission")
    shutil.copytree(ROOT / "exercises", folder / "stub" / "submission")
    scan = folder / "failures" / "submission" / "medium_parallel_scan.py"
    scan.write_text(scan.read_text("utf-8").replace("prev", "previous_round"), "utf-8")
    return folder


def test_collect_outputs(tmp_path: Path) -> None:
    folder = class_folder(tmp_path)
    manual = tmp_path / "ta.csv"
    manual.write_text(
        "student,check,score,comment\n"
        "gpu_pending,easy.answer,3,clear <b>and</b> short\n"
        "gpu_pending,hard.explanation,99,too many points\n"
        "nobody,easy.answer,1,unknown student\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    run = autograder(
        "collect",
        folder,
        "--out",
        out,
        "--manual",
        manual,
        "--similarity",
        "--reference",
        ROOT / "solutions",
    )
    for name in (
        "gradebook.csv",
        "manual-template.csv",
        "class-summary.md",
        "class-summary.html",
        "similarity.csv",
        "similarity.html",
    ):
        assert_golden(f"collect/{name}", (out / name).read_text("utf-8"), tmp_path)
    for student in STUDENTS:
        page = (out / "students" / f"{student}.html").read_text("utf-8")
        assert_golden(f"collect/students/{student}.html", page, tmp_path)
    assert_golden("collect/stdout.txt", run.stdout, tmp_path)
    assert_golden("collect/stderr.txt", run.stderr, tmp_path)


@pytest.mark.parametrize("student", STUDENTS)
def test_gradescope_results(student: str, tmp_path: Path) -> None:
    out = tmp_path / "gradescope.json"
    run = autograder("gradescope-results", FIXTURES / student / "results.json", out)
    assert_golden(f"gradescope/{student}.json", out.read_text("utf-8"), tmp_path)
    assert_golden(f"gradescope/{student}.stdout.txt", run.stdout, tmp_path)
