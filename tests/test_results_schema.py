"""The results schema's loader: the fixed core validated, every optional field normalised.

``report``, ``collect`` and ``merge`` index the normalised view without checking types, so
whatever an old, partial or forged file holds under ``extra_data``, the view has each key
the readers use with its declared type, and the file as written is never changed.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from autograder.reports.integrity import finding_line, tamper_line
from autograder.results.schema import (
    ResultsFileError,
    check_id,
    load_results,
    load_results_as_written,
    normalise_results,
    pending_kind,
)
from autograder.results.write import write_outputs

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "results"

ODD = {
    "score": 5,
    "max_score": 10,
    "tests": [
        {"name": "easy.answer: why", "exercise": "", "score": 0, "max_score": 3,
         "status": "pending", "tags": ["manual", 7], "duration": "fast", "ta_grade": "yes"},
    ],
    "extra_data": {
        "device": "cuda",
        "sandbox": ["bubblewrap"],
        "environment": {"python": 3.11, "torch": None},
        "exercises": {"easy": {"score": "3", "incidents": ["boom", 4], "runs": True}},
        "integrity": {"tamper": ["old text", {"path": "a.py"}, 5],
                      "findings": ["gc", {"file": "m.py", "line": 3.0, "construct": "import gc"}]},
        "manual": "none",
        "artifacts": {"sweep_plot": None, "other": "x.png"},
        "seed": "42",
    },
}  # fmt: skip


def test_missing_and_ill_typed_optional_values_get_their_empty_defaults() -> None:
    view = normalise_results(ODD)
    [result] = view["tests"]
    assert result["id"] == "easy.answer" and result["exercise"] == "easy"
    assert result["tags"] == ["manual"] and result["duration"] is None
    assert result["ta_grade"] is None and result["output"] == "" and result["score"] == 0.0
    extra = view["extra_data"]
    assert extra["device"] == {"requested": "", "used": "cuda", "cuda_available": None, "name": ""}
    assert extra["sandbox"] == {"kind": "", "reason": ""}
    assert extra["environment"]["python"] == "" and extra["environment"]["torch"] == ""
    easy = extra["exercises"]["easy"]
    assert easy["runs"] is None and easy["incidents"] == ["boom"]
    # totals are derived from the results, never the file's ("3", 5 / 10)
    assert (easy["score"], easy["max_score"], easy["extra_credit"]) == (0.0, 3.0, False)
    assert (view["score"], view["max_score"]) == (0.0, 3.0)
    assert view["output"] == "Score 0 / 3\neasy: 0 / 3, 0 passed, 0 failed, 1 pending"
    assert extra["manual"] == [] and extra["artifacts"] == {"other": "x.png"}
    assert extra["seed"] is None and extra["submission"] == "" and extra["timings"] == {}
    assert extra["integrity"]["tamper"] == ["old text", {"path": "a.py", "change": ""}, "5"]
    assert extra["integrity"]["findings"][1]["line"] == 3
    assert view["execution_time"] is None


def test_normalising_copies_and_is_idempotent() -> None:
    before = copy.deepcopy(ODD)
    view = normalise_results(ODD)
    assert before == ODD  # the document as written is untouched
    assert normalise_results(view) == view


def test_fixtures_load_as_written_and_normalised(tmp_path: Path) -> None:
    path = FIXTURES / "failures" / "results.json"
    written = load_results_as_written(path=path)
    assert written == json.loads(path.read_text("utf-8"))
    view = load_results(path=path)
    assert [t["id"] for t in view["tests"]] == [t["id"] for t in written["tests"]]
    bad = tmp_path / "bad.json"
    bad.write_text('{"score": 1, "max_score": 2, "tests": [{"status": "won"}]}')
    with pytest.raises(ResultsFileError, match=r"not a results file: tests\[0\]\.score"):
        load_results(path=bad)
    with pytest.raises(ResultsFileError, match="not a results file"):
        normalise_results({"tests": []})
    for token in ("NaN", "Infinity", "-Infinity"):  # grade never writes them: strict JSON
        bad.write_text(f'{{"score": {token}, "max_score": 2, "tests": []}}')
        with pytest.raises(ResultsFileError, match=f"corrupt JSON: {token} is not JSON"):
            load_results_as_written(path=bad)


def test_check_id_and_pending_kind() -> None:
    assert check_id({"id": "medium.depth", "name": "x: y"}) == "medium.depth"
    assert check_id({"name": "medium.depth: measured depth"}) == "medium.depth"
    assert pending_kind(["gpu", "manual"]) == "manual"
    assert pending_kind(["timing", "gpu"]) == "gpu"
    assert pending_kind([]) == "other"


def test_finding_and_tamper_lines() -> None:
    extra = normalise_results(ODD)["extra_data"]["integrity"]
    assert finding_line(extra["findings"][1]) == ("m.py:3", "import gc", "")
    assert finding_line(extra["findings"][0]) == ("?", "", "")
    assert [tamper_line(entry) for entry in extra["tamper"]] == ["old text", "changed: a.py", "5"]
    finding = {"exercise": "hard", "file": "", "line": None, "construct": "c", "why": "w\x1b"}
    assert finding_line(finding) == ("hard", "c", "w\\x1b")


def test_write_outputs_needs_a_renderer_for_a_summary(tmp_path: Path) -> None:
    document = load_results_as_written(path=FIXTURES / "stub" / "results.json")
    out = tmp_path / "out" / "results.json"
    write_outputs(document, results_path=out, junit_path=tmp_path / "j.xml")
    assert json.loads(out.read_text("utf-8")) == document
    assert not list(out.parent.glob("*.tmp"))  # written through a temporary file, renamed
    assert (tmp_path / "j.xml").read_text("utf-8").startswith("<?xml")
    with pytest.raises(ValueError, match="renderer"):
        write_outputs(document, results_path=out, summary_path=tmp_path / "s.md")
    write_outputs(
        document,
        results_path=out,
        summary_path=tmp_path / "s.md",
        render_summary=lambda doc, *, results_dir: f"{doc['score']} {results_dir.name}",
    )
    assert (tmp_path / "s.md").read_text("utf-8") == "0.0 out"
