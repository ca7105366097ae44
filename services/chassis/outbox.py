"""The outbox relay: publishes committed events to `<service>.events` with publisher confirms.

Woken right after each commit that emitted events, and sweeping every `poll_seconds` for
whatever a crash or a broker outage left unsent. On PostgreSQL several replicas share the
work with FOR UPDATE SKIP LOCKED. An event that no queue is bound for is offered on five
sweeps, then kept marked `unrouted`. Delivery is at least once (a crash between publish and
marking re-sends); consumers deduplicate by event id.

Every wait in a sweep is bounded (the publisher's timeout, PostgreSQL's statement and lock
timeouts), and a watchdog replaces a sweep that still runs past STUCK_AFTER_SECONDS, so an
unsent row cannot wait behind a relay that hangs.
"""

import contextlib
import json
import logging
import time
from datetime import timedelta

import eventlet
import sqlalchemy as sa
from eventlet.queue import Empty, Full, LightQueue
from nameko.standalone.events import get_event_exchange

from .clock import utcnow
from .events import SERIALIZER
from .metrics import OUTBOX_PUBLISH_FAILURES, OUTBOX_PUBLISHED, OUTBOX_RELAY_REPLACED
from .publishing import PUBLISH_TIMEOUT_SECONDS, BoundedPublisher

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30
PRUNE_EVERY_SECONDS = 3600
UNROUTED_ATTEMPTS = 5  # offers of an unroutable event, a poll interval apart, before it is marked unrouted
OUTBOX_RETENTION = timedelta(days=7)  # published events stay this long for replay and audit
PROCESSED_RETENTION = timedelta(days=30)
IDEMPOTENCY_RETENTION = timedelta(hours=24)  # a retry with the same key replays for this long
# a sweep publishes one event at a time, each bounded by PUBLISH_TIMEOUT_SECONDS, and fails
# on the first that times out: one that runs this long is stuck somewhere nothing bounds
STUCK_AFTER_SECONDS = 6 * PUBLISH_TIMEOUT_SECONDS


