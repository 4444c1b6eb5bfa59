"""A grading's turn: one exercise's judge works at a time, except while one waits.

A grading's exercises each have a judge. Run one after another, a judge that waits for
another grading's timed window (:mod:`.device_lease`) left its core idle: on a machine
grading several students at once (``regrade --jobs``, several runners), up to a sixth of
the time. So ``grade`` starts the next exercise's judge while every judge already started
is waiting (:mod:`autograder.grading.schedule`), and the judges share the *turn*: an
exclusive ``flock`` on one file in the grading's private temporary folder.

A judge takes the turn as it starts, hands it over as it begins to wait for a device lease,
and takes it back when it releases that lease (waiting, if a sibling has it, until the
sibling waits or ends). So at most one judge of a grading does untimed work at a time, and
a timed window needs no turn: it holds the lease, alone on the machine. With no other
grading on the machine no lease wait happens, so no turn is handed over and the exercises
run one after another, as before. The kernel releases the lock when its holder exits.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable
from contextlib import AbstractContextManager

TURN_FILE = "turn"  # in the grading's own temporary folder (mode 0700, the grader's)

Waiting = Callable[[], AbstractContextManager[object]]
"""A context for the time a judge waits (its time limits stop for it)."""


class Turn:
    """This judge's share of its grading's turn."""

    def __init__(self, path: str) -> None:
        # never a link, and never inherited by a worker (O_CLOEXEC)
        self.fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        self.held = False

    def take(self, waiting: Waiting) -> None:
        """Hold the turn; if a sibling holds it, wait inside ``waiting()`` until it is free."""
        if self.held:
            return
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            with waiting():
                fcntl.flock(self.fd, fcntl.LOCK_EX)
        self.held = True

    def hand_over(self) -> None:
        """Let a sibling judge work while this one waits."""
        if self.held:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            self.held = False

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)
        self.held = False


def create_turn_file(folder: str) -> str:
    """The turn's file in ``folder`` (a fresh private folder of the grading)."""
    path = os.path.join(folder, TURN_FILE)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
    return path
