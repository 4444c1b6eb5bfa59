# A Mamba-style serial loop over the steps: right values, depth n.
def linear_recurrence(a, x):
    if len(a) != len(x):
        raise ValueError("a and x differ in length")
    out, prefix = [], None
    for step in zip(a, x):
        prefix = step if prefix is None else combine(prefix, step)
        out.append(prefix[1])
    return out
