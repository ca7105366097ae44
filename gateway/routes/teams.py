"""Teams (志愿服务队) at the edge: every request goes to the volunteers service with the caller as
`actor`. The gateway checks roles; the service decides scope (admins of the team's center),
leadership (the volunteer linked to the caller's account leads the team) and membership."""

from services.chassis.actors import ADMIN_ROLES, TEAM_LEADER
from services.volunteers.contract.registration import SELF_ROLES
from services.volunteers.contract.teams import (
    AddMemberSchema,
    ApplicationPageSchema,
    ApplicationQuerySchema,
    ApplicationSchema,
    ApplySchema,
    MemberSchema,
    MyTeamsSchema,
    PageQuerySchema,
    ReasonSchema,
    RosterSchema,
    TeamCreateSchema,
    TeamKindSchema,
    TeamListQuerySchema,
    TeamPageSchema,
    TeamSchema,
    TeamStatusSchema,
    TeamUpdateSchema,
)

from ..auth import Authenticated, Roles
from ..routing import Reply, RouteTable

TEAMS = "/api/v1/teams"
TEAM = TEAMS + "/<int:team_id>"
APPLICATIONS = TEAM + "/applications"
APPLICATION = APPLICATIONS + "/<int:application_id>"
MEMBERS = TEAM + "/members"
READ = Authenticated()
ADMINS = Roles(*ADMIN_ROLES)
LEADERS = Roles(TEAM_LEADER, *ADMIN_ROLES)  # the service checks that a team_leader leads this team
SELF = Roles(*SELF_ROLES)  # a volunteer acting as themself (a leader is a volunteer too)

routes = RouteTable(tag="teams", calls=("volunteers",))


def _service(edge):
    return edge.rpc("volunteers")


# -- teams -----------------------------------------------------------------------------------


@routes.route(
    "GET", "/api/v1/team-kinds", auth=READ, summary="The kinds a team may have", response=TeamKindSchema(), many=True
)
async def list_team_kinds(edge, call):
    return await _service(edge).team_kinds()


@routes.route("GET", TEAMS, auth=READ, summary="List teams", query=TeamListQuerySchema(), response=TeamPageSchema())
async def list_teams(edge, call):
    filters = dict(call.query)
    page, page_size = filters.pop("page"), filters.pop("page_size")
    return await _service(edge).list_teams(filters, page, page_size)


@routes.route(
    "POST",
    TEAMS,
    auth=ADMINS,
    summary="Create a team (its leader becomes its first member)",
    body=TeamCreateSchema(),
    response=TeamSchema(),
    status=201,
    errors=(409,),
    response_headers=("Location",),
)
async def create_team(edge, call):
    team = await _service(edge).create_team(call.payload, call.principal.as_payload())
    return Reply(201, team, {"Location": f"{TEAMS}/{team['id']}"})


@routes.route("GET", TEAM, auth=READ, summary="One team", response=TeamSchema())
async def get_team(edge, call, team_id):
    return await _service(edge).get_team(team_id)


@routes.route(
    "PATCH",
    TEAM,
    auth=ADMINS,
    summary="Change a team: name, kind, description or leader",
    body=TeamUpdateSchema(),
    response=TeamSchema(),
    errors=(409,),
)
async def update_team(edge, call, team_id):
    return await _service(edge).update_team(team_id, call.payload, call.principal.as_payload())


@routes.route(
    "POST",
    TEAM + "/status",
    auth=ADMINS,
    summary="Dissolve a team (pending applications are rejected) or reactivate it",
    body=TeamStatusSchema(),
    response=TeamSchema(),
)
async def set_team_status(edge, call, team_id):
    return await _service(edge).set_team_status(team_id, call.payload, call.principal.as_payload())


# -- members ---------------------------------------------------------------------------------


@routes.route(
    "GET",
    MEMBERS,
    auth=READ,
    summary="The roster (for the team's members, its leader and admins of its scope)",
    query=PageQuerySchema(),
    response=RosterSchema(),
)
async def team_roster(edge, call, team_id):
    page = call.query
    return await _service(edge).team_roster(team_id, call.principal.as_payload(), page["page"], page["page_size"])


@routes.route(
    "POST",
    MEMBERS,
    auth=ADMINS,
    summary="Add an active volunteer to a team directly",
    body=AddMemberSchema(),
    response=MemberSchema(),
    status=201,
    errors=(409,),
)
async def add_team_member(edge, call, team_id):
    member = await _service(edge).add_team_member(team_id, call.payload, call.principal.as_payload())
    return Reply(201, member)


@routes.route(
    "POST",
    MEMBERS + "/<int:volunteer_id>/removal",
    auth=LEADERS,
    summary="Remove a member, with the reason they are told (not the leader)",
    body=ReasonSchema(),
    status=204,
    errors=(409,),
)
async def remove_team_member(edge, call, team_id, volunteer_id):
    await _service(edge).remove_team_member(team_id, volunteer_id, call.payload, call.principal.as_payload())
    return Reply(204)


@routes.route(
    "POST", TEAM + "/leave", auth=SELF, summary="Leave a team (a leader hands over first)", status=204, errors=(409,)
)
async def leave_team(edge, call, team_id):
    await _service(edge).leave_team(team_id, call.principal.as_payload())
    return Reply(204)


@routes.route("GET", "/api/v1/me/teams", auth=SELF, summary="My teams and my applications", response=MyTeamsSchema())
async def my_teams(edge, call):
    return await _service(edge).my_teams(call.principal.as_payload())


# -- applications ----------------------------------------------------------------------------


@routes.route(
    "GET",
    APPLICATIONS,
    auth=LEADERS,
    summary="Applications to a team, oldest first",
    query=ApplicationQuerySchema(),
    response=ApplicationPageSchema(),
)
async def list_team_applications(edge, call, team_id):
    filters = dict(call.query)
    page, page_size = filters.pop("page"), filters.pop("page_size")
    return await _service(edge).list_team_applications(team_id, call.principal.as_payload(), filters, page, page_size)


@routes.route(
    "POST",
    APPLICATIONS,
    auth=SELF,
    summary="Apply to join a team",
    body=ApplySchema(),
    response=ApplicationSchema(),
    status=201,
    errors=(409,),
)
async def apply_to_team(edge, call, team_id):
    application = await _service(edge).apply_to_team(team_id, call.payload, call.principal.as_payload())
    return Reply(201, application)


@routes.route(
    "POST",
    APPLICATION + "/approve",
    auth=LEADERS,
    summary="Approve an application: the applicant joins",
    response=ApplicationSchema(),
    errors=(409,),
)
async def approve_team_application(edge, call, team_id, application_id):
    return await _service(edge).approve_team_application(team_id, application_id, call.principal.as_payload())


@routes.route(
    "POST",
    APPLICATION + "/reject",
    auth=LEADERS,
    summary="Reject an application, with the reason the applicant is told",
    body=ReasonSchema(),
    response=ApplicationSchema(),
    errors=(409,),
)
async def reject_team_application(edge, call, team_id, application_id):
    return await _service(edge).reject_team_application(
        team_id, application_id, call.payload, call.principal.as_payload()
    )


@routes.route(
    "POST",
    APPLICATION + "/withdraw",
    auth=SELF,
    summary="Withdraw one's own pending application",
    response=ApplicationSchema(),
    errors=(409,),
)
async def withdraw_team_application(edge, call, team_id, application_id):
    return await _service(edge).withdraw_team_application(team_id, application_id, call.principal.as_payload())
