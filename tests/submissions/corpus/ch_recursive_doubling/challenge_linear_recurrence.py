# Correct: Hillis-Steele rounds over (a, x) pairs, written as recursion.
def linear_recurrence(a, x):
    if len(a) != len(x):
        raise ValueError("a and x differ in length")

    def rounds(prefixes, offset):
        if offset >= len(prefixes):
            return prefixes
        step = [combine(prefixes[j - offset], prefixes[j]) for j in range(offset, len(prefixes))]
        return rounds(prefixes[:offset] + step, 2 * offset)

    return [h for _, h in rounds(list(zip(a, x)), 1)]
