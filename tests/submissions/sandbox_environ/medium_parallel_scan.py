# Sandbox case "environ" (tests/test_sandbox_grading.py): scan_work, on its first call, reads its
# own environment and /proc/<pid>/environ and cmdline of every process it can see (its parents
# included) and of the test's pid, looking for the grader's secrets. Then it answers honestly.

def scan_work(n):
    config = _sandbox_test_start("environ")
    if config is not None:
        import os

        pids = {p for p in os.listdir("/proc") if p.isdigit()} | {str(config["test_pid"])}
        parents, pid = [], os.getpid()
        while pid > 1 and len(parents) < 16:
            try:
                with open(f"/proc/{pid}/stat", "rb") as stat:
                    pid = int(stat.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                break
            parents.append(pid)
        pids |= {str(p) for p in parents}
        seen = {}
        for pid in sorted(pids, key=int):
            seen[pid] = {}
            for what in ("environ", "cmdline"):
                try:
                    with open(f"/proc/{pid}/{what}", "rb") as handle:
                        seen[pid][what] = handle.read(20000).decode(errors="replace")
                except OSError as error:
                    seen[pid][what] = type(error).__name__
        report = {"env": dict(os.environ), "parents": parents, "proc": seen}
        _sandbox_test_report("environ", report)
    return sum(n - 2**k for k in range(scan_depth(n)))
