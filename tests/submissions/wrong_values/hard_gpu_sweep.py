# One wrong value at WRONG_AT (the first, a middle or the last; tests/test_grader_adversarial.py
# builds one case per position): the sweep's row there reports the wrong n, and on inputs of
# at most 64 elements (the correctness checks, the reduction's timing at n=64) both torch
# functions read that element off by one. Longer inputs, the sweep's own timing, are right.
WRONG_AT = "first"


def _index(length):
    return {"first": 0, "middle": length // 2, "last": length - 1}[WRONG_AT]


_right_sweep, _right_attention, _right_rnn = sweep, attention_style_torch, rnn_style_torch


def sweep(lengths=SWEEP_LENGTHS, device=None):
    rows = _right_sweep(lengths, device)
    index = _index(len(rows))
    rows[index] = dict(rows[index], n=rows[index]["n"] + 1)
    return rows


def _nudged(xs):
    if xs.numel() > 64:
        return xs
    xs = xs.clone()
    xs[_index(xs.numel())] += 1
    return xs


def attention_style_torch(xs):
    return _right_attention(_nudged(xs))


def rnn_style_torch(xs):
    return _right_rnn(_nudged(xs))
