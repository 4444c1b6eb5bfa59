# Sandbox case "kill" (tests/test_sandbox_grading.py): serial_scan, on its first call, sends
# SIGKILL to its parent, to the test process and a victim process the test started (their host
# pids are written in by the test), and to every pid it can see from 2 upwards, itself last.
# Inside the sandbox's pid namespace that is only the sandbox's own processes; the guard stops it
# anywhere else. The worker dies, so this costs serial_scan_correct and nothing more.

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
