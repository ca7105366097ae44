"""The service-hour ledger of the volunteers service: entries, totals and star levels, back-fill
requests (补录) with their photos, disputes and revocations.

The gateway checks roles; the volunteers service decides scope from the `actor`: a
volunteer's hours are theirs and their home station's admins'; back-fills, disputes and
revocations are decided by admins whose scope holds the organizing center. Totals of a team
or a center's subtree are aggregates without personal data, open to every signed-in caller
like a center's statistics."""

import base64

from services.chassis.actors import ADMIN_ROLES
from services.volunteers.contract.hours import (
    BackfillCreateSchema,
    BackfillListQuerySchema,
    BackfillPageSchema,
    BackfillSchema,
    CenterHoursSchema,
    DisputeCreateSchema,
    DisputeListQuerySchema,
    DisputePageSchema,
    DisputeSchema,
    EntryListQuerySchema,
    HourEntrySchema,
    PeriodQuerySchema,
    RejectSchema,
    ResolveSchema,
    RevokeSchema,
    TeamHoursSchema,
    VolunteerHoursSchema,
)
from services.volunteers.contract.registration import SELF_ROLES

from ..auth import Authenticated, Roles
from ..routing import Reply, RouteTable, paged

routes = RouteTable(tag="hours", calls=("volunteers",))

ADMINS = Roles(*ADMIN_ROLES)
VOLUNTEERS = Roles(*SELF_ROLES)
VOLUNTEERS_AND_ADMINS = Roles(*SELF_ROLES, *ADMIN_ROLES)
BACKFILLS = "/api/v1/backfills"
BACKFILL = BACKFILLS + "/<int:backfill_id>"
ENTRY = "/api/v1/hour-entries/<int:entry_id>"
NO_STORE = {"Cache-Control": "no-store"}

_entry_query = EntryListQuerySchema()
_period_query = PeriodQuerySchema()
_backfill_query = BackfillListQuerySchema()
_dispute_query = DisputeListQuerySchema()


def _volunteers(edge):
    return edge.rpc("volunteers")


# -- hours and totals ------------------------------------------------------------------------


@routes.route(
    "GET",
    "/api/v1/me/hours",
    auth=VOLUNTEERS,
    summary="My service hours: total, star level and entries",
    query=EntryListQuerySchema(),
    response=VolunteerHoursSchema(),
)
async def hours_of_mine(edge, call):
    filters, page, page_size = paged(_entry_query, call)
    return await _volunteers(edge).get_my_hours(call.principal.as_payload(), filters, page, page_size)


@routes.route(
    "GET",
    "/api/v1/volunteers/<int:volunteer_id>/hours",
    auth=VOLUNTEERS_AND_ADMINS,
    summary="A volunteer's service hours (themself, or admins of their home station's scope)",
    query=EntryListQuerySchema(),
    response=VolunteerHoursSchema(),
)
async def hours_of_volunteer(edge, call, volunteer_id):
    filters, page, page_size = paged(_entry_query, call)
    actor = call.principal.as_payload()
    return await _volunteers(edge).get_volunteer_hours(volunteer_id, actor, filters, page, page_size)


@routes.route(
    "GET",
    "/api/v1/teams/<int:team_id>/hours",
    auth=Authenticated(),
    summary="Confirmed hours served with a team, optionally in a period",
    query=PeriodQuerySchema(),
    response=TeamHoursSchema(),
)
async def hours_of_team(edge, call, team_id):
    return await _volunteers(edge).get_team_hours(team_id, _period_query.dump(call.query))


@routes.route(
    "GET",
    "/api/v1/centers/<int:center_id>/hours",
    auth=Authenticated(),
    summary="Confirmed hours organized in a center's subtree, optionally in a period",
    query=PeriodQuerySchema(),
    response=CenterHoursSchema(),
)
async def hours_of_center(edge, call, center_id):
    return await _volunteers(edge).get_center_hours(center_id, _period_query.dump(call.query))


# -- back-fills ------------------------------------------------------------------------------


@routes.route(
    "POST",
    "/api/v1/me/backfills",
    auth=VOLUNTEERS,
    summary="Ask the organizing center to record service it did not record (补录)",
    body=BackfillCreateSchema(),
    response=BackfillSchema(),
    status=201,
    response_headers=("Location",),
    max_body_bytes=2 * 1024 * 1024,  # up to three photos of 300 KB, base64
)
async def hours_submit_backfill(edge, call):
    request = await _volunteers(edge).submit_backfill(call.payload, call.principal.as_payload())
    return Reply(201, request, {"Location": f"{BACKFILLS}/{request['id']}"})


