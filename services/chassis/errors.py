"""Errors that domain code raises and that cross nameko RPC as themselves.

Each carries a stable `code`, a human message and optional per-field messages; the gateway
turns them into problem+json with `status`.
"""

from nameko.exceptions import deserialize_to_instance


class WenmingError(Exception):
    status = 500

    def __init__(self, code, message, fields=None):
        # args stay (code, message, fields) so nameko can rebuild the error on the caller's side
        super().__init__(code, message, fields or {})
        self.code = code
        self.message = message
        self.fields = fields or {}

    def __str__(self):
        return f"{self.code}: {self.message}"


@deserialize_to_instance
class InvalidInput(WenmingError):
    status = 422


@deserialize_to_instance
class NotFound(WenmingError):
    status = 404


@deserialize_to_instance
class Conflict(WenmingError):
    status = 409


@deserialize_to_instance
class PermissionDenied(WenmingError):
    status = 403


@deserialize_to_instance
class ServiceUnavailable(WenmingError):
    status = 503


@deserialize_to_instance
class NotAuthenticated(WenmingError):
    """Wrong credentials, or an account that no longer exists or is deactivated."""

    status = 401


@deserialize_to_instance
class RateLimited(WenmingError):
    """Too many attempts: `retry_after` seconds until the next may proceed."""

    status = 429

    def __init__(self, code, message, fields=None, retry_after=1):
        super().__init__(code, message, fields)
        self.args = (code, message, self.fields, retry_after)  # what crosses RPC, to rebuild it
        self.retry_after = int(retry_after)  # nameko sends exception arguments as text


def unavailable(service, reason):
    """A call to `service` that cannot be answered (no instance, no reply in time, no broker)."""
    return ServiceUnavailable("service.unavailable", f"服务 {service} 暂时不可用（{reason}）")


def invalid_fields(code, fields, message="输入有误"):
    """An InvalidInput from marshmallow-style messages ({field: [messages]} or nested)."""
    return InvalidInput(code, message, _flatten(fields))


def _flatten(messages, prefix=""):
    flat = {}
    for key, value in messages.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = [str(m) for m in (value if isinstance(value, list) else [value])]
    return flat
