"""``collect --deadlines``: per student, the graded state of record and its late penalty.

Each of collect's DIRs may hold one fetch of the class (``graded/due``, ``graded/late``); a
student found under several is one :class:`~autograder.course.collect.deadlines.Attempt` per state.
A state's time is the fetch record ``regrade`` put inside the signed results
(``extra_data.fetch``), trusted only when the signature verifies (or the TA counts unverified
results): a hand-made results file cannot claim an earlier fetch.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from autograder.course.collect.collected import StudentRecord
from autograder.course.collect.deadlines import Attempt, Deadlines, Decision, decide
from autograder.results import provenance
from autograder.results.rescore import score_from_registry
from autograder.results.schema import ResultsFileError, load_results_as_written, normalise_results
from autograder.spec.paths import SUBMISSION_FOLDER

__all__ = ["apply_decision", "attempt_of", "choose_state"]


def _fetch(written: dict, trusted: bool) -> tuple[datetime | None, str]:
    extra = written.get("extra_data")
    fetch = extra.get("fetch") if trusted and isinstance(extra, dict) else None
    if not isinstance(fetch, dict):
        return None, ""
    try:
        fetched_at = datetime.fromisoformat(str(fetch.get("fetched_at")))
    except ValueError:
        return None, ""
    if fetched_at.tzinfo is None:
        return None, ""
    return fetched_at, str(fetch.get("commit", ""))[:64]


def attempt_of(
    path: Path, *, student: str, key: bytes | None, count_unverified: bool
) -> Attempt | None:
    """One graded state: its fetch time (when trusted) and automatic score, or None when the
    file cannot be read (collect reports it when it is the one used)."""
    try:
        written = load_results_as_written(path=path)
        document = normalise_results(written)
    except ResultsFileError:
        return None
    beside = path.parent / SUBMISSION_FOLDER
    verification = provenance.verify(
        written,
        key=key,
        student=student,
        submission=provenance.submission_sha256(beside) if beside.is_dir() else None,
    )
    for result in document["tests"]:
        result["ta_grade"] = None  # states are compared on their automatic scores
    document, _ = score_from_registry(document)
    fetched_at, commit = _fetch(written, verification.verified or count_unverified)
    return Attempt(path, fetched_at, commit, float(document["score"]), float(document["max_score"]))


def choose_state(
    student: str,
    paths: list[Path],
    deadlines: Deadlines,
    *,
    key: bytes | None,
    count_unverified: bool,
) -> Decision | None:
    """The state of record among ``paths`` (one student's results files), or None when none
    can be read."""
    attempts = [
        attempt
        for path in paths
        if (
            attempt := attempt_of(path, student=student, key=key, count_unverified=count_unverified)
        )
    ]
    return decide(attempts, deadlines, student) if attempts else None


def apply_decision(record: StudentRecord, decision: Decision | None, deadlines: Deadlines) -> None:
    """The gradebook's duedate, timestamp (fetch time) and penalty on ``record``: the
    decision's percent taken off the final score (TA scores included), never below 0."""
    record.duedate = deadlines.due(record.student_id).isoformat()
    if decision is None or decision.attempt.path != record.results_path:
        record.late_note = "no fetch record: lateness unknown, no penalty"
        return
    if decision.attempt.fetched_at is not None:
        record.fetched_at = decision.attempt.fetched_at.isoformat()
    record.penalty = min(record.score, decision.percent / 100 * record.max_score)
    record.late_note = decision.note
