"""``regrade``'s progress on stderr: students done, failures, gradings running and an ETA."""

from __future__ import annotations

import sys
from typing import IO

from autograder.course.regrade.students import Outcome
from autograder.results.sinks import terminal_text

__all__ = ["Progress"]


class Progress:
    """done/total, failures and ETA on stderr: one updating line on a TTY, else plain lines."""

    def __init__(self, *, total: int, jobs: int, stream: IO[str] | None = None) -> None:
        self.total, self.jobs = total, jobs
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.done = self.failed = 0
        self.graded_seconds: list[float] = []
        self.shown = False

    def eta(self) -> str:
        left = self.total - self.done
        if not left:
            return "0:00"
        if not self.graded_seconds:
            return "?"
        mean = sum(self.graded_seconds) / len(self.graded_seconds)
        seconds = int(mean * -(-left // self.jobs))
        return f"{seconds // 60}:{seconds % 60:02d}"

    def line(self, running: int) -> str:
        return (
            f"regrade: {self.done}/{self.total} done, {self.failed} failed, {running} running, "
            f"ETA {self.eta()}"
        )

    def record(self, outcome: Outcome, running: int) -> None:
        self.done += 1
        self.failed += outcome.status == "failed"
        if outcome.status == "graded":
            self.graded_seconds.append(outcome.seconds)
        what = {"graded": f"graded in {outcome.seconds:.1f} s", "skipped": "up to date"}.get(
            outcome.status, f"FAILED: {terminal_text(outcome.reason)}"
        )
        student = terminal_text(outcome.student)  # a folder name: the student chose it
        if self.tty:
            if outcome.status == "failed":
                self._write(f"\r\x1b[K{student}: {what}\n")
            self.show(running)
        else:
            self._write(f"[{self.done}/{self.total}] {student}: {what} ({self.line(running)})\n")

    def show(self, running: int) -> None:
        if self.tty:
            self._write(f"\r\x1b[K{self.line(running)}")
            self.shown = True

    def close(self) -> None:
        if self.tty and self.shown:
            self._write("\n")

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
