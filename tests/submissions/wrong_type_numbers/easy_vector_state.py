# Numbers of the wrong type or sign: a string, a bool, negative durations.
# Loses easy.fit_overhead_exact and easy.serial_overhead_consistent.
_honest_serial_overhead = serial_overhead
_honest_fit_overhead = fit_overhead


def fit_overhead(per_step):
    a, b = _honest_fit_overhead(per_step)
    return (str(a), True)


def serial_overhead(*args, **kwargs):
    return {d: -abs(t) for d, t in _honest_serial_overhead(*args, **kwargs).items()}
