"""Time and memory of ``run_autograder`` as Gradescope runs it, for docs/gradescope.md.

    python -m benchmarks.gradescope_footprint [--submission DIR] [--runs N]

Builds ``autograder.zip`` from this checkout, unpacks it into an emulated ``/autograder``
(``AUTOGRADER_ROOT``, ``venv`` a link to this project's ``.venv``), puts the submission
(default: ``solutions/``) in ``submission/`` and runs ``run_autograder`` ``--runs`` times. It
samples the whole process tree every 20 ms: the sum of resident memory (RSS, which counts
shared library pages once per process, so it overstates) and of proportional memory (PSS,
shared pages split between processes: what a container's memory limit sees, less the page
cache), and reports the peaks and the wall time. Gradescope's defaults: 10 minutes, 768 MB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import threading
import time
import zipfile
from pathlib import Path

from autograder.course.gradescope.release import RUN_SCRIPT, write_gradescope
from autograder.course.gradescope.run import (
    RESULTS_FILE,
    ROOT_VARIABLE,
    SUBMISSION_FILES,
    USER_VARIABLE,
)
from autograder.grading.processes import supervisor
from autograder.spec import paths

ROOT = Path(__file__).resolve().parents[1]


def memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in KiB; (0, 0) once it is gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            fields = dict(line.split(":", 1) for line in handle if ":" in line)
        return int(fields["Rss"].split()[0]), int(fields["Pss"].split()[0])
    except (OSError, KeyError, ValueError):
        return 0, 0


def measure(command: list[str], environment: dict[str, str]) -> dict[str, float]:
    """Run ``command``; its wall time and the peak RSS / PSS of its process tree."""
    started = time.monotonic()
    process = subprocess.Popen(
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    peaks = {"rss": 0, "pss": 0, "processes": 0}

    def sample() -> None:
        while process.poll() is None:
            pids = supervisor.descendants(process.pid)
            sizes = [memory_kib(pid) for pid in pids]
            peaks["rss"] = max(peaks["rss"], sum(s[0] for s in sizes))
            peaks["pss"] = max(peaks["pss"], sum(s[1] for s in sizes))
            peaks["processes"] = max(peaks["processes"], len(pids))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    process.wait()
    sampler.join()
    return {
        "wall_seconds": round(time.monotonic() - started, 2),
        "peak_rss_mib": round(peaks["rss"] / 1024, 1),
        "peak_pss_mib": round(peaks["pss"] / 1024, 1),
        "max_processes": peaks["processes"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gradescope_footprint")
    parser.add_argument("--submission", type=Path, default=ROOT / paths.SOLUTIONS_FOLDER)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gradescope-footprint-") as folder:
        summary = write_gradescope(out=Path(folder) / "release", source_root=ROOT)
        root = Path(folder) / "autograder"
        with zipfile.ZipFile(summary.zip_path) as archive:
            archive.extractall(root / "source")
        (root / "source" / RUN_SCRIPT).chmod(0o755)
        (root / "venv").symlink_to(ROOT / ".venv")
        shutil.copytree(args.submission, root / SUBMISSION_FILES)
        environment = {**os.environ, ROOT_VARIABLE: str(root), USER_VARIABLE: ""}
        print("run  wall s  peak RSS MiB  peak PSS MiB  processes  score")
        for run in range(1, args.runs + 1):
            figures = measure([str(root / "source" / RUN_SCRIPT)], environment)
            score = (root / RESULTS_FILE).read_text(encoding="utf-8")
            score = score.split('"score": ', 1)[1].split(",", 1)[0]
            print(
                f"{run:>3}  {figures['wall_seconds']:>6}  {figures['peak_rss_mib']:>12}  "
                f"{figures['peak_pss_mib']:>12}  {figures['max_processes']:>9}  {score}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
