"""The validity bench's Markdown: false failures, figures against their bounds, both sides.

For :mod:`benchmarks.validity`: the honest runs' figures and the broken cases' failure
figures, each set against its tolerance, and per tolerance how much room is left on each side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from autograder.spec.settings import Tolerances
from benchmarks.grading_time import Spread
from benchmarks.validity import CASES, BrokenSummary, HonestSummary
from benchmarks.validity_quantities import QUANTITIES, REASON_QUANTITY, Quantity

# ---- Markdown -------------------------------------------------------------------------------


def _figure(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 0.1:
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    return f"{value:.2g}"


def _bounds_text(quantity: Quantity, tol: Tolerances) -> str:
    low, high = quantity.bounds(tol)
    if low is not None and high is not None:
        return f"{low:g} .. {high:g}"
    return f">= {low:g}" if low is not None else f"<= {high:g}"


def render_honest(summary: HonestSummary, tol: Tolerances) -> str:
    lines = [
        "| timing check | false failures |",
        "|---|---:|",
    ]
    for check in summary.checks:
        lines.append(f"| `{check.id}` | {summary.false_failures[check.id]}/{summary.runs} |")
    if summary.failure_notes:
        lines += ["", "False failures seen:", ""]
        lines += [f"- {note}" for note in summary.failure_notes]
    if summary.other_failures:
        lines += ["", "Non-timing checks that lost their status (should never happen):", ""]
        lines += [f"- {note}" for note in summary.other_failures]
    lines += [
        "",
        "Observed quantities, pooled over all runs (a check may record several per run). The "
        "margin is the room left at the worst observed value: for ratios a factor (bound / "
        "worst, or worst / lower bound; above 1 passes), for the slope and the relative error "
        "a difference (above 0 passes).",
        "",
        "| quantity | check | values | min | median | max | tolerance | worst-case margin |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for quantity in QUANTITIES:
        values = summary.values.get(quantity.key)
        if not values:
            continue
        spread = Spread.of(values)
        room, side = quantity.margin(values, tol)
        room_text = f"x{room:.2f}" if quantity.as_factor else f"{room:+.3f}"
        lines.append(
            f"| {quantity.label} | `{quantity.check}` | {spread.count} | "
            f"{_figure(spread.low)} | {_figure(spread.median)} | {_figure(spread.high)} | "
            f"{_bounds_text(quantity, tol)} | {room_text} ({side}) |"
        )
    return "\n".join(lines) + "\n"


def render_broken(summaries: Sequence[BrokenSummary], tol: Tolerances) -> str:
    by_key = {quantity.key: quantity for quantity in QUANTITIES}
    lines = [
        "| submission | timing check | must | failed | as expected | why it failed: reason "
        "(runs): figures min..max | fails by, worst run |",
        "|---|---|---|---:|---|---|---:|",
    ]
    for summary in summaries:
        for check_id, count in summary.failed.items():
            must = summary.expectation(check_id)
            reasons, beyond = [], []
            for reason, figures in summary.readings[check_id].items():
                numbers = [f for f in figures if f is not None]
                text = f"{reason} ({len(figures)})"
                if numbers:
                    text += f": {_figure(min(numbers))}..{_figure(max(numbers))}"
                    quantity = by_key.get(REASON_QUANTITY.get((check_id, reason), ""))
                    if quantity is not None:
                        amount = quantity.fails_by(numbers, tol)
                        beyond.append(f"x{amount:.2f}" if quantity.as_factor else f"{amount:+.3f}")
                reasons.append(text)
            lines.append(
                f"| `{summary.case}` | `{check_id}` | {must} | {count}/{summary.runs} | "
                f"{'yes' if summary.as_expected(check_id) else '**NO**'} | "
                f"{'; '.join(reasons) or '-'} | {', '.join(beyond) or '-'} |"
            )
    changed = [note for summary in summaries for note in summary.other_changes]
    lines += [
        "",
        "Bounds the figures are held to: per-step growth d=256 / d=1 <= "
        f"{tol.numpy_growth_max:g} (numpy) and >= {tol.python_growth_min:g} (pure Python); "
        "time_fn relative error <= "
        f"{tol.time_fn_rel_error:g}; claimed at least {tol.reported_ratio_min:g}x the judge's CPU "
        f"time and at most {tol.reported_ratio_max:g}x its wall time; reduction / xs.mean() <= "
        f"{tol.reduction_ratio_max:g}; serial slope within {tol.rnn_slope_min:g} .. "
        f"{tol.rnn_slope_max:g}. The number in brackets after a reason is how many runs "
        "failed for it. *Fails by* is how far beyond its bound the figure nearest to passing "
        "lies: a factor for ratios, a difference for the slope and the relative error. A "
        "failure without a figure (a replaced clock, a size never run) does not depend on any "
        "tolerance.",
        "",
        "Non-timing checks of these submissions that lost the reference's status: "
        f"{len(changed)}" + (":" if changed else "."),
    ]
    lines += [f"- {note}" for note in changed]
    return "\n".join(lines) + "\n"


# ---- each tolerance: both sides at once ----------------------------------------------------


@dataclass(frozen=True)
class BoundSides:
    """One tolerance key: the honest and the broken figures it must separate."""

    key: str  # Tolerances field
    bound: float
    upper: bool  # an upper bound (honest below it) or a lower one
    as_factor: bool
    honest: list[float]
    broken: dict[str, list[float]]  # case -> its failure figures held to this bound

    def honest_room(self) -> float | None:
        """Room at the worst honest figure (factor or difference; above 1 or 0 passes)."""
        if not self.honest:
            return None
        worst = max(self.honest) if self.upper else min(self.honest)
        return _room(worst, self.bound, self.upper, self.as_factor)

    def broken_room(self) -> float | None:
        """How far beyond the bound the broken figure nearest to it lies (same units)."""
        figures = [f for values in self.broken.values() for f in values]
        if not figures:
            return None
        nearest = min(figures) if self.upper else max(figures)
        return _room(self.bound, nearest, self.upper, self.as_factor)


def _room(low_side: float, high_side: float, upper: bool, as_factor: bool) -> float:
    """``high_side`` over ``low_side`` for an upper bound (reversed for a lower one)."""
    small, large = (low_side, high_side) if upper else (high_side, low_side)
    return large / small if as_factor and small > 0 else large - small


def tolerance_sides(
    honest: Sequence[HonestSummary], broken: Sequence[BrokenSummary], tol: Tolerances
) -> list[BoundSides]:
    """Per tolerance key, pooled honest figures and each must-fail case's failure figures."""
    by_key = {quantity.key: quantity for quantity in QUANTITIES}
    sides: dict[str, BoundSides] = {}

    def side(key: str, upper: bool, as_factor: bool) -> BoundSides:
        if key not in sides:
            sides[key] = BoundSides(key, getattr(tol, key), upper, as_factor, [], {})
        return sides[key]

    for quantity in QUANTITIES:
        for key, upper in ((quantity.lower, False), (quantity.upper, True)):
            if key is None:
                continue
            entry = side(key, upper, quantity.as_factor)
            for summary in honest:
                entry.honest.extend(summary.values.get(quantity.key, []))
    for summary in broken:
        must = CASES[summary.case].must_fail
        for check_id, reasons in summary.readings.items():
            if check_id not in must:
                continue
            for reason, figures in reasons.items():
                quantity = by_key.get(REASON_QUANTITY.get((check_id, reason), ""))
                if quantity is None:
                    continue
                low, high = quantity.bounds(tol)
                for figure in (f for f in figures if f is not None):
                    if high is not None and figure > high:
                        key = quantity.upper
                    elif low is not None and figure < low:
                        key = quantity.lower
                    else:
                        continue
                    entry = side(key, key == quantity.upper, quantity.as_factor)
                    entry.broken.setdefault(summary.case, []).append(figure)
    return list(sides.values())


