# The later element on the left: right for + on numbers, wrong for strings and matrices.
def hillis_steele_scan(xs, op=operator.add):
    prev = list(xs)
    step = 1
    while step < len(prev):
        prev = [op(prev[j], prev[j - step]) if j >= step else prev[j] for j in range(len(prev))]
        step *= 2
    return prev
