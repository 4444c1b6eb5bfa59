# Sandbox case "writes" (tests/test_sandbox_grading.py): scan_work, on its first call, tries to
# write outside its scratch folder: its own job folder and module, /usr, /etc, /, the repository
# root and the grader's HOME (the names are written in by the test). /tmp is the control: the one
# place it may write. Then it answers honestly.

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
