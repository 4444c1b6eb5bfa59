"""Results documents carry provenance, and collect recomputes every score (issue 20, item 2).

A results file written by hand (the student edits the workflow that makes it) gave a
gradebook row of 150 / 100 with 0 pending and 0 flags. Now: every score comes from the
verdicts and the registry; impossible statuses are refused; a document not signed with the
course key for this student and this submission is marked unverified and left out of the
grade columns; without a key, collect says so once.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import cli
from autograder.course.collect.command import collect
from autograder.course.regrade.command import regrade
from autograder.course.regrade.progress import Progress
from autograder.results import provenance
from autograder.results.provenance import (
    KEY_FILE_VARIABLE,
    KEY_VARIABLE,
    CourseKeyError,
    load_course_key,
    sign,
    submission_sha256,
    verify,
)

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "results"
FAST = ROOT / "tests" / "fixtures" / "fast-grading.toml"
KEY = b"course-key-0123456789abcdef"
OTHER_KEY = b"another-key-0123456789abcdef"


def fixture(name: str = "full_marks") -> dict:
    return json.loads((FIXTURES / name / "results.json").read_text())


def forged(document: dict) -> dict:
    """What a student writes by hand: every check passed, 150 points, nothing pending."""
    for test in document["tests"]:
        test["status"], test["score"] = "passed", 15.0
    document["score"], document["max_score"] = 150.0, 100.0
    document["extra_data"]["integrity"] = {"tamper": [], "findings": []}
    return document


def write(folder: Path, document: dict, submission: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(document))
    if submission is not None:
        (folder / "submission").mkdir()
        for name, text in submission.items():
            (folder / "submission" / name).write_text(text)
    return folder


def rows(out: Path) -> dict[str, dict[str, str]]:
    with (out / "gradebook.csv").open(newline="", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


@pytest.fixture
def course_key(monkeypatch: pytest.MonkeyPatch) -> bytes:
    monkeypatch.setenv(KEY_VARIABLE, KEY.decode())
    monkeypatch.delenv(KEY_FILE_VARIABLE, raising=False)
    return KEY


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    monkeypatch.delenv(KEY_FILE_VARIABLE, raising=False)


# ---- the signature ----


def test_a_signed_document_verifies_and_every_replay_or_edit_does_not(tmp_path: Path) -> None:
    modules = {"medium_parallel_scan.py": "def f(): pass\n"}
    signed = sign(fixture(), key=KEY, student="alice", submission="abc", by="test")
    assert verify(signed, key=KEY, student="alice", submission="abc").verified
    assert verify(signed, key=KEY, student="alice").verified  # no submission at hand
    cases = {
        "edited score": (dict(signed, score=150.0), "alice", "abc", KEY),
        "another student": (signed, "bob", "abc", KEY),
        "another submission": (signed, "alice", "def", KEY),
        "another key": (signed, "alice", "abc", OTHER_KEY),
        "unsigned": (fixture(), "alice", "abc", KEY),
        "no key here": (signed, "alice", "abc", None),
    }
    reasons = {}
    for name, (document, student, submission, key) in cases.items():
        check = verify(document, key=key, student=student, submission=submission)
        assert not check.verified, name
        reasons[name] = check.reason
    assert "does not match" in reasons["edited score"] and "bob" not in reasons["another student"]
    assert "another student ('alice')" in reasons["another student"]
    assert "another submission" in reasons["another submission"]
    assert "does not match" in reasons["another key"]
    assert "not signed" in reasons["unsigned"] and "no course key" in reasons["no key here"]
    # The signed provenance entry itself cannot be edited to another student.
    moved = json.loads(json.dumps(signed))
    moved["extra_data"]["provenance"]["student"] = "bob"
    assert not verify(moved, key=KEY, student="bob").verified
    # The hash covers each module's content and name.
    folder = write(tmp_path / "ann", fixture(), modules)
    before = submission_sha256(folder / "submission")
    (folder / "submission" / "medium_parallel_scan.py").write_text("def f(): return 1\n")
    assert submission_sha256(folder / "submission") != before


def test_the_course_key_comes_from_the_environment_or_a_file(tmp_path: Path) -> None:
    assert load_course_key({}) is None
    assert load_course_key({KEY_VARIABLE: KEY.decode()}) == KEY
    key_file = tmp_path / "course.key"
    key_file.write_bytes(KEY + b"\n")
    environ = {KEY_FILE_VARIABLE: str(key_file), "OTHER": "x"}
    assert load_course_key(environ, forget=True) == KEY
    assert environ == {"OTHER": "x"}  # forgotten: no child process inherits it
    with pytest.raises(CourseKeyError, match="shorter"):
        load_course_key({KEY_VARIABLE: "short"})
    with pytest.raises(CourseKeyError, match="cannot read"):
        load_course_key({KEY_FILE_VARIABLE: str(tmp_path / "absent")})


# ---- collect: recomputed scores, impossible statuses, provenance ----


def test_a_forged_document_without_a_key_scores_from_the_registry_and_is_left_out(
    tmp_path: Path, no_key: None, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "class" / "mallory", forged(fixture()))
    write(tmp_path / "class" / "ann", fixture())
    out = tmp_path / "out"
    assert cli.main(["collect", str(tmp_path / "class"), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.count("no course key configured") == 1  # said once, not per student
    row = rows(out)["mallory"]
    assert row["provenance"] == "unverified" and "not signed" in row["provenance_note"]
    assert row["total"] == row["score"] == row["raw_score"] == row["percent"] == ""
    assert row["easy"] == row["medium"] == row["hard"] == row["challenge"] == ""  # no points
    counted = rows_after(tmp_path / "class", tmp_path / "counted", count=True)["mallory"]
    assert float(counted["easy"]) <= 20 and float(counted["medium"]) <= 40  # the registry's
    summary = (out / "class-summary.md").read_text()
    assert "Unverified results" in summary and "No course key configured" in summary
    assert "Unverified result:" in (out / "students" / "mallory.html").read_text()
    assert "provenance-banner" in (out / "class-summary.html").read_text()


def test_impossible_statuses_are_refused_and_flagged(tmp_path: Path, no_key: None) -> None:
    document = forged(fixture())
    document["extra_data"]["device"] = {"requested": "cpu", "used": "cpu"}  # no CUDA run
    write(tmp_path / "class" / "mallory", document)
    out = tmp_path / "out"
    summary = collect(inputs=[tmp_path / "class"], out_dir=out, count_unverified=True)
    record = summary.students[0]
    refused = "\n".join(record.refused)
    for check in ("hard.correct_cuda", "hard.sweep_rows_cuda"):
        assert f"{check}: passed without a CUDA run" in refused
    for check in ("easy.answer", "hard.explanation"):
        assert f"{check}: passed without a TA score" in refused
    assert record.statuses["hard.correct_cuda"] == "failed"
    row = rows(out)["mallory"]
    assert float(row["total"]) == record.score < 150
    assert int(row["integrity_flags"]) == len(record.refused) >= 6
    assert float(row["hard"]) <= 40 - 14 - 3  # no GPU points, no written-answer points
    assert "passed without a CUDA run" in (out / "class-summary.md").read_text()


def test_a_ta_grade_written_into_the_document_is_not_a_ta_grade(
    tmp_path: Path, no_key: None
) -> None:
    document = fixture()
    for test in document["tests"]:
        if test["id"] == "easy.answer":
            test.update(status="passed", score=3.0, ta_grade={"score": 3.0, "comment": "great"})
    write(tmp_path / "class" / "mallory", document)
    summary = collect(inputs=[tmp_path / "class"], out_dir=tmp_path / "out", count_unverified=True)
    assert any("easy.answer: passed without a TA score" in r for r in summary.students[0].refused)


def test_signed_documents_are_verified_and_counted(tmp_path: Path, course_key: bytes) -> None:
    modules = {"medium_parallel_scan.py": "x = 1\n"}
    klass = tmp_path / "class"
    folder = write(klass / "ann", fixture(), modules)
    signed = sign(
        fixture(),
        key=KEY,
        student="ann",
        submission=submission_sha256(folder / "submission"),
        by="test",
    )
    write(folder, signed)
    # bob replays ann's signed file; carl keeps a signed file of an older submission.
    write(klass / "bob", signed, modules)
    carl = write(klass / "carl", fixture(), {"medium_parallel_scan.py": "x = 2\n"})
    old = sign(fixture(), key=KEY, student="carl", submission=submission_sha256(None), by="test")
    write(carl, old)
    # dora forged hers and signed it with a key of her own.
    write(
        klass / "dora",
        sign(forged(fixture()), key=OTHER_KEY, student="dora", submission="x", by="dora"),
    )
    out = tmp_path / "out"
    summary = collect(inputs=[klass], out_dir=out)
    book = rows(out)
    assert book["ann"]["provenance"] == "verified" and book["ann"]["total"] == "103"
    for student, why in (
        ("bob", "another student"),
        ("carl", "another submission"),
        ("dora", "does not match"),
    ):
        assert book[student]["provenance"] == "unverified", student
        assert why in book[student]["provenance_note"] and book[student]["total"] == ""
    banner = (out / "class-summary.md").read_text()
    assert "3 of 4 results files are unverified" in banner and "ann (" not in banner
    assert not any("no course key" in note for note in summary.notes)
    assert "Unverified" not in (out / "students" / "ann.html").read_text()
    counted = rows_after(klass, tmp_path / "out2", count=True)
    assert counted["bob"]["total"] == "103" and counted["bob"]["provenance"] == "unverified"


def rows_after(klass: Path, out: Path, *, count: bool) -> dict[str, dict[str, str]]:
    collect(inputs=[klass], out_dir=out, count_unverified=count)
    return rows(out)


# ---- who signs: regrade, merge, sign ----


def test_regrade_signs_what_it_graded_and_no_grading_sees_the_key(
    tmp_path: Path, course_key: bytes
) -> None:
    klass = tmp_path / "class"
    (klass / "ann").mkdir(parents=True)
    spy = (
        "import os\n"
        f"LEAK = [os.environ.get({KEY_VARIABLE!r}), os.environ.get({KEY_FILE_VARIABLE!r})]\n"
        "print('KEY SEEN:', LEAK)\n"
    )
    source = (ROOT / "solutions" / "medium_parallel_scan.py").read_text()
    (klass / "ann" / "medium_parallel_scan.py").write_text(source + "\n" + spy)
    out = tmp_path / "out"
    summary = regrade(
        sources=[klass],
        out_dir=out,
        only=["medium"],
        settings=FAST,
        progress=Progress(total=0, jobs=1, stream=io.StringIO()),
    )
    assert [o.status for o in summary.outcomes] == ["graded"]
    assert KEY_VARIABLE not in os.environ  # read once, then gone from this process
    for path in out.rglob("*"):
        if path.is_file():
            assert KEY.decode() not in path.read_text(errors="replace"), path
    results = json.loads((out / "ann" / "results.json").read_text())
    tail = results["extra_data"]["exercises"]["medium"]["output_tail"]
    assert "KEY SEEN: [None, None]" in tail  # the student's code looked, and found nothing
    assert results["extra_data"]["provenance"]["signed_by"] == "regrade"
    submission = submission_sha256(out / "ann" / "submission")
    assert verify(results, key=KEY, student="ann", submission=submission).verified
    os.environ[KEY_VARIABLE] = KEY.decode()  # monkeypatch restores the original afterwards
    collected = collect(inputs=[out], out_dir=tmp_path / "report")
    assert [s.verified for s in collected.students] == [True]
    assert rows(tmp_path / "report")["ann"]["medium"] == "40"


def test_merge_signs_only_verified_inputs_of_one_student(tmp_path: Path, course_key: bytes) -> None:
    cpu = fixture("gpu_pending")
    gpu = fixture("full_marks")
    inputs = {}
    for name, document, student in (("cpu", cpu, "ann"), ("gpu", gpu, "ann"), ("bob", gpu, "bob")):
        signed = sign(document, key=KEY, student=student, submission="s1", by="test")
        inputs[name] = write(tmp_path / name, signed) / "results.json"
    write(tmp_path / "plain", gpu)
    inputs["plain"] = tmp_path / "plain" / "results.json"

    def merged(*names: str) -> dict:
        out = tmp_path / "merged" / "-".join(names) / "results.json"
        command = [sys.executable, "-m", "autograder", "merge"]
        command += [*(str(inputs[n]) for n in names), "--out", str(out)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        return json.loads(out.read_text())

    both = merged("cpu", "gpu")
    assert verify(both, key=KEY, student="ann", submission="s1").verified
    assert "provenance" not in merged("cpu", "plain")["extra_data"]
    assert "provenance" not in merged("cpu", "bob")["extra_data"]


def test_sign_signs_for_the_folder_and_needs_the_key(tmp_path: Path, monkeypatch) -> None:
    folder = write(tmp_path / "ann", fixture(), {"medium_parallel_scan.py": "x = 1\n"})
    command = [sys.executable, "-m", "autograder", "sign", str(folder / "results.json")]
    environment = {k: v for k, v in os.environ.items() if "AUTOGRADER_COURSE" not in k}
    done = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    assert done.returncode == 2 and "no course key" in done.stderr
    environment[KEY_VARIABLE] = KEY.decode()
    done = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    assert done.returncode == 0, done.stderr
    signed = json.loads((folder / "results.json").read_text())
    submission = submission_sha256(folder / "submission")
    assert verify(signed, key=KEY, student="ann", submission=submission).verified
    assert signed["extra_data"]["provenance"]["scheme"] == provenance.SCHEME


def test_the_regrade_workflow_signs_its_own_results_and_collect_verifies_them(
    tmp_path: Path, no_key: None
) -> None:
    """regrade.yml's collect step with the course key: this run's CPU and GPU results are
    signed, merged (signed again) and verified; a forged file slipped in is not."""
    import yaml

    data = yaml.safe_load((ROOT / ".github" / "workflows" / "regrade.yml").read_text())
    step = next(
        s
        for s in data["jobs"]["collect"]["steps"]
        if s.get("name") == "Merge GPU into CPU results, then collect"
    )
    temp = tmp_path / "runner"
    for side, student, name in (
        ("cpu", "alice", "gpu_pending"),
        ("gpu", "alice", "full_marks"),
        ("cpu", "bob", "stub"),
    ):
        shutil.copytree(FIXTURES / name, temp / side / student)
    script = tmp_path / "step.sh"
    script.write_text(step["run"])
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = dict(os.environ, PATH=path, RUNNER_TEMP=str(temp), GPU_RESULT="success")
    env |= {"GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"), KEY_VARIABLE: KEY.decode()}
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    book = rows(temp / "class-report" / "report")
    assert {s: r["provenance"] for s, r in book.items()} == {
        "alice": "verified",
        "bob": "verified",
    }
    assert (
        book["alice"]["total"] != "" and "Unverified" not in (tmp_path / "summary.md").read_text()
    )
