"""The gateway's access log: one line per request, written in batches.

Through `logging` a line cost about a fifth of a read-model request (a LogRecord, a
formatter and a write and flush of its own). Here a line is one f-string, the timestamp's
text is made once a second, and the lines a turn of the event loop produced are written
together once it has run its ready callbacks: under load a write carries many lines, when
idle a line is written within the same turn. The line looks like the gateway's other log
lines (`logging.basicConfig` in gateway/__main__.py):

    2026-11-29 07:27:47,123 INFO [gateway] gateway.access: 127.0.0.1 "GET /api/v1/centers/5" 200 0.4ms request_id=…
"""

import asyncio
import sys
import time


class AccessLog:
    def __init__(self, service_name="gateway", stream=None, enabled=True):
        self.enabled = enabled
        self._stream = stream
        self._tag = f" INFO [{service_name}] gateway.access: "
        self._lines = []
        self._second, self._second_text = None, ""

    @classmethod
    def off(cls):
        return cls(enabled=False)

    def write(self, client, method, target, status, elapsed, request_id):
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second, self._second_text = second, time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
        milliseconds = int((now - second) * 1000)
        line = (
            f"{self._second_text},{milliseconds:03d}{self._tag}"
            f'{client} "{method} {target}" {status} {elapsed * 1000:.1f}ms request_id={request_id}\n'
        )
        if not self._lines:
            asyncio.get_running_loop().call_soon(self.flush)
        self._lines.append(line)

    def flush(self):
        if self._lines:
            stream = self._stream or sys.stderr  # looked up late: tests and launchers swap stderr
            stream.write("".join(self._lines))
            self._lines.clear()
            stream.flush()
