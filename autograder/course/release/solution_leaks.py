"""Solution text in files students get: the release's last check before it reports done.

Every generated file students get (stubs, released notebooks, README, every file of the
Gradescope zip) is searched for the lines of the solutions' solution regions
(:func:`autograder.course.release.stubs.find_regions`).
"""

from __future__ import annotations

import json
import keyword
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

from autograder.course.release.stubs import find_regions

__all__ = ["find_solution_text"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def find_solution_text(
    paths: Iterable[Path], *, solutions_dir: Path, copied_from: Path | None = None
) -> list[tuple[Path, str]]:
    """``(file, line)`` for every solution line found whole in one of ``paths``.

    A solution line is a stripped line inside a solution region with at least two names
    (keywords are not names), the rule of ``tests/test_stubs.py``. Notebooks are searched cell
    by cell, so JSON escaping cannot hide a line. A zip is searched member by member
    (reported as ``ZIP/member``), except a member byte-identical to the file of the same path
    under ``copied_from``: a copy of the grader's source, which the student repository ships
    as well and whose generic lines (``start = time.perf_counter()``) are not leaks.
    """
    solution_lines = set()
    for path in sorted(Path(solutions_dir).glob("*.py")):
        for region in find_regions(path.read_text(encoding="utf-8"), filename=str(path)):
            solution_lines.update(line.strip() for line in region.lines if _telling(line))
    found = []
    for path in paths:
        path = Path(path)
        if path.suffix == ".zip":
            found.extend(_zip_leaks(path, solution_lines, copied_from))
            continue
        for line in sorted(_stripped_lines(path) & solution_lines):
            found.append((path, line))
    return found


def _telling(line: str) -> bool:
    """A line that gives something away: two names or more (keywords are not names)."""
    names = [word for word in _IDENTIFIER.findall(line) if not keyword.iskeyword(word)]
    return len(names) >= 2


def _zip_leaks(
    path: Path, solution_lines: set[str], copied_from: Path | None
) -> list[tuple[Path, str]]:
    """Solution lines in the members of a zip; copies of ``copied_from``'s files are skipped."""
    found = []
    with zipfile.ZipFile(path) as archive:
        for member in archive.infolist():
            if member.is_dir():
                continue
            data = archive.read(member)
            original = copied_from / member.filename if copied_from else None
            if original is not None and original.is_file() and original.read_bytes() == data:
                continue
            for line in sorted(_text_lines(data, member.filename) & solution_lines):
                found.append((path / member.filename, line))
    return found


def _stripped_lines(path: Path) -> set[str]:
    """Stripped lines of a text file; of every cell's source for a notebook."""
    return _text_lines(path.read_bytes(), path.name)


def _text_lines(data: bytes, name: str) -> set[str]:
    text = data.decode("utf-8", errors="replace")
    if name.endswith(".ipynb"):
        cells = json.loads(text).get("cells", [])
        text = "\n".join(
            "".join(cell.get("source", ""))
            if isinstance(cell.get("source"), list)
            else cell.get("source", "")
            for cell in cells
        )
    return {line.strip() for line in text.splitlines()}
