"""Metrics for every entrypoint, health and readiness, and the request id on every log line.

`Observability()` in a service class times each worker (rpc, event, http, timer) and serves
`/metrics`, `/healthz` and `/readyz` on METRICS_PORT. Other extensions of the container
contribute by duck typing: `health_check()` (raise when not ready) and `observed_gauges()`
(yield `(name, help, value, labels)`), e.g. the outbox backlog and dead-letter counts.
"""

import logging
import threading
import time
import uuid

import eventlet
import eventlet.wsgi
from kombu import Connection
from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc
from nameko.timer import Timer
from nameko.web.handlers import HttpRequestHandler
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import GaugeMetricFamily

from .config import amqp_uri, setting
from .errors import WenmingError
from .metrics import ENTRYPOINT_CALLS, ENTRYPOINT_LATENCY

log = logging.getLogger(__name__)

_request_context = threading.local()  # green-local once eventlet has monkey-patched threading
_live_observers = set()  # Observability of each running container (containers are weak proxies)
_ENTRYPOINT_TYPES = ((Rpc, "rpc"), (EventHandler, "event"), (HttpRequestHandler, "http"), (Timer, "timer"))


def current_request_id():
    return getattr(_request_context, "request_id", None)


def current_context():
    """The context data of the worker running on this greenthread ({} outside a worker)."""
    return getattr(_request_context, "context_data", None) or {}


def _install_request_id_on_log_records():
    make_record = logging.getLogRecordFactory()

    def record_with_request_id(*args, **kwargs):
        record = make_record(*args, **kwargs)
        record.request_id = current_request_id() or "-"
        return record

    logging.setLogRecordFactory(record_with_request_id)


_install_request_id_on_log_records()


class _ExpectedErrorsAreNotIncidents(logging.Filter):
    """nameko logs every expected exception (a refused command) as a WARNING with a traceback;
    those are answers to callers, not incidents: keep one INFO line."""

    def filter(self, record):
        if str(record.msg).startswith("(expected) error handling worker"):
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


logging.getLogger("nameko.containers").addFilter(_ExpectedErrorsAreNotIncidents())


def entrypoint_type(entrypoint):
    for cls, name in _ENTRYPOINT_TYPES:
        if isinstance(entrypoint, cls):
            return name
    return type(entrypoint).__name__.lower()


def outcome_of(exc_info):
    if exc_info is None:
        return "ok"
    exc = exc_info[1]
    # a refused request (bad input, not found, forbidden) is the caller's problem, not ours
    if isinstance(exc, WenmingError) and exc.status < 500:
        return "rejected"
    return "error"


class _ContainerGauges:
    """One process-wide collector over every running container's gauges."""

    def collect(self):
        families = {}
        for observer in list(_live_observers):
            container = observer.container
            for extension in container.extensions:
                observe = getattr(extension, "observed_gauges", None)
                if observe is None:
                    continue
                try:
                    for name, help_text, value, labels in observe():
                        labels = {"service": container.service_name, **labels}
                        family = families.get(name)
                        if family is None:
                            family = families[name] = GaugeMetricFamily(name, help_text, labels=list(labels))
                        family.add_metric(list(labels.values()), value)
                except Exception:
                    log.debug("gauge of %r unavailable", extension, exc_info=True)
        yield from families.values()


REGISTRY.register(_ContainerGauges())


def check_broker(uri):
    with Connection(uri, connect_timeout=2) as connection:
        connection.ensure_connection(max_retries=1)


class Observability(DependencyProvider):
    def setup(self):
        self.service = self.container.service_name
        self.port = int(setting("METRICS_PORT", 0))
        self.host = setting("METRICS_HOST", "0.0.0.0")
        self._started_at = {}
        self._server = None

    def start(self):
        _live_observers.add(self)
        if self.port:
            sock = eventlet.listen((self.host, self.port))
            self._server = eventlet.spawn(eventlet.wsgi.server, sock, self._wsgi_app, log_output=False)
            log.info("%s metrics and health on http://%s:%d/metrics", self.service, self.host, self.port)

    def stop(self):
        _live_observers.discard(self)
        if self._server is not None:
            self._server.kill()
            self._server = None

    kill = stop

    def worker_setup(self, worker_ctx):
        request_id = worker_ctx.context_data.setdefault("request_id", uuid.uuid4().hex)
        _request_context.request_id = request_id
        _request_context.context_data = worker_ctx.context_data
        self._started_at[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self._started_at.pop(worker_ctx, None)
        kind = entrypoint_type(worker_ctx.entrypoint)
        method = worker_ctx.entrypoint.method_name
        ENTRYPOINT_CALLS.labels(self.service, kind, method, outcome_of(exc_info)).inc()
        if started is not None:
            ENTRYPOINT_LATENCY.labels(self.service, kind, method).observe(time.perf_counter() - started)

    def worker_teardown(self, worker_ctx):
        self._started_at.pop(worker_ctx, None)
        _request_context.request_id = _request_context.context_data = None

    def readiness(self):
        """Problems that make this service unready, as {check: reason}; empty when ready."""
        problems = {}
        checks = [("broker", lambda: check_broker(amqp_uri()))]
        checks += [
            (type(ext).__name__.lower(), ext.health_check)
            for ext in self.container.extensions
            if hasattr(ext, "health_check")
        ]
        for name, check in checks:
            try:
                check()
            except Exception as exc:
                problems[name] = f"{type(exc).__name__}: {exc}"[:300]
        return problems

    def _wsgi_app(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return _respond(start_response, "200 OK", CONTENT_TYPE_LATEST, generate_latest(REGISTRY))
        if path == "/healthz":
            return _respond(start_response, "200 OK", "text/plain", b"ok\n")
        if path == "/readyz":
            problems = self.readiness()
            if problems:
                body = "".join(f"{name}: {reason}\n" for name, reason in problems.items())
                return _respond(start_response, "503 Service Unavailable", "text/plain", body.encode())
            return _respond(start_response, "200 OK", "text/plain", b"ready\n")
        return _respond(start_response, "404 Not Found", "text/plain", b"not found\n")


def _respond(start_response, status, content_type, body):
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]
