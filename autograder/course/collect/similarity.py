"""Code similarity between students, per exercise: leads for a TA, never a penalty.

``python -m autograder collect DIR... --similarity [--reference solutions]
[--boilerplate exercises] [--similarity-threshold X]``

Where the code comes from. Results files hold no source, so ``regrade`` copies each graded
exercise module into ``DIR/<student>/submission/``; this module reads those (a student
without that folder, e.g. results downloaded from GitHub, is listed as "no submitted code").

How it compares. copydetect (MIT, winnowed k-gram fingerprints after its tokenizer has
replaced every variable, function and class name and string by one letter, so renaming
and reformatting do not hide a copy; the fingerprints are a set, so reordering functions
does not either). Every fingerprint of the released stub (``--boilerplate``, default: the
stubs generated from ``solutions/``, :mod:`autograder.course.release.released_stubs`, never the
working tree's ``exercises/``) is removed first: signatures, docstrings and the stub's
scaffolding are shared by everyone and prove nothing. A submitted file that is a link (or
in a linked folder) is not read. A pair's similarity is the larger of the two
shares of each student's own code (after boilerplate) found in the other's, in 0..1: a
student who copied one function of a longer file still shows up. A file with less than
:data:`MIN_OWN_CODE` characters of its own tokenized code is never flagged (a one-line
answer matches everyone's one-line answer). With ``--reference`` (the model solutions)
each student is also compared with the model answer, and matches are reported as such.

Written: ``similarity.csv`` (``student_a,student_b,exercise,similarity``, every pair, highest
first), ``similarity-reference.csv`` (``student,exercise,similarity`` with the model answer,
with ``--reference``) and ``similarity.html`` (the pairs at or above the threshold, the two
files side by side with the shared code highlighted, everything escaped, no script): this
module finds the shared runs, :mod:`autograder.reports.similarity_page` renders the page.
"""

from __future__ import annotations

import io
import itertools
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.course.collect.spreadsheet import csv_text, safe_cell
from autograder.reports import similarity_page
from autograder.reports.text import display_text
from autograder.spec.registry import EXERCISES

__all__ = [
    "DEFAULT_THRESHOLD",
    "MIN_OWN_CODE",
    "OwnCode",
    "Pair",
    "SimilarityReport",
    "boilerplate_hashes",
    "compare_class",
    "own_code",
    "page_view",
    "pair_similarity",
    "write_outputs",
]

DEFAULT_THRESHOLD = 0.75
"""Flag pairs at or above this similarity. Measured (docs/benchmarks.md, TA loop; 200 disguised
variants): copies 0.93-1.0 (0.89 in the test class), wholly independent solutions (medium,
challenge) at most 0.58, solutions sharing a few of the model's functions (easy, hard) at
most 0.75, just below."""

NOISE_CHARS = 25
"""copydetect's noise threshold: the shortest shared run of tokenized code that counts
(its default; with its guarantee threshold equal, every k-gram is a fingerprint)."""

MIN_OWN_CODE = 60
"""Tokenized characters of a student's own code (boilerplate removed) below which a file is
never flagged: about two short lines, the size where unrelated answers coincide."""

MAX_SOURCE_CHARS = 200_000
"""A submitted file is read up to this many characters (the modules are ~10 kB)."""

MAX_SHOWN_PAIRS = 100
"""similarity.html shows at most this many pairs side by side (the CSV has them all)."""

MODEL = "model answer"


@dataclass(frozen=True)
class Pair:
    """Two students' files of one exercise and how much of their own code they share."""

    exercise: str
    student_a: str
    student_b: str
    similarity: float
    flaggable: bool  # both files have enough code of their own


@dataclass
class SimilarityReport:
    """Every pair (highest first), the model-answer matches and who had no code to compare."""

    threshold: float
    pairs: list[Pair] = field(default_factory=list)
    reference: dict[tuple[str, str], float] = field(default_factory=dict)  # (student, exercise)
    without_code: list[str] = field(default_factory=list)
    boilerplate: Path | None = None
    reference_dir: Path | None = None
    sources: dict[tuple[str, str], Path] = field(default_factory=dict)  # (student, exercise)

    def flagged(self) -> list[Pair]:
        return [p for p in self.pairs if p.flaggable and p.similarity >= self.threshold]

    def model_matches(self) -> list[tuple[str, str, float]]:
        """(student, exercise, similarity) at or above the threshold, highest first."""
        found = [(s, e, v) for (s, e), v in self.reference.items() if v >= self.threshold]
        return sorted(found, key=lambda item: (-item[2], item[1], item[0]))

    def matches_model(self, student: str, exercise: str) -> bool:
        return self.reference.get((student, exercise), 0.0) >= self.threshold

    def leads(self) -> list[Pair]:
        """Flagged pairs, less those whose two students both match the model answer (those
        resemble each other through it: they are listed once each, as matches)."""
        return [
            p
            for p in self.flagged()
            if not (
                self.matches_model(p.student_a, p.exercise)
                and self.matches_model(p.student_b, p.exercise)
            )
        ]

    def matches_by_exercise(self) -> dict[str, list[tuple[str, float]]]:
        """Exercise -> (student, similarity) of everyone matching the model answer."""
        grouped: dict[str, list[tuple[str, float]]] = {}
        for student, exercise, value in self.model_matches():
            grouped.setdefault(exercise, []).append((student, value))
        return {e: sorted(grouped[e]) for e in EXERCISES if e in grouped}


