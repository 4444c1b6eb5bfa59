"""Reading a matplotlib figure from the SVG the worker rendered: its lines, labels, legend.

Runs in the judge, which never imports matplotlib for a check: the worker renders the figure
a submission returned as SVG text (``svg.fonttype`` none, so labels stay text), and this module
parses it with defusedxml. A curve counts when one ``line2d_`` path of an ``axes_`` group has a
vertex per row and lies on a straight line against log n and log y (a log-log plot of exactly
the rows passed in).
"""

from __future__ import annotations

import math
import re
import statistics

from defusedxml import ElementTree

from autograder.grading.judge.verdicts import CheckFailed

SVG_NS = "{http://www.w3.org/2000/svg}"

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _path_points(d: str) -> list[tuple[float, float]] | None:
    """Vertices of an SVG path made of M/L commands only (a polyline), else None."""
    if not re.fullmatch(r"[\sMLml0-9eE.+\-]*", d) or "m" in d or "l" in d:
        return None
    numbers = [float(v) for v in _NUMBER.findall(d)]
    if len(numbers) % 2:
        return None
    return list(zip(numbers[0::2], numbers[1::2], strict=True))


def _affine_fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """(slope, worst residual as a share of the y range) of ys against xs."""
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / den
    span = max(ys) - min(ys) or 1.0
    worst = max(abs(mean_y + slope * (x - mean_x) - y) for x, y in zip(xs, ys, strict=True))
    return slope, worst / span


def _groups(root, prefix: str):
    return [g for g in root.iter(f"{SVG_NS}g") if (g.get("id") or "").startswith(prefix)]


def _texts(element) -> list[str]:
    return ["".join(t.itertext()).strip() for t in element.iter(f"{SVG_NS}text")]


def inspect_svg(svg: bytes, rows: list[dict], *, curves: tuple[str, ...]) -> None:
    """Log-log axes with a line per key of ``curves`` (``rows``' values against ``n``), axis
    labels and a legend, read from the SVG; else :class:`CheckFailed` says what is missing."""
    try:
        root = ElementTree.fromstring(svg)
    except Exception as error:
        raise CheckFailed(f"the figure's SVG could not be read ({type(error).__name__})") from None
    ns = [math.log(float(r["n"])) for r in rows]
    wanted = {key: [math.log(float(r[key])) for r in rows] for key in curves}
    found: set[str] = set()
    labelled_axes = False
    for axes in _groups(root, "axes_"):
        for child in axes:
            if not (child.get("id") or "").startswith("line2d_"):
                continue
            for path in child.iter(f"{SVG_NS}path"):
                points = _path_points(path.get("d") or "")
                if not points or len(points) != len(rows):
                    continue
                px, py = [p[0] for p in points], [p[1] for p in points]
                x_slope, x_error = _affine_fit(ns, px)
                if x_slope <= 0 or x_error > 0.01:
                    continue  # x is not log n on a log axis
                for key, values in wanted.items():
                    y_slope, y_error = _affine_fit(values, py)
                    if y_slope < 0 and y_error <= 0.01:
                        found.add(key)
        axis_labels = [
            text
            for axis in _groups(axes, "matplotlib.axis_")
            for child in axis
            if (child.get("id") or "").startswith("text_")
            for text in _texts(child)
            if text
        ]
        labelled_axes = labelled_axes or len(axis_labels) >= 2
    missing = [key for key in wanted if key not in found]
    if missing:
        raise CheckFailed(
            f"no line plots {', '.join(missing)} against n on log-log axes (the rows passed in)"
        )
    if not labelled_axes:
        raise CheckFailed("both axes need labels (ax.set_xlabel / ax.set_ylabel)")
    legends = [_texts(legend) for legend in _groups(root, "legend_")]
    if not any(len([t for t in texts if t]) >= 2 for texts in legends):
        raise CheckFailed("the plot needs a legend naming both curves")
