# Right but for one element of the returned states: WRONG_AT picks the first, a middle or the
# last (tests/test_grader_adversarial.py builds one case per position), off by about 1e-6.
WRONG_AT = "first"

_right_linear_recurrence = linear_recurrence


def linear_recurrence(a, x):
    out = list(_right_linear_recurrence(a, x))
    if out:
        index = {"first": 0, "middle": len(out) // 2, "last": len(out) - 1}[WRONG_AT]
        out[index] = out[index] * 1.000001 + 1e-6
    return out
