"""A circuit breaker per service: after a few calls in a row found no answer, the gateway
answers 503 at once (with Retry-After) instead of making every caller wait the full RPC
deadline; once the pause is over, one call probes the service (half-open) and its outcome
closes the circuit or opens it again.

Needed because nameko's RPC queues are durable: a stopped service's queue stays bound, so a
call to it is accepted by the broker and simply never answered."""

import math
import time

from services.chassis.errors import ServiceUnavailable

from .metrics import CIRCUIT_OPEN

FAILURES_TO_OPEN = 3  # consecutive calls without an answer
OPEN_SECONDS = 5.0  # how long calls are refused before a probe


class CircuitBreaker:
    def __init__(self, failures_to_open=FAILURES_TO_OPEN, open_seconds=OPEN_SECONDS, clock=time.monotonic):
        self.failures_to_open = failures_to_open
        self.open_seconds = open_seconds
        self._clock = clock
        self._failures = {}  # service -> consecutive calls without an answer
        self._open_until = {}  # service -> clock time when a probe may go
        self._probing = set()  # services with a probe in flight

    def retry_after(self, service):
        """0 when a call to `service` may go now (possibly as the probe), else whole seconds
        until one may."""
        open_until = self._open_until.get(service)
        if open_until is None:
            return 0
        wait = open_until - self._clock()
        if wait > 0 or service in self._probing:
            return max(1, math.ceil(wait))
        self._probing.add(service)  # half-open: this call is the probe
        return 0

    def answered(self, service):
        """The service answered (a result or an error of its own): the circuit closes."""
        self._failures.pop(service, None)
        if self._open_until.pop(service, None) is not None:
            CIRCUIT_OPEN.labels(service).set(0)
        self._probing.discard(service)

    def unanswered(self, service):
        """A call found no answer (no consumer, deadline passed, broker gone)."""
        self._probing.discard(service)
        failures = self._failures.get(service, 0) + 1
        self._failures[service] = failures
        if failures >= self.failures_to_open or service in self._open_until:
            self._open_until[service] = self._clock() + self.open_seconds
            CIRCUIT_OPEN.labels(service).set(1)

    def open_circuits(self):
        return sorted(self._open_until)


class CircuitOpen(ServiceUnavailable):
    """Refused without a call: `service` has not answered lately; try again in `retry_after` s."""

    def __init__(self, service, retry_after):
        super().__init__("service.unavailable", f"服务 {service} 暂时不可用（近期无响应，{retry_after} 秒后重试）")
        self.retry_after = retry_after
