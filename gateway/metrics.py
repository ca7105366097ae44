"""HTTP metrics by route template (never the raw path: ids would explode the label set) and
status; the chassis' entrypoint metrics do not see statuses.

One histogram: its `_count` is the request counter (by route, method and status), so a
request costs one observation, and latency can be split by outcome."""

from prometheus_client import Gauge, Histogram

from services.chassis.metrics import LATENCY_BUCKETS

HTTP_DURATION = Histogram(
    "wenming_http_request_duration_seconds",
    "HTTP requests by route template, method and status, and how long they took",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
CIRCUIT_OPEN = Gauge(
    "wenming_gateway_circuit_open",
    "1 while the gateway refuses calls to a service that stopped answering, else 0",
    ["service"],
)

_children = {}  # a label lookup costs more than the observation: keep the children


def observe(route, method, status, seconds):
    key = (route, method, status)
    child = _children.get(key)
    if child is None:
        child = _children[key] = HTTP_DURATION.labels(route, method, str(status))
    child.observe(seconds)
