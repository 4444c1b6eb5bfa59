# The formula the docstring warns against: float log2 rounds wrongly for large n.
import math


def scan_depth(n):
    if n < 0:
        raise ValueError("negative length")
    return math.ceil(math.log2(n)) if n > 1 else 0


def scan_work(n):
    return sum(n - 2**k for k in range(scan_depth(n)))
