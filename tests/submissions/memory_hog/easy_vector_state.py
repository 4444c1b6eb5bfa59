# fit_overhead tries to hold 80 GB.
def fit_overhead(per_step):
    hoard = [0.0] * (10**10)
    return (0.0, float(len(hoard)))
