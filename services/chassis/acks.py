"""Settling a message (ack, requeue, reply) through a connection that has just died.

nameko's consumer ignores amqp's ConnectionError when it acks or requeues, but not the
OSError of a reset socket, and an RPC reply that cannot be published raises too; any of
these in a worker kills the whole container, every worker of the service with it, on a
mere broker restart. The broker has already taken back the unacknowledged messages of a
dead connection and delivers them again (commands and event handlers are idempotent), and
the consumer reconnects by itself: there is nothing to do but log it.
"""

import contextlib
import logging

from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu.exceptions import OperationalError
from nameko.amqp.consume import Consumer
from nameko.rpc import Rpc, RpcConsumer

log = logging.getLogger(__name__)

CONNECTION_LOST = (OSError, AmqpConnectionError, OperationalError)


@contextlib.contextmanager
def connection_may_be_lost(what):
    try:
        yield
    except CONNECTION_LOST as exc:
        log.warning("could not %s, the connection is gone (%s); the broker delivers the message again", what, exc)


class SturdyConsumer(Consumer):
    def ack_message(self, message):
        with connection_may_be_lost("acknowledge a message"):
            super().ack_message(message)

    def requeue_message(self, message):
        with connection_may_be_lost("requeue a message"):
            super().requeue_message(message)


class SturdyRpcConsumer(RpcConsumer):
    consumer_cls = SturdyConsumer

    def handle_result(self, message, result, exc_info):
        with connection_may_be_lost("reply to an RPC request"):
            return super().handle_result(message, result, exc_info)
        # the reply is lost: give the request back (on a live connection it would otherwise
        # wait unacknowledged until this one closes); the caller's retry or the redelivery
        # meets the command's idempotency record
        self.consumer.requeue_message(message)
        return result, exc_info


class SturdyRpc(Rpc):
    """nameko's Rpc entrypoint on the sturdy consumer. A service uses the chassis's `@rpc`
    and `@command` only: with nameko's own `@rpc` beside them it would have two consumers
    on its one RPC queue, each refusing the other's methods (MethodNotFound)."""

    rpc_consumer = SturdyRpcConsumer()
