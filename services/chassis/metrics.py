"""The Prometheus metrics every service shares, defined once per process.

Names follow Prometheus conventions; `service` tells services apart where several run in
one process (tests) and is constant in production (one service per process)."""

from prometheus_client import Counter, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

ENTRYPOINT_CALLS = Counter(
    "wenming_entrypoint_calls",
    "Entrypoint invocations (rpc, event, http, timer) by outcome",
    ["service", "entrypoint_type", "method", "outcome"],
)
ENTRYPOINT_LATENCY = Histogram(
    "wenming_entrypoint_latency_seconds",
    "Entrypoint latency in seconds",
    ["service", "entrypoint_type", "method"],
    buckets=LATENCY_BUCKETS,
)
OUTBOX_PUBLISHED = Counter(
    "wenming_outbox_published",
    "Events published from the outbox; unrouted=true when no queue was bound to receive them",
    ["service", "unrouted"],
)
OUTBOX_PUBLISH_FAILURES = Counter(
    "wenming_outbox_publish_failures",
    "Outbox relay sweeps that failed to publish (broker unreachable, ...)",
    ["service"],
)
OUTBOX_RELAY_REPLACED = Counter(
    "wenming_outbox_relay_replaced",
    "Outbox relay sweeps found stuck by the watchdog and replaced",
    ["service"],
)
EVENT_RETRIES = Counter(
    "wenming_event_retries",
    "Event deliveries that failed and were scheduled for another attempt",
    ["service", "queue"],
)
EVENT_DEAD_LETTERED = Counter(
    "wenming_event_dead_lettered",
    "Event deliveries parked in a dead-letter queue after their last attempt",
    ["service", "queue"],
)
