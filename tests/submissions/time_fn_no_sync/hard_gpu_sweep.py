# Times only the launch: no synchronisation, so queued GPU work is not waited for.
def time_fn(fn, *, device, warmup=3, repeats=10):
    import statistics as _statistics
    import time as _t

    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = _t.perf_counter()
        fn()
        samples.append(_t.perf_counter() - start)
    return _statistics.median(samples)
