# Right but for one element of the returned plain list: WRONG_AT picks the first, a middle or
# the last (tests/test_grader_adversarial.py builds one case per position). Traced values
# (depth_measured, work_measured) are left alone: only the value comparisons can catch this.
WRONG_AT = "first"
_PLAIN = (int, float, str, tuple)


def _index(length):
    return {"first": 0, "middle": length // 2, "last": length - 1}[WRONG_AT]


def _off(value):
    if type(value) is int:
        return value + 1
    if type(value) is float:
        return value + 1e-6 * max(1.0, abs(value))
    if type(value) is str:
        return value + "?"
    (a, b), row = value  # a 2x2 matrix
    return ((a + 1, b), row)


def _spoil(result):
    if not result or not all(type(v) in _PLAIN for v in result):
        return result
    result = list(result)
    index = _index(len(result))
    result[index] = _off(result[index])
    return result


_right_serial_scan, _right_hillis_steele_scan = serial_scan, hillis_steele_scan


def serial_scan(xs, op=operator.add):
    return _spoil(_right_serial_scan(xs, op))


def hillis_steele_scan(xs, op=operator.add):
    return _spoil(_right_hillis_steele_scan(xs, op))


# The formulas off by one at one length the grader asks about: the first (n=0), one in the
# middle (n=64) or the last (n=2**20+1).
_WRONG_N = {"first": 0, "middle": 64, "last": 2**20 + 1}
_right_scan_depth = scan_depth


def scan_depth(n):
    return _right_scan_depth(n) + (n == _WRONG_N[WRONG_AT])


def scan_work(n):  # the reference's sum, on the right depth
    right = sum(n - 2**k for k in range(_right_scan_depth(n)))
    return right + (n == _WRONG_N[WRONG_AT])
