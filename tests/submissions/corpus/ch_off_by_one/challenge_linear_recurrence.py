# int(log2 n) rounds: one round too few when n is not a power of two.
import math


def linear_recurrence(a, x):
    if len(a) != len(x):
        raise ValueError("a and x differ in length")
    prefixes = list(zip(a, x))
    if len(prefixes) > 1:
        for k in range(int(math.log2(len(prefixes)))):
            offset = 2**k
            prefixes = prefixes[:offset] + [
                combine(prefixes[j - offset], prefixes[j]) for j in range(offset, len(prefixes))
            ]
    return [h for _, h in prefixes]
