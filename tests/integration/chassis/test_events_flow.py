"""The outbox relay and the reliable consumer against the real RabbitMQ."""

import contextlib
import json
import uuid

import eventlet
import pytest
import sqlalchemy as sa
from kombu import Connection, Exchange, Queue
from nameko.amqp.publish import Publisher
from nameko.standalone.rpc import ServiceRpcClient

from services.chassis.consumer import ATTEMPT_HEADER, ERROR_HEADER
from services.chassis.db import Store
from services.chassis.events import CONTENT_TYPE, SERIALIZER, make_event, validate_event
from tests.support.notes import Base, LedgerService, NotesService, applied
from tests.support.waiting import wait_for

LEDGER_QUEUE = "evt-notes-note.added--ledger.on_note_added"


@pytest.fixture
def ledger_store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'ledger.db'}", Base.metadata, source="ledger")
    Base.metadata.create_all(store.engine)
    yield store
    store.dispose()


def applied_subjects(store):
    with store.read() as session:
        return sorted(row.subject for row in session.execute(sa.select(applied)))


def purge(amqp_uri, *queues):
    with Connection(amqp_uri) as connection:
        for name in queues:
            with contextlib.suppress(Exception):
                Queue(name, channel=connection.default_channel).purge()


def publish_raw(amqp_uri, body, content_type=CONTENT_TYPE, routing_key="note.added"):
    Publisher(amqp_uri, serializer=SERIALIZER).publish(
        body,
        exchange=Exchange("notes.events", type="topic", durable=True),
        routing_key=routing_key,
        content_type=content_type if isinstance(body, (bytes, str)) else None,
    )


def test_a_committed_change_reaches_a_plain_amqp_subscriber(start_service, notes_db, amqp_uri):
    start_service(NotesService, notes_db)
    with Connection(amqp_uri) as connection:
        queue = Queue(
            f"plain-{uuid.uuid4().hex[:6]}",
            Exchange("notes.events", type="topic", durable=True),
            routing_key="note.*",
            exclusive=True,
            channel=connection.default_channel,
        )
        queue.declare()
        with ServiceRpcClient("notes") as notes:
            note_id = notes.add("你好")
        message = wait_for(lambda: queue.get(no_ack=True))
    assert message.content_type == CONTENT_TYPE
    event = json.loads(message.body)
    assert validate_event(event) == []
    assert (event["type"], event["subject"], event["data"]) == (
        "note.added",
        str(note_id),
        {"id": note_id, "text": "你好"},
    )
    assert message.properties["message_id"] == event["id"]
    assert message.delivery_info["routing_key"] == "note.added"


def test_an_event_is_applied_once_even_when_delivered_twice(start_service, notes_db, ledger_store, amqp_uri):
    start_service(LedgerService, ledger_store.url)
    event = make_event("notes", "note.added", "dup", {"id": 1, "text": "twice"})
    publish_raw(amqp_uri, event)
    publish_raw(amqp_uri, event)
    assert wait_for(lambda: applied_subjects(ledger_store) == ["dup"])
    eventlet.sleep(0.5)  # a second application would have landed by now
    assert applied_subjects(ledger_store) == ["dup"]


def test_a_handler_that_keeps_failing_parks_the_message_in_the_dead_letter_queue(
    start_service, notes_db, ledger_store, amqp_uri
):
    purge(amqp_uri, f"{LEDGER_QUEUE}.dead")
    start_service(LedgerService, ledger_store.url)
    event = make_event("notes", "note.added", "f1", {"id": 2, "text": "fail always"})
    publish_raw(amqp_uri, event)
    with Connection(amqp_uri) as connection:
        dead = Queue(f"{LEDGER_QUEUE}.dead", channel=connection.default_channel)
        message = wait_for(lambda: dead.get(no_ack=True), timeout=20)
    assert message is not None, "the failed event never reached the dead-letter queue"
    assert json.loads(message.body)["id"] == event["id"]
    assert message.headers[ATTEMPT_HEADER] == 3
    assert "always fails" in message.headers[ERROR_HEADER]
    assert applied_subjects(ledger_store) == []


