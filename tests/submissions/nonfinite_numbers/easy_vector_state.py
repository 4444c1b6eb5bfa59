# Non-finite numbers in every numeric field the easy checks read: NaN is not greater or
# smaller than any bound, so a comparison written the wrong way round passes it.
# Loses easy.fit_overhead_exact and easy.serial_overhead_consistent.
_honest_serial_overhead = serial_overhead


def fit_overhead(per_step):
    return (float("nan"), float("nan"))


def serial_overhead(*args, **kwargs):
    return {d: float("nan") for d in _honest_serial_overhead(*args, **kwargs)}
