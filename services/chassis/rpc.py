"""RPC with a deadline: nameko's ServiceRpc waits forever for a reply; this one does not.

A call gives up after RPC_TIMEOUT seconds with ServiceUnavailable, and so does a call that
cannot reach any consumer (no service bound, broker unreachable). The request expires in
the broker at the same deadline, so a late consumer never acts on a call nobody awaits.
"""

import eventlet
from kombu.exceptions import OperationalError
from nameko.amqp.publish import UndeliverableMessage
from nameko.rpc import Client, ServiceRpc
from nameko.rpc import rpc as nameko_rpc

from .config import setting
from .errors import ServiceUnavailable, WenmingError

# `@rpc` for services: a refused command (bad input, not found, conflict, ...) is an expected
# outcome, logged without a traceback (see observability) and counted as "rejected".
rpc = nameko_rpc(expected_exceptions=(WenmingError,))


def unavailable(service, reason):
    return ServiceUnavailable("service.unavailable", f"服务 {service} 暂时不可用（{reason}）")


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
