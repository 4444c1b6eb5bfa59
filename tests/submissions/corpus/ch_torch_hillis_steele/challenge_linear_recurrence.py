# Hillis-Steele over (a, x) as torch tensors: one vectorised update per round.
import torch


def linear_recurrence(a, x):
    if len(a) != len(x):
        raise ValueError("a and x differ in length")
    big_a = torch.tensor(a, dtype=torch.float64)
    big_x = torch.tensor(x, dtype=torch.float64)
    offset = 1
    while offset < len(a):
        new_a, new_x = big_a.clone(), big_x.clone()
        new_a[offset:] = big_a[:-offset] * big_a[offset:]
        new_x[offset:] = big_a[offset:] * big_x[:-offset] + big_x[offset:]
        big_a, big_x = new_a, new_x
        offset *= 2
    return big_x.tolist()
