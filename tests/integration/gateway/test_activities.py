"""Activities over HTTP: the gateway in front of identity, centers, volunteers and activities
(all on the real broker). An activity created, published, filled and waitlisted, a
cancellation promoting the head of the waitlist, check-in and check-out, attendance confirmed,
and the hours and points credited in the volunteers service; callers outside each route's
scope refused."""

from tests.support.waiting import wait_for

from .conftest import new_activity


def test_an_activity_from_sign_up_to_hours_and_points_credited(activities_tree, tokens, web, activity_volunteer):
    tree, volunteer = activities_tree, activity_volunteer
    admin = tokens("a-admin", "center_admin", tree["a"])
    created = web.post("/api/v1/activities", json=new_activity(tree["a1"]), token=admin)
    assert created.status_code == 201, created.text
    activity = created.json()
    assert (activity["status"], activity["checkin_radius_m"]) == ("draft", 100)
    assert activity["starts_at"].endswith("+08:00")
    base = f"/api/v1/activities/{activity['id']}"
    outsider = tokens("b-admin", "center_admin", tree["b"])
    assert web.post(base + "/publish", token=outsider).status_code == 403
    assert web.get(base, token=outsider).status_code == 404  # a draft is its organizers' own
    assert web.post(base + "/publish", token=admin).status_code == 200

    people = [volunteer(f"v{n}", tree["a1"]) for n in range(3)]
    statuses = [web.post(base + "/signup", token=token).json()["status"] for token, _ in people]
    assert statuses == ["confirmed", "confirmed", "waitlisted"]
    assert web.post(base + "/signup", token=people[0][0]).json()["code"] == "signup.duplicate"

    cancelled = web.post(base + "/signup/cancel", json={"reason": "临时有事"}, token=people[1][0])
    assert cancelled.json()["status"] == "cancelled"
    promoted = web.get(base + "/signup", token=people[2][0]).json()
    assert (promoted["status"], promoted["promoted"]) == ("confirmed", True)

    here = {"position": {"latitude": 37.6871, "longitude": 112.7521}}
    far = {"position": {"latitude": 37.70, "longitude": 112.752}}
    assert web.post(base + "/check-in", json=far, token=people[0][0]).json()["code"] == "attendance.too_far"
    for token, _ in (people[0], people[2]):
        assert web.post(base + "/check-in", json=here, token=token).status_code == 200
    assert web.post(base + "/check-out", token=people[0][0]).status_code == 200
    assert web.post(base + "/start", token=admin).json()["status"] == "in_progress"

    attendances = [
        {"volunteer_id": people[0][1], "attendance": "attended", "hours": 2},
        {"volunteer_id": people[2][1], "attendance": "attended", "hours": 1.5},
    ]
    assert web.post(base + "/attendance", json={"attendances": attendances}, token=outsider).status_code == 403
    confirmed = web.post(base + "/attendance", json={"attendances": attendances}, token=admin)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["confirmed"] == 2

    def credited(token):
        return web.get("/api/v1/me/hours", token=token).json()["total_hours"]

    wait_for(lambda: credited(people[0][0]) == 2 and credited(people[2][0]) == 1.5, what="hours credited")
    assert web.get("/api/v1/me/points", token=people[0][0]).json()["balance"] == 20
    roster = web.get(base + "/signups", token=admin).json()
    assert [item["status"] for item in roster["items"]] == ["confirmed", "cancelled", "confirmed"]
    assert web.get(base + "/signups", token=people[0][0]).status_code == 403
