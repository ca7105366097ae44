"""The service-hour ledger over HTTP: the gateway in front of identity, centers and volunteers
(all on the real broker). Hours from an attendance event delivered twice, the star level
announced when 100 h are crossed, a back-fill approved with its photo, and the refusals of
callers outside each route's scope."""

import base64

import eventlet
import pytest
from kombu import Connection, Exchange, Producer, Queue

from services.chassis.events import SERIALIZER, make_event
from services.volunteers.contract.hours import ACTIVITIES, ATTENDANCE_CONFIRMED, MAX_PHOTO_BYTES, STAR_LEVEL_REACHED
from tests.support.waiting import wait_for

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 32


@pytest.fixture
def tree(volunteer_tree):
    return volunteer_tree


def publish(amqp_uri, event):
    """Publishes `event` as the activities service will: a CloudEvent on its exchange."""
    exchange = Exchange(f"{ACTIVITIES}.events", type="topic", durable=True)
    with Connection(amqp_uri) as connection:
        Producer(connection.default_channel, serializer=SERIALIZER).publish(
            event, exchange=exchange, routing_key=ATTENDANCE_CONFIRMED, declare=[exchange], message_id=event["id"]
        )


def attendance(attendance_id, volunteer_id, center_id, hours):
    data = {
        "attendance_id": attendance_id,
        "revision": 1,
        "activity_id": 90 + attendance_id,
        "activity_title": "文明旅游引导",
        "organizer_center_id": center_id,
        "team_id": None,
        "volunteer_id": volunteer_id,
        "served_on": "2026-11-20",
        "hours": hours,
        "points_rule": {"kind": "per_hour", "rate": 1},
        "confirmed_at": "2026-11-20T10:00:00Z",
    }
    return make_event(ACTIVITIES, ATTENDANCE_CONFIRMED, str(attendance_id), data)


def my_total(web, token):
    response = web.get("/api/v1/me/hours", token=token)
    assert response.status_code == 200, response.text
    return response.json()["total_hours"]


def test_attendance_hours_are_counted_once_and_a_star_is_announced_at_100_hours(
    tree, tokens, web, volunteer_of, amqp_uri
):
    volunteer = tokens("h1", "volunteer")
    volunteer_id = volunteer_of(volunteer, tree["a1"])
    with Connection(amqp_uri) as connection:
        stars = Queue(
            "test-hours-stars",
            Exchange("volunteers.events", type="topic", durable=True),
            routing_key=STAR_LEVEL_REACHED,
            exclusive=True,
            channel=connection.default_channel,
        )
        stars.declare()

        first = attendance(1, volunteer_id, tree["a1"], 24)
        publish(amqp_uri, first)
        publish(amqp_uri, first)  # delivered twice
        wait_for(lambda: my_total(web, volunteer) == 24)
        eventlet.sleep(0.5)  # a second credit would have landed by now
        assert my_total(web, volunteer) == 24
        assert stars.get(no_ack=True) is None

        for attendance_id in (2, 3, 4, 5):  # 120 h in all: past 100 h
            publish(amqp_uri, attendance(attendance_id, volunteer_id, tree["a1"], 24))
        wait_for(lambda: my_total(web, volunteer) == 120)
        star = wait_for(lambda: stars.get(no_ack=True))
    assert star.payload["data"]["star_level"] == 1 and star.payload["data"]["volunteer_id"] == volunteer_id

    mine = web.get("/api/v1/me/hours?page_size=2", token=volunteer).json()
    assert (mine["star_level"], mine["hours_to_next_star"], mine["entries"]["total"]) == (1, 180, 5)
    assert len(mine["entries"]["items"]) == 2
    assert web.get(f"/api/v1/centers/{tree['a']}/hours", token=volunteer).json()["total_hours"] == 120
    assert web.get(f"/api/v1/centers/{tree['b']}/hours", token=volunteer).json()["total_hours"] == 0


