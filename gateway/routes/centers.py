"""Centers and venues at the edge: reads of one center come from the read model (no RPC);
every write goes to the centers service with the validated body and the caller as `actor`,
and the center it returns is applied to the read model at once (read-your-writes on this
replica). The centers service decides scope; the gateway checks only roles."""

import re

from services.centers.contract import (
    CenterCreateSchema,
    CenterListQuerySchema,
    CenterPageSchema,
    CenterSchema,
    CenterUpdateSchema,
    MoveSchema,
    StatsSchema,
    StatusSchema,
    SubtreeCenterSchema,
    VenueCreateSchema,
    VenueSchema,
    VenueUpdateSchema,
)
from services.chassis.actors import ADMIN_ROLES

from ..auth import Authenticated, Roles
from ..problems import bad_request
from ..routing import Reply, RouteTable

CENTERS = "/api/v1/centers"
CENTER = CENTERS + "/<int:center_id>"
VENUES = "/api/v1/venues"
VENUE = VENUES + "/<int:venue_id>"
READ, WRITE = Authenticated(), Roles(*ADMIN_ROLES)
ETAG = re.compile(r'^(?:W/)?"(\d{1,18})"$')

routes = RouteTable(tag="centers", calls=("centers",))


# -- centers ---------------------------------------------------------------------------------


@routes.route(
    "GET",
    CENTERS,
    auth=READ,
    summary="List centers (served from the read model)",
    query=CenterListQuerySchema(),
    response=CenterPageSchema(),
)
async def list_centers(edge, call):
    filters = dict(call.query)
    page, page_size = filters.pop("page"), filters.pop("page_size")
    encoded = edge.read_model.page(filters, page, page_size)
    if encoded is None:  # no snapshot loaded yet
        return await edge.rpc("centers").list_centers(filters, page, page_size)
    return Reply(200, encoded)


@routes.route(
    "POST",
    CENTERS,
    auth=WRITE,
    summary="Create a center",
    body=CenterCreateSchema(),
    response=CenterSchema(),
    status=201,
    response_headers=("ETag", "Location"),
)
async def create_center(edge, call):
    center = await edge.rpc("centers").create_center(call.payload, call.principal.as_payload())
    return written(edge.read_model, center, status=201)


@routes.route(
    "GET",
    CENTER,
    auth=READ,
    summary="One center (served from the read model)",
    response=CenterSchema(),
    response_headers=("ETag",),
)
async def get_center(edge, call, center_id):
    read_model = edge.read_model
    encoded = read_model.get_encoded(center_id)
    if encoded is None:  # not seen yet (just created elsewhere, or before the first snapshot)
        read_model.apply(await edge.rpc("centers").get_center(center_id))
        encoded = read_model.get_encoded(center_id)
    return Reply(200, encoded, {"ETag": _etag(read_model.get(center_id))})


@routes.route(
    "PATCH",
    CENTER,
    auth=WRITE,
    summary='Change a center; If-Match: "<version>" guards it',
    body=CenterUpdateSchema(),
    response=CenterSchema(),
    errors=(400, 409),
    request_headers=("If-Match",),
    response_headers=("ETag",),
)
async def update_center(edge, call, center_id):
    expected = expected_version(call.headers.get("If-Match"))
    center = await edge.rpc("centers").update_center(center_id, call.payload, call.principal.as_payload(), expected)
    return written(edge.read_model, center)


@routes.route(
    "POST",
    CENTER + "/move",
    auth=WRITE,
    summary="Move a center under a new parent",
    body=MoveSchema(),
    response=CenterSchema(),
    response_headers=("ETag",),
)
async def move_center(edge, call, center_id):
    center = await edge.rpc("centers").move_center(center_id, call.payload, call.principal.as_payload())
    return written(edge.read_model, center)


@routes.route(
    "POST",
    CENTER + "/status",
    auth=WRITE,
    summary="Activate, suspend or close a center",
    body=StatusSchema(),
    response=CenterSchema(),
    response_headers=("ETag",),
)
async def set_center_status(edge, call, center_id):
    center = await edge.rpc("centers").set_status(center_id, call.payload, call.principal.as_payload())
    return written(edge.read_model, center)


@routes.route(
    "GET",
    CENTER + "/subtree",
    auth=READ,
    summary="The center and everything below it",
    response=SubtreeCenterSchema(),
    many=True,
)
async def get_subtree(edge, call, center_id):
    return await edge.rpc("centers").get_subtree(center_id)


@routes.route(
    "GET",
    CENTER + "/ancestors",
    auth=READ,
    summary="Centers from the root down to the parent",
    response=CenterSchema(),
    many=True,
)
async def get_ancestors(edge, call, center_id):
    read_model = edge.read_model
    if read_model.get(center_id) is not None:
        found = read_model.ancestors(center_id)
        if found is not None:
            return found
    return await edge.rpc("centers").get_ancestors(center_id)


@routes.route("GET", CENTER + "/stats", auth=READ, summary="Totals over the subtree", response=StatsSchema())
async def get_stats(edge, call, center_id):
    return await edge.rpc("centers").subtree_stats(center_id)


# -- venues ----------------------------------------------------------------------------------


@routes.route(
    "GET", CENTER + "/venues", auth=READ, tag="venues", summary="Venues of a center", response=VenueSchema(), many=True
)
async def list_venues(edge, call, center_id):
    return await edge.rpc("centers").list_venues(center_id)


@routes.route(
    "POST",
    CENTER + "/venues",
    auth=WRITE,
    tag="venues",
    summary="Add a venue",
    body=VenueCreateSchema(),
    response=VenueSchema(),
    status=201,
    response_headers=("Location",),
)
async def add_venue(edge, call, center_id):
    venue = await edge.rpc("centers").add_venue(center_id, call.payload, call.principal.as_payload())
    return Reply(201, venue, {"Location": f"{VENUES}/{venue['id']}"})


@routes.route("GET", VENUE, auth=READ, tag="venues", summary="One venue", response=VenueSchema())
async def get_venue(edge, call, venue_id):
    return await edge.rpc("centers").get_venue(venue_id)


@routes.route(
    "PATCH",
    VENUE,
    auth=WRITE,
    tag="venues",
    summary="Change a venue",
    body=VenueUpdateSchema(),
    response=VenueSchema(),
    errors=(409,),
)
async def update_venue(edge, call, venue_id):
    return await edge.rpc("centers").update_venue(venue_id, call.payload, call.principal.as_payload())


@routes.route("DELETE", VENUE, auth=WRITE, tag="venues", summary="Remove a venue", status=204, errors=(409,))
async def remove_venue(edge, call, venue_id):
    await edge.rpc("centers").remove_venue(venue_id, call.principal.as_payload())
    return Reply(204)


# -- helpers ---------------------------------------------------------------------------------


def written(read_model, center, status=200):
    """The reply to a command that returns a center, after applying it locally."""
    read_model.apply(center)
    headers = {"ETag": _etag(center)}
    if status == 201:
        headers["Location"] = f"{CENTERS}/{center['id']}"
    return Reply(status, center, headers)


def expected_version(if_match):
    """If-Match: "<version>" → the version the update expects; None without the header."""
    if if_match is None or if_match.strip() == "*":
        return None
    match = ETAG.match(if_match.strip())
    if match is None:
        raise bad_request("request.if_match_invalid", 'If-Match 须为 "<version>"，例如 "3"')
    return int(match.group(1))


def _etag(center):
    return f'"{center["version"]}"'
