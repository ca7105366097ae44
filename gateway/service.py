"""The gateway as a nameko service: REST/JSON under /api/v1.

The routes come from gateway/routes (one module per backend) and are bound here as `@http`
entrypoints (gateway.http), each backend they call becoming an RPC dependency with a
deadline. What stays in this class is what the gateway keeps in memory, rebuilt from the
services at every start: the identity service's public keys and the centers read model.
The gateway has no database and holds no secret."""

import logging

from nameko.events import BROADCAST, event_handler
from nameko.timer import timer

from services.chassis import events
from services.chassis.errors import ServiceUnavailable
from services.chassis.observability import Observability
from services.chassis.rpc import TimedServiceRpc

from .dependencies import Gateway
from .http import bind_routes
from .routes import ROUTES

log = logging.getLogger(__name__)

SYNC_TICK_SECONDS = 2  # how soon a failed fetch is retried
KEYS_REFRESH_SECONDS = 300  # a rotated key is trusted (or dropped) within this long


class GatewayService:
    name = "gateway"

    centers = TimedServiceRpc("centers")  # routes call it too; the read model is fed from it
    identity = TimedServiceRpc("identity")  # routes call it too; it publishes the token keys
    gateway = Gateway()
    observability = Observability()

    @event_handler("centers", "center.*", handler_type=BROADCAST, reliable_delivery=False, accept=events.ACCEPT)
    def on_center_event(self, event):
        """Every replica keeps its own read model, so each gets every event (BROADCAST)."""
        self.gateway.read_model.apply(event["data"])

    # Not eager: an RPC made while the container starts can register its reply before
    # nameko's reply listener has declared its queue, and the listener then fails to start
    # (ReplyQueueExpiredWithPendingReplies) and the container hangs. Until the first fetch,
    # reads fall back to RPC and token checks answer 503.
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

    @timer(interval=SYNC_TICK_SECONDS)
    def refresh_public_keys(self):
        tokens = self.gateway.tokens
        if not tokens.refresh_due(KEYS_REFRESH_SECONDS):
            return
        try:
            tokens.use_keys(self.identity.public_keys())
        except ServiceUnavailable as exc:
            log.warning("identity public keys unavailable, retrying in %ss: %s", SYNC_TICK_SECONDS, exc)


def snapshot(centers):
    """Every center, page by page (one RPC reply stays small however large the county)."""
    items, after_id = [], 0
    while after_id is not None:
        page = centers.snapshot(after_id)
        items += page["items"]
        after_id = page["next_after_id"]
    return items


bind_routes(GatewayService, ROUTES)
