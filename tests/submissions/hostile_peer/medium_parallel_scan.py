# Takes over the worker's reply loop and breaks the protocol, one way per function: a reply
# to another request (out of order), a reply sent twice, an unknown field, a header over
# the size limit, an unknown tag in a traced reply. Everything else answers honestly.
import autograder.grading.worker.main as _worker

_honest_handle = _worker.handle
_honest_write = _worker.protocol.write_frame


def _hostile_handle(request, buffers):
    reply, out = _honest_handle(request, buffers)
    function = request.get("function")
    if function == "scan_depth":
        reply["id"] = -1
    elif function == "serial_scan":
        reply["value"] = "x" * (17 * 2**20)
    elif function == "hillis_steele_scan" and request.get("trace"):
        reply["value"] = {"$pickle": "gASVBQAAAAAAAACMAXiULg=="}
    elif function == "scan_work":
        reply["duplicate"] = True
    return reply, out


def _hostile_write(fd, header, buffers=()):
    twice = header.pop("duplicate", False)
    _honest_write(fd, header, buffers)
    if twice:
        _honest_write(fd, header, buffers)


_worker.handle = _hostile_handle
_worker.protocol.write_frame = _hostile_write
