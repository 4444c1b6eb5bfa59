# Right but for one element of the final hidden state: WRONG_AT picks the first, a middle or
# the last (tests/test_grader_adversarial.py builds one case per position), off by 1e-6.
WRONG_AT = "first"


def _index(length):
    return {"first": 0, "middle": length // 2, "last": length - 1}[WRONG_AT]


_right_vector, _right_numpy = rnn_style_vector, rnn_style_vector_numpy


def rnn_style_vector(xs):
    h = list(_right_vector(xs))
    index = _index(len(h))
    h[index] += 1e-6 * max(1.0, abs(h[index]))
    return h


def rnn_style_vector_numpy(xs):
    h = np.array(_right_numpy(xs), dtype=np.float64)
    index = _index(len(h))
    h[index] += 1e-6 * max(1.0, abs(h[index]))
    return h
