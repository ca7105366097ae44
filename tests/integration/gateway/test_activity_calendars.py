"""Calendars and statistics of activities over HTTP: the gateway in front of identity, centers,
volunteers and activities (all on the real broker). A center's feed and a volunteer's secret
feed served as text/calendar without a token, the secret URL revoked; a subtree's statistics
for its admins, and callers outside its scope refused."""

from datetime import timedelta

from icalendar import Calendar

from services.activities.contract.common import LOCAL_ZONE
from services.chassis.clock import utcnow

from .conftest import new_activity


def created(web, admin, center_id):
    response = web.post("/api/v1/activities", json=new_activity(center_id, title="周末课堂·非遗刺绣"), token=admin)
    assert response.status_code == 201, response.text
    activity_id = response.json()["id"]
    assert web.post(f"/api/v1/activities/{activity_id}/publish", token=admin).status_code == 200
    return activity_id


def feed_events(response):
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.content.endswith(b"END:VCALENDAR\r\n")
    return {str(event["UID"]): event for event in Calendar.from_ical(response.content).walk("VEVENT")}


def test_a_centers_feed_and_a_volunteers_secret_feed_are_served_as_icalendar(
    activities_tree, tokens, web, activity_volunteer
):
    tree, volunteer = activities_tree, activity_volunteer
    admin = tokens("a-admin", "center_admin", tree["a"])
    activity_id = created(web, admin, tree["a1"])
    uid = f"activity-{activity_id}@wenming"

    public = web.get(f"/api/v1/centers/{tree['a']}/activities.ics")  # no token: a calendar client sends none
    assert str(feed_events(public)[uid]["SUMMARY"]) == "周末课堂·非遗刺绣"
    assert public.headers["Cache-Control"] == "public, max-age=300"
    assert public.headers["Content-Disposition"] == f'inline; filename="center-{tree["a"]}-activities.ics"'
    assert uid not in feed_events(web.get(f"/api/v1/centers/{tree['b']}/activities.ics"))
    unknown = web.get("/api/v1/centers/987654/activities.ics")
    assert (unknown.status_code, unknown.headers["Content-Type"]) == (404, "application/problem+json")

    token, _ = volunteer("v1", tree["a1"])
    assert web.post(f"/api/v1/activities/{activity_id}/signup", token=token).status_code == 201
    assert web.post("/api/v1/me/calendar", token=admin).status_code == 403
    issued = web.post("/api/v1/me/calendar", token=token)
    assert issued.status_code == 201, issued.text
    assert issued.headers["Cache-Control"] == "no-store"
    path = issued.json()["path"]
    assert path == f"/api/v1/calendars/{issued.json()['token']}.ics"

    mine = web.get(path)
    assert str(feed_events(mine)[uid]["STATUS"]) == "CONFIRMED"
    assert mine.headers["Cache-Control"] == "private, max-age=300"
    assert mine.headers["Content-Disposition"] == 'inline; filename="my-activities.ics"'

    assert web.delete("/api/v1/me/calendar", token=token).status_code == 204
    revoked = web.get(path)
    assert (revoked.status_code, revoked.json()["code"]) == (404, "calendar.not_found")
    assert web.get("/api/v1/calendars/not-a-token.ics").status_code == 404


def test_a_subtrees_statistics_for_its_admins_only(activities_tree, tokens, web, activity_volunteer):
    tree, volunteer = activities_tree, activity_volunteer
    admin = tokens("a-admin", "center_admin", tree["a"])
    activity_id = created(web, admin, tree["a1"])
    token, volunteer_id = volunteer("v1", tree["a1"])
    base = f"/api/v1/activities/{activity_id}"
    assert web.post(base + "/signup", token=token).status_code == 201
    assert web.post(base + "/start", token=admin).status_code == 200
    attendance = {"attendances": [{"volunteer_id": volunteer_id, "attendance": "attended", "hours": 1.5}]}
    assert web.post(base + "/attendance", json=attendance, token=admin).status_code == 200

    today = utcnow().astimezone(LOCAL_ZONE).date()
    query = {"from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    url = f"/api/v1/centers/{tree['a']}/activity-statistics"
    answer = web.get(url, params=query, token=admin)
    assert answer.status_code == 200, answer.text
    figures = answer.json()
    assert (figures["from"], figures["to"]) == (query["from"], query["to"])
    assert figures["activities"]["by_status"]["in_progress"] == 1
    assert figures["attendance"] == {"attended": 1, "no_show": 0, "rate": 1.0}
    assert (figures["volunteer_hours"], figures["volunteers"]) == (1.5, 1)

    outsider = tokens("b-admin", "center_admin", tree["b"])
    assert web.get(url, params=query, token=outsider).json()["code"] == "scope.outside"
    assert web.get(url, params=query, token=token).status_code == 403  # volunteers: no
    assert web.get(url, params=query).status_code == 401
    missing = web.get(url, params={"from": query["from"]}, token=admin)
    assert (missing.status_code, missing.json()["code"]) == (422, "query.invalid")
