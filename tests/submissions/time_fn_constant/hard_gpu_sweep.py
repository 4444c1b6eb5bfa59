# A time_fn that returns a made-up constant for the judge's work, after running fn warmup +
# repeats times (so the whole call lasts as long as the judge expects). With every duration
# drawn from 15-25 ms, 20 ms passed hard.time_fn_accurate_cpu in 99% of gradings (red team
# s6, F4); the two measurements now come from ranges no one figure can be within 20% of.
# Any other fn (the sweep's) is timed honestly: only the time_fn check is at stake.
_honest_time_fn = time_fn  # noqa: F821 - the solution's, defined above this override


def time_fn(fn, *, device, warmup=3, repeats=10):
    if type(fn).__name__ != "_Work":
        return _honest_time_fn(fn, device=device, warmup=warmup, repeats=repeats)
    for _ in range(warmup + repeats):
        fn()
    return 0.020
