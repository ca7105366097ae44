"""The outbox relay never waits without a bound, and a relay that hangs anyway is replaced."""

import time

import eventlet
import pytest
from kombu import Connection, Queue
from nameko.standalone.events import get_event_exchange

from services.chassis.db import Store
from services.chassis.metrics import OUTBOX_RELAY_REPLACED
from services.chassis.outbox import OutboxRelay
from services.chassis.publishing import PublishTimedOut
from tests.support.net import BlackHoleProxy
from tests.support.notes import Base
from tests.support.waiting import wait_for


@pytest.fixture
def notes_store(notes_db):
    store = Store(notes_db, Base.metadata, source="notes")
    yield store
    store.dispose()


@pytest.fixture
def subscriber_queue(amqp_uri):
    """A queue bound to every notes event; yields a function counting what reached it."""
    queue = Queue("relay-faults-subscriber", exchange=get_event_exchange("notes"), routing_key="#", exclusive=True)
    with Connection(amqp_uri) as connection:
        channel = connection.default_channel
        queue.bind(channel).declare()

        def delivered():
            return queue.bind(channel).queue_declare(passive=True).message_count

        yield delivered


def emit(store, subject):
    with store.unit_of_work() as uow:
        uow.emit("note.added", subject=subject, data={"id": 1, "text": "文明实践"})


def test_a_publish_on_a_dead_network_path_gives_up_in_bounded_time_and_the_event_goes_out_later(
    notes_store, subscriber_queue, amqp_uri
):
    """Before the publisher had a bound, a connection whose peer vanished held the relay, and
    every unsent row behind it, for ever, even after the path came back."""
    broker = Connection(amqp_uri)
    proxy = BlackHoleProxy(broker.hostname, broker.port or 5672)
    relay = OutboxRelay(notes_store, proxy.url(amqp_uri), "notes", poll_seconds=0.1)
    relay.publisher.timeout_seconds = 1.0
    try:
        emit(notes_store, "before")
        assert relay.publish_pending() == 1

        proxy.swallow()
        emit(notes_store, "while the path is dead")
        started = time.monotonic()
        with pytest.raises(PublishTimedOut):
            relay.publish_pending()
        assert time.monotonic() - started < 3
        assert notes_store.outbox_backlog() == 1

        proxy.restore()
        assert relay.publish_pending() == 1
        assert notes_store.outbox_backlog() == 0
        assert wait_for(lambda: subscriber_queue() == 2)
    finally:
        relay.publisher.close()
        proxy.close()


class HangsOnFirstPublish:
    """A publisher that hangs once where no timeout reaches (a stand-in for a bug in a
    dependency), then publishes through the real one."""

    def __init__(self, publisher):
        self.publisher = publisher
        self.hung = False

    def publish(self, *args, **kwargs):
        if not self.hung:
            self.hung = True
            eventlet.sleep(3600)
        return self.publisher.publish(*args, **kwargs)

    def reset(self):
        self.publisher.reset()

    close = reset


def test_a_stuck_sweep_is_replaced_and_the_event_still_goes_out(notes_store, subscriber_queue, amqp_uri):
    replaced = OUTBOX_RELAY_REPLACED.labels("notes")
    replaced_before = replaced._value.get()
    relay = OutboxRelay(notes_store, amqp_uri, "notes", poll_seconds=0.1, stuck_after_seconds=0.5)
    relay.publisher = HangsOnFirstPublish(relay.publisher)
    emit(notes_store, "stuck once")
    running = eventlet.spawn(relay.run)
    try:
        assert wait_for(lambda: notes_store.outbox_backlog() == 0, timeout=10)
        assert relay.publisher.hung
        assert replaced._value.get() == replaced_before + 1
        assert wait_for(lambda: subscriber_queue() == 1)
    finally:
        relay.stop()
        running.wait()


def test_unroutable_events_leave_the_channel_in_step(notes_store, amqp_uri, caplog):
    """nameko's publisher raised on the broker's basic.return before the confirm came, closed
    the channel and logged `Received method (60, 80) during closing channel` for the ack that
    followed: 280 such warnings while the demo data was seeded."""
    relay = OutboxRelay(notes_store, amqp_uri, "notes", poll_seconds=0.1)
    try:
        for n in range(3):
            with notes_store.unit_of_work() as uow:
                uow.emit("note.nobody_listens", subject=str(n), data={})
        relay.publish_pending()
        emit(notes_store, "routed or not, one more after them")
        relay.publish_pending()
        eventlet.sleep(0.2)  # a late ack would be logged by now
    finally:
        relay.publisher.close()
    assert not [r for r in caplog.records if "closing channel" in r.getMessage()]
