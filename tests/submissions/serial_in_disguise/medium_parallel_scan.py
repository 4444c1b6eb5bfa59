# Looks like rounds, is a serial left fold: depth n-1, work n-1.
def hillis_steele_scan(xs, op=operator.add):
    out = list(xs)
    rounds = 0
    while 2**rounds < len(out):
        rounds += 1
    for j in range(1, len(out)):
        out[j] = op(out[j - 1], out[j])
    return out
