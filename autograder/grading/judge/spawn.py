"""Starting a worker, judge side: its job folder, its confined command, its limits.

Runs in the judge. A worker's job folder holds only the worker folder
(:mod:`autograder.grading.worker`, copied whole: it imports nothing outside itself), the
lesson's ``reference`` package and a copy of the one module to load: nothing of the judge
(checks, expected values) is there. :func:`start_worker` starts ``python -I`` on that folder,
in the sandbox and under the memory and file-size limits of its :class:`WorkerSpec`.
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import autograder.grading.worker as worker_package
from autograder.grading import sandbox
from autograder.grading.processes import supervisor
from autograder.spec import paths

WORKER_FOLDER = Path(worker_package.__file__).resolve().parent
"""Everything a worker process runs of the grader: copied whole into each job folder."""
WORKER_PACKAGE = ("autograder", "grading", "worker")  # where it sits under the job's code/
PIPE_BYTES = 2**20  # each channel's pipe: Linux's default pipe-max-size (64 KiB otherwise)


@dataclass
class WorkerSpec:
    """What a worker loads and how it is confined."""

    module_source: Path | None  # the file to import (None: the submission has no such file)
    module_name: str
    device: str
    log_path: Path
    memory_mib: int
    file_size_mib: int
    import_timeout_s: float
    sandbox: sandbox.Sandbox
    label: str = "submission"
    preload: tuple[str, ...] = ()  # modules imported before the module itself (the reference's)


@dataclass
class StartedWorker:
    """A worker process just started, and where it sees its job folder."""

    process: subprocess.Popen
    scratch: Path | None  # its host scratch folder without a sandbox, removed on close
    visible_job_dir: Path


def prepare_job(job_dir: Path, module_source: Path | None, module_name: str) -> Path:
    """A folder with only the worker-side code, the lesson's ``reference`` package and (a copy
    of) the one module to load: nothing of the judge (checks, expected values) is there."""
    package = job_dir / "code"
    for name in WORKER_PACKAGE[:-1]:  # the packages above it, empty: nothing else of the grader
        package = package / name
        package.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").write_text(
            '"""Worker-side copy of the grader: worker/ only."""\n'
        )
    copy_regular_files(WORKER_FOLDER, package / WORKER_PACKAGE[-1])
    # the lesson's own tools (reference/tracer.py...), which students may import
    copy_regular_files(paths.ROOT / "reference", job_dir / "code" / "reference")
    (job_dir / "module").mkdir(exist_ok=True)
    if module_source is not None:
        shutil.copyfile(module_source, job_dir / "module" / f"{module_name}.py")
    for path in [job_dir, *job_dir.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return job_dir


def copy_regular_files(source: Path, target: Path) -> None:
    """Copy a folder's regular files and subfolders; links (never followed) and
    ``__pycache__`` are left out."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in sorted(source.iterdir()):
        if entry.is_symlink() or entry.name == "__pycache__":
            continue
        if entry.is_dir():
            copy_regular_files(entry, target / entry.name)
        elif entry.is_file():
            shutil.copyfile(entry, target / entry.name, follow_symlinks=False)


def start_worker(spec: WorkerSpec, job_dir: Path) -> StartedWorker:
    """Start the worker on ``job_dir`` (pipes on stdin/stdout, stderr to the output log)."""
    visible = sandbox.worker_job_dir(spec.sandbox, job_dir)
    boot = (
        f"import sys; sys.path.insert(0, {str(visible / 'code')!r}); "
        "from autograder.grading.worker.main import main; main()"
    )
    argv, env, cwd, preexec = sandbox.worker_command(
        spec.sandbox,
        [sys.executable, "-I", "-c", boot],
        job_dir=job_dir,
        device=spec.device,
        env=supervisor.scrubbed_env(),
    )
    limits = supervisor.worker_limits(
        None if spec.device.startswith("cuda") else spec.memory_mib * 2**20,
        spec.file_size_mib * 2**20,
    )

    def preexec_all() -> None:
        limits()
        if preexec is not None:
            preexec()

    try:
        with open(spec.log_path, "ab") as log:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                cwd=cwd,
                env=env,
                start_new_session=True,
                preexec_fn=preexec_all,
            )
    except BaseException:
        if cwd is not None:  # no worker to close later: its scratch goes now
            shutil.rmtree(cwd, ignore_errors=True)
        raise
    for pipe in (process.stdin, process.stdout):  # fewer wake-ups per large batch of inputs
        with contextlib.suppress(OSError):  # above the system's pipe-max-size: keep the default
            fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    return StartedWorker(process, cwd, visible)
