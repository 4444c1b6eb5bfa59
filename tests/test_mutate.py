"""``make mutate``'s own logic: which mutants are skipped as equivalent by construction, and
that every target names a module and tests that exist."""

from __future__ import annotations

import shlex
from pathlib import Path

from benchmarks.mutate import TARGETS, _annotation_spans

ROOT = Path(__file__).resolve().parent.parent

SOURCE = """from __future__ import annotations
def f(a: int | None, *, b: str | None = None) -> list[int] | None:
    c: dict[str, int] | None = None
    return a | 1
"""


def _inside(position: tuple[int, int], spans) -> bool:
    return any(low <= position < high for low, high in spans)


def test_only_annotations_are_skipped() -> None:
    spans = _annotation_spans(SOURCE)
    assert _inside((2, 13), spans)  # int | None of a
    assert _inside((2, 33), spans)  # str | None of b
    assert _inside((2, 58), spans)  # the return annotation
    assert _inside((3, 20), spans)  # the annotated assignment's annotation
    assert not _inside((4, 13), spans)  # a | 1: code, mutated
    assert not _inside((2, 20), spans)  # the * marker: mutated (and triaged by hand)


def test_every_target_names_a_module_and_tests_that_exist() -> None:
    for name, target in TARGETS.items():
        assert (ROOT / target.module).is_file(), name
        paths = [word for word in shlex.split(target.tests) if word.startswith("tests/")]
        assert paths and all((ROOT / path).is_file() for path in paths), name


def test_forgetting_survivors_leaves_every_other_result(tmp_path: Path) -> None:
    import sqlite3

    from benchmarks.mutate import forget_survivors

    session = tmp_path / "s.sqlite"
    with sqlite3.connect(session) as db:
        db.execute("CREATE TABLE work_results (job_id TEXT, test_outcome TEXT)")
        db.executemany(
            "INSERT INTO work_results VALUES (?, ?)",
            [("a", "KILLED"), ("b", "SURVIVED"), ("c", None), ("d", "SURVIVED")],
        )
    assert forget_survivors(session) == 2
    with sqlite3.connect(session) as db:
        left = sorted(db.execute("SELECT job_id, test_outcome FROM work_results"))
    assert left == [("a", "KILLED"), ("c", None)]


def test_a_mutants_tests_run_under_an_address_space_bound() -> None:
    """A mutant that allocates without end fails its tests, not the machine."""
    import subprocess
    import sys

    from benchmarks.mutate import PYTEST

    assert PYTEST.split()[:3] == ["python", "-m", "benchmarks.bounded_pytest"]
    probe = (
        "import resource; from benchmarks.bounded_pytest import bound; bound(2**30); "
        "print(resource.getrlimit(resource.RLIMIT_AS)[0]); bytearray(2 * 2**30)"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert run.stdout.split()[0] == str(2**30)
    assert run.returncode != 0 and "MemoryError" in run.stderr
