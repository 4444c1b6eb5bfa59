# Rounds updating one list in place, left to right: a round reads values it just wrote.
def hillis_steele_scan(xs, op=operator.add):
    out = list(xs)
    offset = 1
    while offset < len(out):
        for j in range(offset, len(out)):
            out[j] = op(out[j - offset], out[j])
        offset *= 2
    return out
