"""HTTP metrics by route template (never the raw path: ids would explode the label set) and
status; the chassis' entrypoint metrics do not see statuses."""

from prometheus_client import Counter, Gauge, Histogram

from services.chassis.metrics import LATENCY_BUCKETS

HTTP_REQUESTS = Counter(
    "wenming_http_requests",
    "HTTP requests by route template, method and status",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "wenming_http_request_latency_seconds",
    "HTTP request latency by route template",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
CIRCUIT_OPEN = Gauge(
    "wenming_gateway_circuit_open",
    "1 while the gateway refuses calls to a service that stopped answering, else 0",
    ["service"],
)

_counters = {}  # label lookups cost more than the increment: keep the children
_histograms = {}


def observe(route, method, status, seconds):
    key = (route, method, status)
    counter = _counters.get(key)
    if counter is None:
        counter = _counters[key] = HTTP_REQUESTS.labels(route, method, str(status))
    counter.inc()
    histogram = _histograms.get(key[:2])
    if histogram is None:
        histogram = _histograms[key[:2]] = HTTP_LATENCY.labels(route, method)
    histogram.observe(seconds)
