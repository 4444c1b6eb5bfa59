"""The exceptions a judge-side check raises; the judge maps each to a verdict.

Only the judge raises these. A worker's reply can make a check raise
:class:`SubmissionError` (the submission's code failed) and nothing else.
"""

from __future__ import annotations


class CheckFailed(AssertionError):
    """A check's verdict: the message says what was expected, what came back, on which input.

    ``hint`` replaces the registry's hint when the check knows which mistake it measured.
    """

    def __init__(self, message: str = "", *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class Pending(Exception):
    """The check cannot be decided here (needs a GPU or a TA)."""


class SubmissionError(Exception):
    """The submission's own code failed: raised, exited, hung, crashed or could not be imported.

    ``raised`` names the builtin exception classes the submission raised (``ValueError``,
    ``Exception``...), empty when it did not raise; a check that expects an exception reads it.
    """

    def __init__(self, message: str = "", *, raised: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.raised = raised


class NotImplementedYet(SubmissionError):
    """The submission's function still raises NotImplementedError (the stub)."""
