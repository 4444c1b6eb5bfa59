import sys as _sys

_serial = serial_scan


def serial_scan(xs, op=operator.add):
    _sys.stdout.write("x" * 5_000_000)
    _sys.stderr.write("y" * 1_000_000)
    return _serial(xs, op)
