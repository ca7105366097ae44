"""Volunteers at the edge: registration (by staff, or by the person themself, which also
creates their account), profiles, status, transfers and private data. Every call goes to
the volunteers service, which decides scope; the gateway checks roles, and shows private
fields only to the volunteer themself and staff of their scope (field visibility)."""

from services.chassis.actors import ADMIN_ROLES, CENTER_ADMIN, COUNTY_ADMIN, TEAM_LEADER, VOLUNTEER, Actor
from services.identity.contract import CredentialsSchema, account_state
from services.volunteers.contract.registration import (
    SELF_ROLES,
    AuditPageSchema,
    AuditQuerySchema,
    ProfileUpdateSchema,
    RegistrationSchema,
    RevealedSchema,
    RevealSchema,
    StatusSchema,
    TransferSchema,
    TransferViewSchema,
    VolunteerExportSchema,
    VolunteerListQuerySchema,
    VolunteerPageSchema,
    VolunteerSchema,
)

from ..auth import Authenticated, Public, Roles
from ..routing import Reply, RouteTable
from .centers import expected_version

VOLUNTEERS = "/api/v1/volunteers"
VOLUNTEER_PATH = VOLUNTEERS + "/<int:volunteer_id>"
MINE = "/api/v1/me/volunteer"
ADMINS, STAFF = Roles(*ADMIN_ROLES), Roles(COUNTY_ADMIN, CENTER_ADMIN, TEAM_LEADER)
SIGNED_IN, VOLUNTEERS_ONLY = Authenticated(), Roles(*SELF_ROLES)

routes = RouteTable(tag="volunteers", calls=("volunteers",))


class SelfRegistrationSchema(CredentialsSchema, RegistrationSchema):
    """A person registers as a volunteer and gets an account (role volunteer) to sign in with."""


def _created(volunteer):
    return Reply(201, volunteer, {"Location": f"{VOLUNTEERS}/{volunteer['id']}"})


@routes.route(
    "POST",
    VOLUNTEERS,
    auth=ADMINS,
    summary="Register a volunteer (staff of the home station's scope)",
    body=RegistrationSchema(),
    response=VolunteerSchema(),
    status=201,
    errors=(409,),
    response_headers=("Location",),
)
async def register_volunteer(edge, call):
    return _created(await edge.rpc("volunteers").register(call.payload, call.principal.as_payload()))


@routes.route(
    "POST",
    VOLUNTEERS + "/sign-up",
    auth=Public(),
    calls=("identity", "volunteers"),
    summary="Register oneself as a volunteer, with a new account to sign in with",
    body=SelfRegistrationSchema(),
    response=VolunteerSchema(),
    status=201,
    errors=(409,),
    response_headers=("Location",),
)
async def sign_up_volunteer(edge, call):
    credentials = {name: call.payload.pop(name) for name in ("username", "password")}
    volunteers = edge.rpc("volunteers")
    # everything the volunteer service would refuse is refused before an account exists
    await volunteers.check_registration(call.payload)
    account = await edge.rpc("identity").sign_up_volunteer({**credentials, "display_name": call.payload["name"]})
    state = account_state(account["id"], account["version"], account["active"], account["role"], None)
    edge.shared.accounts.apply(state)  # the new account signs in on this replica at once
    # Should this fail (an ID number registered in between), the account stays: signed in, its
    # holder completes the registration with POST /api/v1/me/volunteer.
    volunteer = await volunteers.register(call.payload, Actor(str(account["id"]), VOLUNTEER).as_payload())
    return _created(volunteer)


@routes.route(
    "GET",
    VOLUNTEERS,
    auth=STAFF,
    summary="Volunteers in the caller's scope",
    query=VolunteerListQuerySchema(),
    response=VolunteerPageSchema(),
)
async def list_volunteers(edge, call):
    return await edge.rpc("volunteers").list_volunteers(call.query, call.principal.as_payload())


@routes.route(
    "GET",
    VOLUNTEER_PATH,
    auth=SIGNED_IN,
    summary="One volunteer (themself, or staff of their scope)",
    response=VolunteerSchema(),
    response_headers=("ETag",),
)
async def get_volunteer(edge, call, volunteer_id):
    volunteer = await edge.rpc("volunteers").get_volunteer(volunteer_id, call.principal.as_payload())
    return Reply(200, volunteer, {"ETag": f'"{volunteer["version"]}"'})


