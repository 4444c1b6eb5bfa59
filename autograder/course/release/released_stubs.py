"""The stubs students were given, for ``collect --similarity`` to remove before comparing.

The released stub is what every student starts from, so its code proves nothing and is
removed from each file before two students are compared. It must be the stub as released,
never whatever the instructor's working-tree ``exercises/`` holds: after an instructor tried
an exercise there (as ``make grade`` invites), that "stub" holds a solution, and removing it
makes two students' near-identical solutions look unrelated (0.0000, silently).

So the stubs are generated on the spot from ``solutions/`` by the same
:func:`autograder.course.release.stubs.generate_stubs` that ``release`` uses (a pure function: the
same solutions always give the released stubs, byte for byte), and each working-tree stub
that differs is named in a warning. Without ``solutions/`` (a TA's checkout of the student
template) the working-tree stubs are used, with a warning that they could not be checked.
"""

from __future__ import annotations

from pathlib import Path

from autograder.course.release.stubs import generate_stubs
from autograder.spec import paths
from autograder.spec.registry import EXERCISES

__all__ = ["RELEASED_STUBS_FOLDER", "released_stubs"]

RELEASED_STUBS_FOLDER = "released-stubs"
"""Where ``collect`` writes the stubs it generated (in its output folder), for the TA to see."""


def released_stubs(
    *,
    out: Path,
    solutions: Path = paths.ROOT / paths.SOLUTIONS_FOLDER,
    exercises: Path = paths.ROOT / paths.EXERCISES_FOLDER,
) -> tuple[Path | None, list[str]]:
    """(the folder of released stubs, warnings): generated from ``solutions`` into ``out``
    when it can be, else ``exercises`` as it is; None when there is neither."""
    warnings: list[str] = []
    names = [f"{module}.py" for module in EXERCISES.values()]
    if Path(solutions).is_dir() and any((Path(solutions) / name).is_file() for name in names):
        try:
            generate_stubs(solutions_dir=Path(solutions), exercises_dir=Path(out))
        except (OSError, ValueError, SyntaxError) as error:
            warnings.append(f"similarity: the released stubs could not be generated: {error}")
        else:
            for name in names:
                released, working = Path(out) / name, Path(exercises) / name
                if not released.is_file():
                    continue
                try:
                    same = working.read_bytes() == released.read_bytes()
                except OSError:
                    same = False
                if not same:
                    warnings.append(
                        f"similarity: {working} differs from the released stub (generated from "
                        f"{solutions}): the released stub was removed before comparing, not "
                        "this file"
                    )
            return Path(out), warnings
    if Path(exercises).is_dir():
        warnings.append(
            f"similarity: no solutions/ to generate the released stubs from; {exercises} was "
            "used as the stub without a check (if it holds a solution, copies score low)"
        )
        return Path(exercises), warnings
    return None, warnings
