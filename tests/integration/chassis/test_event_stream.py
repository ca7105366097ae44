"""The event stream (services/chassis/streams.py) on the real RabbitMQ: every event a service
publishes is appended to `<service>.events.stream`, and a plain AMQP 0-9-1 client (pika, not
nameko) replays it from the first offset or from a time."""

import contextlib
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlsplit

import eventlet
import pika
import pytest
import sqlalchemy as sa
from nameko.standalone.rpc import ServiceRpcClient

from services.chassis.db import Database, Store
from services.chassis.observability import Observability
from services.chassis.rpc import command
from services.chassis.streams import EventStream, stream_arguments, stream_name
from tests.support.broker import rabbitmqctl
from tests.support.notes import Base
from tests.support.waiting import wait_for


def stream_service(name):
    """A tiny service that emits `note.added` events through its outbox, with an event stream."""

    class StreamedService:
        db = Database(Base)
        event_stream = EventStream()
        observability = Observability()

        @command
        def emit(self, texts):
            with self.db.unit_of_work() as uow:
                for text in texts:
                    uow.emit("note.added", subject=text, data={"text": text})

    StreamedService.name = name
    return StreamedService


@pytest.fixture
def service_name(amqp_uri):
    """A service name of this test's own, so that no two tests share a stream; the stream
    and the exchange are deleted afterwards."""
    name = f"streamed{uuid.uuid4().hex[:8]}"
    yield name
    with contextlib.closing(pika.BlockingConnection(pika.URLParameters(amqp_uri))) as connection:
        channel = connection.channel()
        channel.queue_delete(stream_name(name))
        channel.exchange_delete(f"{name}.events")


def read_stream(amqp_uri, stream, offset, *, idle_seconds=1.5, timeout=20):
    """The events in `stream` from `offset` ("first", an integer, a datetime...), read until
    no more come for `idle_seconds`: as any AMQP 0-9-1 client reads a stream (a prefetch, an
    `x-stream-offset` consumer argument, acknowledgements)."""
    events = []
    deadline = time.monotonic() + timeout
    with contextlib.closing(pika.BlockingConnection(pika.URLParameters(amqp_uri))) as connection:
        channel = connection.channel()
        channel.basic_qos(prefetch_count=50)
        for method, properties, body in channel.consume(
            stream, arguments={"x-stream-offset": offset}, inactivity_timeout=idle_seconds
        ):
            if method is None or time.monotonic() > deadline:
                break
            events.append({**json.loads(body), "offset": properties.headers["x-stream-offset"]})
            channel.basic_ack(method.delivery_tag)
        channel.cancel()
    return events


def emit(service, texts):
    with ServiceRpcClient(service) as client:
        client.emit(texts)


def texts(events):
    return [event["data"]["text"] for event in events]


def queue_arguments(amqp_uri, queue):
    """The type and arguments the broker holds for `queue` (from rabbitmqctl)."""
    vhost = unquote(urlsplit(amqp_uri).path[1:])
    listing = rabbitmqctl("list_queues", "-p", vhost, "--no-table-headers", "name", "type", "arguments")
    for line in listing.splitlines():
        name, queue_type, arguments = line.split("\t", 2)
        if name == queue:
            return queue_type, arguments
    raise AssertionError(f"no queue {queue} on the broker")


def test_every_event_is_appended_to_the_stream_and_replayed_from_the_first_or_from_a_time(
    start_service, notes_db, amqp_uri, nameko_config, service_name
):
    nameko_config.update(EVENT_STREAM_MAX_AGE="7D", EVENT_STREAM_MAX_BYTES=50_000_000)
    start_service(stream_service(service_name), notes_db)
    stream = stream_name(service_name)
    assert queue_arguments(amqp_uri, stream)[0] == "stream"
    arguments = queue_arguments(amqp_uri, stream)[1]
    assert '"x-max-age","7D"' in arguments and '"x-max-length-bytes",50000000' in arguments

    emit(service_name, ["一", "二", "三"])  # nobody else subscribes: the stream alone takes them
    assert wait_for(lambda: texts(read_stream(amqp_uri, stream, "first")) == ["一", "二", "三"])
    early = read_stream(amqp_uri, stream, "first")
    assert [event["offset"] for event in early] == [0, 1, 2]
    store = Store(notes_db, Base.metadata, source=service_name)
    with store.read() as session:
        assert session.execute(sa.select(store.outbox.c.unrouted)).scalars().all() == [False] * 3
    store.dispose()

    # a timestamp offset has a resolution of one second: the later events come a second after `since`
    since = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    eventlet.sleep((since - datetime.now(UTC)).total_seconds() + 1)
    emit(service_name, ["四", "五"])
    assert wait_for(lambda: texts(read_stream(amqp_uri, stream, "first")) == ["一", "二", "三", "四", "五"])
    assert texts(read_stream(amqp_uri, stream, since)) == ["四", "五"]
    assert texts(read_stream(amqp_uri, stream, 3)) == ["四", "五"]


def test_a_restart_with_other_retention_settings_keeps_the_stream_and_its_events(
    start_service, sqlite_url, amqp_uri, nameko_config, service_name
):
    """The broker refuses to redeclare a queue with other arguments: the service still starts,
    and the stream keeps its retention (only a policy changes it) and its events."""
    store = Store(sqlite_url, Base.metadata, source=service_name)
    Base.metadata.create_all(store.engine)
    store.dispose()
    service = stream_service(service_name)
    nameko_config["EVENT_STREAM_MAX_AGE"] = "7D"
    first = start_service(service, sqlite_url)
    emit(service_name, ["before"])
    stream = stream_name(service_name)
    assert wait_for(lambda: texts(read_stream(amqp_uri, stream, "first")) == ["before"])
    first.stop()

    nameko_config["EVENT_STREAM_MAX_AGE"] = "14D"
    start_service(service, sqlite_url)
    emit(service_name, ["after"])
    assert wait_for(lambda: texts(read_stream(amqp_uri, stream, "first")) == ["before", "after"])
    assert '"x-max-age","7D"' in queue_arguments(amqp_uri, stream)[1]


@pytest.mark.parametrize("max_age, max_bytes", [("30 days", 1000), ("", 1000), ("30D", 0)])
def test_retention_settings_the_broker_would_misread_are_refused(max_age, max_bytes):
    with pytest.raises(ValueError):
        stream_arguments(max_age, max_bytes)


def test_small_streams_get_segments_no_larger_than_themselves():
    assert stream_arguments("1h", 1_000_000)["x-stream-max-segment-size-bytes"] == 1_000_000
    assert stream_arguments()["x-stream-max-segment-size-bytes"] < stream_arguments()["x-max-length-bytes"]
