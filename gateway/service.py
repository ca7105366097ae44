"""The gateway as a nameko service: REST/JSON under /api/v1.

The routes come from gateway/routes (one module per backend) and are bound here as `@http`
entrypoints (gateway.http), each backend they call becoming an RPC dependency with a
deadline. What stays in this class is the gateway's own housekeeping: the centers read
model's feed and the purge of expired idempotency keys."""

import logging

from nameko.events import BROADCAST, event_handler
from nameko.timer import timer

from services.chassis import events
from services.chassis.db import Database
from services.chassis.errors import ServiceUnavailable
from services.chassis.observability import Observability
from services.chassis.rpc import TimedServiceRpc

from . import idempotency
from .dependencies import Gateway
from .http import bind_routes
from .models import Base
from .routes import ROUTES

log = logging.getLogger(__name__)

SYNC_TICK_SECONDS = 2  # how soon a failed snapshot is retried; resyncs run every RESYNC_SECONDS


class GatewayService:
    name = "gateway"

    db = Database(Base)
    centers = TimedServiceRpc("centers")  # routes call it too; the read model is fed from it
    gateway = Gateway()
    observability = Observability()

    @event_handler("centers", "center.*", handler_type=BROADCAST, reliable_delivery=False, accept=events.ACCEPT)
    def on_center_event(self, event):
        """Every replica keeps its own read model, so each gets every event (BROADCAST)."""
        self.gateway.read_model.apply(event["data"])

    # Not eager: an RPC made while the container starts can register its reply before
    # nameko's reply listener has declared its queue, and the listener then fails to start
    # (ReplyQueueExpiredWithPendingReplies) and the container hangs. Reads fall back to RPC
    # until the first snapshot lands.
    @timer(interval=SYNC_TICK_SECONDS)
    def resync_centers(self):
        """Load the snapshot soon after start (retrying until centers answers), then every
        minute, which heals anything a missed event left stale."""
        read_model = self.gateway.read_model
        if not read_model.resync_due():
            return
        try:
            read_model.load(snapshot(self.centers))
        except ServiceUnavailable as exc:
            log.warning("centers snapshot failed, retrying in %ss: %s", SYNC_TICK_SECONDS, exc)

    @timer(interval=3600, eager=True)
    def purge_idempotency_keys(self):
        idempotency.purge_expired(self.db)


def snapshot(centers):
    """Every center, page by page (one RPC reply stays small however large the county)."""
    items, after_id = [], 0
    while after_id is not None:
        page = centers.snapshot(after_id)
        items += page["items"]
        after_id = page["next_after_id"]
    return items


bind_routes(GatewayService, ROUTES)
