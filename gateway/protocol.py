"""uvicorn's httptools protocol with the limits a public edge needs and uvicorn lacks: a
client must finish its request headers within a deadline, in a bounded number of bytes and
lines. Without them, sockets that never finish their headers are held open for ever.

Every request refused here, before any route sees it, is answered like the routes answer:
problem+json with a stable `code`, a Chinese `detail`, a request id, no `Server` header and
`X-Content-Type-Options: nosniff`. That covers what uvicorn would otherwise answer in plain
text: a request that is not HTTP (400) and a request beyond the connection cap (503). After
a refusal the connection closes gracefully: the answer goes out, the sending side is shut,
and what the client is still sending is read and dropped for a moment (a lingering close),
so that the client reads the answer instead of a connection reset."""

import json
import uuid

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .problems import CONTENT_TYPE, SECURITY_HEADERS, TITLES, TYPE_BASE

MAX_HEADER_BYTES = 16 * 1024  # request line and headers together
MAX_HEADERS = 100
LINGER_SECONDS = 2  # after a refusal, how long what the client still sends is read and dropped
LINGER_BYTES = 4 * 1024 * 1024  # … and how much of it

REFUSALS = {  # code: (status, detail)
    "http.headers_timeout": (408, "请求头未在限定时间内发送完毕"),
    "http.headers_too_large": (431, f"请求行与请求头合计不能超过 {MAX_HEADER_BYTES} 字节"),
    "http.too_many_headers": (431, f"请求头不能超过 {MAX_HEADERS} 个"),
    "http.malformed_request": (400, "请求不是合法的 HTTP/1.1 请求"),
    "http.too_many_connections": (503, "服务器繁忙，请稍后重试"),
}


def refusal(code):
    """The complete HTTP/1.1 response (bytes) refusing a request with `code` (REFUSALS)."""
    status, detail = REFUSALS[code]
    request_id = uuid.uuid4().hex
    title = TITLES[status]
    body = json.dumps(
        {
            "type": TYPE_BASE + code,
            "title": title,
            "status": status,
            "detail": detail,
            "code": code,
            "request_id": request_id,
        },
        ensure_ascii=False,
    ).encode()
    headers = {
        "content-type": CONTENT_TYPE,
        "content-length": str(len(body)),
        "connection": "close",
        "x-request-id": request_id,
        **{name.lower(): value for name, value in SECURITY_HEADERS.items()},
    }
    if status == 503:
        headers["retry-after"] = "1"
    head = f"HTTP/1.1 {status} {title}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode("latin-1") + body


async def _too_many_connections(scope, receive, send):
    """The ASGI app answering a request beyond MAX_CONNECTIONS (uvicorn's says it in plain text)."""
    head, _, body = refusal("http.too_many_connections").partition(b"\r\n\r\n")
    headers = [tuple(line.split(b": ", 1)) for line in head.split(b"\r\n")[1:]]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def guarded_protocol(headers_timeout):
    """The protocol class for uvicorn's `http` setting, with `headers_timeout` seconds for a
    request's headers (from the connection's start, or from a kept-alive request's first byte)."""

    class GuardedHttpToolsProtocol(HttpToolsProtocol):
        def connection_made(self, transport):
            super().connection_made(transport)
            self._headers_timer = None
            self._refused = False
            self._linger_timer = None
            self._lingered_bytes = 0
            self._await_headers()

        def _await_headers(self):
            self._header_bytes = self._header_count = 0
            self._awaiting_headers = True
            if self._headers_timer is None:
                self._headers_timer = self.loop.call_later(headers_timeout, self._refuse, "http.headers_timeout")

        def _headers_done(self):
            self._awaiting_headers = False
            if self._headers_timer is not None:
                self._headers_timer.cancel()
                self._headers_timer = None

        def data_received(self, data):
            if self._refused:  # lingering: read and drop
                self._lingered_bytes += len(data)
                if self._lingered_bytes > LINGER_BYTES:
                    self.transport.close()
                return
            if self._awaiting_headers:
                self._header_bytes += len(data)
                if self._header_bytes > MAX_HEADER_BYTES:
                    self._refuse("http.headers_too_large")
                    return
            super().data_received(data)

        def on_message_begin(self):
            super().on_message_begin()
            self._await_headers()

        def on_header(self, name, value):
            self._header_count += 1
            if self._header_count > MAX_HEADERS:
                self._refuse("http.too_many_headers")
                raise ConnectionAbortedError("too many request headers")  # stops the parser
            super().on_header(name, value)

        def on_headers_complete(self):
            self._headers_done()
            limit = self.limit_concurrency
            if limit is not None and (len(self.connections) >= limit or len(self.tasks) >= limit):
                # uvicorn would answer in plain text: let it run our app instead, this once
                self.logger.warning("Exceeded concurrency limit.")
                app, self.app, self.limit_concurrency = self.app, _too_many_connections, None
                try:
                    super().on_headers_complete()
                finally:
                    self.app, self.limit_concurrency = app, limit
                return
            super().on_headers_complete()

        def send_400_response(self, msg):
            """uvicorn's answer to bytes that do not parse as HTTP (its own is plain text)."""
            self._refuse("http.malformed_request")

        def connection_lost(self, exc):
            self._headers_done()
            if self._linger_timer is not None:
                self._linger_timer.cancel()
                self._linger_timer = None
            super().connection_lost(exc)

        def _refuse(self, code):
            """A problem+json answer, then a lingering close (see the module's docstring)."""
            self._headers_done()
            if self._refused or self.transport.is_closing():
                return
            self._refused = True
            self.transport.write(refusal(code))
            if self.transport.can_write_eof():
                self.transport.write_eof()
                self.flow.resume_reading()
                self._linger_timer = self.loop.call_later(LINGER_SECONDS, self.transport.close)
            else:
                self.transport.close()

    return GuardedHttpToolsProtocol
