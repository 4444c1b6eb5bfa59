# Divide and conquer that scans the right half again with the left total in front:
# correct, but the right half waits for the whole left scan: deeper than 2 log2 n at some n.
def _rounds(xs, op):
    prev, offset = list(xs), 1
    while offset < len(prev):
        prev = prev[:offset] + [op(prev[j - offset], prev[j]) for j in range(offset, len(prev))]
        offset *= 2
    return prev


def hillis_steele_scan(xs, op=operator.add):
    xs = list(xs)
    if len(xs) <= 2:
        return _rounds(xs, op)
    mid = len(xs) // 2
    left = hillis_steele_scan(xs[:mid], op)
    return left + _rounds([left[-1], *xs[mid:]], op)[1:]
