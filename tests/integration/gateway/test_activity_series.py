"""Recurring series over HTTP: the gateway in front of identity, centers, volunteers and
activities (all on the real broker). A weekly series created and its occurrences listed as
activities, generated again without duplicates, this and the following occurrences changed
under If-Match, the rest cancelled; a bad rule and callers outside the scope refused."""

from datetime import datetime, time, timedelta

import pytest

from services.activities.contract.common import LOCAL_ZONE
from services.chassis.clock import utcnow


@pytest.fixture
def tree(activities_gateway, volunteer_tree):
    return volunteer_tree


def next_saturday_at_nine():
    day = utcnow().astimezone(LOCAL_ZONE).date() + timedelta(days=1)
    while day.weekday() != 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(9), tzinfo=LOCAL_ZONE)


def test_a_weekly_series_is_created_generated_once_changed_from_an_occurrence_and_ended(tree, tokens, web):
    admin = tokens("a-admin", "center_admin", tree["a"])
    outsider = tokens("b-admin", "center_admin", tree["b"])
    reader = tokens("reader", "volunteer")
    body = {
        "title": "托起明天的太阳·周末课堂",
        "platform": "education",
        "organizer_center_id": tree["a1"],
        "place": "城关镇新时代文明实践所",
        "capacity": 20,
        "rrule": "FREQ=WEEKLY;BYDAY=SA;COUNT=6",
        "first_starts_at": next_saturday_at_nine().isoformat(),
        "duration_minutes": 120,
        "publish": True,
    }
    bad = web.post("/api/v1/series", json={**body, "rrule": "FREQ=DAILY"}, token=admin)
    assert (bad.status_code, bad.json()["code"], list(bad.json()["errors"])) == (
        422,
        "series.rrule_unsupported",
        ["rrule"],
    )
    assert web.post("/api/v1/series", json=body, token=outsider).status_code == 403
    assert web.post("/api/v1/series", json=body, token=reader).status_code == 403  # not an organizer's role

    created = web.post("/api/v1/series", json=body, token=admin)
    assert created.status_code == 201, created.text
    series = created.json()
    assert created.headers["Location"] == f"/api/v1/series/{series['id']}"
    assert (series["occurrences"], series["first_starts_at"][-6:]) == (6, "+08:00")
    base = created.headers["Location"]
    assert web.get(base, token=reader).json()["title"] == body["title"]  # published: everyone's to read

    listed = web.get(f"/api/v1/activities?series_id={series['id']}&page_size=50", token=reader).json()
    assert listed["total"] == 6
    assert {item["starts_at"][11:] for item in listed["items"]} == {"09:00:00+08:00"}
    generated = web.post(base + "/generate", json={}, token=admin)
    assert (generated.status_code, generated.json()["generated"]) == (200, 0)
    assert web.post(base + "/generate", json={}, token=outsider).status_code == 403

    third = listed["items"][2]["id"]
    change = {"capacity": 30, "place": "县图书馆"}
    stale = web.patch(f"{base}/from/{third}", json=change, token=admin, headers={"If-Match": '"9"'})
    assert (stale.status_code, stale.json()["code"]) == (409, "series.version_conflict")
    changed = web.patch(f"{base}/from/{third}", json=change, token=admin, headers={"If-Match": created.headers["ETag"]})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["updated"], changed.json()["series"]["template"]["capacity"]) == (4, 30)
    places = [
        item["place"] for item in web.get(f"/api/v1/activities?series_id={series['id']}", token=admin).json()["items"]
    ]
    assert places == ["城关镇新时代文明实践所"] * 2 + ["县图书馆"] * 4

    fifth_day = listed["items"][4]["starts_at"][:10]
    assert web.post(base + "/end", json={"reason": "场地改建"}, token=outsider).status_code == 403
    ended = web.post(base + "/end", json={"reason": "场地改建", "starts_from": fifth_day}, token=admin)
    assert (ended.status_code, ended.json()["cancelled"], ended.json()["series"]["status"]) == (200, 2, "ended")
    again = web.post(base + "/generate", json={}, token=admin)
    assert (again.status_code, again.json()["code"]) == (409, "series.ended")
