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
import sys

import kombu.serialization
from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu.exceptions import OperationalError
from nameko import config
from nameko.amqp.consume import Consumer
from nameko.amqp.publish import Publisher
from nameko.constants import AMQP_SSL_CONFIG_KEY, LOGIN_METHOD_CONFIG_KEY
from nameko.exceptions import UnserializableValueError, serialize
from nameko.rpc import Rpc, RpcConsumer, get_rpc_exchange

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
            result, exc_info = send_reply(self.amqp_uri, message, result, exc_info)
            self.consumer.ack_message(message)
            return result, exc_info
        # the reply is lost: give the request back (on a live connection it would otherwise
        # wait unacknowledged until this one closes); the caller's retry or the redelivery
        # meets the command's idempotency record
        self.consumer.requeue_message(message)
        return result, exc_info


def send_reply(amqp_uri, message, result, exc_info):
    """What nameko's Responder does, for less: the reply is serialized once (nameko
    serializes it a first time only to see that it can), and published without waiting
    for a publisher confirm. A confirm cost a tenth of a small call's CPU in the service,
    and it guards nothing the caller does not already guard: a reply that never arrives
    is the caller's timeout, and its retry meets the command's idempotency record."""
    error = serialize(exc_info[1]) if exc_info is not None else None
    serializer = kombu.serialization.registry.type_to_name[message.properties["content_type"]]
    try:
        content_type, encoding, body = kombu.serialization.dumps({"result": result, "error": error}, serializer)
    except Exception:
        exc_info = sys.exc_info()
        error, result = serialize(UnserializableValueError(result)), None
        content_type, encoding, body = kombu.serialization.dumps({"result": None, "error": error}, serializer)
    ssl, login_method = config.get(AMQP_SSL_CONFIG_KEY), config.get(LOGIN_METHOD_CONFIG_KEY)
    publisher = Publisher(amqp_uri, use_confirms=False, ssl=ssl, login_method=login_method)
    publisher.publish(
        body,
        exchange=get_rpc_exchange(),
        routing_key=message.properties["reply_to"],
        correlation_id=message.properties.get("correlation_id"),
        content_type=content_type,
        content_encoding=encoding,
    )
    return result, exc_info


class SturdyRpc(Rpc):
    """nameko's Rpc entrypoint on the sturdy consumer. A service uses the chassis's `@rpc`
    and `@command` only: with nameko's own `@rpc` beside them it would have two consumers
    on its one RPC queue, each refusing the other's methods (MethodNotFound)."""

    rpc_consumer = SturdyRpcConsumer()
