"""The gateway: REST/JSON under /api/v1. Entrypoints only; the rules live in accounts,
centers_api, routing (checks every route shares) and read_model."""
import functools
import logging

from nameko.events import BROADCAST, event_handler
from nameko.timer import timer

from services.centers.contract import (
    CenterCreateSchema, CenterListQuerySchema, CenterSchema, CenterUpdateSchema, StatsSchema,
    StatusSchema, VenueCreateSchema, VenueSchema, VenueUpdateSchema,
)
from services.chassis import events
from services.chassis.db import Database
from services.chassis.errors import ServiceUnavailable
from services.chassis.observability import Observability
from services.chassis.rpc import TimedServiceRpc

from . import accounts, centers_api, idempotency, openapi
from .auth import ADMIN_ROLES, Authenticated, Public, Roles
from .dependencies import Gateway
from .encoding import encode
from .models import Base
from .routing import Reply, route
from .schemas import (
    AccountCreateSchema, AccountSchema, CenterPageSchema, MoveRequestSchema, SubtreeCenterSchema,
    TokenRequestSchema, TokenSchema,
)

log = logging.getLogger(__name__)

CENTER = "/api/v1/centers/<int:center_id>"
VENUE = "/api/v1/venues/<int:venue_id>"
READ, WRITE = Authenticated(), Roles(*ADMIN_ROLES)
BACKEND = (503,)  # routes that call a service answer 503 when it does not
SYNC_TICK_SECONDS = 2  # how soon a failed snapshot is retried; resyncs run every RESYNC_SECONDS


