"""Network helpers for tests and benchmarks."""

import contextlib
import socket


def free_port(host="127.0.0.1"):
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class BlackHoleProxy:
    """A TCP relay to `target` that can turn into a dead network path: after `swallow()` every
    connection it holds stays open and silently drops whatever is sent (as when a peer
    vanishes without a FIN), and new connections are accepted and never answered. After
    `restore()` new connections work again; the swallowed ones stay dead. Eventlet world."""

    def __init__(self, target_host, target_port):
        import eventlet

        self._eventlet = eventlet
        self.target = (target_host, target_port)
        self.listener = eventlet.listen(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.swallowing = False
        self._generation = 0  # connections from an earlier generation are dead
        self._sockets = []
        self._pipes = []
        self._server = eventlet.spawn(self._serve)

    def url(self, amqp_uri):
        """`amqp_uri` pointed at this proxy instead of the broker."""
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(amqp_uri)
        credentials = parts.netloc.rpartition("@")[0]
        return urlunsplit(parts._replace(netloc=f"{credentials}@127.0.0.1:{self.port}"))

    def swallow(self):
        self.swallowing = True
        self._generation += 1

    def restore(self):
        self.swallowing = False

    def reset(self):
        """Reset every connection it holds (RST, as when a broker's host goes down hard);
        new ones are relayed as before."""
        import struct

        self._generation += 1
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
        self._sockets = []

    def close(self):
        for thread in [self._server, *self._pipes]:
            thread.kill()
        for sock in self._sockets + [self.listener]:
            sock.close()

    def _serve(self):
        while True:
            client, _ = self.listener.accept()
            self._sockets.append(client)
            if self.swallowing:
                continue  # accepted, never answered
            upstream = self._eventlet.connect(self.target)
            self._sockets.append(upstream)
            generation = self._generation
            self._pipes.append(self._eventlet.spawn(self._pipe, client, upstream, generation))
            self._pipes.append(self._eventlet.spawn(self._pipe, upstream, client, generation))

    def _pipe(self, source, sink, generation):
        try:
            while data := source.recv(65536):
                if generation == self._generation:
                    sink.sendall(data)
            if generation == self._generation:
                sink.shutdown(socket.SHUT_WR)  # pass the peer's close on
        except (OSError, EOFError):  # reset or closed under it (eventlet raises EOFError then)
            pass
