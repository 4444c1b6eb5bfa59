"""The worker's seccomp filter: no process of its tree can have its children reaped unseen
(SIGCHLD ignored or SA_NOCLDWAIT), the one way a child's CPU time reaches no counter the
judge reads (tests/submissions/hidden_work_autoreaped_child), while honest work still runs."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from autograder.grading.worker import seccomp

# run in a fresh process: a seccomp filter cannot be removed once installed
PROBE = textwrap.dedent(
    """
    import ctypes, os, signal, subprocess, sys
    from autograder.grading.worker import seccomp

    assert seccomp.forbid_sigchld_changes()
    refused = []
    for action in (signal.SIG_IGN, signal.SIG_DFL, lambda *_: None):
        try:
            signal.signal(signal.SIGCHLD, action)
        except PermissionError:
            refused.append(True)

    class Action(ctypes.Structure):  # glibc's struct sigaction
        _fields_ = [("handler", ctypes.c_void_p), ("mask", ctypes.c_ulong * 16),
                    ("flags", ctypes.c_int), ("restorer", ctypes.c_void_p)]

    libc = ctypes.CDLL(None, use_errno=True)
    nocldwait = Action(flags=2)  # SA_NOCLDWAIT, handler SIG_DFL
    assert libc.sigaction(signal.SIGCHLD, ctypes.byref(nocldwait), None) == -1
    assert ctypes.get_errno() == 1
    assert signal.getsignal(signal.SIGCHLD) == signal.SIG_DFL  # reading it still works
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)  # other signals as before
    child = subprocess.run(
        [sys.executable, "-c",
         "import signal; signal.signal(signal.SIGCHLD, signal.SIG_IGN)"],
        capture_output=True, text=True,
    )
    assert child.returncode == 1 and "PermissionError" in child.stderr  # inherited
    pid = os.fork()  # children and threads as such are allowed, and waited for
    if pid == 0:
        os._exit(7)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 7
    print(len(refused))
    """
)


def test_no_process_of_the_worker_can_stop_its_children_being_waited_for():
    run = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["3"]


def test_the_filter_refuses_other_abis_and_only_a_new_sigchld_action():
    """The program, read as the kernel runs it: every path ends in the right verdict."""
    arch, number = seccomp.ABIS["x86_64"]
    allow, deny = seccomp.SECCOMP_RET_ALLOW, seccomp.SECCOMP_RET_ERRNO | 1

    def verdict(nr: int, args: tuple[int, int] = (0, 0), abi: int = arch) -> int:
        data = {0: nr, 4: abi, 16: args[0], 24: args[1] & 0xFFFFFFFF, 28: args[1] >> 32}
        instructions, at, accumulator = seccomp.program(arch, number), 0, 0
        while True:
            code, jt, jf, k = instructions[at]
            if code == seccomp._RET:
                return k
            if code == seccomp._LD_ABS:
                accumulator, at = data[k], at + 1
                continue
            taken = accumulator == k if code == seccomp._JEQ else accumulator >= k
            at += 1 + (jt if taken else jf)

    assert verdict(number, (17, 0x7FFF_0000_1000)) == deny  # a new SIGCHLD action
    assert verdict(number, (17, 0x1000)) == deny
    assert verdict(number, (17, 0)) == allow  # reading it
    assert verdict(number, (10, 0x1000)) == allow  # another signal
    assert verdict(0) == allow and verdict(57) == allow  # read, fork
    assert verdict(seccomp.X32_SYSCALL_BIT | 512) == deny  # x32's rt_sigaction
    assert verdict(67, abi=0x40000003) == deny  # i386's sigaction through int 0x80
