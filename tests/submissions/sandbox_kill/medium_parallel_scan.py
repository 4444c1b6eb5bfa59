# Sandbox case "kill" (tests/test_sandbox_grading.py): serial_scan, on its first call, sends
# SIGKILL to its parent, to the test process and a victim process the test started (their host
# pids are written in by the test), and to every pid it can see from 2 upwards, itself last.
# Inside the sandbox's pid namespace that is only the sandbox's own processes; the guard stops it
# anywhere else. The worker dies, so this costs serial_scan_correct and nothing more.

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
    config = _sandbox_test_start("kill")
    if config is not None:
        import os
        import signal

        me = os.getpid()
        tried = {}
        targets = [os.getppid(), config["test_pid"], config["victim_pid"]]
        targets += sorted(int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) >= 2)
        for pid in dict.fromkeys(targets):
            if pid == me or pid < 1:
                continue
            try:
                os.kill(pid, signal.SIGKILL)
                tried[pid] = "sent"
            except OSError as error:
                tried[pid] = type(error).__name__
        _sandbox_test_report("kill", {"me": me, "parent": os.getppid(), "tried": tried})
        os.kill(me, signal.SIGKILL)
    out = []
    for x in xs:
        out.append(op(out[-1], x) if out else x)
    return out
