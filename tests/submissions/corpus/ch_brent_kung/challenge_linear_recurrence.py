# Correct: Brent-Kung's inclusive scan over (a, x) pairs.
def linear_recurrence(a, x):
    if len(a) != len(x):
        raise ValueError("a and x differ in length")
    out = list(zip(a, x))
    n = len(out)
    step = 1
    while step < n:
        for i in range(2 * step - 1, n, 2 * step):
            out[i] = combine(out[i - step], out[i])
        step *= 2
    step //= 2
    while step >= 1:
        for i in range(3 * step - 1, n, 2 * step):
            out[i] = combine(out[i - step], out[i])
        step //= 2
    return [h for _, h in out]
