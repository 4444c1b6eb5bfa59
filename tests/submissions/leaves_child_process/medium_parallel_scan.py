# Starts a detached process at import and never waits for it.
import subprocess as _subprocess
import sys as _sys

_subprocess.Popen(
    [_sys.executable, "-c", "import time; time.sleep(300)  # leftover-marker-8431"],
    start_new_session=True,
)
