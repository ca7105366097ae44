"""Idempotency-Key on POST: the first request with a key runs and its response is stored;
a repeat with the same method, path and body gets the stored response back; a repeat with a
different request is refused (422); a repeat while the first still runs gets 409.

Responses with status >= 500 are not kept, so a retry after an outage runs again."""

import hashlib
import json
import re
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from .models import IdempotencyRecord
from .problems import Problem, bad_request, to_problem
from .routing import Reply, as_reply, problem_reply

TTL_SECONDS = 24 * 3600
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as in the IETF draft's examples


@dataclass(frozen=True)
class StoredResponse:
    status: int
    content_type: str
    body: str


def check_key(key):
    if not KEY_PATTERN.match(key):
        raise bad_request("idempotency.key_invalid", "Idempotency-Key 须为 1–255 个可见 ASCII 字符")
    return key


def run_once(edge, call, handle):
    """`handle()` for a POST, unless the caller's Idempotency-Key says it already ran: then
    the stored response. The gateway's database holds the keys."""
    key = call.headers.get("Idempotency-Key")
    if key is None:
        return handle()
    account_id = call.principal.account_id
    check_key(key)
    stored = begin(edge.db, account_id, key, fingerprint(call.method, call.path, call.payload))
    if stored is not None:
        return Reply(stored.status, stored.body.encode(), {"Idempotent-Replayed": "true"}, stored.content_type)
    try:
        reply = as_reply(handle())
    except Exception as exc:
        failed = problem_reply(to_problem(exc), call.request_id, call.path)
        finish(edge.db, account_id, key, failed.status, failed.content_type, failed.encoded().decode())
        raise
    body = reply.encoded()
    finish(edge.db, account_id, key, reply.status, reply.content_type, body.decode() if body else "")
    return reply


def fingerprint(method, path, body):
    """sha256 of the request with its body as validated: canonical JSON, so that formatting
    does not count, and without load-only fields such as passwords."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{method}\n{path}\n{canonical}".encode()).hexdigest()


def begin(db, account_id, key, request_fingerprint, now=None):
    """The stored response to replay, or None after reserving the key for this request."""
    now = int(now if now is not None else time.time())
    try:
        with db.unit_of_work() as uow:
            record = uow.session.get(IdempotencyRecord, (account_id, key))
            if record is not None and record.expires_at <= now:
                uow.session.delete(record)
                uow.session.flush()
                record = None
            if record is None:
                uow.session.add(
                    IdempotencyRecord(
                        account_id=account_id,
                        key=key,
                        fingerprint=request_fingerprint,
                        expires_at=now + TTL_SECONDS,
                    )
                )
                return None
            if record.fingerprint != request_fingerprint:
                raise Problem(422, "idempotency.key_reused", "该 Idempotency-Key 已用于另一个不同的请求")
            if record.status is None:
                raise _in_flight()
            return StoredResponse(record.status, record.content_type, record.body)
    except IntegrityError:  # another replica reserved the key between our read and insert
        raise _in_flight() from None


def finish(db, account_id, key, status, content_type, body):
    with db.unit_of_work() as uow:
        if status >= 500:
            uow.session.execute(_delete(account_id, key))
            return
        record = uow.session.get(IdempotencyRecord, (account_id, key))
        if record is not None:
            record.status, record.content_type, record.body = status, content_type, body


def purge_expired(db, now=None):
    now = int(now if now is not None else time.time())
    with db.unit_of_work() as uow:
        return uow.session.execute(sa.delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= now)).rowcount


def _delete(account_id, key):
    return sa.delete(IdempotencyRecord).where(IdempotencyRecord.account_id == account_id, IdempotencyRecord.key == key)


def _in_flight():
    return Problem(409, "idempotency.in_flight", "使用该 Idempotency-Key 的请求仍在处理中，请稍后重试")
