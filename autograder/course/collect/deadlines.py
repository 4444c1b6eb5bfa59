"""Deadlines and the late policy: which graded state is the score of record, and its penalty.

A course sets them in one instructor file (TOML), for example::

    deadline = 2026-12-11T23:59:00Z    # with a time zone
    grace_minutes = 15                 # a fetch up to 15 min after the deadline is on time
    extensions = "extensions.csv"      # optional: student,deadline (relative to this file)

    [late]
    penalty_per_day = 10   # percent of max_score per day (or part of one) after the deadline
    cap = 50               # never more than this percent
    record = "best"        # "best": the better of on time and late-with-penalty;
                           # "on-time": the on-time state whenever there is one

Commit dates decide nothing (a student sets them): a state's time is when the instructor's
``fetch`` took it, recorded by ``fetch`` and carried by ``regrade`` into the signed results
(``extra_data.fetch``). ``collect --deadlines FILE`` then picks, per student, among the
states found under its DIRs (one folder per fetch, e.g. ``graded/due`` and ``graded/late``).
"""

from __future__ import annotations

import csv
import io
import math
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

__all__ = [
    "RECORD_POLICIES",
    "Attempt",
    "Deadlines",
    "DeadlinesError",
    "Decision",
    "LatePolicy",
    "decide",
    "load_deadlines",
    "parse_time",
]

RECORD_POLICIES = ("best", "on-time")


class DeadlinesError(ValueError):
    """The instructor's deadline file or extensions file cannot be used (a usage error)."""


def parse_time(value: object, where: str) -> datetime:
    """A TOML datetime or ISO 8601 text, which must name its time zone."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError as error:
            raise DeadlinesError(f"{where}: not an ISO 8601 time: {value!r}") from error
    if not isinstance(value, datetime):
        raise DeadlinesError(f"{where}: not a date and time: {value!r}")
    if value.tzinfo is None:
        raise DeadlinesError(f"{where}: give a time zone (e.g. Z or +01:00): {value.isoformat()}")
    return value


@dataclass(frozen=True)
class LatePolicy:
    """Penalty per started day late and its cap, in percent of max_score; which state counts."""

    penalty_per_day: float = 0.0
    cap: float = 100.0
    record: str = "best"

    def percent(self, late_by: timedelta) -> float:
        """The penalty in percent for a state fetched ``late_by`` after the deadline."""
        if late_by <= timedelta(0):
            return 0.0
        days = math.ceil(late_by / timedelta(days=1))
        return min(self.cap, self.penalty_per_day * days)


@dataclass(frozen=True)
class Deadlines:
    """The course's deadline, grace, late policy and per-student extensions."""

    deadline: datetime
    grace: timedelta = timedelta(0)
    policy: LatePolicy = LatePolicy()
    extensions: dict[str, datetime] = field(default_factory=dict)

    def due(self, student: str) -> datetime:
        """The student's deadline: their extension when they have one."""
        return self.extensions.get(student, self.deadline)


@dataclass(frozen=True)
class Attempt:
    """One graded state of a student's repository: when it was fetched, and its points."""

    path: Path
    fetched_at: datetime | None  # None: no fetch record, lateness unknown
    commit: str
    score: float
    max_score: float


@dataclass(frozen=True)
class Decision:
    """The state of record, its penalty in points and the policy as applied, in words."""

    attempt: Attempt
    penalty: float
    note: str
    percent: float = 0.0  # the penalty in percent of max_score


def _late_by(attempt: Attempt, due: datetime, grace: timedelta) -> timedelta:
    if attempt.fetched_at is None or attempt.fetched_at <= due + grace:
        return timedelta(0)
    return attempt.fetched_at - due


def _penalty(attempt: Attempt, deadlines: Deadlines, due: datetime) -> tuple[float, float]:
    """(percent, points) taken off ``attempt``; never more points than it scored."""
    percent = deadlines.policy.percent(_late_by(attempt, due, deadlines.grace))
    return percent, min(attempt.score, percent / 100 * attempt.max_score)


def decide(attempts: list[Attempt], deadlines: Deadlines, student: str) -> Decision:
    """The score of record among one student's graded states (``attempts``, any order)."""
    if not attempts:
        raise ValueError("no attempt to decide between")
    due = deadlines.due(student)
    ordered = sorted(attempts, key=lambda a: (a.fetched_at is None, a.fetched_at or due))
    on_time = [a for a in ordered if _late_by(a, due, deadlines.grace) == timedelta(0)]
    if deadlines.policy.record == "on-time" and on_time:
        chosen = on_time[-1]  # the last state fetched by the deadline
    else:  # best, or on-time with nothing on time: the best score after penalty
        chosen = max(ordered, key=lambda a: a.score - _penalty(a, deadlines, due)[1])
    percent, points = _penalty(chosen, deadlines, due)
    if chosen.fetched_at is None:
        note = "no fetch record: lateness unknown, no penalty"
    elif percent:
        late = chosen.fetched_at - due
        note = (
            f"fetched {chosen.fetched_at.isoformat()}, {math.ceil(late / timedelta(days=1))} "
            f"day(s) after the deadline {due.isoformat()}: -{percent:g}% "
            f"(-{points:g} points; {deadlines.policy.penalty_per_day:g}%/day, "
            f"cap {deadlines.policy.cap:g}%)"
        )
    else:
        note = f"on time (fetched {chosen.fetched_at.isoformat()}, due {due.isoformat()})"
    if len(attempts) > 1:
        note += f"; {deadlines.policy.record} of {len(attempts)} fetched states"
    return Decision(chosen, points, note, percent)


def _extensions(path: Path) -> dict[str, datetime]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise DeadlinesError(f"extensions: cannot read {path}: {error}") from error
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not {"student", "deadline"} <= set(reader.fieldnames or []):
        raise DeadlinesError(f"extensions: {path} needs the columns student,deadline")
    moved = {}
    for number, row in enumerate(reader, start=1):
        student = (row["student"] or "").strip()
        moved[student] = parse_time(row["deadline"], f"extensions record {number} ({student})")
    return moved


def load_deadlines(path: Path, *, extensions: Path | None = None) -> Deadlines:
    """The instructor's file; ``extensions`` (CSV ``student,deadline``) overrides the file's."""
    path = Path(path)
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise DeadlinesError(f"cannot read {path}: {error}") from error
    if "deadline" not in config:
        raise DeadlinesError(f"{path}: no 'deadline'")
    late = config.get("late", {})
    policy = LatePolicy(
        penalty_per_day=float(late.get("penalty_per_day", 0)),
        cap=float(late.get("cap", 100)),
        record=str(late.get("record", "best")),
    )
    if policy.record not in RECORD_POLICIES:
        raise DeadlinesError(f"{path}: late.record must be one of {', '.join(RECORD_POLICIES)}")
    if not (policy.penalty_per_day >= 0 and 0 <= policy.cap <= 100):
        raise DeadlinesError(f"{path}: late.penalty_per_day >= 0 and 0 <= late.cap <= 100")
    grace = float(config.get("grace_minutes", 0))
    if not grace >= 0:
        raise DeadlinesError(f"{path}: grace_minutes must be >= 0")
    if extensions is None and config.get("extensions"):
        extensions = path.parent / str(config["extensions"])
    return Deadlines(
        deadline=parse_time(config["deadline"], f"{path}: deadline"),
        grace=timedelta(minutes=grace),
        policy=policy,
        extensions=_extensions(Path(extensions)) if extensions is not None else {},
    )
