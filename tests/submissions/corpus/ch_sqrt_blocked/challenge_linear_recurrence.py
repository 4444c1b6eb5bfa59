# Blocks of about sqrt(n): serial inside each block and over the block totals.
import math


def linear_recurrence(a, x):
    if len(a) != len(x):
        raise ValueError("a and x differ in length")
    steps = list(zip(a, x))
    if not steps:
        return []
    size = max(1, math.isqrt(len(steps)))
    carry, out = None, []
    for start in range(0, len(steps), size):
        block = [steps[start]]
        for step in steps[start + 1 : start + size]:
            block.append(combine(block[-1], step))
        out.extend(block if carry is None else [combine(carry, p) for p in block])
        carry = block[-1] if carry is None else combine(carry, block[-1])
    return [h for _, h in out]
