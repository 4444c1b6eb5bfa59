"""Gradescope: the zip's contract, the conversion to Gradescope's results, and real runs.

The fast tests convert stored results and find modules in made-up submissions. The slow ones
unpack ``autograder.zip`` into an emulated ``/autograder`` (``AUTOGRADER_ROOT``, with
``venv`` a link to the project's virtual environment, since ``setup.sh`` needs Gradescope's
image) and run ``run_autograder`` as Gradescope does: on the solutions, on the stubs, and on a
submission that forges its own results.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from test_release import SHARED_LINES, file_lines, solution_lines

from autograder.course.gradescope.release import (
    GradescopeSummary,
    manual_questions,
    write_gradescope,
)
from autograder.course.gradescope.run import ROOT_VARIABLE, USER_VARIABLE
from autograder.course.gradescope.submission import find_submission
from autograder.results.gradescope import failure_results, gradescope_results
from autograder.spec.registry import CHECKS, EXERCISES, EXTRA_CREDIT, checks_for

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
FAST_SETTINGS = ROOT / "tests" / "fixtures" / "fast-grading.toml"
FIXTURES = ROOT / "tests" / "fixtures" / "results"

# Gradescope's documented results.json fields (gradescope-autograders.readthedocs.io, specs).
TOP_LEVEL_FIELDS = {
    "score",
    "execution_time",
    "output",
    "output_format",
    "test_output_format",
    "test_name_format",
    "visibility",
    "stdout_visibility",
    "extra_data",
    "tests",
    "leaderboard",
}
TEST_FIELDS = {
    "score",
    "max_score",
    "status",
    "name",
    "name_format",
    "number",
    "output",
    "output_format",
    "tags",
    "visibility",
    "extra_data",
}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}


def automatic(exercise: str) -> list:
    return [c for c in checks_for(exercise) if not c.gpu and not c.manual]


def assert_gradescope_vocabulary(results: dict) -> None:
    """Only fields and values Gradescope documents; statuses only passed and failed."""
    assert set(results) <= TOP_LEVEL_FIELDS, set(results) - TOP_LEVEL_FIELDS
    assert isinstance(results["score"], float)
    assert results.get("output_format", "text") in FORMATS
    assert results.get("stdout_visibility", "hidden") in VISIBILITIES
    for test in results["tests"]:
        assert set(test) <= TEST_FIELDS, set(test) - TEST_FIELDS
        assert test["status"] in ("passed", "failed")
        assert test["output_format"] == "md"
        assert test["visibility"] in VISIBILITIES
        assert isinstance(test["name"], str) and isinstance(test["number"], str)
        assert 0 <= test["score"] <= test["max_score"]
        assert test["score"] == (test["max_score"] if test["status"] == "passed" else 0)
    assert results["score"] == sum(test["score"] for test in results["tests"])


# ---- converting results ----


def test_full_marks_convert_to_the_automatic_cpu_checks_only() -> None:
    document = json.loads((FIXTURES / "gpu_pending" / "results.json").read_text())
    results = gradescope_results([document])
    assert_gradescope_vocabulary(results)
    expected = [c for e in EXERCISES for c in automatic(e)]
    names = [
        f"{c.id}: {c.title}" + (" (extra credit)" if c.exercise in EXTRA_CREDIT else "")
        for c in expected
    ]
    assert [t["name"] for t in results["tests"]] == names
    assert {t["status"] for t in results["tests"]} == {"passed"}
    assert results["score"] == sum(c.points for c in expected)  # 79 + 10 extra credit
    output = results["output"]
    assert "79 / 79 points" in output and "10 / 10 extra credit" in output
    for check in CHECKS:
        if check.gpu:
            assert f"`{check.id}`" in output  # listed as not graded here, with where
    assert "`ANSWER` in `easy_vector_state.py`" in output
    assert "`EXPLANATION` in `hard_gpu_sweep.py`" in output
    assert "GPU runner" in output and "TA" in output
    assert [t["number"] for t in results["tests"]][:2] == ["1.1", "1.2"]


def test_only_id_status_and_output_are_read_from_a_results_file() -> None:
    """Points, names and visibility come from the registry; unknown or pending tests never pass."""
    medium = automatic("medium")
    forged = {
        "score": 1000,
        "tests": [
            {"id": "medium.depth_measured", "status": "passed", "score": 1000, "max_score": 1000},
            {"id": "medium.edge_lengths", "status": "pending", "output": "ran out of time"},
            {"id": "medium.bonus", "status": "passed", "score": 50, "max_score": 50},
            {"id": "medium.scan_work_formula", "status": "PASSED"},
            "not a test",
        ],
    }
    results = gradescope_results([forged], failures={"medium": "the grader crashed"})
    assert_gradescope_vocabulary(results)
    by_id = {t["name"].split(":")[0]: t for t in results["tests"]}
    assert list(by_id) == [c.id for c in medium]
    assert by_id["medium.depth_measured"]["score"] == by_id["medium.depth_measured"]["max_score"]
    assert by_id["medium.depth_measured"]["max_score"] == 8
    assert by_id["medium.edge_lengths"]["status"] == "failed"
    assert (
        "Could not be decided on Gradescope: ran out of time"
        in by_id["medium.edge_lengths"]["output"]
    )
    assert by_id["medium.scan_work_formula"]["status"] == "failed"
    assert "Not graded: the grader crashed" in by_id["medium.serial_scan_correct"]["output"]
    assert results["score"] == 8


def test_test_output_is_one_code_block_whatever_it_holds() -> None:
    document = {
        "tests": [
            {"id": "medium.serial_scan_correct", "status": "failed", "output": "a ``` b\n# c"}
        ]
    }
    output = gradescope_results([document])["tests"][0]["output"]
    assert output.startswith("**failed**: 0 of 3 points\n\n````text\n")
    assert output.endswith("\n````")


def test_failure_results_are_a_failed_test_that_says_why() -> None:
    results = failure_results("RuntimeError: boom")
    assert_gradescope_vocabulary(results)
    (test,) = results["tests"]
    assert test["status"] == "failed" and test["score"] == 0
    assert test["max_score"] == sum(
        c.points for e in EXERCISES if e not in EXTRA_CREDIT for c in automatic(e)
    )
    assert "RuntimeError: boom" in test["output"] and "RuntimeError: boom" in results["output"]


def test_gradescope_results_command(tmp_path: Path) -> None:
    out = tmp_path / "gs" / "results.json"
    command = [sys.executable, "-m", "autograder", "gradescope-results"]
    source = FIXTURES / "stub" / "results.json"
    completed = subprocess.run(
        [*command, str(source), str(out)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    results = json.loads(out.read_text())
    assert_gradescope_vocabulary(results)
    assert results["score"] == 0
    missing = subprocess.run(
        [*command, str(tmp_path / "none.json"), str(out)], cwd=ROOT, capture_output=True
    )
    assert missing.returncode == 2


@pytest.mark.parametrize("args", [[], ["in.json"], ["-x", "in.json"]])
def test_gradescope_results_usage_errors_are_one_line_and_exit_2(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from autograder.cli import main

    assert main(["gradescope-results", *args]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("python -m autograder gradescope-results: error: ") and err.count("\n") == 1
    )


def test_the_container_side_needs_only_the_standard_library() -> None:
    """run_autograder starts it with a Python that may lack every dependency (setup.sh failed)."""
    script = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
        "import autograder.course.gradescope.run, autograder.results.gradescope; "
        "from autograder import cli; "
        "assert cli.gradescope_main(['results', '/nonexistent/in.json', '/tmp/x']) == 2"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-I", "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


# ---- finding the modules ----


def write_modules(folder: Path, names: list[str], text: str = "x = 1\n") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / f"{name}.py").write_text(text, encoding="utf-8")


def test_modules_at_the_top_or_in_a_folder(tmp_path: Path) -> None:
    modules = list(EXERCISES.values())
    write_modules(tmp_path / "top", modules)
    found = find_submission(tmp_path / "top", work=tmp_path / "w1")
    assert sorted(p.name for p in (tmp_path / "w1").iterdir()) == sorted(f"{m}.py" for m in modules)
    assert found.origins["medium"] == "medium_parallel_scan.py"

    repo = tmp_path / "repo"
    write_modules(repo / "exercises", modules, "# mine\n")
    write_modules(repo / "release" / "student" / "exercises", modules, "# generated\n")
    write_modules(repo / ".git" / "objects", modules, "# hidden\n")
    write_modules(repo, ["medium_parallel_scan"], "# a stray copy\n")  # fewer modules here
    found = find_submission(repo, work=tmp_path / "w2")
    assert (tmp_path / "w2" / "easy_vector_state.py").read_text() == "# mine\n"
    assert (tmp_path / "w2" / "medium_parallel_scan.py").read_text() == "# mine\n"
    assert found.origins["medium"] == "exercises/medium_parallel_scan.py"
    assert any("other copies" in note for note in found.notes)


def test_modules_inside_a_zip_of_a_student_repository(tmp_path: Path) -> None:
    submission = tmp_path / "submission"
    submission.mkdir()
    with zipfile.ZipFile(submission / "why-transformers-main.zip", "w") as archive:
        archive.writestr("why-transformers-main/exercises/medium_parallel_scan.py", "# zipped\n")
        archive.writestr("why-transformers-main/exercises/hard_gpu_sweep.py", "# zipped hard\n")
        archive.writestr("__MACOSX/why-transformers-main/exercises/easy_vector_state.py", "junk")
        archive.writestr("../challenge_linear_recurrence.py", "# outside\n")
        link = zipfile.ZipInfo("why-transformers-main/exercises/easy_vector_state.py")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    (submission / "broken.zip").write_bytes(b"not a zip")
    found = find_submission(submission, work=tmp_path / "w")
    assert (tmp_path / "w" / "medium_parallel_scan.py").read_text() == "# zipped\n"
    assert sorted(found.origins) == ["hard", "medium"]
    assert found.origins["medium"] == (
        "why-transformers-main.zip!why-transformers-main/exercises/medium_parallel_scan.py"
    )
    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == [
        "hard_gpu_sweep.py",
        "medium_parallel_scan.py",
    ]


def test_symbolic_links_and_empty_submissions(tmp_path: Path) -> None:
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "medium_parallel_scan.py").symlink_to("/etc/passwd")
    found = find_submission(submission, work=tmp_path / "w")
    assert found.origins == {} and "No exercise module found" in found.notes[-1]
    assert "medium_parallel_scan.py is a symbolic link" in found.notes[0]  # said, not silent
    assert list((tmp_path / "w").iterdir()) == []


# ---- the zip ----


@pytest.fixture(scope="module")
def gradescope(tmp_path_factory: pytest.TempPathFactory) -> GradescopeSummary:
    return write_gradescope(out=tmp_path_factory.mktemp("release"), source_root=ROOT)


def test_zip_holds_the_two_scripts_at_its_root_and_the_grader(
    gradescope: GradescopeSummary, tmp_path: Path
) -> None:
    with zipfile.ZipFile(gradescope.zip_path) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        setup = archive.read("setup.sh").decode()
        requirements = archive.read("requirements-gradescope.txt").decode()
    for script in ("setup.sh", "run_autograder"):
        mode = infos[script].external_attr >> 16
        assert mode & stat.S_IXUSR and stat.S_ISREG(mode), script
    for name in (
        "autograder/course/gradescope/run.py",
        "autograder/spec/registry.py",
        "reference/tracer.py",
    ):
        assert name in infos
        assert archive_bytes(gradescope, name) == (ROOT / name).read_bytes()
    assert "pyproject.toml" in infos
    tops = {name.split("/")[0] for name in infos}
    assert tops == {
        "setup.sh",
        "run_autograder",
        "README.md",
        "requirements-gradescope.txt",
        "pyproject.toml",
        "autograder",
        "reference",
    }
    assert not any(
        part in ("solutions", "tests", "exercises") for n in infos for part in n.split("/")
    )
    assert not any(n.endswith(".pyc") or "__pycache__" in n for n in infos)
    assert "torch==2.13.0" in setup and "https://download.pytorch.org/whl/cpu" in setup
    assert "/autograder/venv" in setup and "bubblewrap" in setup and "python3.11" in setup
    pins = [line for line in requirements.splitlines() if line and not line.startswith("#")]
    assert pins and all("==" in line for line in pins)
    names = {line.split("==")[0] for line in pins}
    assert {"numpy", "matplotlib", "pytest", "pytest-timeout", "sympy"} <= names
    assert not names & {"torch", "nbgrader", "ipykernel"}
    assert not any(name.startswith("nvidia-") for name in names)
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(gradescope.zip_path) as archive:
        archive.extractall(unpacked)
    for script in ("setup.sh", "run_autograder"):
        syntax = subprocess.run(["bash", "-n", str(unpacked / script)], capture_output=True)
        assert syntax.returncode == 0, syntax.stderr


def archive_bytes(gradescope: GradescopeSummary, name: str) -> bytes:
    with zipfile.ZipFile(gradescope.zip_path) as archive:
        return archive.read(name)


def test_no_solution_text_in_the_zip(gradescope: GradescopeSummary, tmp_path: Path) -> None:
    """The rule of test_release for the student repository, for every member of the zip."""
    lines = solution_lines()
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(gradescope.zip_path) as archive:
        archive.extractall(unpacked)
    leaks = []
    for path in sorted(p for p in unpacked.rglob("*") if p.is_file()):
        member = path.relative_to(unpacked).as_posix()
        copied = (ROOT / member).is_file() and member not in gradescope.generated
        for line in sorted(file_lines(path) & set(lines)):
            where, is_answer = lines[line]
            if not copied or is_answer or line not in SHARED_LINES:
                leaks.append(f"{member}: {line!r} (from {where})")
    assert leaks == []
    for path in (gradescope.zip_path, gradescope.questions_path):
        assert not (set(lines) - set(SHARED_LINES)) & file_lines(path)


def test_the_release_leak_check_covers_the_zip(tmp_path: Path) -> None:
    from autograder.course.release.solution_leaks import find_solution_text

    line = next(text for text, (_, is_answer) in solution_lines().items() if not is_answer)
    planted = tmp_path / "autograder.zip"
    with zipfile.ZipFile(planted, "w") as archive:
        archive.writestr("run_autograder", f"#!/bin/sh\n    {line}\n")
        archive.writestr(
            "autograder/spec/registry.py", (ROOT / "autograder/spec/registry.py").read_text()
        )
    found = find_solution_text([planted], solutions_dir=SOLUTIONS, copied_from=ROOT)
    assert found == [(planted / "run_autograder", line)]


def test_manual_questions_carry_each_rubric() -> None:
    text = manual_questions()
    for check in CHECKS:
        if check.manual:
            assert f"{check.title} ({check.points:g} points)" in text
            assert all(f"- {item}" in text for item in check.rubric)
        if check.gpu:
            assert f"`{check.id}`" in text


# ---- run_autograder, in an emulated /autograder ----


@pytest.fixture
def autograder_root(gradescope: GradescopeSummary, tmp_path: Path) -> Path:
    """/autograder as Gradescope lays it out after setup.sh, in a temporary folder."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(gradescope.zip_path) as archive:
        archive.extractall(root / "source")
    for script in ("setup.sh", "run_autograder"):
        (root / "source" / script).chmod(0o755)  # zipfile does not restore modes
    shutil.copyfile(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    (root / "venv").symlink_to(ROOT / ".venv")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    return root


def run_autograder(root: Path, *arguments: str) -> dict:
    environment = {**os.environ, ROOT_VARIABLE: str(root), USER_VARIABLE: ""}
    completed = subprocess.run(
        [str(root / "run_autograder"), *arguments],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert_gradescope_vocabulary(results)
    return results


@pytest.mark.slow
def test_run_autograder_gives_the_solutions_every_automatic_point(autograder_root: Path) -> None:
    for path in SOLUTIONS.glob("*.py"):
        shutil.copyfile(path, autograder_root / "submission" / path.name)
    results = run_autograder(autograder_root, "--settings", str(FAST_SETTINGS))
    failed = {t["name"]: t.get("output", "") for t in results["tests"] if t["status"] != "passed"}
    assert failed == {}, "\n".join(f"{name}: {output}" for name, output in failed.items())
    assert results["score"] == sum(c.points for e in EXERCISES for c in automatic(e))
    assert len(results["tests"]) == sum(len(automatic(e)) for e in EXERCISES)
    assert results["extra_data"]["origins"]["hard"] == "hard_gpu_sweep.py"


@pytest.mark.slow
def test_run_autograder_gives_the_stubs_nothing(autograder_root: Path) -> None:
    shutil.copytree(ROOT / "exercises", autograder_root / "submission" / "exercises")
    results = run_autograder(
        autograder_root, "--only", "medium", "challenge", "--settings", str(FAST_SETTINGS)
    )
    assert results["score"] == 0
    assert {t["status"] for t in results["tests"]} == {"failed"}
    assert len(results["tests"]) == len(automatic("medium")) + len(automatic("challenge"))
    assert "not implemented yet" in results["tests"][0]["output"]
    assert r"Graded: exercises/medium\_parallel\_scan.py" in results["output"]  # Markdown


FORGER = '''\
"""Implements nothing; at import it forges Gradescope's results every way it can."""
import json
import os
import time

FORGED = json.dumps({"score": 1000.0, "output": "forged", "tests": [
    {"name": "forged", "score": 1000.0, "max_score": 1.0, "status": "passed"}]})
TARGETS = [ROOT_RESULTS, "/autograder/results/results.json"]


def _ancestor_results_paths():
    """--results PATH of the grading processes above this one (their command lines)."""
    found, pid = [], os.getpid()
    for _ in range(12):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                words = handle.read().decode(errors="replace").split("\\0")
            with open(f"/proc/{pid}/status") as handle:
                pid = int(next(l for l in handle if l.startswith("PPid:")).split()[1])
        except (OSError, StopIteration, ValueError):
            break
        found += [words[i + 1] for i, w in enumerate(words[:-1]) if w == "--results"]
        if pid <= 1:
            break
    return found


def _forge():
    for path in TARGETS + _ancestor_results_paths():
        try:
            with open(path, "w") as handle:
                handle.write(FORGED)
        except OSError:
            pass


_forge()
print(FORGED)  # a fake results JSON on stdout too
try:
    if os.fork() == 0:  # and a process that outlives grading and keeps forging
        os.setsid()
        if os.fork() == 0:
            try:  # a name the test can find it by, from outside any sandbox
                with open("/proc/self/comm", "w") as handle:
                    handle.write(FORGER_NAME)
            except OSError:
                pass
            for _ in range(600):
                _forge()
                with open(HEARTBEAT, "a") as handle:
                    handle.write(".")
                time.sleep(0.05)
        os._exit(0)
except OSError:
    pass


def serial_scan(xs, op=None):
    raise NotImplementedError("forged")


def hillis_steele_scan(xs, op=None):
    raise NotImplementedError("forged")


def scan_depth(n):
    raise NotImplementedError("forged")


def scan_work(n):
    raise NotImplementedError("forged")
'''


FORGER_NAME = "forger-8431"  # the background forger's /proc/<pid>/comm


def processes_named(name: str) -> list[int]:
    """Host pids whose command name is ``name`` (a sandboxed process is listed here too)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.slow
def test_a_submission_that_forges_results_gets_nothing(autograder_root: Path) -> None:
    results_path = autograder_root / "results" / "results.json"
    heartbeat = autograder_root / "heartbeat"
    source = FORGER.replace("ROOT_RESULTS", repr(str(results_path)))
    source = source.replace("HEARTBEAT", repr(str(heartbeat)))
    source = source.replace("FORGER_NAME", repr(FORGER_NAME))
    (autograder_root / "submission" / "medium_parallel_scan.py").write_text(source)
    seen: set[int] = set()  # the background forger, watched while grading runs
    with ThreadPoolExecutor(1) as pool:
        grading = pool.submit(
            run_autograder, autograder_root, "--only", "medium", "--settings", str(FAST_SETTINGS)
        )
        while not grading.done():
            seen.update(processes_named(FORGER_NAME))
            time.sleep(0.02)
        results = grading.result()
    assert results["score"] == 0
    assert {t["status"] for t in results["tests"]} == {"failed"}
    assert "forged" not in results["output"]
    assert all(t["name"] != "forged" and "forged" not in t["name"] for t in results["tests"])
    assert all(t["max_score"] < 1000 for t in results["tests"])
    sandbox = results["extra_data"]["sandbox"].get("medium", {}).get("kind")
    if sandbox != "bubblewrap":  # unconfined, the forger did write, and ran in the background
        assert heartbeat.exists()
    assert seen, "the background forger never ran: the checks below would prove nothing"
    written = results_path.read_text(encoding="utf-8")
    time.sleep(0.5)
    assert processes_named(FORGER_NAME) == []  # nothing the submission started still runs
    assert results_path.read_text(encoding="utf-8") == written
    assert json.loads(written) == results


def test_a_broken_environment_still_writes_results(autograder_root: Path) -> None:
    (autograder_root / "venv").unlink()  # setup.sh never finished
    environment = {**os.environ, ROOT_VARIABLE: str(autograder_root), USER_VARIABLE: ""}
    completed = subprocess.run(
        [str(autograder_root / "run_autograder")],
        cwd=autograder_root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0
    results = json.loads((autograder_root / "results" / "results.json").read_text())
    assert_gradescope_vocabulary(results)
    assert results["score"] == 0 and results["tests"][0]["status"] == "failed"
    assert "setup.sh did not finish" in results["output"]


def test_a_run_out_of_time_fails_each_check_saying_why(autograder_root: Path) -> None:
    shutil.copyfile(SOLUTIONS / "medium_parallel_scan.py", autograder_root / "submission" / "m.py")
    results = run_autograder(autograder_root, "--only", "medium", "--budget", "5")
    assert results["score"] == 0 and len(results["tests"]) == len(automatic("medium"))
    assert all("time limit was used up" in t["output"] for t in results["tests"])
    assert "**medium was not graded**" in results["output"]
    assert "Graded: no exercise module." in results["output"]  # m.py is not one
