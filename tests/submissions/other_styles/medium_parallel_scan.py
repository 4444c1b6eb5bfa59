# Correct in another style: slicing and zip, float log2 where it is exact, itertools.
import itertools as _itertools
import math as _math


def serial_scan(xs, op=operator.add):
    return list(_itertools.accumulate(xs, op))


def hillis_steele_scan(xs, op=operator.add):
    level, offset = list(xs), 1
    while offset < len(level):
        level = level[:offset] + [op(a, b) for a, b in zip(level, level[offset:])]
        offset <<= 1
    return level


def scan_depth(n):
    if n < 0:
        raise ValueError(n)
    if n <= 1:
        return 0
    return _math.ceil(_math.log2(n)) if n < 2**52 else (n - 1).bit_length()


def scan_work(n):
    return sum(n - (1 << k) for k in range(scan_depth(n)))
