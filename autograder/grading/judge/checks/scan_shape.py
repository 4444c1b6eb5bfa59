"""What a scan's measured depth and work say about its schedule, and the hint that fits.

Judge-side, pure functions over the judge's own measurements ({n: depth}, {n: work}). A
check measures at several lengths (small ones and at least one above 1,000), then
:func:`classify_depth` names what it saw: Hillis-Steele's rounds exactly, another
logarithmic schedule (a work-efficient Blelloch/Brent-Kung scan is about 2 log2 n deep),
something deeper than any standard log-depth scan, polylogarithmic, a power of n (a blocked
scan), or linear (a serial scan). The message names the depth measured at each length and
what the exercise asks for; the hint is the one for that kind, never one the measurement
ruled out.

Bounds, in units of one round (one ``op`` for the medium, one ``combine`` for the
challenge): a standard log-depth scan is at most ``2 * ceil(log2 n) + 2`` units deep at
every n, and grows by at most ``2 * (extra rounds) + 2`` units between the smallest and
the largest length above 64. Hillis-Steele and divide and conquer are ``ceil(log2 n)``,
Brent-Kung ``2 log2 n - 2``, Blelloch made inclusive ``2 log2 n - 1``: all inside; a serial
or square-root-blocked scan is far outside at n = 1,000.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "HINTS",
    "DepthShape",
    "classify_depth",
    "classify_work",
    "depth_table",
    "log_depth_bound",
    "rounds",
]

GROWTH_FROM = 64  # the length growth is measured from (a length every check traces)


def rounds(n: int) -> int:
    """Hillis-Steele's rounds on n elements: ceil(log2 n), 0 for n <= 1 (integer arithmetic)."""
    return (n - 1).bit_length() if n > 1 else 0


def log_depth_bound(n: int, unit: int = 1) -> int:
    """The most depth a standard log-depth scan reaches on n elements: 2 ceil(log2 n) + 2."""
    return unit * (2 * rounds(n) + 2)


def depth_table(measured: Mapping[int, int]) -> str:
    """``n=2: 1, n=3: 2, ...``: what was measured at each length."""
    return ", ".join(f"n={n}: {depth}" for n, depth in sorted(measured.items()))


@dataclass(frozen=True)
class DepthShape:
    """What the measured depths look like: ``kind`` and a sentence that says it."""

    kind: str  # "rounds", "logarithmic", "deep_logarithmic", "polylog", "power", "linear"
    summary: str

    @property
    def logarithmic(self) -> bool:
        """Any standard log-depth scan (what the challenge accepts)."""
        return self.kind in ("rounds", "logarithmic")


def _per_log(measured: Mapping[int, int], unit: int) -> float:
    largest = max(measured)
    return measured[largest] / unit / max(1.0, math.log2(largest))


def classify_depth(measured: Mapping[int, int], *, unit: int = 1) -> DepthShape:
    """Name the schedule behind depths measured at several lengths (``unit`` deep per round)."""
    lengths = sorted(n for n in measured if n >= 2)
    if not lengths:
        raise ValueError("no length of 2 or more was measured")
    largest = lengths[-1]
    if all(measured[n] == unit * rounds(n) for n in lengths):
        return DepthShape("rounds", "ceil(log2 n) rounds at every length: Hillis-Steele's depth")
    if measured[largest] >= unit * (largest - 1) / 2:
        return DepthShape(
            "linear",
            f"the depth grows like n ({measured[largest]} at n={largest}): a chain as long as "
            "the input, the depth of a serial scan",
        )
    within = all(measured[n] <= log_depth_bound(n, unit) for n in lengths)
    small = next((n for n in lengths if n >= GROWTH_FROM), lengths[0])
    growth = measured[largest] - measured[small]
    allowed = unit * (2 * (rounds(largest) - rounds(small)) + 2)
    per_log = _per_log(measured, unit)
    if within and growth <= allowed:
        return DepthShape(
            "logarithmic",
            f"the depth grows logarithmically, about {per_log:.1f} log2 n: another log-depth "
            "schedule, such as a work-efficient (Blelloch/Brent-Kung) scan",
        )
    return _faster_than_log(measured, small, largest, unit, per_log)


def _faster_than_log(
    measured: Mapping[int, int], small: int, largest: int, unit: int, per_log: float
) -> DepthShape:
    """The nearest growth model between two lengths, for a depth no standard scan reaches."""
    ratio = max(measured[largest], 1) / max(measured[small], 1)
    log_ratio = math.log2(largest) / math.log2(small) if small > 1 else float(largest)
    models = {
        "deep_logarithmic": log_ratio,
        "polylog": log_ratio**2,
        "power": math.sqrt(largest / small),
    }
    kind = min(models, key=lambda name: abs(math.log(ratio) - math.log(models[name])))
    worst = max(measured, key=lambda n: measured[n] - log_depth_bound(n, unit))
    if kind == "deep_logarithmic":
        summary = (
            f"the depth grows with log n but is deeper than any standard log-depth scan: "
            f"{measured[worst]} at n={worst}, where 2 ceil(log2 n) + 2 rounds are "
            f"{log_depth_bound(worst, unit)}; some step waits for a whole earlier scan"
        )
    elif kind == "polylog":
        summary = (
            f"the depth grows like (log2 n)**2 (from {measured[small]} at n={small} to "
            f"{measured[largest]} at n={largest}): some step waits for a whole earlier scan"
        )
    else:
        summary = (
            f"the depth grows like a power of n, about sqrt(n) (from {measured[small]} at "
            f"n={small} to {measured[largest]} at n={largest}): serial passes over blocks"
        )
    return DepthShape(kind, summary)


def classify_work(n: int, work: int, hillis_steele_work: int) -> tuple[str, str]:
    """``(kind, sentence)`` on measured work against Hillis-Steele's at one length; kind is
    "serial", "more", "efficient" (about 2n) or "fewer"."""
    if work == n - 1:
        return "serial", "n - 1 applications: the work of a serial scan"
    if work > hillis_steele_work:
        return "more", (
            f"{work - hillis_steele_work} more than Hillis-Steele: op is applied where "
            "Hillis-Steele does not (results computed and thrown away, or combinations for "
            "j < 2**k)"
        )
    if work <= 3 * n:
        return (
            "efficient",
            "about 2n: the work of a work-efficient (Blelloch/Brent-Kung) or blocked scan",
        )
    return "fewer", "fewer than Hillis-Steele's rounds: another schedule (e.g. divide and conquer)"


HINTS: dict[str, str] = {
    "rounds": "",
    "linear": (
        "Each result waits for the one before it: a serial loop, or a round that reads values "
        "written in the same round. Build each round's list from the previous round's list "
        "only: new[j] = op(prev[j - 2**k], prev[j])."
    ),
    "logarithmic": (
        "Your scan is correct and log-depth, but it is not Hillis-Steele's schedule (about "
        "2 log2 n levels: an up-sweep and a down-sweep). This exercise asks for Hillis-Steele: "
        "in every round k, every j >= 2**k combines prev[j - 2**k] with prev[j]."
    ),
    "deep_logarithmic": (
        "Some step of your scan starts only after a whole earlier scan has finished. In a "
        "log-depth scan every level reads only the level before it; no level waits for a "
        "complete prefix."
    ),
    "polylog": (
        "Some step of your scan starts only after a whole earlier scan has finished (a scan "
        "inside a scan). Do the rounds on the whole list at once, each reading only the "
        "previous round."
    ),
    "power": (
        "A serial pass over blocks (or inside them) adds depth with every block. Replace the "
        "serial passes with rounds that each read only the previous round's list."
    ),
}