def _own_file(path: Path) -> bool:
    """A regular file in a real folder: a link there could name a TA-side file."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode) and not stat.S_ISLNK(
            os.lstat(path.parent).st_mode
        )
    except OSError:
        return False


def _read(path: Path) -> str:
    with path.open(encoding="utf-8", errors="replace") as handle:
        return handle.read(MAX_SOURCE_CHARS)


def _fingerprint(path: Path, boilerplate):
    from copydetect import CodeFingerprint

    return CodeFingerprint(
        str(path), NOISE_CHARS, 1, boilerplate, fp=io.StringIO(_read(path)), language="python"
    )


def boilerplate_hashes(path: Path | None) -> Any:
    """The stub file's fingerprint hashes (sorted numpy array; empty without a stub): what every
    student shares, removed before comparing."""
    import numpy as np

    if path is None or not path.is_file():
        return np.array([], dtype=np.int64)
    return np.unique(np.array(sorted(_fingerprint(path, None).hashes), dtype=np.int64))


@dataclass(frozen=True)
class OwnCode:
    """One file's fingerprint, with its k-grams as arrays so a pair compares in numpy."""

    fingerprint: Any  # copydetect.CodeFingerprint (its raw text feeds similarity.html)
    unique: Any  # sorted distinct hashes
    hashes: Any  # the hash of each kept k-gram, in position order
    positions: Any  # where each kept k-gram starts in the tokenized text, ascending
    coverage: float  # tokenized characters covered by kept k-grams: the file's own code


def own_code(path: Path, boilerplate: Any) -> OwnCode:
    """``path``'s fingerprint, less the ``boilerplate`` hashes: the student's own code."""
    import numpy as np

    fingerprint = _fingerprint(path, boilerplate)
    kept = sorted((i, h) for h, starts in fingerprint.hash_idx.items() for i in starts)
    positions = np.array([i for i, _ in kept], dtype=np.int64)
    hashes = np.array([h for _, h in kept], dtype=np.int64)
    return OwnCode(fingerprint, np.unique(hashes), hashes, positions, _covered(positions))


def _covered(positions) -> int:
    """Characters covered by k-grams starting at sorted ``positions`` (their union's length).

    The same count as copydetect's ``get_token_coverage`` and the summed lengths of its
    ``get_copied_slices``: a run of starts less than k apart covers last - first + k.
    """
    import numpy as np

    if not len(positions):
        return 0
    return int(np.minimum(np.diff(positions), NOISE_CHARS).sum()) + NOISE_CHARS


def pair_similarity(first: OwnCode, second: OwnCode) -> float:
    """The larger share of either file's own code found in the other (0 when one has none).

    copydetect's ``compare_files`` similarity (shared k-grams' coverage over the file's own
    coverage), computed with sorted arrays: it builds one array per shared hash, which made
    200 students take minutes; tests check both agree.
    """
    import numpy as np

    if not first.coverage or not second.coverage:
        return 0.0
    shared = np.intersect1d(first.unique, second.unique, assume_unique=True)
    if not len(shared):
        return 0.0
    shares = []
    for code in (first, second):
        found = np.searchsorted(shared, code.hashes)  # shared is sorted: a lookup, no sort
        found[found == len(shared)] = 0
        shares.append(_covered(code.positions[shared[found] == code.hashes]) / code.coverage)
    return float(min(1.0, max(shares)))


def compare_class(
    *,
    submissions: Mapping[str, Path],
    threshold: float = DEFAULT_THRESHOLD,
    boilerplate: Path | None = None,
    reference: Path | None = None,
) -> SimilarityReport:
    """Compare every pair of ``submissions`` (student -> folder of exercise modules)."""
    report = SimilarityReport(threshold=threshold, boilerplate=boilerplate, reference_dir=reference)
    for student, folder in sorted(submissions.items()):
        files = [folder / f"{m}.py" for m in EXERCISES.values()]
        if not folder.is_dir() or not any(_own_file(path) for path in files):
            report.without_code.append(student)
    for exercise, module in EXERCISES.items():
        name = f"{module}.py"
        skip = boilerplate_hashes(boilerplate / name if boilerplate else None)
        prints = {}
        for student, folder in sorted(submissions.items()):
            path = folder / name
            if _own_file(path):
                report.sources[(student, exercise)] = path
                prints[student] = own_code(path, skip)
        if reference is not None and (reference / name).is_file():
            model = own_code(reference / name, skip)
            report.sources[(MODEL, exercise)] = reference / name
            for student, fingerprint in prints.items():
                report.reference[(student, exercise)] = pair_similarity(fingerprint, model)
        for a, b in itertools.combinations(sorted(prints), 2):
            first, second = prints[a], prints[b]
            report.pairs.append(
                Pair(
                    exercise,
                    a,
                    b,
                    pair_similarity(first, second),
                    min(first.coverage, second.coverage) >= MIN_OWN_CODE,
                )
            )
    order = {name: index for index, name in enumerate(EXERCISES)}
    report.pairs.sort(key=lambda p: (-p.similarity, order[p.exercise], p.student_a, p.student_b))
    return report


