"""The class's score distribution as a PNG (``score-distribution.png``, embedded in the HTML)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["score_histogram"]


def score_histogram(percents: list[float], path: Path) -> bytes:
    """Write the histogram of ``percents`` (one per student, of max; past 100 is extra credit)
    to ``path`` and return its PNG bytes."""
    from matplotlib.figure import Figure  # imported here: only this view needs matplotlib
    from matplotlib.ticker import MaxNLocator

    clipped = [min(max(p, 0.0), 119.9) for p in percents]
    figure = Figure(figsize=(7, 3.2), dpi=100)
    axes = figure.add_subplot()
    axes.hist(clipped, bins=list(range(0, 130, 10)), color="#3b6fb6", edgecolor="white")
    axes.axvline(100, color="#888888", linestyle="--", linewidth=1)
    axes.set_xlabel("score, % of max (past 100: extra credit)")
    axes.set_ylabel("students")
    axes.set_title(f"Score distribution ({len(percents)} students)")
    axes.set_xticks(list(range(0, 130, 10)))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # whole students
    figure.tight_layout()
    figure.savefig(path, format="png")
    return path.read_bytes()