def test_poison_messages_go_straight_to_the_dead_letter_queue(start_service, notes_db, ledger_store, amqp_uri):
    purge(amqp_uri, f"{LEDGER_QUEUE}.dead")
    start_service(LedgerService, ledger_store.url)
    publish_raw(amqp_uri, b"{not json", content_type="application/json")
    publish_raw(amqp_uri, {"hello": "not a cloudevent"})
    publish_raw(amqp_uri, make_event("notes", "note.added", "p", {"id": 3, "text": "poison pill"}))
    with Connection(amqp_uri) as connection:
        dead = Queue(f"{LEDGER_QUEUE}.dead", channel=connection.default_channel)
        messages = [wait_for(lambda: dead.get(no_ack=True)) for _ in range(3)]
    assert all(messages), "a poison message was lost instead of parked"
    reasons = sorted(m.headers[ERROR_HEADER].split(":")[0] for m in messages)
    assert reasons == ["PoisonEvent", "not a CloudEvent", "undecodable"]
    assert all(m.headers[ATTEMPT_HEADER] == 1 for m in messages)


def test_events_written_while_nobody_listens_wait_in_the_outbox_for_the_sweep(
    start_service, notes_db, ledger_store, amqp_uri, nameko_config
):
    """A crash between commit and publish leaves rows unsent; the polling sweep sends them."""
    store = Store(notes_db, Base.metadata, source="notes")
    with store.unit_of_work() as uow:  # committed by a process that died before publishing
        uow.emit("note.added", subject="orphan", data={"id": 9, "text": "left behind"})
    start_service(LedgerService, ledger_store.url)
    start_service(NotesService, notes_db)
    assert wait_for(lambda: applied_subjects(ledger_store) == ["orphan"])
    assert wait_for(lambda: store.outbox_backlog() == 0)
    store.dispose()


def test_an_event_nobody_subscribes_to_is_offered_on_several_sweeps_then_marked_unrouted(notes_db, amqp_uri):
    from services.chassis.outbox import UNROUTED_ATTEMPTS, OutboxRelay

    store = Store(notes_db, Base.metadata, source="notes")
    relay = OutboxRelay(store, amqp_uri, "notes", poll_seconds=0.1)
    with store.unit_of_work() as uow:
        uow.emit("note.nobody_listens", subject="1", data={})

    def attempts():
        with store.read() as session:
            return session.execute(sa.select(store.outbox.c.attempts)).scalar_one()

    for offered in range(1, UNROUTED_ATTEMPTS):
        assert relay.publish_pending() == 0
        assert store.outbox_backlog() == 1  # still offered: queues may be recovering
        assert relay.publish_pending() == 0 and attempts() == offered  # offers are a poll interval apart
        eventlet.sleep(0.15)
    assert relay.publish_pending() == 1
    with store.read() as session:
        [row] = session.execute(sa.select(store.outbox)).all()
    assert row.unrouted is True and row.sent_at is not None and row.attempts == UNROUTED_ATTEMPTS
    store.dispose()


def test_a_backlog_of_events_nobody_subscribes_to_does_not_hold_back_the_events_behind_it(notes_db, amqp_uri):
    from services.chassis.outbox import OutboxRelay

    store = Store(notes_db, Base.metadata, source="notes")
    relay = OutboxRelay(store, amqp_uri, "notes", poll_seconds=60, batch_size=2)
    with Connection(amqp_uri) as connection:
        heard = Queue(
            "test-notes-heard",
            Exchange("notes.events", type="topic", durable=True),
            routing_key="note.heard",
            exclusive=True,
            channel=connection.default_channel,
        )
        heard.declare()
        with store.unit_of_work() as uow:
            for number in range(5):
                uow.emit("note.nobody_listens", subject=str(number), data={})
            uow.emit("note.heard", subject="6", data={})
        relay.sweep()  # one sweep: the unroutable five are offered, and the sixth goes out
        message = heard.get(no_ack=True)
    assert message is not None and message.payload["subject"] == "6"
    assert store.outbox_backlog() == 5  # offered once each; marked unrouted after more offers
    relay.stop()
    store.dispose()