# --------------------------------------------------------------------------- the CSVs and the page


def _shared_runs(slices: Any) -> list[tuple[int, int]]:
    """copydetect's slices (a 2 x n array of starts and ends) as (start, end) pairs."""
    if not len(slices):
        return []
    return [(int(a), int(b)) for a, b in zip(slices[0].tolist(), slices[1].tolist(), strict=True)]


def _side_pair(
    report: SimilarityReport, pair: Pair, hrefs: dict[str, str | None]
) -> similarity_page.SidePair:
    """The pair's two files, each with the runs found in the other (copydetect's slices)."""
    from copydetect import compare_files

    exercise, a, b = pair.exercise, pair.student_a, pair.student_b
    path_a, path_b = report.sources[(a, exercise)], report.sources[(b, exercise)]
    skip = boilerplate_hashes(report.boilerplate / path_a.name if report.boilerplate else None)
    first, second = _fingerprint(path_a, skip), _fingerprint(path_b, skip)
    if first.hashes & second.hashes:
        _, _, (slices_a, slices_b) = compare_files(first, second)
    else:
        slices_a = slices_b = []
    return similarity_page.SidePair(
        exercise=exercise,
        similarity=f"{pair.similarity:.2f}",
        first=similarity_page.CodeSide(
            display_text(a), first.raw_code, _shared_runs(slices_a), hrefs.get(a)
        ),
        second=similarity_page.CodeSide(
            display_text(b), second.raw_code, _shared_runs(slices_b), hrefs.get(b)
        ),
    )


def page_view(
    report: SimilarityReport, hrefs: dict[str, str | None] | None = None
) -> similarity_page.SimilarityPage:
    """similarity.html's view model: the leads side by side, the model-answer matches;
    ``hrefs``: each student's page, relative to similarity.html (names link to it)."""
    hrefs = hrefs or {}
    flagged = report.flagged()
    shown = report.leads()
    return similarity_page.SimilarityPage(
        pairs_compared=len(report.pairs),
        flagged=len(flagged),
        threshold=f"{report.threshold:.2f}",
        boilerplate=display_text(str(report.boilerplate)) if report.boilerplate else "none",
        without_code=[(display_text(s), hrefs.get(s)) for s in report.without_code],
        compared_with_model=report.reference_dir is not None,
        model_matches=[
            similarity_page.ModelMatch(
                display_text(student), exercise, f"{value:.2f}", hrefs.get(student)
            )
            for student, exercise, value in report.model_matches()
        ],
        pairs=[_side_pair(report, pair, hrefs) for pair in shown[:MAX_SHOWN_PAIRS]],
        both_model=len(flagged) - len(shown),
        left_out=max(0, len(shown) - MAX_SHOWN_PAIRS),
    )


def write_outputs(
    report: SimilarityReport, out_dir: Path, hrefs: dict[str, str | None] | None = None
) -> dict[str, Path]:
    """similarity.csv, similarity.html and (with a reference) similarity-reference.csv;
    ``hrefs``: each student's page, relative to ``out_dir``."""
    written = {}
    rows = [["student_a", "student_b", "exercise", "similarity"]]
    rows += [
        [safe_cell(p.student_a), safe_cell(p.student_b), p.exercise, f"{p.similarity:.4f}"]
        for p in report.pairs
    ]
    written["similarity_csv"] = out_dir / similarity_page.CSV_NAME
    written["similarity_csv"].write_text(csv_text(rows), encoding="utf-8", newline="")
    if report.reference_dir is not None:
        order = {name: index for index, name in enumerate(EXERCISES)}
        items = sorted(report.reference.items(), key=lambda i: (-i[1], order[i[0][1]], i[0][0]))
        rows = [["student", "exercise", "similarity"]]
        rows += [[safe_cell(s), e, f"{v:.4f}"] for (s, e), v in items]
        written["similarity_reference_csv"] = out_dir / "similarity-reference.csv"
        written["similarity_reference_csv"].write_text(csv_text(rows), encoding="utf-8", newline="")
    written["similarity_html"] = out_dir / similarity_page.PAGE_NAME
    written["similarity_html"].write_text(
        similarity_page.render_html(page_view(report, hrefs)), encoding="utf-8"
    )
    return written
