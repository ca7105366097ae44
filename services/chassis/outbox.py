"""The outbox relay: publishes committed events to `<service>.events` with publisher confirms.

Woken right after each commit that emitted events, and sweeping every `poll_seconds` for
whatever a crash or a broker outage left unsent. On PostgreSQL several replicas share the
work with FOR UPDATE SKIP LOCKED. An event that no queue is bound for is offered on five
sweeps, then kept marked `unrouted`. Delivery is at least once (a crash between publish and
marking re-sends); consumers deduplicate by event id.
"""

import contextlib
import json
import logging
import time
from datetime import timedelta

import eventlet
import sqlalchemy as sa
from eventlet.queue import Empty, Full, LightQueue
from nameko.amqp.publish import Publisher, UndeliverableMessage
from nameko.standalone.events import get_event_exchange

from .clock import utcnow
from .events import SERIALIZER
from .metrics import OUTBOX_PUBLISH_FAILURES, OUTBOX_PUBLISHED

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30
PRUNE_EVERY_SECONDS = 3600
UNROUTED_ATTEMPTS = 5  # sweeps an unroutable event is offered before it is marked unrouted
OUTBOX_RETENTION = timedelta(days=7)  # published events stay this long for replay and audit
PROCESSED_RETENTION = timedelta(days=30)
IDEMPOTENCY_RETENTION = timedelta(hours=24)  # a retry with the same key replays for this long


class OutboxRelay:
    def __init__(self, store, amqp_uri, service, *, poll_seconds=2.0, batch_size=100):
        self.store = store
        self.service = service
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.exchange = get_event_exchange(service)
        self.publisher = Publisher(
            amqp_uri,
            serializer=SERIALIZER,
            use_confirms=True,
            mandatory=True,  # an unroutable event is reported back instead of vanishing
            declare=[self.exchange],
            retry_policy={"max_retries": 1, "interval_start": 0.2},
        )
        self._wakeups = LightQueue(maxsize=1)
        self._stopped = False

    def wake(self):
        with contextlib.suppress(Full):  # a wake-up is already pending
            self._wakeups.put_nowait(True)

    def stop(self):
        self._stopped = True
        self.wake()

    def run(self):
        failures = 0
        next_prune = time.monotonic()
        while not self._stopped:
            with contextlib.suppress(Empty):
                self._wakeups.get(timeout=self.poll_seconds)
            try:
                while not self._stopped and self.publish_pending() == self.batch_size:
                    pass
                failures = 0
                if time.monotonic() >= next_prune:
                    self.store.prune(OUTBOX_RETENTION, PROCESSED_RETENTION, IDEMPOTENCY_RETENTION)
                    next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
            except Exception:
                failures += 1
                OUTBOX_PUBLISH_FAILURES.labels(self.service).inc()
                log.warning("outbox relay could not publish (attempt %d)", failures, exc_info=True)
                eventlet.sleep(min(MAX_BACKOFF_SECONDS, 0.5 * 2**failures))

    def publish_pending(self):
        """Publish one batch of unsent events; returns how many it published."""
        outbox = self.store.outbox
        query = (
            sa.select(outbox.c.id, outbox.c.event_type, outbox.c.payload, outbox.c.attempts)
            .where(outbox.c.sent_at.is_(None))
            .order_by(outbox.c.id)
            .limit(self.batch_size)
        )
        if self.store.is_postgresql:
            query = query.with_for_update(skip_locked=True)
        published, failure = 0, None
        with self.store.sessions() as session, session.begin():
            for row in session.execute(query).all():
                try:
                    unrouted = self._publish(row.event_type, json.loads(row.payload))
                except Exception as exc:
                    failure = exc  # end the batch, but keep what was already published marked sent
                    break
                attempts = row.attempts + 1
                if unrouted and attempts < UNROUTED_ATTEMPTS:
                    # a restarted broker routes nothing until its queues have recovered: try
                    # again on later sweeps before concluding that nobody subscribes
                    session.execute(sa.update(outbox).where(outbox.c.id == row.id).values(attempts=attempts))
                    continue
                session.execute(
                    sa.update(outbox)
                    .where(outbox.c.id == row.id)
                    .values(sent_at=utcnow(), attempts=attempts, unrouted=unrouted)
                )
                OUTBOX_PUBLISHED.labels(self.service, str(unrouted).lower()).inc()
                published += 1
        if failure is not None:
            raise failure
        return published

    def _publish(self, event_type, event):
        try:
            self.publisher.publish(
                event,
                exchange=self.exchange,
                routing_key=event_type,
                message_id=event["id"],
                type=event_type,
                app_id=f"wenming.{self.service}",
            )
            unrouted = False
        except UndeliverableMessage:
            # Nobody is bound for this type yet: the event stays in the outbox table for replay.
            log.info("event %s (%s) had no subscriber", event["id"], event_type)
            unrouted = True
        return unrouted
