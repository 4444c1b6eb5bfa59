# Correct: Hillis-Steele as recursive doubling; integer formulas written as loops.
def hillis_steele_scan(xs, op=operator.add):
    def rounds(prev, offset):
        if offset >= len(prev):
            return prev
        step = [op(prev[j - offset], prev[j]) for j in range(offset, len(prev))]
        return rounds(prev[:offset] + step, 2 * offset)

    return rounds(list(xs), 1)


def scan_depth(n):
    if n < 0:
        raise ValueError("negative length")
    depth = 0
    while (1 << depth) < n:
        depth += 1
    return depth


def scan_work(n):
    if n < 0:
        raise ValueError("negative length")
    work, offset = 0, 1
    while offset < n:
        work += n - offset
        offset *= 2
    return work
