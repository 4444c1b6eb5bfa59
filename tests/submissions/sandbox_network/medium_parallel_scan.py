# Sandbox case "network" (tests/test_sandbox_grading.py): serial_scan, on its first call, connects
# to the test's TCP listener on the host's 127.0.0.1 (the port is written in by the test) and to
# an outside address, and sends data where it can. Then it scans honestly.

def serial_scan(xs, op=operator.add):
    config = _sandbox_test_start("network")
    if config is not None:
        import socket

        tried = {}
        for host, port in (("127.0.0.1", config["port"]), ("1.1.1.1", 53)):
            try:
                with socket.create_connection((host, port), timeout=1) as connection:
                    connection.sendall(b"sandbox-network-probe")
                tried[f"{host}:{port}"] = "connected and sent"
            except OSError as error:
                tried[f"{host}:{port}"] = type(error).__name__
        links = [name for _, name in socket.if_nameindex()]
        _sandbox_test_report("network", {"tried": tried, "links": links})
    out = []
    for x in xs:
        out.append(op(out[-1], x) if out else x)
    return out
