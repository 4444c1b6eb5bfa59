# One round too few on lengths that are not powers of two: int(log2 n) rounds.
import math


def hillis_steele_scan(xs, op=operator.add):
    prev = list(xs)
    if len(prev) < 2:
        return prev
    for k in range(int(math.log2(len(prev)))):
        offset = 2**k
        prev = prev[:offset] + [op(prev[j - offset], prev[j]) for j in range(offset, len(prev))]
    return prev