def render_tolerances(sides: Sequence[BoundSides]) -> str:
    """One row per tolerance key: honest range, broken ranges, the bound and both margins."""

    def room(value: float | None, as_factor: bool) -> str:
        if value is None:
            return "-"
        return f"x{value:.2f}" if as_factor else f"{value:+.3f}"

    lines = [
        "| key | bound | honest: min..max | broken (must fail): case min..max | honest margin "
        "| broken margin | separates? |",
        "|---|---:|---|---|---:|---:|---|",
    ]
    for entry in sides:
        honest = (
            f"{_figure(min(entry.honest))}..{_figure(max(entry.honest))}" if entry.honest else "-"
        )
        broken = "; ".join(
            f"`{case}` {_figure(min(values))}..{_figure(max(values))}"
            for case, values in entry.broken.items()
        )
        honest_room, broken_room = entry.honest_room(), entry.broken_room()
        passes = 1.0 if entry.as_factor else 0.0
        if honest_room is None:
            verdict = "no honest figure"
        elif honest_room <= passes:
            verdict = "**no: honest figures reach the bound**"
        elif broken_room is None:
            verdict = "yes on the honest side; no broken figure beyond it"
        elif broken_room <= passes:
            verdict = "**no**"
        else:
            verdict = "yes"
        lines.append(
            f"| `{entry.key}` | {'<=' if entry.upper else '>='} {entry.bound:g} | {honest} | "
            f"{broken or '-'} | {room(honest_room, entry.as_factor)} | "
            f"{room(broken_room, entry.as_factor)} | {verdict} |"
        )
    lines += [
        "",
        "Honest: the reference and `other_styles` under load (section 4), pooled. Broken: the "
        "figures in the failure messages of the cases that must fail the check, held to this "
        "bound (a failure without a figure, or for another reason, is not listed). Margins as "
        "in the tables above: a factor for ratios, a difference for the slope and the relative "
        "error; a margin above 1 (or 0) on both sides means the bound separates the two.",
    ]
    return "\n".join(lines) + "\n"
