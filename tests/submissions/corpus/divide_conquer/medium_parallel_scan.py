# Correct values, another algorithm: recursive divide and conquer (Sklansky): scan both
# halves, then combine the left half's total into every element of the right half.
def hillis_steele_scan(xs, op=operator.add):
    xs = list(xs)
    if len(xs) <= 1:
        return xs
    mid = len(xs) // 2
    left = hillis_steele_scan(xs[:mid], op)
    right = hillis_steele_scan(xs[mid:], op)
    return left + [op(left[-1], value) for value in right]
