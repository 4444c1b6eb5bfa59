"""What a worker's reply can do to a check, judge side: give it a value, or fail it with why.

Runs in the judge. A reply is only ever read through :func:`reply_value`: its fields are
checked, the submission's exception becomes :class:`SubmissionError` (or
:class:`NotImplementedYet` for a stub), a missing name :class:`CheckFailed`, and a value is
decoded by :func:`protocol.decode`. Nothing else.
"""

from __future__ import annotations

from typing import Any

from autograder.grading.judge.verdicts import CheckFailed, NotImplementedYet, SubmissionError
from autograder.grading.worker import protocol

REPLY_KEYS = {"id", "value", "raised", "missing", "not_callable", "error", "log"}
RAISED_KEYS = {"type", "mro", "message", "where", "exit_code"}


def checked_raised(raised: Any) -> dict[str, Any]:
    """A reply's exception report, if well formed; else the reply broke the protocol."""
    if type(raised) is not dict or set(raised) - RAISED_KEYS:
        raise SubmissionError("the worker's reply has a malformed exception")
    return raised


def reply_value(reply: dict[str, Any], buffers: list[bytes], *, name: str) -> Any:
    """The decoded value of a reply, or the exception that decides the check instead."""
    if "raised" in reply:
        raised = checked_raised(reply["raised"])
        if "NotImplementedError" in (raised.get("mro") or ()):
            text = str(raised.get("message", ""))[:500]
            if not text:
                text = (
                    f"{name} still raises NotImplementedError "
                    "(replace `# YOUR CODE HERE` and the raise)"
                )
            raise NotImplementedYet(
                text if "not implemented yet" in text else f"not implemented yet: {text}"
            )
        classes = raised.get("mro")
        names = tuple(str(c)[:80] for c in classes[:32]) if type(classes) is list else ()
        raise SubmissionError(describe_raised(raised), raised=names)
    if "missing" in reply:
        raise CheckFailed(f"the submission does not define {name}")
    if "not_callable" in reply:
        raise CheckFailed(f"{name} should be a function, got {str(reply['not_callable'])[:80]}")
    if "error" in reply:
        raise SubmissionError(f"the worker could not answer: {str(reply['error'])[:300]}")
    if "value" not in reply:
        raise SubmissionError("the worker's reply has no value")
    try:
        return protocol.decode(reply["value"], buffers)
    except protocol.ProtocolError as error:
        raise SubmissionError(f"{name} returned a value that cannot be read: {error}") from None


def describe_raised(raised: Any) -> str:
    """``Type: message (at file:line in function)`` from a worker's exception report."""
    if type(raised) is not dict:
        return "an exception the worker could not describe"
    kind = str(raised.get("type", "Exception"))[:80]
    message = str(raised.get("message", ""))
    message = message if len(message) <= 500 else message[:500] + "..."
    where = str(raised.get("where") or "")[:120]
    where = f" (at {where})" if where and "line" not in where else (f" ({where})" if where else "")
    if kind == "SystemExit":
        code = str(raised.get("exit_code"))[:40]
        return f"SystemExit({code}): the submission called sys.exit{where}"
    return f"{kind}: {message}{where}"
