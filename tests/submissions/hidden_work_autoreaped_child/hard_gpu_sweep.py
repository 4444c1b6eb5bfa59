# The Python-loop reduction done in a child process forked inside the call that nobody waits
# for: with SIGCHLD ignored the kernel reaps the child itself at exit and adds its CPU time
# to no one (no cutime, no cminflt), and the child is born after the sample's first reading
# of the tree and gone before its last. Red team 2026-12-05 (s6).
import os as _os
import signal as _signal
import struct as _struct


def attention_style_torch(xs):
    _signal.signal(_signal.SIGCHLD, _signal.SIG_IGN)
    read_end, write_end = _os.pipe()
    pid = _os.fork()
    if pid == 0:
        total = 0.0
        for x in xs.tolist():
            total += x
        _os.write(write_end, _struct.pack("d", total / xs.numel()))
        _os._exit(0)
    _os.close(write_end)
    data = b""
    while len(data) < 8:
        chunk = _os.read(read_end, 8 - len(data))
        if not chunk:
            break
        data += chunk
    _os.close(read_end)
    try:  # SIGCHLD ignored: waits until the child is gone, then finds nothing to reap
        _os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    return torch.tensor(_struct.unpack("d", data)[0], dtype=xs.dtype, device=xs.device)
