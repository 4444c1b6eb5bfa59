"""Untrusted text made displayable: one place for the rules every report format shares.

Students write the answers, and their code writes the text that ends up in check outputs. So
every string shown is stripped of terminal control characters, cut when very long, and
neutralised for Markdown (fenced blocks longer than any backtick run, markup characters
backslash-escaped). HTML escaping is the templates' autoescape (:mod:`autograder.reports.render`).
"""

from __future__ import annotations

from autograder.results.schema import is_number
from autograder.results.sinks import markdown_block, markdown_inline, terminal_text

__all__ = ["cut_text", "display_text", "format_points", "md_fence", "md_inline", "percent"]

display_text = terminal_text
"""Any JSON value as display text, with control characters made visible
(:func:`autograder.results.sinks.terminal_text`)."""

md_inline = markdown_inline
"""Untrusted text safe for one line of Markdown
(:func:`~autograder.results.sinks.markdown_inline`)."""

md_fence = markdown_block
"""Untrusted multi-line text as a fenced code block
(:func:`~autograder.results.sinks.markdown_block`)."""


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
