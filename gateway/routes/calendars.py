"""Calendars at the edge: iCalendar feeds (text/calendar) of a center's activities and of a
volunteer's sign-ups, and the secret URL of the latter, issued and revoked by the volunteer.

Calendar clients subscribe by URL and send no bearer token, so both feeds are public routes:
a center's feed holds published activities and nothing personal (what a poster at the
station shows); a volunteer's feed is authorized by the secret token in its path alone
(256 bits, stored only as a hash by the activities service, revocable), answers 404 for any
token not live, and is marked private for caches."""

from services.activities.contract.calendars import CONTENT_TYPE, FEED_PATH, CalendarTokenSchema
from services.chassis.actors import TEAM_LEADER, VOLUNTEER

from ..auth import Public, Roles
from ..routing import Reply, RouteTable

routes = RouteTable(tag="calendars", calls=("activities",))

VOLUNTEERS = Roles(VOLUNTEER, TEAM_LEADER)  # a volunteer's own feed (a leader is a volunteer too)
MY_CALENDAR = "/api/v1/me/calendar"
CENTER_FEED = "/api/v1/centers/<int:center_id>/activities.ics"
SECRET_FEED = FEED_PATH.format(token="<token>")
PUBLIC_CACHE = "public, max-age=300"  # a center's feed: the same for everyone, a few minutes old at most
PRIVATE_CACHE = "private, max-age=300"  # a volunteer's: never kept by a shared cache
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # the token: a credential no cache may keep


def _activities(edge):
    return edge.rpc("activities")


def _calendar(feed, cache_control, **headers):
    disposition = f'inline; filename="{feed["filename"]}"'
    return Reply(
        200,
        feed["content"].encode("utf-8"),
        {"Cache-Control": cache_control, "Content-Disposition": disposition, **headers},
        CONTENT_TYPE,
    )


@routes.route(
    "GET",
    CENTER_FEED,
    auth=Public(),
    summary="The iCalendar feed (text/calendar) of the activities organized in a center's subtree",
)
async def calendars_center_feed(edge, call, center_id):
    return _calendar(await _activities(edge).center_calendar(center_id), PUBLIC_CACHE)


@routes.route(
    "GET",
    SECRET_FEED,
    auth=Public(),
    summary="A volunteer's iCalendar feed (text/calendar) of their sign-ups, at its secret URL",
)
async def calendars_volunteer_feed(edge, call, token):
    feed = await _activities(edge).volunteer_calendar(token)
    return _calendar(feed, PRIVATE_CACHE, **{"X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"})


@routes.route(
    "POST",
    MY_CALENDAR,
    auth=VOLUNTEERS,
    summary="Issue the secret URL of my calendar feed, shown this once; the previous one is revoked",
    response=CalendarTokenSchema(),
    status=201,
    errors=(409,),
    response_headers=("Cache-Control", "Pragma"),
)
async def calendars_issue(edge, call):
    return Reply(201, await _activities(edge).issue_calendar_token(call.principal.as_payload()), NO_STORE)


@routes.route(
    "DELETE",
    MY_CALENDAR,
    auth=VOLUNTEERS,
    summary="Revoke the secret URL of my calendar feed (its feed then answers 404)",
    status=204,
    errors=(409,),
)
async def calendars_revoke(edge, call):
    await _activities(edge).revoke_calendar_token(call.principal.as_payload())
    return Reply(204)
