"""The two functions of the lesson's Step 1, exactly as written, and a tree-reduction mean.

``rnn_style`` has a step-to-step dependency (serial depth N). ``attention_style``
has none in principle, but Python's ``sum`` is a left fold, so *as written* its
dependency chain is still N long; ``tree_mean`` adds pairs level by level, which
is the log N depth the lesson means. ``python -m reference`` measures all three.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def rnn_style(xs):
    h = 0.0
    for x in xs:
        h = 0.9 * h + x  # can't parallelize: h depends on previous h
    return h


def attention_style(xs):
    return sum(xs) / len(xs)  # every x is independent


def tree_mean(xs: Sequence[Any]) -> Any:
    """Mean by pairwise tree reduction: ceil(log2 N) levels of independent additions.

    Each level adds neighbours ``(level[0] + level[1]), (level[2] + level[3]), ...``;
    an odd element out is carried to the next level unchanged.
    """
    if not xs:
        raise ValueError("tree_mean of an empty sequence")
    level = list(xs)
    while len(level) > 1:
        paired = [level[i] + level[i + 1] for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0] / len(xs)
