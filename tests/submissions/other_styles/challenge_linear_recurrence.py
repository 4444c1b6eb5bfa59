# Correct in another style: unpacking, descending in-place rounds.
def combine(left, right):
    a1, x1 = left
    a2, x2 = right
    return a1 * a2, x1 * a2 + x2


def linear_recurrence(a, x):
    pairs = list(zip(a, x, strict=True))  # lengths that differ raise ValueError
    offset = 1
    while offset < len(pairs):
        for j in range(len(pairs) - 1, offset - 1, -1):
            pairs[j] = combine(pairs[j - offset], pairs[j])
        offset *= 2
    return [h for _, h in pairs]
