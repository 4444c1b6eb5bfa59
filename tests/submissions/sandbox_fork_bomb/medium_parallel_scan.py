# Sandbox case "fork_bomb" (tests/test_sandbox_grading.py): serial_scan, on its first call, forks
# as fast as it can for 1.5 s: two levels of up to 32 children each (1056 processes at most),
# every child holding on until the deadline. The sandbox's process limit stops it well before
# that. Then it scans honestly.

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
