# Sandbox case "writes" (tests/test_sandbox_grading.py): scan_work, on its first call, tries to
# write outside its scratch folder: its own job folder and module, /usr, /etc, /, the repository
# root and the grader's HOME (the names are written in by the test). /tmp is the control: the one
# place it may write. Then it answers honestly.

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
    config = _sandbox_test_start("writes")
    if config is not None:
        name = config["write_name"]
        tried = {}
        for path, mode in (
            (f"/job/module/{name}", "w"),
            ("/job/module/medium_parallel_scan.py", "a"),
            (f"/usr/{name}", "w"),
            (f"/etc/{name}", "w"),
            (f"/{name}", "w"),
            (f"{config['repo_root']}/{name}", "w"),
            (f"{config['home']}/{name}", "w"),
            (f"/tmp/{name}", "w"),
        ):
            try:
                with open(path, mode) as handle:
                    handle.write("written by the sandbox_writes case\n")
                tried[path] = "written"
            except OSError as error:
                tried[path] = type(error).__name__
        _sandbox_test_report("writes", {"tried": tried})
    return sum(n - 2**k for k in range(scan_depth(n)))
