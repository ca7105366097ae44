"""RPC with deadlines and idempotent commands, on both sides of a call.

Caller: nameko's ServiceRpc waits forever for a reply; `TimedServiceRpc` gives up after
RPC_TIMEOUT seconds with ServiceUnavailable, and so does a call that cannot reach any
consumer (no service bound, broker unreachable). The request expires in the broker at the
same deadline, and carries that deadline (context key `deadline`, epoch seconds).

Callee: `@rpc` refuses a request whose deadline has passed before doing anything (a paused
or slow service must not act on a call its caller already gave up on); `@command` is `@rpc`
for a method that changes state: with an idempotency key in the context (`idempotency_key`,
scoped by the caller, and `idempotency_fingerprint` of the request) it runs at most once, its
outcome recorded in the same transaction as its change and replayed to every retry.
"""

import functools
import inspect
import time

import eventlet
from kombu.exceptions import OperationalError
from nameko.amqp.publish import UndeliverableMessage
from nameko.rpc import Client, ServiceRpc

from .acks import SturdyRpc
from .config import setting
from .context import DEADLINE, IDEMPOTENCY_FINGERPRINT, IDEMPOTENCY_KEY
from .errors import ServiceUnavailable, WenmingError, unavailable
from .observability import current_context

DEADLINE_HEADER = f"nameko.{DEADLINE}"  # nameko sends context data as `nameko.<key>` headers

# A refused command (bad input, not found, conflict, ...) is an expected outcome, logged
# without a traceback (see observability) and counted as "rejected".
_entrypoint = SturdyRpc.decorator(expected_exceptions=(WenmingError,))


def rpc(method):
    """An RPC entrypoint that refuses work whose caller's deadline has passed."""

    @functools.wraps(method)
    def within_deadline(self, *args, **kwargs):
        refuse_if_late(current_context())
        return method(self, *args, **kwargs)

    return _entrypoint(_keeping_signature(within_deadline, method))


def command(method):
    """An RPC entrypoint that changes state (through the service's `db`), at most once per
    idempotency key; its result must be JSON."""

    @functools.wraps(method)
    def at_most_once(self, *args, **kwargs):
        context = current_context()
        refuse_if_late(context)
        key = context.get(IDEMPOTENCY_KEY)
        if key is None:
            return method(self, *args, **kwargs)
        fingerprint = context.get(IDEMPOTENCY_FINGERPRINT) or ""
        return self.db.run_once(key, method.__name__, fingerprint, lambda: method(self, *args, **kwargs))

    return _entrypoint(_keeping_signature(at_most_once, method))


def _keeping_signature(wrapper, method):
    # nameko checks a call's arguments against the entrypoint's signature (IncorrectSignature)
    # with inspect.getcallargs, which does not follow functools.wraps
    wrapper.__signature__ = inspect.signature(method)
    return wrapper


def refuse_if_late(context):
    deadline = context.get(DEADLINE)
    if deadline is not None and time.time() > float(deadline):
        raise ServiceUnavailable("rpc.deadline_passed", "请求已超过调用方的等待时限，未予执行")


class TimedServiceRpc(ServiceRpc):
    def __init__(self, target_service, timeout=None, **options):
        self.timeout = timeout
        super().__init__(target_service, **options)

    def setup(self):
        self.timeout_seconds = float(self.timeout or setting("RPC_TIMEOUT", 5))
        self.publisher_options["expiration"] = self.timeout_seconds
        # fail fast when the broker is gone instead of nameko's default retries of several seconds
        self.publisher_options.setdefault("retry_policy", {"max_retries": 1, "interval_start": 0.1})
        super().setup()

    def get_dependency(self, worker_ctx):
        client = Client(self._publish, self._register_for_reply, worker_ctx.context_data)
        return getattr(client, self.target_service)

    def _publish(self, *args, **kwargs):
        # the callee refuses the call once nobody awaits it: the earlier of ours and our caller's
        headers = dict(kwargs.get("extra_headers") or {})
        ours = time.time() + self.timeout_seconds
        headers[DEADLINE_HEADER] = min(float(headers.get(DEADLINE_HEADER, ours)), ours)
        kwargs["extra_headers"] = headers
        try:
            self.publisher.publish(*args, **kwargs)
        except (UndeliverableMessage, OperationalError, ConnectionError, OSError) as exc:
            # nobody will ever reply: forget the call, or the reply listener keeps waiting for it
            self.reply_listener.pending.pop(kwargs.get("correlation_id"), None)
            reason = "没有可用实例" if isinstance(exc, UndeliverableMessage) else "消息代理不可达"
            raise unavailable(self.target_service, reason) from exc

    def _register_for_reply(self, correlation_id):
        listener = self.reply_listener
        wait = listener.register_for_reply(correlation_id)

        def wait_until_deadline():
            try:
                with eventlet.Timeout(self.timeout_seconds):
                    return wait()
            except eventlet.Timeout:
                listener.pending.pop(correlation_id, None)
                raise unavailable(self.target_service, "响应超时") from None

        return wait_until_deadline
