# Hillis-Steele with a debugging line left in: a serial scan computed and thrown away.
def hillis_steele_scan(xs, op=operator.add):
    _check = serial_scan(xs, op)
    prev, offset = list(xs), 1
    while offset < len(prev):
        prev = prev[:offset] + [op(prev[j - offset], prev[j]) for j in range(offset, len(prev))]
        offset *= 2
    return prev
