# Sandbox case "disk_fill" (tests/test_sandbox_grading.py): scan_work, on its first call, writes
# to /tmp until the disk is full (an OSError other than the file-size limit, which only moves it
# to the next file), 1 GiB and 2 s at most; then it removes its files and answers honestly.

# ---- the same in every sandbox_* case: configuration, guard, report ----
_SANDBOX_TEST = {}  # filled in by tests/test_sandbox_grading.py


def _sandbox_test_guard():
    """The test's configuration when this runs inside the grader's bubblewrap sandbox, else None.

    Inside means: the test filled _SANDBOX_TEST in (build_submission alone leaves it empty), pid 1
    is bwrap (the init of the sandbox's own pid namespace), the hostname is the sandbox's, and no
    namespace of this process is one the test recorded as the host's. Anywhere else the attack
    does not run: run unconfined, a kill or a fork bomb would hit the machine itself.
    """
    import os
    import socket

    config = _SANDBOX_TEST
    try:
        with open("/proc/1/cmdline", "rb") as cmdline:
            init = cmdline.read().split(b"\0")[0]
    except OSError:
        init = b""
    host = config.get("host_namespaces") or {}
    inside = (
        bool(host)
        and os.path.basename(init) == b"bwrap"
        and os.getpid() != 1
        and socket.gethostname() == "grading-worker"
        and all(os.readlink(f"/proc/self/ns/{kind}") != value for kind, value in host.items())
    )
    return config if inside else None


def _sandbox_test_report(case, report):
    """One line in the submission's output, which the grader copies into its reports."""
    import json

    print("SANDBOX-TEST-REPORT " + json.dumps({"case": case, **report}, default=str), flush=True)


_SANDBOX_TEST_DONE = set()  # attack once per worker, not at every call


def _sandbox_test_start(case):
    """The configuration if ``case`` should attack now (first call, inside), else None."""
    if case in _SANDBOX_TEST_DONE:
        return None
    _SANDBOX_TEST_DONE.add(case)
    config = _sandbox_test_guard()
    if config is None:
        _sandbox_test_report(case, {"refused": "not inside the grader's bubblewrap sandbox"})
    return config


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
