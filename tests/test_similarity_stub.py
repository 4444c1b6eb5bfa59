"""``collect --similarity`` removes the released stub, never the working tree's (issue 20, 5).

An instructor who tried an exercise in ``exercises/`` (as ``make grade`` invites) turned the
"stub" into a solution; removing that from every file made two students' files that differ in
two lines score 0.0000, silently. The stub is now generated from ``solutions/``, and a
working-tree stub that differs is named in a warning.
"""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pytest

from autograder.course.collect import similarity
from autograder.course.collect.command import collect
from autograder.course.release import released_stubs

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "results"
MEDIUM = "medium_parallel_scan.py"


def two_line_copies(klass: Path) -> None:
    """Two students whose medium modules are the model solution with two lines changed."""
    source = (ROOT / "solutions" / MEDIUM).read_text()
    lines = source.splitlines()
    changed = [i for i, line in enumerate(lines) if line.strip().startswith("return ")][:2]
    assert len(changed) == 2
    other = list(lines)
    for index in changed:
        other[index] = other[index] + "  # checked"
    for student, text in (("ann", source), ("ben", "\n".join(other) + "\n")):
        (klass / student / "submission").mkdir(parents=True)
        shutil.copy(FIXTURES / "stub" / "results.json", klass / student)
        (klass / student / "submission" / MEDIUM).write_text(text)


@pytest.fixture
def tried_exercises(tmp_path: Path) -> Path:
    """The instructor's working tree after trying medium: its stub is a solution."""
    exercises = tmp_path / "exercises"
    shutil.copytree(ROOT / "exercises", exercises)
    shutil.copy(ROOT / "solutions" / MEDIUM, exercises / MEDIUM)
    return exercises


def test_the_released_stub_is_generated_and_a_different_working_tree_is_named(
    tmp_path: Path, tried_exercises: Path
) -> None:
    folder, warnings = released_stubs.released_stubs(
        out=tmp_path / "stubs", exercises=tried_exercises
    )
    assert folder == tmp_path / "stubs"
    assert (folder / MEDIUM).read_text() == (ROOT / "exercises" / MEDIUM).read_text()
    assert len(warnings) == 1 and str(tried_exercises / MEDIUM) in warnings[0]
    assert "differs from the released stub" in warnings[0]


def test_without_solutions_the_working_tree_is_used_with_a_warning(tmp_path: Path) -> None:
    folder, warnings = released_stubs.released_stubs(
        out=tmp_path / "stubs", solutions=tmp_path / "none", exercises=ROOT / "exercises"
    )
    assert folder == ROOT / "exercises" and "without a check" in warnings[0]


def test_copies_are_found_although_the_working_tree_stub_is_a_solution(
    tmp_path: Path, tried_exercises: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    klass = tmp_path / "class"
    two_line_copies(klass)
    # The old behaviour, for contrast: the tried exercise as the stub hides the copy.
    hidden = similarity.compare_class(
        submissions={s: klass / s / "submission" for s in ("ann", "ben")},
        boilerplate=tried_exercises,
    )
    assert [p.similarity for p in hidden.pairs if p.exercise == "medium"] == [0.0]
    generate = functools.partial(released_stubs.released_stubs, exercises=tried_exercises)
    monkeypatch.setattr(released_stubs, "released_stubs", generate)
    summary = collect(inputs=[klass], out_dir=tmp_path / "out", compare_code=True)
    medium = [p for p in summary.similarity.pairs if p.exercise == "medium"]
    assert medium[0].similarity > similarity.DEFAULT_THRESHOLD
    assert any(f"{tried_exercises / MEDIUM} differs" in note for note in summary.notes)
    assert "differs from the released stub" in (tmp_path / "out" / "class-summary.md").read_text()


def test_a_submitted_file_that_is_a_link_is_not_compared(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    two_line_copies(klass)
    secret = tmp_path / "ta-secret.py"
    shutil.copy(ROOT / "solutions" / MEDIUM, secret)
    (klass / "ben" / "submission" / MEDIUM).unlink()
    (klass / "ben" / "submission" / MEDIUM).symlink_to(secret)
    report = similarity.compare_class(
        submissions={s: klass / s / "submission" for s in ("ann", "ben")}
    )
    assert report.without_code == ["ben"] and ("ben", "medium") not in report.sources
