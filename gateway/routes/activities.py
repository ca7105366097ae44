"""Activities at the edge: the catalog (create, change, publish, start, complete, cancel,
read), sign-ups with the waitlist, check-in and check-out, rosters and the organizer's
confirmation of attendance. Every request goes to the activities service with the caller as
`actor`.

The gateway checks roles; the service decides scope: organizers are the admins whose scope
holds the organizing center and the leader of the activity's team; a volunteer signs up,
checks in and out as themself; drafts are shown only to their organizers."""

from services.activities.contract.catalog import (
    ActivityCreateSchema,
    ActivityListQuerySchema,
    ActivityPageSchema,
    ActivitySchema,
    ActivityUpdateSchema,
    CancelSchema,
)
from services.activities.contract.common import PageQuerySchema
from services.activities.contract.signups import (
    CancelSignupSchema,
    CheckInSchema,
    ConfirmationResultSchema,
    ConfirmAttendanceSchema,
    MySignupPageSchema,
    SignupListQuerySchema,
    SignupPageSchema,
    SignupSchema,
)
from services.chassis.actors import ADMIN_ROLES, TEAM_LEADER, VOLUNTEER

from ..auth import Authenticated, Roles
from ..routing import Reply, RouteTable, paged
from .centers import expected_version

ACTIVITIES = "/api/v1/activities"
ACTIVITY = ACTIVITIES + "/<int:activity_id>"
MY_SIGNUP = ACTIVITY + "/signup"
READ = Authenticated()
ORGANIZERS = Roles(TEAM_LEADER, *ADMIN_ROLES)  # the service checks the scope, or that the leader leads the team
VOLUNTEERS = Roles(VOLUNTEER, TEAM_LEADER)  # a volunteer acting as themself (a leader is a volunteer too)

# A flash crowd (1,000 for 100 seats) queues at the service: each waits its turn for the
# seats, longer than the usual RPC deadline, rather than fail with 503 and retry.
SIGN_UP_SECONDS = 20

routes = RouteTable(tag="activities", calls=("activities",))

_list_query = ActivityListQuerySchema()
_signup_query = SignupListQuerySchema()
_page_query = PageQuerySchema()


def _service(edge):
    return edge.rpc("activities")


def _with_etag(activity, status=200, headers=None):
    return Reply(status, activity, {"ETag": f'"{activity["version"]}"', **(headers or {})})


# -- the catalog -----------------------------------------------------------------------------


@routes.route(
    "GET",
    ACTIVITIES,
    auth=READ,
    summary="List activities, soonest first",
    query=_list_query,
    response=ActivityPageSchema(),
)
async def list_activities(edge, call):
    filters, page, page_size = paged(_list_query, call)
    return await _service(edge).list_activities(filters, page, page_size, call.principal.as_payload())


@routes.route(
    "POST",
    ACTIVITIES,
    auth=ORGANIZERS,
    summary="Create an activity, as a draft (admins of the organizing center, or the leader of its team)",
    body=ActivityCreateSchema(),
    response=ActivitySchema(),
    status=201,
    errors=(409,),
    response_headers=("Location", "ETag"),
)
async def create_activity(edge, call):
    activity = await _service(edge).create_activity(call.payload, call.principal.as_payload())
    return _with_etag(activity, 201, {"Location": f"{ACTIVITIES}/{activity['id']}"})


@routes.route("GET", ACTIVITY, auth=READ, summary="One activity", response=ActivitySchema(), response_headers=("ETag",))
async def get_activity(edge, call, activity_id):
    return _with_etag(await _service(edge).get_activity(activity_id, call.principal.as_payload()))


@routes.route(
    "PATCH",
    ACTIVITY,
    auth=ORGANIZERS,
    summary='Change a draft or published activity; If-Match: "<version>" guards it',
    body=ActivityUpdateSchema(),
    response=ActivitySchema(),
    errors=(400, 409),
    request_headers=("If-Match",),
    response_headers=("ETag",),
)
async def update_activity(edge, call, activity_id):
    expected = expected_version(call.headers.get("If-Match"))
    activity = await _service(edge).update_activity(activity_id, call.payload, call.principal.as_payload(), expected)
    return _with_etag(activity)


def _transition(name, summary):
    async def transition(edge, call, activity_id):
        method = getattr(_service(edge), f"{name}_activity")
        return _with_etag(await method(activity_id, call.principal.as_payload()))

    transition.__name__ = transition.__qualname__ = f"{name}_activity"
    declare = routes.route(
        "POST",
        f"{ACTIVITY}/{name}",
        auth=ORGANIZERS,
        summary=summary,
        response=ActivitySchema(),
        errors=(409,),
        response_headers=("ETag",),
    )
    return declare(transition)


