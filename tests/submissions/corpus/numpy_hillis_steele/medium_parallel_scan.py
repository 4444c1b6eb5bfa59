# Hillis-Steele vectorised with numpy: one array operation per round.
import numpy as np


def hillis_steele_scan(xs, op=operator.add):
    values = np.array(xs)
    offset = 1
    while offset < len(values):
        new = values.copy()
        new[offset:] = op(values[:-offset], values[offset:])
        values = new
        offset *= 2
    return values.tolist()
