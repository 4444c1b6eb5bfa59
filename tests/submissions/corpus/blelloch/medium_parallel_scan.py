# Correct values, another algorithm: Blelloch's work-efficient scan (up-sweep, down-sweep,
# padded to a power of two with None as the identity), made inclusive at the end.
def _join(op, left, right):
    if left is None:
        return right
    if right is None:
        return left
    return op(left, right)


def hillis_steele_scan(xs, op=operator.add):
    n = len(xs)
    if n == 0:
        return []
    size = 1
    while size < n:
        size *= 2
    tree = list(xs) + [None] * (size - n)
    step = 1
    while step < size:  # up-sweep: partial sums of subtrees
        for i in range(2 * step - 1, size, 2 * step):
            tree[i] = _join(op, tree[i - step], tree[i])
        step *= 2
    tree[size - 1] = None  # exclusive scan: the identity at the root
    step = size // 2
    while step >= 1:  # down-sweep
        for i in range(2 * step - 1, size, 2 * step):
            left = tree[i - step]
            tree[i - step] = tree[i]
            tree[i] = _join(op, tree[i], left)
        step //= 2
    return [_join(op, tree[j], xs[j]) for j in range(n)]