@routes.route(
    "PATCH",
    VOLUNTEER_PATH,
    auth=SIGNED_IN,
    summary='Change a profile (the volunteer, or admins of their scope); If-Match: "<version>" guards it',
    body=ProfileUpdateSchema(),
    response=VolunteerSchema(),
    errors=(400, 409),
    request_headers=("If-Match",),
    response_headers=("ETag",),
)
async def update_volunteer(edge, call, volunteer_id):
    expected = expected_version(call.headers.get("If-Match"))
    volunteer = await edge.rpc("volunteers").update_profile(
        volunteer_id, call.payload, call.principal.as_payload(), expected
    )
    return Reply(200, volunteer, {"ETag": f'"{volunteer["version"]}"'})


@routes.route(
    "POST",
    VOLUNTEER_PATH + "/status",
    auth=SIGNED_IN,
    summary="Suspend, reactivate (admins) or deregister (also the volunteer): deregistration erases personal data",
    body=StatusSchema(),
    response=VolunteerSchema(),
    errors=(409,),
)
async def set_volunteer_status(edge, call, volunteer_id):
    return await edge.rpc("volunteers").set_status(volunteer_id, call.payload, call.principal.as_payload())


@routes.route(
    "POST",
    VOLUNTEER_PATH + "/transfer",
    auth=ADMINS,
    summary="Move a volunteer to another home station",
    body=TransferSchema(),
    response=VolunteerSchema(),
    errors=(409,),
)
async def transfer_volunteer(edge, call, volunteer_id):
    return await edge.rpc("volunteers").transfer(volunteer_id, call.payload, call.principal.as_payload())


@routes.route(
    "GET",
    VOLUNTEER_PATH + "/transfers",
    auth=SIGNED_IN,
    summary="A volunteer's transfers (the volunteer, admins of either station)",
    response=TransferViewSchema(),
    many=True,
)
async def list_volunteer_transfers(edge, call, volunteer_id):
    return await edge.rpc("volunteers").list_transfers(volunteer_id, call.principal.as_payload())


@routes.route(
    "POST",
    VOLUNTEER_PATH + "/reveal",
    auth=ADMINS,
    summary="The ID number or phone in clear (admins of the scope; written to the privacy audit)",
    body=RevealSchema(),
    response=RevealedSchema(),
    response_headers=("Cache-Control",),
)
async def reveal_volunteer_data(edge, call, volunteer_id):
    revealed = await edge.rpc("volunteers").reveal(volunteer_id, call.payload, call.principal.as_payload())
    return Reply(200, revealed, {"Cache-Control": "no-store"})


@routes.route(
    "GET",
    "/api/v1/volunteer-audit",
    auth=ADMINS,
    summary="Reveals, exports and erasures of volunteers' personal data in the caller's scope",
    query=AuditQuerySchema(),
    response=AuditPageSchema(),
)
async def list_privacy_audit(edge, call):
    return await edge.rpc("volunteers").privacy_audit(call.query, call.principal.as_payload())


@routes.route(
    "GET", MINE, auth=VOLUNTEERS_ONLY, summary="The caller's own volunteer record", response=VolunteerSchema()
)
async def get_my_volunteer(edge, call):
    return await edge.rpc("volunteers").get_my_volunteer(call.principal.as_payload())


@routes.route(
    "POST",
    MINE,
    auth=VOLUNTEERS_ONLY,
    summary="Register the signed-in account as a volunteer",
    body=RegistrationSchema(),
    response=VolunteerSchema(),
    status=201,
    errors=(409,),
    response_headers=("Location",),
)
async def register_myself(edge, call):
    return _created(await edge.rpc("volunteers").register(call.payload, call.principal.as_payload()))


@routes.route(
    "GET",
    MINE + "/export",
    auth=VOLUNTEERS_ONLY,
    summary="Everything held on the caller, in clear, as JSON",
    response=VolunteerExportSchema(),
    response_headers=("Cache-Control",),
)
async def export_my_volunteer_data(edge, call):
    exported = await edge.rpc("volunteers").export_my_data(call.principal.as_payload())
    return Reply(200, exported, {"Cache-Control": "no-store"})
