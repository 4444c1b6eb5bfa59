# Sandbox case "network" (tests/test_sandbox_grading.py): serial_scan, on its first call, connects
# to the test's TCP listener on the host's 127.0.0.1 (the port is written in by the test) and to
# an outside address, and sends data where it can. Then it scans honestly.

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
    config = _sandbox_test_start("network")
    if config is not None:
        import socket

        tried = {}
        for host, port in (("127.0.0.1", config["port"]), ("1.1.1.1", 53)):
            try:
                with socket.create_connection((host, port), timeout=1) as connection:
                    connection.sendall(b"sandbox-network-probe")
                tried[f"{host}:{port}"] = "connected and sent"
            except OSError as error:
                tried[f"{host}:{port}"] = type(error).__name__
        links = [name for _, name in socket.if_nameindex()]
        _sandbox_test_report("network", {"tried": tried, "links": links})
    out = []
    for x in xs:
        out.append(op(out[-1], x) if out else x)
    return out
