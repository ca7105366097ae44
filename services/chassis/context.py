"""The keys of the context every call carries: nameko sends a worker's context data along
with each RPC it makes (as `nameko.<key>` headers), so these reach the service that does the
work, and the services it calls in turn."""

REQUEST_ID = "request_id"  # the gateway's X-Request-Id: on every log line and every event
DEADLINE = "deadline"  # epoch seconds after which no caller awaits the answer
IDEMPOTENCY_KEY = "idempotency_key"  # the caller's key, scoped by the caller ("<account>/<key>")
IDEMPOTENCY_FINGERPRINT = "idempotency_fingerprint"  # of the request the key was first used for
