"""A RabbitMQ stream holding every event a service publishes, for subscribers that join late.

A queue bound to `<service>.events` sees only what is published after it exists; the stream
`<service>.events.stream`, bound with `#`, keeps each event for a retention time and size,
so a new subscriber, or one that lost its queue, replays history from an offset or a
timestamp with any AMQP 0-9-1 client (docs/events.md). Declared when the service's container
is set up: nameko sets up every extension before it starts any, so the stream is bound
before the outbox relay (started by `Database.start`) publishes anything.
"""

import logging
import re

import eventlet
from amqp.exceptions import PreconditionFailed
from kombu import Connection, Queue
from nameko.extensions import DependencyProvider
from nameko.standalone.events import get_event_exchange

from .config import amqp_uri, setting
from .publishing import CONNECT_TIMEOUT_SECONDS

log = logging.getLogger(__name__)

DECLARE_TIMEOUT_SECONDS = 15  # connect, declare and bind together
DEFAULT_MAX_AGE = "30D"
DEFAULT_MAX_BYTES = 1_000_000_000
# Retention drops whole segments only, and the broker's default segment is 500 MB: more
# than years of a county's events, so nothing would ever expire. 8 MB is about a week of a
# busy service's events.
SEGMENT_BYTES = 8_000_000
MAX_AGE = re.compile(r"^[1-9][0-9]*[YMDhms]$")  # RabbitMQ's x-max-age: 30D, 12h, 90m ...


def stream_name(service):
    return f"{service}.events.stream"


def stream_arguments(max_age=DEFAULT_MAX_AGE, max_bytes=DEFAULT_MAX_BYTES):
    if not MAX_AGE.match(str(max_age)):
        raise ValueError(f"EVENT_STREAM_MAX_AGE {max_age!r} is not a RabbitMQ age such as 30D, 12h or 90m")
    max_bytes = int(max_bytes)
    if max_bytes < 1:
        raise ValueError(f"EVENT_STREAM_MAX_BYTES {max_bytes} is not a positive number of bytes")
    return {
        "x-queue-type": "stream",
        "x-max-age": str(max_age),
        "x-max-length-bytes": max_bytes,
        "x-stream-max-segment-size-bytes": min(SEGMENT_BYTES, max_bytes),
    }


def declare_event_stream(uri, service, *, max_age=DEFAULT_MAX_AGE, max_bytes=DEFAULT_MAX_BYTES):
    """Declare `<service>.events` and its stream, bound with `#`; returns the stream's name.

    A stream that already exists keeps its retention: the broker refuses to redeclare a queue
    with other arguments, and only a policy changes a stream's (docs/chassis.md)."""
    exchange = get_event_exchange(service)
    arguments = stream_arguments(max_age, max_bytes)
    name = stream_name(service)
    with (
        eventlet.Timeout(
            DECLARE_TIMEOUT_SECONDS, TimeoutError(f"declaring {name} took over {DECLARE_TIMEOUT_SECONDS}s")
        ),
        Connection(uri, connect_timeout=CONNECT_TIMEOUT_SECONDS) as connection,
    ):
        connection.ensure_connection(max_retries=1)
        exchange.bind(connection.default_channel).declare()
        stream = Queue(name, exchange, routing_key="#", durable=True, queue_arguments=arguments)
        try:
            stream.bind(connection.default_channel).declare()
        except PreconditionFailed as refused:
            # the broker closed that channel; the stream is there with other arguments: bind it
            log.warning("%s exists with other arguments than %s (%s); it keeps its own", name, arguments, refused)
            channel = connection.channel()
            try:
                stream.bind(channel).queue_declare(passive=True)
                stream.bind(channel).queue_bind()
            finally:
                channel.close()
    return name


class EventStream(DependencyProvider):
    """Appends every event the service publishes to `<service>.events.stream`, retained for
    EVENT_STREAM_MAX_AGE and at most EVENT_STREAM_MAX_BYTES. Injects nothing; a service
    declares it beside its `Database`: `event_stream = EventStream()`."""

    def setup(self):
        declare_event_stream(
            amqp_uri(),
            self.container.service_name,
            max_age=setting("EVENT_STREAM_MAX_AGE", DEFAULT_MAX_AGE),
            max_bytes=setting("EVENT_STREAM_MAX_BYTES", DEFAULT_MAX_BYTES),
        )
