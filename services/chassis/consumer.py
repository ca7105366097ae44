"""The reliable event handler: retry with back-off, then a dead-letter queue; never ack-and-forget.

nameko's own `event_handler` acknowledges a message even when the handler raised. This one
re-publishes a failed delivery to `<queue>.retry` (a queue without consumers whose messages
expire back into `<queue>` after 1 s, 2 s, 4 s, …) and after `max_attempts` to `<queue>.dead`.
The original is acknowledged only once the broker has confirmed the copy. Handlers make
their effect idempotent with `UnitOfWork.claim_event` (at-least-once delivery).
"""

import logging

from kombu import Queue
from nameko.amqp.publish import get_connection
from nameko.events import SERVICE_POOL, EventHandler

from .acks import SturdyConsumer
from .events import ACCEPT, validate_event
from .metrics import EVENT_DEAD_LETTERED, EVENT_RETRIES
from .publishing import BoundedPublisher

log = logging.getLogger(__name__)

ATTEMPT_HEADER = "x-wenming-attempt"
ERROR_HEADER = "x-wenming-error"


class PoisonEvent(Exception):
    """A message that no retry can fix (not a CloudEvent): it goes straight to the dead queue."""


def backoff_seconds(attempt, base_seconds):
    """Delay before delivery number `attempt + 1`: base, 2×base, 4×base, …"""
    return base_seconds * 2 ** (attempt - 1)


class ReliableEventHandler(EventHandler):
    consumer_cls = SturdyConsumer  # a connection lost under an ack does not kill the service

    def __init__(self, source_service, event_type, *, max_attempts=5, base_delay_seconds=1.0, **kwargs):
        self.max_attempts = max_attempts
        self.base_delay_seconds = base_delay_seconds
        super().__init__(
            source_service,
            event_type,
            handler_type=SERVICE_POOL,
            reliable_delivery=True,
            requeue_on_error=False,
            accept=ACCEPT,
            **kwargs,
        )

    def setup(self):
        self.consumer_options["on_decode_error"] = self._park_undecodable
        super().setup()
        name = self.queue.name
        self.retry_queue = Queue(
            f"{name}.retry",
            durable=True,
            queue_arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": name},
        )
        self.dead_queue = Queue(f"{name}.dead", durable=True)
        self.publisher = BoundedPublisher(self.amqp_uri)

    def start(self):
        # declared up front so that operators (and alerts) see the dead-letter queue from day one
        with get_connection(self.amqp_uri) as connection:
            for queue in (self.retry_queue, self.dead_queue):
                queue.bind(connection.default_channel).declare()
        super().start()

    def stop(self):
        super().stop()
        self.publisher.close()

    def handle_message(self, body, message):
        problems = validate_event(body)
        if problems:
            self._forward(message, self.dead_queue, attempt=1, error=f"not a CloudEvent: {problems}")
            return
        super().handle_message(body, message)

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is None:
            self.consumer.ack_message(message)
            return
        attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 1))
        error = f"{exc_info[0].__name__}: {exc_info[1]}"[:1000]
        if attempt < self.max_attempts and not issubclass(exc_info[0], PoisonEvent):
            delay = backoff_seconds(attempt, self.base_delay_seconds)
            log.warning(
                "event handler %s failed (attempt %d), retrying in %.1fs: %s", self.method_name, attempt, delay, error
            )
            self._forward(message, self.retry_queue, attempt + 1, error, expiration=delay)
            EVENT_RETRIES.labels(self.container.service_name, self.queue.name).inc()
        else:
            log.error("event handler %s failed for good after %d attempts: %s", self.method_name, attempt, error)
            self._forward(message, self.dead_queue, attempt, error)

    def _park_undecodable(self, message, exc):
        self._forward(message, self.dead_queue, attempt=1, error=f"undecodable: {exc}")

    def _forward(self, message, queue, attempt, error, expiration=None):
        """Copy the message, as published, to `queue`; ack the original once the copy is confirmed."""
        headers = dict(message.headers or {})
        headers.update({ATTEMPT_HEADER: attempt, ERROR_HEADER: error})
        properties = message.properties or {}
        try:
            routed = self.publisher.publish(
                message.body,
                exchange="",
                routing_key=queue.name,
                declare=[self.queue, self.retry_queue, self.dead_queue],
                headers=headers,
                expiration=expiration,
                content_type=message.content_type,
                content_encoding=message.content_encoding,
                message_id=properties.get("message_id"),
                type=properties.get("type"),
            )
            if not routed:
                raise RuntimeError(f"queue {queue.name} took no copy")
        except Exception:
            # the copy may not exist: give the message back rather than lose it
            log.exception("could not forward a failed event to %s; requeueing it", queue.name)
            self.consumer.requeue_message(message)
            return
        if queue is self.dead_queue:
            EVENT_DEAD_LETTERED.labels(self.container.service_name, self.queue.name).inc()
        self.consumer.ack_message(message)

    def observed_gauges(self):
        """Messages waiting in this handler's dead-letter queue (read by Observability)."""
        with get_connection(self.amqp_uri) as connection:
            _, count, _ = self.dead_queue.bind(connection.default_channel).queue_declare(passive=True)
        yield (
            "wenming_dead_letter_queue_messages",
            "Messages parked in a dead-letter queue",
            count,
            {"queue": self.dead_queue.name},
        )


reliable_event_handler = ReliableEventHandler.decorator
