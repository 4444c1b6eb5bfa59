# Absurd integers where seconds are expected. Loses hard.time_fn_accurate_cpu and
# hard.sweep_rows_cpu.
import sys as _sys

_sys.set_int_max_str_digits(0)


def time_fn(fn, *, device, warmup=3, repeats=10):
    for _ in range(warmup + repeats):
        fn()
    return 10**400


def sweep(lengths=SWEEP_LENGTHS, device=None):
    return [{"n": n, "rnn_seconds": 10**5000, "attention_seconds": 1e-5} for n in lengths]
