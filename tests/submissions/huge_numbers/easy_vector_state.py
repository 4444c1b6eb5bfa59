# Integers too large for the judge: over Python's 4,300-digit limit (the worker lifts it so
# its reply encodes), and one merely absurd. They used to be blamed on the grader ("tell your
# TA"). Loses easy.fit_overhead_exact and easy.serial_overhead_consistent.
import sys as _sys

_sys.set_int_max_str_digits(0)
_honest_serial_overhead = serial_overhead


def fit_overhead(per_step):
    return (10**5000, 1.0)


def serial_overhead(*args, **kwargs):
    return {d: 10**300 for d in _honest_serial_overhead(*args, **kwargs)}
