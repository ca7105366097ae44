"""Idempotency-Key on POST, carried to the service that makes the change.

The gateway keeps no record: it checks the key, scopes it to the caller's account and
sends it, with a fingerprint of the request, in the call's context; the owning service's
`@command` records the outcome with the change and replays it to every retry
(services/chassis/rpc.py). So a retry after a timeout, a 503 or a dropped connection, on
any gateway replica, never does the work twice."""

import hashlib
import json
import re

from services.chassis.context import IDEMPOTENCY_FINGERPRINT, IDEMPOTENCY_KEY

from .problems import bad_request

KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as in the IETF draft's examples


def context(call, spec):
    """The context entries that make this call's command idempotent ({} without a key)."""
    if not spec.idempotent:
        return {}
    key = call.headers.get("Idempotency-Key")
    if key is None:
        return {}
    if not KEY_PATTERN.match(key):
        raise bad_request("idempotency.key_invalid", "Idempotency-Key 须为 1–255 个可见 ASCII 字符")
    return {
        IDEMPOTENCY_KEY: f"{call.principal.account_id}/{key}",
        IDEMPOTENCY_FINGERPRINT: fingerprint(call.method, call.path, _without_secrets(call.payload, spec.body)),
    }


def fingerprint(method, path, body):
    """sha256 of the request with its body as validated: canonical JSON, so that formatting
    does not count."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{method}\n{path}\n{canonical}".encode()).hexdigest()


def _without_secrets(payload, schema):
    """A fingerprint must not let anyone guess a password: secret fields are left out."""
    if not payload or schema is None:
        return payload
    secret = {name for name, field in schema.fields.items() if field.metadata.get("secret")}
    return {name: value for name, value in payload.items() if name not in secret}
