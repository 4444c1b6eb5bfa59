# Correct values, another algorithm: Brent-Kung's inclusive scan (up-sweep, then a
# down phase that fills in the positions between the sweep's partial sums).
def hillis_steele_scan(xs, op=operator.add):
    out = list(xs)
    n = len(out)
    step = 1
    while step < n:
        for i in range(2 * step - 1, n, 2 * step):
            out[i] = op(out[i - step], out[i])
        step *= 2
    step //= 2
    while step >= 1:
        for i in range(3 * step - 1, n, 2 * step):
            out[i] = op(out[i - step], out[i])
        step //= 2
    return out
