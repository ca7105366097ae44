"""uvicorn's httptools protocol with the limits a public edge needs and uvicorn lacks: a
client must finish its request headers within a deadline, in a bounded number of bytes and
lines. Without them, sockets that never finish their headers are held open for ever."""

import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEADER_BYTES = 16 * 1024  # request line and headers together
MAX_HEADERS = 100

_REASONS = {408: "Request Timeout", 431: "Request Header Fields Too Large"}


def guarded_protocol(headers_timeout):
    """The protocol class for uvicorn's `http` setting, with `headers_timeout` seconds for a
    request's headers (from the connection's start, or from a kept-alive request's first byte)."""

    class GuardedHttpToolsProtocol(HttpToolsProtocol):
        def connection_made(self, transport):
            super().connection_made(transport)
            self._headers_timer = None
            self._await_headers()

        def _await_headers(self):
            self._header_bytes = self._header_count = 0
            self._awaiting_headers = True
            if self._headers_timer is None:
                self._headers_timer = self.loop.call_later(headers_timeout, self._refuse, 408, "http.headers_timeout")

        def _headers_done(self):
            self._awaiting_headers = False
            if self._headers_timer is not None:
                self._headers_timer.cancel()
                self._headers_timer = None

        def data_received(self, data):
            if self._awaiting_headers:
                self._header_bytes += len(data)
                if self._header_bytes > MAX_HEADER_BYTES:
                    self._refuse(431, "http.headers_too_large")
                    return
            super().data_received(data)

        def on_message_begin(self):
            super().on_message_begin()
            self._await_headers()

        def on_header(self, name, value):
            self._header_count += 1
            if self._header_count > MAX_HEADERS:
                self._refuse(431, "http.too_many_headers")
                raise ConnectionAbortedError("too many request headers")  # stops the parser
            super().on_header(name, value)

        def on_headers_complete(self):
            self._headers_done()
            super().on_headers_complete()

        def connection_lost(self, exc):
            self._headers_done()
            super().connection_lost(exc)

        def _refuse(self, status, code):
            """A problem+json answer, then the connection closes."""
            self._headers_done()
            if self.transport.is_closing():
                return
            body = json.dumps(
                {
                    "type": f"https://wenming.example/problems/{code}",
                    "title": _REASONS[status],
                    "status": status,
                    "code": code,
                },
            ).encode()
            head = (
                f"HTTP/1.1 {status} {_REASONS[status]}\r\ncontent-type: application/problem+json\r\n"
                f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
            )
            self.transport.write(head.encode() + body)
            self.transport.close()

    return GuardedHttpToolsProtocol
