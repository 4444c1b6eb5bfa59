# Correct in another style: sum/numel, perf_counter_ns, CUDA events.
def attention_style_torch(xs):
    return xs.sum() / xs.numel()


def rnn_style_torch(xs):
    h = xs.new_zeros(())
    for x in xs:
        h = h * 0.9 + x
    return h


def time_fn(fn, *, device, warmup=3, repeats=10):
    import time as _t

    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        if device.startswith("cuda"):
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            samples.append(start.elapsed_time(end) / 1000)
        else:
            t0 = _t.perf_counter_ns()
            fn()
            samples.append((_t.perf_counter_ns() - t0) / 1e9)
    samples.sort()
    mid = len(samples) // 2
    return samples[mid] if len(samples) % 2 else (samples[mid - 1] + samples[mid]) / 2
