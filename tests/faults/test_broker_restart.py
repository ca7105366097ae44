"""RabbitMQ goes away while centers are being changed: no accepted change loses its event,
and no event is applied twice.

The writer keeps creating centers over RPC; calls made while the broker is down fail (they
were never accepted). Afterwards every center in the centers database, and so every
accepted change, must have had its `center.created` event applied exactly once by a
subscriber using the chassis' reliable handler.
"""

import time

import eventlet
import eventlet.event
import pytest
import sqlalchemy as sa
from nameko.standalone.rpc import ServiceRpcClient

from services.centers import migrate
from services.centers.service import CentersService
from services.chassis.consumer import reliable_event_handler
from services.chassis.db import Database, Store
from tests.support.actors import COUNTY as COUNTY_ADMIN
from tests.support.broker import rabbitmqctl
from tests.support.notes import Base as LedgerBase
from tests.support.notes import applied


class CenterLedger:
    name = "center_ledger"
    db = Database(LedgerBase)

    @reliable_event_handler("centers", "center.created")
    def on_center_created(self, event):
        with self.db.unit_of_work() as uow:
            if uow.claim_event("center_ledger.on_center_created", event["id"]):
                uow.session.execute(applied.insert().values(event_id=event["id"], subject=event["subject"]))


def broker_answers(amqp_uri):
    from kombu import Connection

    try:
        with Connection(amqp_uri, connect_timeout=1) as connection:
            connection.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False


def center_ids(database_url):
    store = Store(database_url, CentersService.db.metadata, source="centers")
    try:
        with store.read() as session:
            return sorted(str(i) for i in session.execute(sa.text("SELECT id FROM centers")).scalars())
    finally:
        store.dispose()


def outbox_state(database_url, subjects):
    store = Store(database_url, CentersService.db.metadata, source="centers")
    try:
        with store.read() as session:
            rows = session.execute(
                sa.select(
                    store.outbox.c.payload, store.outbox.c.sent_at, store.outbox.c.unrouted, store.outbox.c.attempts
                )
            ).all()
        return [(r.sent_at, r.unrouted, r.attempts) for r in rows if f'"subject": "{subjects[0]}"' in r.payload]
    finally:
        store.dispose()


def ledger_subjects(store):
    with store.read() as session:
        return sorted(session.execute(sa.select(applied.c.subject)).scalars())


@pytest.mark.broker_restart
def test_no_event_is_lost_or_doubled_through_a_broker_restart(
    start_service, nameko_config, database_url, tmp_path, amqp_uri
):
    migrate.upgrade(database_url)
    ledger_store = Store(f"sqlite:///{tmp_path / 'ledger.db'}", LedgerBase.metadata, source="center_ledger")
    LedgerBase.metadata.create_all(ledger_store.engine)

    nameko_config["OUTBOX_POLL_SECONDS"] = 0.5
    start_service(CentersService, database_url)
    start_service(CenterLedger, ledger_store.url)

    with ServiceRpcClient("centers", timeout=10) as centers:
        root = centers.create_center(
            {"code": "FAULT-ROOT", "name": "故障测试县新时代文明实践中心", "level": "center"}, COUNTY_ADMIN
        )

    accepted, refused = [], 0
    broker_back = eventlet.event.Event()

    def write(n):
        nonlocal refused
        try:
            # no publish retries: a call made while the broker is down fails instead of waiting
            with ServiceRpcClient("centers", timeout=5, retry=False) as centers:
                centers.create_center(
                    {
                        "code": f"FAULT-{n:03d}",
                        "name": f"故障测试实践所{n:03d}",
                        "level": "institute",
                        "parent_id": root["id"],
                    },
                    COUNTY_ADMIN,
                )
            accepted.append(n)
        except Exception:
            refused += 1

    def writer():
        """Write before, during and for ten writes after the outage."""
        after_outage = 0
        for n in range(400):
            write(n)
            if broker_back.ready():
                after_outage += 1
                if after_outage >= 10:
                    return
            eventlet.sleep(0.05)

    writing = eventlet.spawn(writer)
    eventlet.sleep(1.0)
    rabbitmqctl("stop_app")
    try:
        eventlet.sleep(2.0)
    finally:
        rabbitmqctl("start_app")
    deadline = time.monotonic() + 60
    while not broker_answers(amqp_uri) and time.monotonic() < deadline:
        eventlet.sleep(0.5)
    broker_back.send(True)
    writing.wait()

    expected = center_ids(database_url)
    deadline = time.monotonic() + 90
    while ledger_subjects(ledger_store) != expected and time.monotonic() < deadline:
        eventlet.sleep(0.5)
        expected = center_ids(database_url)

    subjects = ledger_subjects(ledger_store)
    assert refused > 0, "the broker outage did not overlap the writes; the test proved nothing"
    assert len(accepted) > 0
    assert len(subjects) == len(set(subjects)), "an event was applied twice"
    missing = sorted(set(expected) - set(subjects))
    assert not missing, f"committed changes whose events were never applied: {outbox_state(database_url, missing)}"
    assert len(expected) >= len(accepted) + 1  # every accepted change is in the database
    ledger_store.dispose()
