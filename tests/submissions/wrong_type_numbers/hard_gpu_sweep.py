# Seconds as text, as a negative number and as a bool. Loses hard.time_fn_accurate_cpu and
# hard.sweep_rows_cpu.
_honest_time_fn = time_fn


def time_fn(fn, *, device, warmup=3, repeats=10):
    return str(_honest_time_fn(fn, device=device, warmup=warmup, repeats=repeats))


def sweep(lengths=SWEEP_LENGTHS, device=None):
    return [{"n": n, "rnn_seconds": -1e-3, "attention_seconds": True} for n in lengths]