class GatewayService:
    name = "gateway"

    db = Database(Base)
    centers = TimedServiceRpc("centers")
    gateway = Gateway()
    observability = Observability()

    # -- auth and accounts ------------------------------------------------------------

    @route("POST", "/api/v1/auth/token", auth=Public(), tag="auth", summary="Exchange username and password for a JWT",
           body=TokenRequestSchema(), response=TokenSchema(), errors=(401, 429))
    def issue_token(self, call):
        return accounts.issue_token(
            self.db, self.gateway.tokens, self.gateway.login_limiter, call.data, call.request.remote_addr
        )

    @route("GET", "/api/v1/me", auth=READ, tag="auth", summary="The calling account", response=AccountSchema())
    def me(self, call):
        return accounts.current(self.db, call.principal)

    @route("POST", "/api/v1/accounts", auth=WRITE, tag="auth", summary="Create an account",
           body=AccountCreateSchema(), response=AccountSchema(), status=201, errors=(409, *BACKEND))
    def create_account(self, call):
        scope = call.data["scope_center_id"]
        if scope is not None:
            centers_api.require_center(self.gateway.read_model, self.centers, scope, "scope_center_id")
        accounts.check_may_create(
            call.principal, call.data["role"], scope,
            lambda center_id, root_id: centers_api.is_within(self.gateway.read_model, self.centers, center_id, root_id),
        )
        return Reply(201, accounts.create(self.db, call.data, call.principal.account_id))

    @route("GET", "/api/v1/openapi.json", auth=Public(), tag="meta", summary="This document")
    def openapi_document(self, call):
        return Reply(200, _openapi_json())

    # -- centers -----------------------------------------------------------------------

    @route("GET", "/api/v1/centers", auth=READ, tag="centers", summary="List centers",
           query=CenterListQuerySchema(), response=CenterPageSchema(), errors=BACKEND)
    def list_centers(self, call):
        filters = dict(call.query)
        page, page_size = filters.pop("page"), filters.pop("page_size")
        return self.centers.list_centers(filters, page, page_size)

    @route("POST", "/api/v1/centers", auth=WRITE, tag="centers", summary="Create a center",
           body=CenterCreateSchema(), response=CenterSchema(), status=201, errors=BACKEND)
    def create_center(self, call):
        center = self.centers.create_center(call.body, call.principal.actor)
        return centers_api.written(self.gateway.read_model, center, status=201)

    @route("GET", CENTER, auth=READ, tag="centers", summary="One center (served from the read model)",
           response=CenterSchema(), errors=BACKEND)
    def get_center(self, call, center_id):
        return centers_api.get_center(self.gateway.read_model, self.centers, center_id)

    @route("PATCH", CENTER, auth=WRITE, tag="centers", summary='Change a center; If-Match: "<version>" guards it',
           body=CenterUpdateSchema(), response=CenterSchema(), errors=(400, 409, *BACKEND))
    def update_center(self, call, center_id):
        expected = centers_api.expected_version(call.request.headers.get("If-Match"))
        center = self.centers.update_center(center_id, call.body, call.principal.actor, expected)
        return centers_api.written(self.gateway.read_model, center)

    @route("POST", CENTER + "/move", auth=WRITE, tag="centers", summary="Move a center under a new parent",
           body=MoveRequestSchema(), response=CenterSchema(), errors=BACKEND)
    def move_center(self, call, center_id):
        center = self.centers.move_center(center_id, {"parent_id": call.data["parent_id"]}, call.principal.actor)
        return centers_api.written(self.gateway.read_model, center)

    @route("POST", CENTER + "/status", auth=WRITE, tag="centers", summary="Activate, suspend or close a center",
           body=StatusSchema(), response=CenterSchema(), errors=BACKEND)
    def set_center_status(self, call, center_id):
        center = self.centers.set_status(center_id, call.body, call.principal.actor)
        return centers_api.written(self.gateway.read_model, center)

    @route("GET", CENTER + "/subtree", auth=READ, tag="centers", summary="The center and everything below it",
           response=SubtreeCenterSchema(), many=True, errors=BACKEND)
    def get_subtree(self, call, center_id):
        return self.centers.get_subtree(center_id)

    @route("GET", CENTER + "/ancestors", auth=READ, tag="centers", summary="Centers from the root down to the parent",
           response=CenterSchema(), many=True, errors=BACKEND)
    def get_ancestors(self, call, center_id):
        return centers_api.ancestors(self.gateway.read_model, self.centers, center_id)

    @route("GET", CENTER + "/stats", auth=READ, tag="centers", summary="Totals over the subtree",
           response=StatsSchema(), errors=BACKEND)
    def get_stats(self, call, center_id):
        return self.centers.subtree_stats(center_id)

    # -- venues ------------------------------------------------------------------------

    @route("GET", CENTER + "/venues", auth=READ, tag="venues", summary="Venues of a center",
           response=VenueSchema(), many=True, errors=BACKEND)
    def list_venues(self, call, center_id):
        return self.centers.list_venues(center_id)

    @route("POST", CENTER + "/venues", auth=WRITE, tag="venues", summary="Add a venue",
           body=VenueCreateSchema(), response=VenueSchema(), status=201, errors=BACKEND)
    def add_venue(self, call, center_id):
        venue = self.centers.add_venue(center_id, call.body, call.principal.actor)
        return Reply(201, venue, {"Location": f"{centers_api.VENUES}/{venue['id']}"})

    @route("GET", VENUE, auth=READ, tag="venues", summary="One venue", response=VenueSchema(), errors=BACKEND)
    def get_venue(self, call, venue_id):
        return self.centers.get_venue(venue_id)

    @route("PATCH", VENUE, auth=WRITE, tag="venues", summary="Change a venue",
           body=VenueUpdateSchema(), response=VenueSchema(), errors=(409, *BACKEND))
    def update_venue(self, call, venue_id):
        return self.centers.update_venue(venue_id, call.body, call.principal.actor)

    @route("DELETE", VENUE, auth=WRITE, tag="venues", summary="Remove a venue", status=204, errors=(409, *BACKEND))
    def remove_venue(self, call, venue_id):
        self.centers.remove_venue(venue_id, call.principal.actor)
        return Reply(204)

    # -- the read model and housekeeping -----------------------------------------------

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
            read_model.load(_snapshot(self.centers))
        except ServiceUnavailable as exc:
            log.warning("centers snapshot failed, retrying in %ss: %s", SYNC_TICK_SECONDS, exc)

    @timer(interval=3600, eager=True)
    def purge_idempotency_keys(self):
        idempotency.purge_expired(self.db)



def _snapshot(centers):
    items, after_id = [], 0
    while after_id is not None:
        page = centers.snapshot(after_id)
        items += page["items"]
        after_id = page["next_after_id"]
    return items


@functools.cache
def _openapi_json():
    return encode(openapi.build(GatewayService))