class OutboxRelay:
    def __init__(
        self, store, amqp_uri, service, *, poll_seconds=2.0, batch_size=100, stuck_after_seconds=STUCK_AFTER_SECONDS
    ):
        self.store = store
        self.service = service
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.stuck_after_seconds = stuck_after_seconds
        self.exchange = get_event_exchange(service)
        self.publisher = BoundedPublisher(amqp_uri, serializer=SERIALIZER)
        self._wakeups = LightQueue(maxsize=1)
        self._stopped = False
        self._sweep_started = None  # monotonic time the running sweep began, None between sweeps
        self._unrouted_due = {}  # outbox row id -> when an unrouted event may be offered again

    def wake(self):
        with contextlib.suppress(Full):  # a wake-up is already pending
            self._wakeups.put_nowait(True)

    def stop(self):
        self._stopped = True
        self.wake()

    def run(self):
        """Sweep until stopped, in a green thread of its own that is replaced when it is stuck."""
        sweeper = None
        try:
            while not self._stopped:
                if sweeper is None or sweeper.dead:
                    sweeper = eventlet.spawn(self._sweep_until_stopped)
                eventlet.sleep(min(self.poll_seconds, 1.0))
                if self._sweep_running_for() > self.stuck_after_seconds:
                    log.error("outbox relay sweep stuck for over %ss; replacing it", self.stuck_after_seconds)
                    OUTBOX_RELAY_REPLACED.labels(self.service).inc()
                    sweeper.kill()  # its transaction, if any, rolls back and frees the rows it locked
                    self._sweep_started = None
                    self.publisher.reset()
        finally:
            if sweeper is not None:
                with eventlet.Timeout(PUBLISH_TIMEOUT_SECONDS, False):
                    sweeper.wait()  # let a sweep in progress record what it published
                sweeper.kill()
            self.publisher.close()

    def _sweep_running_for(self):
        return 0.0 if self._sweep_started is None else time.monotonic() - self._sweep_started

    def _sweep_until_stopped(self):
        failures = 0
        next_prune = time.monotonic()
        while not self._stopped:
            with contextlib.suppress(Empty):
                self._wakeups.get(timeout=self.poll_seconds)
            self._sweep_started = time.monotonic()
            try:
                self.sweep()
                failures = 0
                if time.monotonic() >= next_prune:
                    self.store.prune(OUTBOX_RETENTION, PROCESSED_RETENTION, IDEMPOTENCY_RETENTION)
                    next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
            except Exception:
                failures += 1
                OUTBOX_PUBLISH_FAILURES.labels(self.service).inc()
                log.warning("outbox relay could not publish (attempt %d)", failures, exc_info=True)
            finally:
                self._sweep_started = None
            if failures:
                eventlet.sleep(min(MAX_BACKOFF_SECONDS, 0.5 * 2**failures))

    def sweep(self):
        """Publish batch after batch while full ones come. An unroutable event offered counts
        as handled: a backlog of events nobody subscribes to (each offered several times, a
        poll interval apart) must not hold back, batch by batch, the events behind it."""
        while not self._stopped and self._publish_batch()[1] == self.batch_size:
            pass

    def publish_pending(self):
        """Publish one batch of unsent events; returns how many it published."""
        return self._publish_batch()[0]

    def _publish_batch(self):
        """(published, handled) of one batch: handled also counts the unroutable events offered."""
        outbox = self.store.outbox
        query = (
            sa.select(outbox.c.id, outbox.c.event_type, outbox.c.payload, outbox.c.attempts)
            .where(outbox.c.sent_at.is_(None), outbox.c.id.not_in(self._deferred_ids()))
            .order_by(outbox.c.id)
            .limit(self.batch_size)
        )
        if self.store.is_postgresql:
            # replicas share the outbox: a row is published by the one replica holding its lock
            # (PostgreSQL's lock_timeout and friends bound what a stuck transaction costs others)
            with self.store.sessions() as session, session.begin():
                outcomes, failure = self._publish_rows(session.execute(query.with_for_update(skip_locked=True)).all())
                self._record(session, outcomes)
        else:
            # one process per SQLite database, with one connection: never hold it while waiting
            # on the broker, or every worker of the service waits too
            with self.store.sessions() as session:
                rows = session.execute(query).all()
            outcomes, failure = self._publish_rows(rows)
            with self.store.sessions() as session, session.begin():
                self._record(session, outcomes)
        if failure is not None:
            raise failure
        return sum(1 for _, _, unrouted, sent in outcomes if sent), len(outcomes)

    def _deferred_ids(self):
        now = time.monotonic()
        for row_id in [row_id for row_id, due in self._unrouted_due.items() if due <= now]:
            del self._unrouted_due[row_id]
        return list(self._unrouted_due)

    def _publish_rows(self, rows):
        """(row id, attempts, unrouted, sent) per row published or offered, and the failure
        that ended the batch early, if any (what was published before it is still recorded)."""
        outcomes = []
        for row in rows:
            try:
                unrouted = self._publish(row.event_type, json.loads(row.payload))
            except Exception as exc:
                return outcomes, exc
            attempts = row.attempts + 1
            # a restarted broker routes nothing until its queues have recovered: offer an
            # unrouted event again a few times, spaced out, before concluding that nobody subscribes
            sent = not unrouted or attempts >= UNROUTED_ATTEMPTS
            if not sent:
                self._unrouted_due[row.id] = time.monotonic() + self.poll_seconds
            outcomes.append((row.id, attempts, unrouted, sent))
        return outcomes, None

    def _record(self, session, outcomes):
        outbox = self.store.outbox
        for row_id, attempts, unrouted, sent in outcomes:
            values = {"attempts": attempts}
            if sent:
                values.update(sent_at=utcnow(), unrouted=unrouted)
                OUTBOX_PUBLISHED.labels(self.service, str(unrouted).lower()).inc()
            session.execute(sa.update(outbox).where(outbox.c.id == row_id).values(**values))

    def _publish(self, event_type, event):
        """True when no queue took the event (it stays in the outbox table for replay)."""
        routed = self.publisher.publish(
            event,
            exchange=self.exchange,
            routing_key=event_type,
            declare=[self.exchange],
            message_id=event["id"],
            type=event_type,
            app_id=f"wenming.{self.service}",
        )
        if not routed:
            log.info("event %s (%s) had no subscriber", event["id"], event_type)
        return not routed
