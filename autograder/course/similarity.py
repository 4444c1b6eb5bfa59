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
grader's ``exercises/``) is removed first: signatures, docstrings and the stub's scaffolding
are shared by everyone and prove nothing. A pair's similarity is the larger of the two
shares of each student's own code (after boilerplate) found in the other's, in 0..1: a
student who copied one function of a longer file still shows up. A file with less than
:data:`MIN_OWN_CODE` characters of its own tokenized code is never flagged (a one-line
answer matches everyone's one-line answer). With ``--reference`` (the model solutions)
each student is also compared with the model answer, and matches are reported as such.

Written: ``similarity.csv`` (``student_a,student_b,exercise,similarity``, every pair, highest
first), ``similarity-reference.csv`` (``student,exercise,similarity`` with the model answer,
with ``--reference``) and ``similarity.html`` (the pairs at or above the threshold, the two
files side by side with the shared code highlighted, everything escaped, no script).
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.reports.html import html_page
from autograder.reports.text import esc
from autograder.spec.registry import EXERCISES

__all__ = [
    "DEFAULT_THRESHOLD",
    "MIN_OWN_CODE",
    "Pair",
    "SimilarityReport",
    "compare_class",
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


def _read(path: Path) -> str:
    with path.open(encoding="utf-8", errors="replace") as handle:
        return handle.read(MAX_SOURCE_CHARS)


def _fingerprint(path: Path, boilerplate):
    from copydetect import CodeFingerprint

    return CodeFingerprint(
        str(path), NOISE_CHARS, 1, boilerplate, fp=io.StringIO(_read(path)), language="python"
    )


def _boilerplate_hashes(path: Path | None):
    import numpy as np

    if path is None or not path.is_file():
        return np.array([], dtype=np.int64)
    return np.unique(np.array(sorted(_fingerprint(path, None).hashes), dtype=np.int64))


@dataclass(frozen=True)
class _Code:
    """One file's fingerprint, with its k-grams as arrays so a pair compares in numpy."""

    fingerprint: Any  # copydetect.CodeFingerprint (its raw text feeds similarity.html)
    unique: Any  # sorted distinct hashes
    hashes: Any  # the hash of each kept k-gram, in position order
    positions: Any  # where each kept k-gram starts in the tokenized text, ascending
    coverage: float  # tokenized characters covered by kept k-grams: the file's own code


def _code(path: Path, boilerplate) -> _Code:
    import numpy as np

    fingerprint = _fingerprint(path, boilerplate)
    kept = sorted((i, h) for h, starts in fingerprint.hash_idx.items() for i in starts)
    positions = np.array([i for i, _ in kept], dtype=np.int64)
    hashes = np.array([h for _, h in kept], dtype=np.int64)
    return _Code(fingerprint, np.unique(hashes), hashes, positions, _covered(positions))


def _covered(positions) -> int:
    """Characters covered by k-grams starting at sorted ``positions`` (their union's length).

    The same count as copydetect's ``get_token_coverage`` and the summed lengths of its
    ``get_copied_slices``: a run of starts less than k apart covers last - first + k.
    """
    import numpy as np

    if not len(positions):
        return 0
    return int(np.minimum(np.diff(positions), NOISE_CHARS).sum()) + NOISE_CHARS


def _compare(first: _Code, second: _Code) -> float:
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
        if not folder.is_dir() or not any(path.is_file() for path in files):
            report.without_code.append(student)
    for exercise, module in EXERCISES.items():
        name = f"{module}.py"
        skip = _boilerplate_hashes(boilerplate / name if boilerplate else None)
        prints = {}
        for student, folder in sorted(submissions.items()):
            path = folder / name
            if path.is_file():
                report.sources[(student, exercise)] = path
                prints[student] = _code(path, skip)
        if reference is not None and (reference / name).is_file():
            model = _code(reference / name, skip)
            report.sources[(MODEL, exercise)] = reference / name
            for student, fingerprint in prints.items():
                report.reference[(student, exercise)] = _compare(fingerprint, model)
        for a, b in itertools.combinations(sorted(prints), 2):
            first, second = prints[a], prints[b]
            report.pairs.append(
                Pair(
                    exercise,
                    a,
                    b,
                    _compare(first, second),
                    min(first.coverage, second.coverage) >= MIN_OWN_CODE,
                )
            )
    order = {name: index for index, name in enumerate(EXERCISES)}
    report.pairs.sort(key=lambda p: (-p.similarity, order[p.exercise], p.student_a, p.student_b))
    return report


# --------------------------------------------------------------------------- writing


def _cell(value: str) -> str:
    """A student id a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def _highlighted(text: str, slices) -> str:
    """``text`` escaped, with the shared runs (copydetect's slices) wrapped in <mark>."""
    parts, at = [], 0
    spans = sorted(zip(slices[0].tolist(), slices[1].tolist(), strict=True)) if len(slices) else []
    for start, end in spans:
        start, end = max(int(start), at), min(int(end), len(text))
        if start >= end:
            continue
        parts.append(esc(text[at:start]))
        parts.append(f"<mark>{esc(text[start:end])}</mark>")
        at = end
    parts.append(esc(text[at:]))
    return "".join(parts)


def _side_by_side(report: SimilarityReport, exercise: str, a: str, b: str) -> str:
    from copydetect import compare_files

    path_a, path_b = report.sources[(a, exercise)], report.sources[(b, exercise)]
    skip = _boilerplate_hashes(report.boilerplate / path_a.name if report.boilerplate else None)
    first, second = _fingerprint(path_a, skip), _fingerprint(path_b, skip)
    if first.hashes & second.hashes:
        _, _, (slices_a, slices_b) = compare_files(first, second)
    else:
        slices_a = slices_b = []
    return (
        "<div class='qa'>"
        f"<div><strong>{esc(a)}</strong><pre>{_highlighted(first.raw_code, slices_a)}</pre></div>"
        f"<div><strong>{esc(b)}</strong><pre>{_highlighted(second.raw_code, slices_b)}</pre></div>"
        "</div>"
    )


def _html(report: SimilarityReport) -> str:
    flagged = report.flagged()
    shown = report.leads()
    both_model = len(flagged) - len(shown)
    left_out = max(0, len(shown) - MAX_SHOWN_PAIRS)
    sections = []
    for index, pair in enumerate(shown[:MAX_SHOWN_PAIRS]):
        sections.append(
            f"<section class='pair' id='pair-{index}'><h3>{esc(pair.exercise)}: "
            f"{esc(pair.student_a)} and {esc(pair.student_b)}: {pair.similarity:.2f}</h3>"
            f"{_side_by_side(report, pair.exercise, pair.student_a, pair.student_b)}</section>"
        )
    model_rows = "".join(
        f"<tr><td>{esc(student)}</td><td>{esc(exercise)}</td><td class='num'>{value:.2f}</td></tr>"
        for student, exercise, value in report.model_matches()
    )
    model_html = (
        "<p>Not compared: run with <code>--reference solutions</code>.</p>"
        if report.reference_dir is None
        else (
            "<table class='model-matches'><thead><tr><th>student</th><th>exercise</th>"
            f"<th class='num'>similarity</th></tr></thead><tbody>{model_rows}</tbody></table>"
            if model_rows
            else "<p>None.</p>"
        )
    )
    without = (
        f"<p class='muted small'>No submitted code to compare (no <code>submission/</code> "
        f"folder beside the results; <code>regrade</code> writes it): "
        f"{esc(', '.join(report.without_code))}</p>"
        if report.without_code
        else ""
    )
    boilerplate = esc(str(report.boilerplate)) if report.boilerplate else "none"
    notes = "".join(
        f"<p class='muted small'>{text}</p>"
        for count, text in (
            (
                both_model,
                f"{both_model} pair(s) of students who both match the model answer are "
                "not repeated here (see above).",
            ),
            (left_out, f"{left_out} more pair(s) at or above the threshold are in similarity.csv."),
        )
        if count
    )
    body = f"""
<header><h1>Code similarity</h1>
<p class='note'><strong>These are leads for a TA, not penalties.</strong> Similar code has many
innocent causes (the same lecture example, a short exercise with one natural answer, the
released stub). Read both files before drawing any conclusion; the grade is decided by the
checks and by people, never by this page.</p>
<p class='muted small'>{len(report.pairs)} pairs compared; {len(flagged)} at or above
{report.threshold:.2f}. Similarity: the larger share of either student's own code (stub
removed: {boilerplate}) found in the other's, by copydetect's winnowed fingerprints, which
ignore names, formatting and the order of functions. Shared code is highlighted.</p>
{without}</header>
<section id='model'><h2>Matches the model answer</h2>{model_html}</section>
<section id='pairs'><h2>Similar pairs ({len(flagged)})</h2>
{"".join(sections) or "<p>None.</p>"}{notes}</section>
<style>mark {{ background: #ffe08a; }} .pair .qa {{ grid-template-columns: 1fr 1fr; }}</style>
"""
    return html_page(title="Code similarity", body=body)


def write_outputs(report: SimilarityReport, out_dir: Path) -> dict[str, Path]:
    """similarity.csv, similarity.html and (with a reference) similarity-reference.csv."""
    written = {}
    rows = [["student_a", "student_b", "exercise", "similarity"]]
    rows += [
        [_cell(p.student_a), _cell(p.student_b), p.exercise, f"{p.similarity:.4f}"]
        for p in report.pairs
    ]
    written["similarity_csv"] = out_dir / "similarity.csv"
    written["similarity_csv"].write_text(_csv(rows), encoding="utf-8", newline="")
    if report.reference_dir is not None:
        order = {name: index for index, name in enumerate(EXERCISES)}
        items = sorted(report.reference.items(), key=lambda i: (-i[1], order[i[0][1]], i[0][0]))
        rows = [["student", "exercise", "similarity"]]
        rows += [[_cell(s), e, f"{v:.4f}"] for (s, e), v in items]
        written["similarity_reference_csv"] = out_dir / "similarity-reference.csv"
        written["similarity_reference_csv"].write_text(_csv(rows), encoding="utf-8", newline="")
    written["similarity_html"] = out_dir / "similarity.html"
    written["similarity_html"].write_text(_html(report), encoding="utf-8")
    return written
