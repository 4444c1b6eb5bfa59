# Sandbox case "disk_fill" (tests/test_sandbox_grading.py): scan_work, on its first call, writes
# to /tmp until the disk is full (an OSError other than the file-size limit, which only moves it
# to the next file), 1 GiB and 2 s at most; then it removes its files and answers honestly.

def scan_work(n):
    config = _sandbox_test_start("disk_fill")
    if config is not None:
        import errno
        import os
        import time

        chunk = b"x" * 2**20
        written, errors, paths = 0, [], []
        deadline = time.monotonic() + 2
        while len(paths) < 32 and written < 2**30 and time.monotonic() < deadline:
            path = f"/tmp/{config['write_name']}-fill-{len(paths)}"
            paths.append(path)
            try:
                with open(path, "wb", buffering=0) as fill:
                    while written < 2**30 and time.monotonic() < deadline:
                        written += fill.write(chunk)
            except OSError as error:
                errors.append(errno.errorcode.get(error.errno, str(error.errno)))
                if error.errno != errno.EFBIG:
                    break
        with open("/proc/self/mountinfo") as mountinfo:
            mounts = [line.split() for line in mountinfo]
        fstype = {m[4]: m[m.index("-") + 1] for m in mounts}.get("/tmp")
        for path in paths:
            try:
                os.remove(path)
            except OSError:
                pass
        report = {"written": written, "errors": errors, "files": len(paths), "fstype": fstype}
        _sandbox_test_report("disk_fill", report)
    return sum(n - 2**k for k in range(scan_depth(n)))
