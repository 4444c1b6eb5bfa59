"""How findings and tamper are shown, in the integrity section of the report and in
``collect``'s class summary: one wording, whichever page a TA reads."""

from __future__ import annotations

from autograder.reports.text import display_text
from autograder.results.schema import Finding, Tamper

__all__ = ["finding_line", "tamper_line"]


def finding_line(finding: Finding) -> tuple[str, str, str]:
    """(where, construct, why) of one finding; where is ``file:line`` (the exercise when the
    file is unknown, ``?`` when both are)."""
    where = display_text(finding["file"]) or display_text(finding["exercise"]) or "?"
    if finding["line"] is not None:
        where += f":{finding['line']}"
    return where, display_text(finding["construct"]), display_text(finding["why"])


def tamper_line(entry: Tamper | str) -> str:
    """``"modified: path"`` for one tamper entry (older files list plain strings, kept)."""
    if isinstance(entry, str):
        return display_text(entry)
    return f"{display_text(entry['change']) or 'changed'}: {display_text(entry['path'])}"
