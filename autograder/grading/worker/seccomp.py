"""A seccomp filter the worker installs before any submission code runs: no process of the
worker's tree may change how it is told of its children's end (SIGCHLD).

A timed sample counts a child process only while the judge can see it: in the tree at the
sample's start and end, or through its parent's reaped-children counters (``cutime``...)
when waited for (:mod:`~autograder.grading.judge.cpu_window`). A parent that ignores SIGCHLD
(``SIG_IGN``) or sets ``SA_NOCLDWAIT`` has its children reaped by the kernel itself, whose
CPU time then reaches no counter: a child forked inside a timed call did the work unseen
(red team 2026-12-05: tests/submissions/hidden_work_autoreaped_child). Neither shows in
/proc (``SA_NOCLDWAIT`` at all), so the kernel refuses the change instead: ``rt_sigaction``
for SIGCHLD with a new action fails with EPERM (reading the action still works), and so does
every syscall of another ABI (i386 through ``int 0x80``, x32), which has its own numbers.
A seccomp filter holds for every process and thread started below, and cannot be removed.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import signal

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
X32_SYSCALL_BIT = 0x40000000
# machine -> (AUDIT_ARCH_*, rt_sigaction's number)
ABIS = {"x86_64": (0xC000003E, 13), "aarch64": (0xC00000B7, 134)}

_LD_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_RET = 0x06  # BPF_RET | BPF_K
# struct seccomp_data: nr (0), arch (4), instruction_pointer (8), args[6] (16, little-endian)
_NR, _ARCH, _ARG0, _ARG1_LOW, _ARG1_HIGH = 0, 4, 16, 24, 28


class _Instruction(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    ]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Instruction))]


def program(arch: int, rt_sigaction: int) -> list[tuple[int, int, int, int]]:
    """The filter's instructions: (code, jump if true, jump if false, constant)."""
    deny = SECCOMP_RET_ERRNO | errno.EPERM
    return [
        (_LD_ABS, 0, 0, _ARCH),
        (_JEQ, 1, 0, arch),
        (_RET, 0, 0, deny),  # another ABI
        (_LD_ABS, 0, 0, _NR),
        (_JGE, 7, 0, X32_SYSCALL_BIT),  # -> deny
        (_JEQ, 0, 7, rt_sigaction),  # -> allow
        (_LD_ABS, 0, 0, _ARG0),
        (_JEQ, 0, 5, signal.SIGCHLD),  # -> allow
        (_LD_ABS, 0, 0, _ARG1_LOW),
        (_JEQ, 0, 2, 0),  # a new action -> deny
        (_LD_ABS, 0, 0, _ARG1_HIGH),
        (_JEQ, 1, 0, 0),  # no new action (a read) -> allow
        (_RET, 0, 0, deny),
        (_RET, 0, 0, SECCOMP_RET_ALLOW),
    ]


def forbid_sigchld_changes() -> bool:
    """Install the filter on this process (and all it starts); False where the kernel or the
    machine has no seccomp for it (then the sample's other checks are all there is)."""
    abi = ABIS.get(platform.machine())
    if abi is None:
        return False
    instructions = program(*abi)
    array = (_Instruction * len(instructions))(*(_Instruction(*i) for i in instructions))
    prog = _Program(len(instructions), array)
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    if prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    address = ctypes.addressof(prog)
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, address, 0, 0) == 0
