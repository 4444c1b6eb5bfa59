# Divide and conquer that scans the right half again with the left total in front:
# correct, but each level waits for the one before, so the depth grows like (log2 n)**2.
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
