"""Any results document as strict JSON in valid UTF-8, whatever a submission put in it.

A document carries strings and numbers that came from a submission: written answers,
messages, file names, the judge's records of reported timings. Some cannot be written
as they are: NaN and infinities are not JSON (``json.dumps`` would write bare ``NaN``
tokens), and a lone surrogate (``"\\ud800"``, or a file name that is not UTF-8, which
Python decodes to ``"\\udcff"``) is not UTF-8. :func:`strict_copy` returns a copy where
each such number is the string ``"nan"``, ``"inf"`` or ``"-inf"`` and each such
character its ``\\uXXXX`` escape as text, with a note per replaced number, so the writer
can use ``allow_nan=False`` and never fail on what a submission sends. Reading is as strict:
:func:`strict_loads` refuses the bare ``NaN`` and ``Infinity`` tokens a writer never writes.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 64  # deeper values are replaced by a marker (the grader's own nest a few levels)
MAX_NOTES = 20


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def strict_loads(raw: bytes | str) -> Any:
    """JSON as :func:`json.loads` reads it, less ``NaN``, ``Infinity`` and ``-Infinity``
    (ValueError, like any other text that is not JSON or not UTF-8)."""
    return json.loads(raw, parse_constant=_refuse_constant)


def clean_text(text: str) -> str:
    """``text`` with every character UTF-8 cannot hold (lone surrogates) as its escape."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def strict_copy(value: Any) -> tuple[Any, list[str]]:
    """(a copy of ``value`` that ``json.dumps(allow_nan=False)`` writes as UTF-8, notes).

    Each note names where a non-finite number was written as a string.
    """
    notes: list[str] = []
    return _clean(value, "$", notes, 0), notes


def _clean(value: Any, where: str, notes: list[str], depth: int) -> Any:
    if depth > MAX_DEPTH:
        return "<nested too deep to write>"
    if value is None or type(value) is bool:
        return value
    if isinstance(value, str):
        return clean_text(str(value))
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        number = float(value)
        if math.isfinite(number):
            return number
        if len(notes) < MAX_NOTES:
            notes.append(f"{clean_text(where)[:200]}: {number!r} written as a string")
        return repr(number)
    if isinstance(value, dict):
        cleaned = {}
        for key, item in value.items():
            name = clean_text(key if isinstance(key, str) else str(key))
            cleaned[name] = _clean(item, f"{where}.{name}", notes, depth + 1)
        return cleaned
    if isinstance(value, list | tuple):
        return [_clean(item, f"{where}[{i}]", notes, depth + 1) for i, item in enumerate(value)]
    return clean_text(str(value))
