import sys as _sys

_serial = serial_scan


def serial_scan(xs, op=operator.add):
    _sys.stdout.write("x" * 20_000_000)
    _sys.stderr.write("y" * 2_000_000)
    return _serial(xs, op)
