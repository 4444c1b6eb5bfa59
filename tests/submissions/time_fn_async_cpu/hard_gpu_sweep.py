# The CPU analogue of a CUDA time_fn without synchronisation: each timed call starts fn in a
# background thread and stops the clock once the thread has *started*, so it measures the
# launch, not the work. The thread is joined after the clock has stopped (work never outlives
# the call, as a later synchronize would ensure on CUDA), so the failure is about accuracy only.
def time_fn(fn, *, device, warmup=3, repeats=10):
    import statistics as _statistics
    import threading as _threading
    import time as _t

    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        worker = _threading.Thread(target=fn)
        start = _t.perf_counter()
        worker.start()
        samples.append(_t.perf_counter() - start)
        worker.join()
    return _statistics.median(samples)
