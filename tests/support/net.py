"""Network helpers for tests and benchmarks."""

import socket


def free_port(host="127.0.0.1"):
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
