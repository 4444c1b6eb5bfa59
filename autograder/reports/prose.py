"""A written answer as prose to read: paragraphs reflowed, list items kept on their own line.

Answers arrive with the line breaks of the editor they were typed in (often at 72 or 80
characters). Shown as ``pre-wrap`` in a narrower box, every such line wraps again: ragged
text, cut off until scrolled. :func:`paragraphs` splits the text on blank lines and joins a
paragraph's lines, except a line that starts a list item or is indented (code), which keeps
its own line. The template escapes every piece (autoescape): this only splits text.
"""

from __future__ import annotations

import re

__all__ = ["paragraphs"]

_OWN_LINE = re.compile(r"^(\s{2,}|\t|[-*+•]\s|\d{1,3}[.)]\s)")


def paragraphs(text: str) -> list[list[str]]:
    """``text`` as paragraphs, each a list of display lines (joined lines, list items apart)."""
    result = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        lines: list[str] = []
        for raw in block.split("\n"):
            if not raw.strip():
                continue
            if lines and not _OWN_LINE.match(raw):
                lines[-1] = f"{lines[-1]} {raw.strip()}"
            else:
                lines.append(raw.rstrip() if _OWN_LINE.match(raw) else raw.strip())
        if lines:
            result.append(lines)
    return result
