# Blocks of about sqrt(n): serial inside each block, serial over the block totals, then one
# combination per element. Correct, but the depth grows like sqrt(n).
import math


def hillis_steele_scan(xs, op=operator.add):
    xs = list(xs)
    if not xs:
        return []
    size = max(1, math.isqrt(len(xs)))
    blocks = [xs[i : i + size] for i in range(0, len(xs), size)]
    scanned = []
    for block in blocks:
        out = [block[0]]
        for value in block[1:]:
            out.append(op(out[-1], value))
        scanned.append(out)
    carry = None
    result = []
    for out in scanned:
        result.extend(out if carry is None else [op(carry, value) for value in out])
        carry = out[-1] if carry is None else op(carry, out[-1])
    return result