@routes.route(
    "GET",
    BACKFILLS,
    auth=VOLUNTEERS_AND_ADMINS,
    summary="Back-fill requests of a status: an admin's scope, or a volunteer's own",
    query=BackfillListQuerySchema(),
    response=BackfillPageSchema(),
)
async def hours_list_backfills(edge, call):
    filters, page, page_size = paged(_backfill_query, call)
    return await _volunteers(edge).list_backfills(call.principal.as_payload(), filters, page, page_size)


@routes.route(
    "GET",
    BACKFILL,
    auth=VOLUNTEERS_AND_ADMINS,
    summary="One back-fill request (its volunteer, or admins of the organizing center's scope)",
    response=BackfillSchema(),
)
async def hours_get_backfill(edge, call, backfill_id):
    return await _volunteers(edge).get_backfill(backfill_id, call.principal.as_payload())


@routes.route(
    "GET",
    BACKFILL + "/photos/<int:position>",
    auth=VOLUNTEERS_AND_ADMINS,
    summary="A photo of a back-fill request, as an image/jpeg or image/png body",
    response_headers=("Cache-Control",),
)
async def hours_backfill_photo(edge, call, backfill_id, position):
    photo = await _volunteers(edge).get_backfill_photo(backfill_id, position, call.principal.as_payload())
    return Reply(200, base64.b64decode(photo["data"]), NO_STORE, photo["content_type"])


@routes.route(
    "POST",
    BACKFILL + "/approve",
    auth=ADMINS,
    summary="Approve a back-fill request: its hours are credited",
    response=BackfillSchema(),
    errors=(409,),
)
async def hours_approve_backfill(edge, call, backfill_id):
    return await _volunteers(edge).approve_backfill(backfill_id, call.principal.as_payload())


@routes.route(
    "POST",
    BACKFILL + "/reject",
    auth=ADMINS,
    summary="Reject a back-fill request, with the reason the volunteer is told",
    body=RejectSchema(),
    response=BackfillSchema(),
    errors=(409,),
)
async def hours_reject_backfill(edge, call, backfill_id):
    return await _volunteers(edge).reject_backfill(backfill_id, call.payload, call.principal.as_payload())


# -- disputes and revocation -----------------------------------------------------------------


@routes.route(
    "POST",
    ENTRY + "/dispute",
    auth=VOLUNTEERS,
    summary="Dispute one of my entries: it stops counting until an admin resolves it",
    body=DisputeCreateSchema(),
    response=DisputeSchema(),
    status=201,
    errors=(409,),
)
async def hours_dispute_entry(edge, call, entry_id):
    return Reply(201, await _volunteers(edge).dispute_hour_entry(entry_id, call.payload, call.principal.as_payload()))


@routes.route(
    "POST",
    ENTRY + "/resolve",
    auth=ADMINS,
    summary="Resolve the dispute of an entry: upheld (hours corrected) or rejected",
    body=ResolveSchema(),
    response=DisputeSchema(),
    errors=(409,),
)
async def hours_resolve_dispute(edge, call, entry_id):
    return await _volunteers(edge).resolve_hour_dispute(entry_id, call.payload, call.principal.as_payload())


@routes.route(
    "POST",
    ENTRY + "/revoke",
    auth=ADMINS,
    summary="Revoke an entry, with a reason: its hours no longer count",
    body=RevokeSchema(),
    response=HourEntrySchema(),
    errors=(409,),
)
async def hours_revoke_entry(edge, call, entry_id):
    return await _volunteers(edge).revoke_hour_entry(entry_id, call.payload, call.principal.as_payload())


@routes.route(
    "GET",
    "/api/v1/hour-disputes",
    auth=VOLUNTEERS_AND_ADMINS,
    summary="Disputes of a status: on entries organized in an admin's scope, or a volunteer's own",
    query=DisputeListQuerySchema(),
    response=DisputePageSchema(),
)
async def hours_list_disputes(edge, call):
    filters, page, page_size = paged(_dispute_query, call)
    return await _volunteers(edge).list_hour_disputes(call.principal.as_payload(), filters, page, page_size)
