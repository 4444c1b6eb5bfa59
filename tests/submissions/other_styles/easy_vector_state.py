# Correct in another style: comprehension, in-place numpy, closed-form least squares.
def rnn_style_vector(xs):
    if len(xs) == 0:
        raise ValueError("empty")
    h = [0.0 for _ in xs[0]]
    for row in xs:
        h = [x + 0.9 * v for v, x in zip(h, row)]
    return h


def rnn_style_vector_numpy(xs):
    if len(xs) == 0:
        raise ValueError("empty")
    h = np.zeros(xs.shape[1])
    for row in xs:
        h *= 0.9
        h += row
    return h


def fit_overhead(per_step):
    ds = list(per_step)
    ts = [per_step[d] for d in ds]
    n = len(ds)
    mean_d, mean_t = sum(ds) / n, sum(ts) / n
    b = sum((d - mean_d) * (t - mean_t) for d, t in zip(ds, ts)) / sum((d - mean_d) ** 2 for d in ds)
    return (mean_t - b * mean_d, b)
