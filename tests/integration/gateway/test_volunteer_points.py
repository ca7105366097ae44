"""Points and love supermarkets over HTTP: the gateway in front of identity, centers and
volunteers (all on the real broker). One flow, from goods on the shelf and points earned
from an attendance to a redemption, and the refusals of callers outside each route's scope."""

import pytest
import requests
from kombu import Connection, Exchange, Producer

from services.chassis.events import SERIALIZER, make_event
from services.volunteers.contract.hours import ACTIVITIES, ATTENDANCE_CONFIRMED
from tests.support.waiting import wait_for


@pytest.fixture
def tree(volunteer_tree):
    return volunteer_tree


def publish_attendance(amqp_uri, volunteer_id, points):
    """An `attendance.confirmed` CloudEvent on the activities service's exchange, as it will
    publish it: a flat award of `points`."""
    data = {
        "attendance_id": 501,
        "revision": 1,
        "activity_id": 77,
        "activity_title": "清洁家园",
        "organizer_center_id": 1,
        "team_id": None,
        "volunteer_id": volunteer_id,
        "served_on": "2026-11-28",
        "hours": 3,
        "points_rule": {"kind": "flat", "rate": points},
        "confirmed_at": "2026-11-28T10:00:00.000000Z",
    }
    event = make_event(ACTIVITIES, ATTENDANCE_CONFIRMED, "501", data)
    exchange = Exchange(f"{ACTIVITIES}.events", type="topic", durable=True)
    with Connection(amqp_uri) as connection:
        Producer(connection.default_channel, serializer=SERIALIZER).publish(
            event, exchange=exchange, routing_key=ATTENDANCE_CONFIRMED, declare=[exchange], message_id=event["id"]
        )


def test_goods_points_and_a_redemption_over_http(web, tree, tokens, county_token, volunteer_of, amqp_uri):
    admin_a = tokens("pa", "center_admin", tree["a"])
    admin_b = tokens("pb", "center_admin", tree["b"])
    me, neighbour = tokens("pv", "volunteer"), tokens("pw", "volunteer")
    my_id = volunteer_of(me, tree["a1"])
    volunteer_of(neighbour, tree["b1"])

    shelf = f"/api/v1/centers/{tree['a1']}/goods"
    added = web.post(shelf, json={"name": "大米", "price": 20, "stock": 3}, token=admin_a)
    assert added.status_code == 201, added.text
    rice = added.json()
    assert (rice["stock"], added.headers["ETag"]) == (3, '"1"')
    assert added.headers["Location"] == f"/api/v1/goods/{rice['id']}"
    catalogue = web.get(shelf, token=me)
    assert catalogue.status_code == 200 and [item["id"] for item in catalogue.json()["items"]] == [rice["id"]]

    publish_attendance(amqp_uri, my_id, 50)
    wait_for(lambda: web.get("/api/v1/me/points", token=me).json()["balance"] == 50, what="the points to be credited")

    redeemed = web.post(f"/api/v1/goods/{rice['id']}/redeem", json={"quantity": 2}, token=me)
    assert redeemed.status_code == 201, redeemed.text
    assert (redeemed.json()["points"], redeemed.json()["holder_id"]) == (40, my_id)
    mine = web.get("/api/v1/me/points", token=me).json()
    assert mine["balance"] == 10
    assert [(e["delta"], e["kind"]) for e in mine["entries"]["items"]] == [(-40, "redeemed"), (50, "earned")]
    assert web.get(f"/api/v1/goods/{rice['id']}", token=me).json()["stock"] == 1
    poor = web.post(f"/api/v1/goods/{rice['id']}/redeem", json={}, token=me)
    assert (poor.status_code, poor.json()["code"]) == (409, "points.insufficient_balance")
    admins_view = web.get(f"/api/v1/volunteers/{my_id}/points", token=admin_a)
    assert admins_view.status_code == 200 and admins_view.json()["balance"] == 10
    sales = web.get(f"/api/v1/centers/{tree['a1']}/redemptions", token=admin_a)
    assert sales.status_code == 200 and sales.json()["total"] == 1

    # refusals: outside the subtree, someone else's account, wrong role, no token
    elsewhere = web.post(shelf, json={"name": "油", "price": 5}, token=admin_b)
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (403, "scope.outside")
    snooping = web.get(f"/api/v1/volunteers/{my_id}/points", token=neighbour)
    assert snooping.status_code == 403
    assert web.get(f"/api/v1/volunteers/{my_id}/points", token=admin_b).status_code == 403
    assert web.get(f"/api/v1/centers/{tree['a1']}/redemptions", token=admin_b).status_code == 403
    assert web.post(shelf, json={"name": "油", "price": 5}, token=me).status_code == 403
    assert web.post(f"/api/v1/goods/{rice['id']}/stock", json={"delta": 5}, token=me).status_code == 403
    for method, path in (
        ("GET", "/api/v1/me/points"),
        ("GET", shelf),
        ("POST", f"/api/v1/goods/{rice['id']}/redeem"),
    ):
        response = requests.request(method, web.base_url + path, json={} if method == "POST" else None, timeout=10)
        assert response.status_code == 401, (method, path)
    assert web.get(f"/api/v1/goods/{rice['id']}", token=county_token).json()["stock"] == 1  # nothing changed
