# Hillis-Steele over (a, x) as numpy float arrays.
import numpy as np


def linear_recurrence(a, x):
    if len(a) != len(x):
        raise ValueError("a and x differ in length")
    big_a = np.asarray(a, dtype=np.float64)
    big_x = np.asarray(x, dtype=np.float64)
    offset = 1
    while offset < len(big_a):
        new_a, new_x = big_a.copy(), big_x.copy()
        new_a[offset:] = big_a[:-offset] * big_a[offset:]
        new_x[offset:] = big_a[offset:] * big_x[:-offset] + big_x[offset:]
        big_a, big_x = new_a, new_x
        offset *= 2
    return big_x.tolist()
