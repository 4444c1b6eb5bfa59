# Sandbox case "fork_bomb" (tests/test_sandbox_grading.py): serial_scan, on its first call, forks
# as fast as it can for 1.5 s: two levels of up to 32 children each (1056 processes at most),
# every child holding on until the deadline. The sandbox's process limit stops it well before
# that. Then it scans honestly.

def serial_scan(xs, op=operator.add):
    config = _sandbox_test_start("fork_bomb")
    if config is not None:
        import os
        import time

        deadline = time.monotonic() + 1.5
        read, write = os.pipe()

        def grow(depth):
            children = []
            for _ in range(32):
                if time.monotonic() >= deadline:
                    break
                try:
                    pid = os.fork()
                except OSError:  # EAGAIN: the process limit
                    os.write(write, b"L")
                    break
                if pid == 0:
                    try:
                        os.write(write, b"F")
                        if depth < 1:
                            grow(depth + 1)
                        time.sleep(max(0.0, deadline - time.monotonic()))
                    finally:
                        os._exit(0)
                children.append(pid)
            time.sleep(max(0.0, deadline - time.monotonic()))
            for pid in children:
                try:
                    os.waitpid(pid, 0)
                except OSError:
                    pass

        grow(0)
        os.close(write)
        seen = b""
        while True:
            chunk = os.read(read, 65536)
            if not chunk:
                break
            seen += chunk
        os.close(read)
        _sandbox_test_report("fork_bomb", {"forks": seen.count(b"F"), "limited": seen.count(b"L")})
    out = []
    for x in xs:
        out.append(op(out[-1], x) if out else x)
    return out
