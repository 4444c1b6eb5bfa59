# Right for every n >= 0, but negative n returns 0 instead of raising ValueError.
def scan_depth(n):
    return (n - 1).bit_length() if n > 1 else 0


def scan_work(n):
    work, offset = 0, 1
    while offset < n:
        work += n - offset
        offset *= 2
    return work
