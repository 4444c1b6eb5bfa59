"""Untrusted text made displayable: one place for the rules every report format shares.

Students write the answers, and their code writes the text that ends up in check outputs. So
every string shown is stripped of terminal control characters, cut when very long, and
neutralised for Markdown (fenced blocks longer than any backtick run, markup characters
backslash-escaped). HTML escaping is the templates' autoescape (:mod:`autograder.reports.render`).
"""

from __future__ import annotations

import json
import re

from autograder.results.schema import is_number

__all__ = ["cut_text", "display_text", "format_points", "md_fence", "md_inline", "percent"]

# C0 controls except tab and newline, DEL and C1 controls: a student's text could otherwise
# clear or recolour the TA's terminal when the Markdown is printed.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~&])")
_MD_LINE_START = re.compile(r"^([#+-])|^(\d{1,9})([.)])(?=\s|$)")


def display_text(value: object) -> str:
    """Any JSON value as display text, with control characters made visible."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL_CHARS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def cut_text(text: str, *, limit: int) -> tuple[str, int]:
    """``text`` cut to ``limit`` characters, and how many were left out."""
    if len(text) <= limit:
        return text, 0
    return text[:limit], len(text) - limit


def format_points(value: object) -> str:
    """Points without noise: 3 -> '3', 2.5 -> '2.5', 1/3 -> '0.33'."""
    number = float(value) if is_number(value) else 0.0
    return f"{number:.2f}".rstrip("0").rstrip(".") if number % 1 else f"{number:.0f}"


def percent(score: float, max_score: float) -> str:
    """'63%', or 'n/a' when there is no maximum (nothing graded)."""
    return f"{100 * score / max_score:.0f}%" if max_score else "n/a"


def md_inline(text: str) -> str:
    """Untrusted text made safe for one line of Markdown (a table cell, a list item, a heading).

    Newlines become spaces, and the characters that could start markup, raw HTML, an entity
    or a table cell boundary are backslash-escaped.
    """
    text = " ".join(display_text(text).split())
    text = _MD_INLINE.sub(r"\\\1", text)
    # A list item's text is parsed as blocks: "# x" would be a heading, "1. x" a nested list.
    return _MD_LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", text)


def md_fence(text: str, *, info: str = "text") -> str:
    """Untrusted multi-line text as a fenced code block no content can close early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"
