"""Signed JSON-lines messages from a grading child to the grader.

The child writes check results to an inherited pipe, not to stdout (which the
submission owns). Each line carries an HMAC under a key the grader sends on the
child's stdin before any submission code is imported, so a submission that
writes to the pipe cannot forge a passing result without reaching into the
grader's memory (which the integrity scan flags).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any


def sign(key: bytes, message: dict[str, Any]) -> bytes:
    """One line: ``<hex mac> <json>\\n``."""
    body = json.dumps(message, separators=(",", ":"), default=str)
    mac = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
    return f"{mac} {body}\n".encode()


def verify(key: bytes, line: bytes) -> dict[str, Any] | None:
    """The message of a correctly signed line, else None."""
    try:
        mac, body = line.decode().rstrip("\n").split(" ", 1)
    except (UnicodeDecodeError, ValueError):
        return None
    expected = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, expected):
        return None
    try:
        message = json.loads(body)
    except json.JSONDecodeError:
        return None
    return message if isinstance(message, dict) else None
