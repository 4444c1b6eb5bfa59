"""The static scan finds constructs that can tamper with grading, and nothing in clean code."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.grading.static_scan import scan_source, scan_submission

ROOT = Path(__file__).resolve().parent.parent


def constructs(source: str) -> list[str]:
    return [f["construct"] for f in scan_source(source, exercise="medium", filename="m.py")]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import gc", "import gc"),
        ("import ctypes as c", "import ctypes"),
        ("from autograder.checks import support", "from autograder.checks import ..."),
        ("import solutions.medium_parallel_scan", "import solutions.medium_parallel_scan"),
        ("import sys\nsys.modules['x'] = None", "sys.modules"),
        ("import os\nos._exit(0)", "os._exit"),
        ("import time\ntime.perf_counter = lambda: 0.0", "time.perf_counter = ..."),
        ("import time as t\nt.sleep = print", "t.sleep = ..."),
        ("import torch\ntorch.cuda.synchronize = lambda: None", "torch.cuda.synchronize = ..."),
        ("from reference.tracer import Traced\nTraced(1, 0, (), None)", "Traced"),
        ("def f(tape):\n    tape._work = 0", "tape._work"),
        ("object.__setattr__(x, 'depth', 0)", "object.__setattr__"),
        ("exec('1')", "exec"),
        (
            "open('../../solutions/medium_parallel_scan.py')",
            "'../../solutions/medium_parallel_scan.py'",
        ),
    ],
)
def test_flags_each_construct(source, expected):
    assert expected in constructs(source)


def test_findings_carry_file_line_and_reason():
    (finding,) = scan_source("x = 1\nimport gc\n", exercise="easy", filename="easy_vector_state.py")
    assert finding["exercise"] == "easy"
    assert finding["file"] == "easy_vector_state.py"
    assert finding["line"] == 2
    assert "grader" in finding["why"]


def test_clean_code_has_no_findings():
    assert scan_submission(ROOT / "solutions") == []
    assert scan_submission(ROOT / "exercises") == []
    assert scan_submission(ROOT / "tests" / "submissions" / "other_styles") == []


def test_unparsable_source_is_left_to_the_checks():
    assert scan_source("def broken(:", exercise="easy", filename="e.py") == []