def test_a_backfill_is_approved_by_its_center_and_callers_outside_the_scope_are_refused(
    tree, tokens, web, volunteer_of
):
    volunteer = tokens("h2", "volunteer")
    other = tokens("h3", "volunteer")
    admin_a, admin_b = tokens("h4", "center_admin", tree["a"]), tokens("h5", "center_admin", tree["b"])
    volunteer_id = volunteer_of(volunteer, tree["a1"])
    volunteer_of(other, tree["a1"])

    body = {
        "activity_title": "社区清扫",
        "center_id": tree["a1"],
        "served_on": "2026-11-01",
        "hours": 3.5,
        "explanation": "组织者漏记，站长可证明。",
        "photos": [{"content_type": "image/png", "data": base64.b64encode(PNG).decode()}],
    }
    assert web.post("/api/v1/me/backfills", json=body).status_code == 401
    assert web.post("/api/v1/me/backfills", json=body, token=admin_a).status_code == 403
    created = web.post("/api/v1/me/backfills", json=body, token=volunteer)
    assert created.status_code == 201, created.text
    backfill = created.json()
    assert created.headers["Location"] == f"/api/v1/backfills/{backfill['id']}"

    photo_path = f"/api/v1/backfills/{backfill['id']}/photos/1"
    photo = web.get(photo_path, token=admin_a)
    assert (photo.status_code, photo.headers["Content-Type"], photo.content) == (200, "image/png", PNG)
    assert web.get(photo_path, token=other).status_code == 403
    assert web.get(photo_path, token=admin_b).status_code == 403
    assert [item["id"] for item in web.get("/api/v1/backfills", token=admin_a).json()["items"]] == [backfill["id"]]
    assert web.get("/api/v1/backfills", token=admin_b).json()["items"] == []

    approve = f"/api/v1/backfills/{backfill['id']}/approve"
    assert web.post(approve, token=admin_b).status_code == 403
    assert web.post(approve, token=volunteer).status_code == 403
    approved = web.post(approve, token=admin_a)
    assert approved.status_code == 200, approved.text
    assert web.post(approve, token=admin_a, headers={"Idempotency-Key": "again"}).status_code == 409

    hours_path = f"/api/v1/volunteers/{volunteer_id}/hours"
    assert web.get(hours_path).status_code == 401
    assert web.get(hours_path, token=other).status_code == 403
    assert web.get(hours_path, token=admin_b).status_code == 403
    hours = web.get(hours_path, token=admin_a).json()
    assert hours["total_hours"] == 3.5
    [entry] = hours["entries"]["items"]

    revoke = f"/api/v1/hour-entries/{entry['id']}/revoke"
    assert web.post(revoke, json={"reason": "核查不实"}, token=admin_b).status_code == 403
    revoked = web.post(revoke, json={"reason": "核查不实"}, token=admin_a)
    assert (revoked.status_code, revoked.json()["status"]) == (200, "revoked")
    assert my_total(web, volunteer) == 0


def test_a_backfill_with_three_photos_of_the_largest_size_gets_through_the_gateway(tree, tokens, web, volunteer_of):
    volunteer = tokens("h6", "volunteer")
    volunteer_of(volunteer, tree["a1"])
    largest = PNG + b"\x00" * (MAX_PHOTO_BYTES - len(PNG))
    photo = {"content_type": "image/png", "data": base64.b64encode(largest).decode()}
    body = {
        "activity_title": "敬老院探访",
        "center_id": tree["a1"],
        "served_on": "2026-11-02",
        "hours": 2,
        "explanation": "三张现场照片。",
        "photos": [photo] * 3,
    }
    created = web.post("/api/v1/me/backfills", json=body, token=volunteer)
    assert created.status_code == 201, created.text[:300]
    too_big = {**body, "photos": [photo] * 6}  # beyond the route's body limit before any validation
    assert web.post("/api/v1/me/backfills", json=too_big, token=volunteer).status_code == 413
