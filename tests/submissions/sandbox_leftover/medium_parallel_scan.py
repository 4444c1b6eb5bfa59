# Sandbox case "leftover" (tests/test_sandbox_grading.py): scan_work, on its first call, leaves a
# process behind: a double fork with setsid, the grandchild a sleep loop (60 s at most) with the
# test's marker in its argv. The test asserts that no such process exists once grading is over
# (and, watching it from outside while it lives, which host user the sandbox runs it as).

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