publish_activity = _transition("publish", "Publish a draft: sign-ups open in its window")
start_activity = _transition("start", "Start an activity early (from an hour before its start)")
complete_activity = _transition("complete", "End an activity early; open check-outs are closed")


@routes.route(
    "POST",
    ACTIVITY + "/cancel",
    auth=ORGANIZERS,
    summary="Cancel an activity with a reason; every sign-up is cancelled with it",
    body=CancelSchema(),
    response=ActivitySchema(),
    errors=(409,),
    response_headers=("ETag",),
)
async def cancel_activity(edge, call, activity_id):
    return _with_etag(await _service(edge).cancel_activity(activity_id, call.payload, call.principal.as_payload()))


# -- sign-ups and attendance: the volunteer's own ------------------------------------------


@routes.route(
    "POST",
    MY_SIGNUP,
    auth=VOLUNTEERS,
    summary="Sign up: a seat while one is left, else the waitlist",
    response=SignupSchema(),
    status=201,
    errors=(409,),
    rpc_timeout=SIGN_UP_SECONDS,
)
async def sign_up(edge, call, activity_id):
    return Reply(201, await _service(edge).sign_up(activity_id, call.principal.as_payload()))


@routes.route("GET", MY_SIGNUP, auth=VOLUNTEERS, summary="My sign-up for this activity", response=SignupSchema())
async def get_my_signup(edge, call, activity_id):
    return await _service(edge).get_my_signup(activity_id, call.principal.as_payload())


@routes.route(
    "POST",
    MY_SIGNUP + "/cancel",
    auth=VOLUNTEERS,
    summary="Cancel my sign-up (before the start); the head of the waitlist gets the seat",
    body=CancelSignupSchema(),
    response=SignupSchema(),
    errors=(409,),
)
async def cancel_my_signup(edge, call, activity_id):
    return await _service(edge).cancel_my_signup(activity_id, call.payload, call.principal.as_payload())


@routes.route(
    "POST",
    ACTIVITY + "/check-in",
    auth=VOLUNTEERS,
    summary="Check in, from an hour before the start to the end (within the radius of the place)",
    body=CheckInSchema(),
    response=SignupSchema(),
    errors=(409,),
)
async def check_in(edge, call, activity_id):
    return await _service(edge).check_in(activity_id, call.payload, call.principal.as_payload())


@routes.route(
    "POST", ACTIVITY + "/check-out", auth=VOLUNTEERS, summary="Check out", response=SignupSchema(), errors=(409,)
)
async def check_out(edge, call, activity_id):
    return await _service(edge).check_out(activity_id, call.principal.as_payload())


@routes.route(
    "GET",
    "/api/v1/me/signups",
    auth=VOLUNTEERS,
    summary="My sign-ups, newest activity first",
    query=_page_query,
    response=MySignupPageSchema(),
)
async def my_signups(edge, call):
    _, page, page_size = paged(_page_query, call)
    return await _service(edge).my_signups(page, page_size, call.principal.as_payload())


# -- the organizer's -------------------------------------------------------------------------


@routes.route(
    "GET",
    ACTIVITY + "/signups",
    auth=ORGANIZERS,
    summary="The sign-ups of an activity in arrival order (its organizers)",
    query=_signup_query,
    response=SignupPageSchema(),
)
async def list_signups(edge, call, activity_id):
    filters, page, page_size = paged(_signup_query, call)
    return await _service(edge).list_signups(
        activity_id, filters.get("status"), page, page_size, call.principal.as_payload()
    )


@routes.route(
    "POST",
    ACTIVITY + "/signups/<int:volunteer_id>/remove",
    auth=ORGANIZERS,
    summary="Take a volunteer off the activity; the head of the waitlist gets the seat",
    body=CancelSignupSchema(),
    response=SignupSchema(),
    errors=(409,),
)
async def remove_signup(edge, call, activity_id, volunteer_id):
    return await _service(edge).remove_signup(activity_id, volunteer_id, call.payload, call.principal.as_payload())


@routes.route(
    "POST",
    ACTIVITY + "/attendance",
    auth=ORGANIZERS,
    summary="Confirm attendance in bulk (attended with hours, or no-show); hours are credited to volunteers",
    body=ConfirmAttendanceSchema(),
    response=ConfirmationResultSchema(),
    errors=(409,),
)
async def confirm_attendance(edge, call, activity_id):
    return await _service(edge).confirm_attendance(activity_id, call.payload, call.principal.as_payload())
