"""Untrusted text neutralised for the place it is written to: one function per sink.

Students control much of the text the tools write: module, folder and zip member names,
what their code prints, exception types and messages, written answers, the string constants
the static scan quotes, and (through a forged results file) every string in it; TA comments
come from a spreadsheet. Each sink gets that text through exactly one function here, so a
string can neither forge a line a TA or student reads as the grader's nor break the file:

==========================  ===========================================================
sink                        function
==========================  ===========================================================
a terminal, a log line      :func:`terminal_text`: control characters (ANSI escapes,
                            carriage return, backspace, NUL...), bidirectional and
                            invisible format characters shown as ``\\xNN`` / ``\\uNNNN``
Markdown, one line          :func:`markdown_inline`: newlines, headings, lists, quotes,
(GitHub, Gradescope)        tables, emphasis, links, images, raw HTML and entities
                            escaped; autolinked URLs, ``www.`` and ``@`` mentions broken
Markdown, a block           :func:`markdown_block`: a fenced code block no content closes
XML (JUnit)                 :func:`xml_text`: characters XML 1.0 forbids (NUL, form feed,
                            lone surrogates...) shown as ``\\xNN``; ElementTree escapes
                            the rest, newlines in attributes included
CSV (spreadsheets)          :func:`csv_cell`: a cell that would start a formula is quoted
HTML                        Jinja2's autoescape (:mod:`autograder.reports.render`)
==========================  ===========================================================

Standard library only: every layer (grading, results, reports, course tools) imports it.
"""

from __future__ import annotations

import json
import re
import unicodedata

__all__ = [
    "FORMULA_START",
    "csv_cell",
    "markdown_block",
    "markdown_inline",
    "terminal_text",
    "xml_text",
]

# C0 controls except tab and newline, DEL, C1 controls (CSI 0x9b starts an escape sequence
# on its own); then Unicode format characters that reorder or hide text on screen
# (bidirectional overrides and isolates, zero-width characters, line/paragraph separators).
_TERMINAL_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)
# Beyond those, any character that is not printable ASCII is looked up (:func:`_hidden`):
# every format, control, separator, surrogate or unassigned one (soft hyphen, the invisible
# "tag" characters that smuggle text past a reader, ...) and the blank fillers and variation
# selectors that draw nothing, so no text can be hidden in what a TA reads.
_NOT_PLAIN = re.compile("[^\t\n\x20-\x7e]")
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Cn", "Zl", "Zp"})
_BLANK = re.compile(
    "[\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]"
)

_XML_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# ``$`` too: GitHub renders ``$...$`` / ``$$...$$`` as math (big coloured text, a forged score)
_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~&$])")
_MD_LINE_START = re.compile(r"^([#+=-])|^(\d{1,9})([.)])(?=\s|$)")
# GitHub turns these into links (or notifications) in plain text; an escape inside each
# breaks the pattern while the text still reads the same. Every ``www.`` and every ``@``,
# wherever they stand: cmark-gfm links ``_www.x.com`` (after an escaped ``_``) and
# ``a@-b.com`` / ``a@_b.com`` (a domain may start with ``-`` or ``_``).
_MD_AUTOLINK = re.compile(r"(?i)(:)(//)|(www)(\.)|(@)")

_WORD_JOINER = "\u2060"  # invisible: "@\u2060name" reads as @name but mentions nobody

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula."""

# What a spreadsheet may drop before it looks for a formula: spaces (LibreOffice's and
# Sheets' "trim spaces" on import), other whitespace and quote marks; and the full-width
# forms of the formula characters, which some spreadsheets read as the ASCII ones.
_FORMULA_PREFIX = re.compile(
    r"""^[\s"'\u3000\ufeff]*[=+\-@\uff1d\uff0b\uff0d\uff20\u2212\ufe62\ufe63]"""
)


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _escape_hidden(match: re.Match[str]) -> str:
    char = match.group()
    if unicodedata.category(char) in _HIDDEN_CATEGORIES or _BLANK.match(char):
        return _escape_char(match)
    return char


def terminal_text(value: object) -> str:
    """Any JSON value as text safe to print: newlines and tabs kept, a carriage return made a
    newline (it could overwrite a line), every other control or format character escaped."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _TERMINAL_UNSAFE.sub(_escape_char, text)
    text = _NOT_PLAIN.sub(_escape_hidden, text)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")  # lone surrogates


def _break_autolink(match: re.Match[str]) -> str:
    if match[1]:
        return ":\\/\\/"
    if match[3]:
        return f"{match[3]}\\."
    return "@" + _WORD_JOINER


def markdown_inline(value: object) -> str:
    """Untrusted text as one line of Markdown (a table cell, a list item, a heading).

    Newlines become spaces; characters that could start markup, raw HTML, an entity, an
    image or a table cell boundary are backslash-escaped (GitHub's renderer honours every
    one); a line start that would make a heading, list or setext underline is escaped;
    ``http://``, ``www.`` and ``@name`` are broken so that nothing becomes a live link.
    """
    text = " ".join(terminal_text(value).split())
    text = _MD_INLINE.sub(r"\\\1", text)
    text = _MD_AUTOLINK.sub(_break_autolink, text)
    return _MD_LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", text)


def markdown_block(value: object, *, info: str = "text") -> str:
    """Untrusted multi-line text as a fenced code block that no content can close early
    (its fence is longer than any backtick run inside); nothing in it is rendered."""
    text = terminal_text(value)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def xml_text(value: object) -> str:
    """Text an XML 1.0 document may hold (element text or attribute value): each character
    XML forbids is shown as ``\\xNN`` / ``\\uNNNN``, and so is each that hides or reorders
    text (bidi overrides, tag characters: see :func:`terminal_text`), since CI pages show
    these messages; ElementTree escapes ``<&>"`` itself."""
    text = "" if value is None else value if isinstance(value, str) else str(value)
    text = _XML_FORBIDDEN.sub(_escape_char, text)
    return _NOT_PLAIN.sub(_escape_hidden, text)  # what CI pages show of it hides nothing


def csv_cell(value: object) -> str:
    """Text as a CSV cell a spreadsheet will not run as a formula (``'`` in front, what
    spreadsheets show as plain text; ``manual_grades`` strips it again on the way back)."""
    text = "" if value is None else value if isinstance(value, str) else str(value)
    return "'" + text if text[:1] in FORMULA_START or _FORMULA_PREFIX.match(text) else text
