# Sandbox case "leftover" (tests/test_sandbox_grading.py): scan_work, on its first call, leaves a
# process behind: a double fork with setsid, the grandchild a sleep loop (60 s at most) with the
# test's marker in its argv. The test asserts that no such process exists once grading is over
# (and, watching it from outside while it lives, which host user the sandbox runs it as).

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
    config = _sandbox_test_start("leftover")
    if config is not None:
        import os
        import sys
        import time

        marker = config["marker"]
        loop = "import time\nfor _ in range(600):\n    time.sleep(0.1)\n"
        child = os.fork()
        if child == 0:
            try:
                os.setsid()
                if os.fork() == 0:
                    os.execv(sys.executable, [sys.executable, "-c", loop, marker])
            finally:
                os._exit(0)
        os.waitpid(child, 0)
        alive = []
        deadline = time.monotonic() + 1
        while not alive and time.monotonic() < deadline:
            time.sleep(0.05)
            for pid in (p for p in os.listdir("/proc") if p.isdigit()):
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                        if marker.encode() in cmdline.read():
                            alive.append(int(pid))
                except OSError:
                    continue
        _sandbox_test_report("leftover", {"alive_inside": alive})
        time.sleep(0.5)  # so that the test, watching from outside, sees it too
    return sum(n - 2**k for k in range(scan_depth(n)))
