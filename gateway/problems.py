"""RFC 9457 problem details: one exception type for HTTP-level failures and one mapping from
any exception (chassis errors included) to a problem, so every error leaves the gateway as
`application/problem+json` with a stable `code`."""

import logging

from services.chassis.errors import NotAuthenticated, RateLimited, WenmingError

from .circuit import CircuitOpen

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://wenming.example/problems/"

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    408: "Request Timeout",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    428: "Precondition Required",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

# Sent with every response the gateway writes (gateway.app, gateway.protocol): browsers
# must never guess a content type (a problem+json echoing input is not HTML).
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff"}


class Problem(WenmingError):
    """An HTTP failure raised by gateway code, with its own status; `headers` travel with
    the response. A WenmingError, so the chassis counts a 4xx as "rejected", not "error"."""

    def __init__(self, status, code, detail, fields=None, headers=None):
        super().__init__(code, detail, fields)
        self.status = status
        self.headers = headers or {}


def bad_request(code, detail):
    return Problem(400, code, detail)


def unauthorized(code, detail, token_sent=True):
    # RFC 6750: a request with no token gets the bare challenge, a bad token names the error
    challenge = 'Bearer realm="wenming", error="invalid_token"' if token_sent else 'Bearer realm="wenming"'
    return Problem(401, code, detail, headers={"WWW-Authenticate": challenge})


def forbidden(detail="无权执行此操作", code="auth.forbidden"):
    return Problem(403, code, detail)


def to_problem(exc, request_id=None):
    """Any exception as a Problem: chassis errors keep their code, status and fields; anything
    unexpected becomes an opaque 500 (logged here with the request id, never shown to the
    client)."""
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, NotAuthenticated):
        return unauthorized(exc.code, exc.message, token_sent=False)
    if isinstance(exc, RateLimited | CircuitOpen):  # 429 or 503, saying when to try again
        return Problem(exc.status, exc.code, exc.message, headers={"Retry-After": str(exc.retry_after)})
    if isinstance(exc, WenmingError):
        return Problem(exc.status, exc.code, exc.message, fields=exc.fields)
    log.error("unhandled error [request_id=%s]", request_id, exc_info=exc)
    return Problem(500, "internal", "服务器内部错误，请稍后重试")


def render(problem, request_id, instance=None):
    """The problem+json document for `problem`."""
    body = {
        "type": TYPE_BASE + problem.code,
        "title": TITLES.get(problem.status, "Error"),
        "status": problem.status,
        "detail": problem.message,
        "code": problem.code,
        "request_id": request_id,
    }
    if problem.fields:
        body["errors"] = problem.fields
    if instance:
        body["instance"] = instance
    return body
