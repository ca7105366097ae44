"""A publisher whose every wait is bounded, for the outbox relay and event retries.

nameko's Publisher borrows connections from kombu's process-wide pool and waits for the
broker's confirm without a limit, so a connection that dies silently (a broker restarting,
a network path that drops packets) can hold a publish, and the relay with it, for ever.
This one owns its connection, bounds each publish as a whole (connect, declare, send and
confirm), and throws the connection away after any failure, so that the next publish
starts on a fresh one.
"""

import logging

import eventlet
from amqp.exceptions import ChannelError
from eventlet.semaphore import Semaphore
from kombu import Connection, Producer

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 5
PUBLISH_TIMEOUT_SECONDS = 10  # connect, declare, send and confirm together


class PublishTimedOut(Exception):
    pass


class BoundedPublisher:
    """Publishes persistent messages with confirms and `mandatory`, one at a time (callers
    in other green threads wait their turn: a channel has one confirm in flight here)."""

    def __init__(self, amqp_uri, *, serializer="json", timeout_seconds=PUBLISH_TIMEOUT_SECONDS):
        self.amqp_uri = amqp_uri
        self.serializer = serializer
        self.timeout_seconds = timeout_seconds
        self._connection = None
        self._producer = None
        self._returned = False
        self._declared = set()
        self._one_at_a_time = Semaphore()

    def publish(self, body, *, exchange, routing_key, declare=(), **properties):
        """True once the broker confirmed the message; False if no queue was bound to take it.
        Raises on any other failure, including PublishTimedOut."""
        with self._one_at_a_time:
            return self._publish(body, exchange, routing_key, declare, properties)

    def _publish(self, body, exchange, routing_key, declare, properties):
        self._returned = False
        try:
            with eventlet.Timeout(self.timeout_seconds, PublishTimedOut(f"no confirm in {self.timeout_seconds}s")):
                producer = self._ready_producer(declare)
                producer.publish(
                    body,
                    exchange=exchange,
                    routing_key=routing_key,
                    serializer=self.serializer,
                    delivery_mode="persistent",
                    mandatory=True,
                    **properties,
                )
        except (Exception, eventlet.Timeout):
            self.reset()
            raise
        return not self._returned

    def reset(self):
        """Drop the connection without talking to the broker (it may be the thing that hangs)."""
        connection, self._connection, self._producer = self._connection, None, None
        self._declared.clear()
        if connection is not None:
            try:
                connection.collect()
            except Exception:  # it is being thrown away; nothing to save
                log.debug("closing a broken publisher connection failed", exc_info=True)

    close = reset

    def _ready_producer(self, declare):
        if self._producer is None:
            self._connection = Connection(
                self.amqp_uri,
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
                transport_options={"confirm_publish": True},
            )
            self._connection.ensure_connection(max_retries=1)
            self._producer = Producer(self._connection.channel(), on_return=self._on_return)
        for entity in declare:
            key = (type(entity).__name__, entity.name)
            if key not in self._declared:  # once per connection, not per message
                entity.bind(self._producer.channel).declare()
                self._declared.add(key)
        return self._producer

    def _on_return(self, exc, exchange, routing_key, message):
        # called while waiting for this message's confirm, which the broker still sends
        if isinstance(exc, ChannelError):
            self._returned = True
