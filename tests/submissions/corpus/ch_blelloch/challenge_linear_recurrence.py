# Correct: Blelloch's work-efficient scan over (a, x) pairs (up-sweep, down-sweep; None is
# the identity step), the scan GPU libraries use.
def _join(left, right):
    if left is None:
        return right
    if right is None:
        return left
    return combine(left, right)


def linear_recurrence(a, x):
    if len(a) != len(x):
        raise ValueError("a and x differ in length")
    n = len(a)
    if n == 0:
        return []
    steps = list(zip(a, x))
    size = 1
    while size < n:
        size *= 2
    tree = steps + [None] * (size - n)
    stride = 1
    while stride < size:
        for i in range(2 * stride - 1, size, 2 * stride):
            tree[i] = _join(tree[i - stride], tree[i])
        stride *= 2
    tree[size - 1] = None
    stride = size // 2
    while stride >= 1:
        for i in range(2 * stride - 1, size, 2 * stride):
            left = tree[i - stride]
            tree[i - stride] = tree[i]
            tree[i] = _join(tree[i], left)
        stride //= 2
    return [_join(tree[t], steps[t])[1] for t in range(n)]
