# Sandbox case "files" (tests/test_sandbox_grading.py): serial_scan, on its first call, tries to
# read a canary in the grader's HOME and one in the repository root, the reference solution by
# absolute path, and lists the repository root and /. Then it scans honestly.

def serial_scan(xs, op=operator.add):
    config = _sandbox_test_start("files")
    if config is not None:
        import os

        tried = {}
        for path in (
            config["home_canary"],
            config["repo_canary"],
            config["solution"],
            os.path.expanduser("~/canary.txt"),
        ):
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    tried[path] = "read: " + handle.read(300)
            except OSError as error:
                tried[path] = type(error).__name__
        listings = {}
        for folder in (config["repo_root"], config["home"], "/"):
            try:
                listings[folder] = sorted(os.listdir(folder))
            except OSError as error:
                listings[folder] = type(error).__name__
        _sandbox_test_report("files", {"tried": tried, "listings": listings})
    out = []
    for x in xs:
        out.append(op(out[-1], x) if out else x)
    return out
