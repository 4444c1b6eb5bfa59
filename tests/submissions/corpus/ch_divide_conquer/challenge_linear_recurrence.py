# Correct: recursive divide and conquer over affine steps.
def _scan(steps):
    if len(steps) <= 1:
        return list(steps)
    mid = len(steps) // 2
    left = _scan(steps[:mid])
    right = _scan(steps[mid:])
    return left + [combine(left[-1], step) for step in right]


def linear_recurrence(a, x):
    if len(a) != len(x):
        raise ValueError("a and x differ in length")
    return [h for _, h in _scan(list(zip(a, x)))]
