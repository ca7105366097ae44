"""An activity's life cycle through the service's RPC: draft, publish, sign-ups with a
waitlist, cancellation and promotion, check-in and out, attendance confirmed, cancellation."""

import pytest

from services.chassis.errors import InvalidInput, NotFound
from tests.support.actors import COUNTY, center_admin

from .conftest import activity_data, published


def test_sign_ups_fill_the_seats_then_the_waitlist_in_order_and_a_cancellation_promotes_the_head(
    activities, tree, enrol
):
    activity = activities.create_activity(activity_data(tree["a1"], capacity=2), COUNTY)
    assert activity["status"] == "draft"
    activity = activities.publish_activity(activity["id"], COUNTY)
    assert activity["status"] == "published"
    people = [enrol(tree["a1"]) for _ in range(4)]
    results = [activities.sign_up(activity["id"], actor) for _, actor in people]
    assert [result["status"] for result in results] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    assert [result["waitlist_position"] for result in results] == [None, None, 1, 2]
    seats = activities.get_activity(activity["id"], COUNTY)["seats"]
    assert seats == {"capacity": 2, "confirmed": 2, "waitlisted": 2, "available": 0, "full": True}

    activities.cancel_my_signup(activity["id"], {"reason": None}, people[0][1])
    promoted = activities.get_my_signup(activity["id"], people[2][1])
    assert (promoted["status"], promoted["promoted"]) == ("confirmed", True)
    assert activities.get_my_signup(activity["id"], people[3][1])["waitlist_position"] == 1


def test_attendance_is_checked_in_and_out_and_confirmed_by_the_organizer(activities, tree, enrol):
    activity = activities.create_activity(activity_data(tree["a1"], hours=1.5), COUNTY)
    activities.publish_activity(activity["id"], COUNTY)
    (present, present_actor), (absent, absent_actor) = enrol(tree["a1"]), enrol(tree["a1"])
    for actor in (present_actor, absent_actor):
        activities.sign_up(activity["id"], actor)
    checked = activities.check_in(activity["id"], {}, present_actor)
    assert checked["checked_in_at"] is not None
    activities.check_out(activity["id"], present_actor)
    activities.start_activity(activity["id"], center_admin(tree["a"]))
    result = activities.confirm_attendance(
        activity["id"],
        {
            "attendances": [
                {"volunteer_id": present, "attendance": "attended"},
                {"volunteer_id": absent, "attendance": "no_show"},
            ]
        },
        COUNTY,
    )
    assert result["confirmed"] == 2
    by_volunteer = {item["volunteer_id"]: item for item in result["items"]}
    assert by_volunteer[present]["attendance"] == "attended"
    assert by_volunteer[present]["hours"] == 0  # checked in and out before the start: no time served
    assert by_volunteer[absent]["attendance"] == "no_show"


def test_the_leader_is_an_active_volunteer_the_service_knows(activities, tree, enrol):
    leader, _ = enrol(tree["a1"])
    activity = activities.create_activity(activity_data(tree["a1"], leader_volunteer_id=leader), COUNTY)
    assert activity["leader_volunteer_id"] == leader
    with pytest.raises(InvalidInput) as refused:
        activities.update_activity(activity["id"], {"leader_volunteer_id": 999_999}, COUNTY)
    assert refused.value.code == "activity.leader_invalid" and "leader_volunteer_id" in refused.value.fields


def test_a_cancellation_tells_everyone_signed_up_and_every_event_matches_its_schema(
    activities, tree, enrol_many, engine
):
    activity = activities.create_activity(activity_data(tree["a1"], capacity=1), COUNTY)
    activities.publish_activity(activity["id"], COUNTY)
    people = enrol_many(tree["a1"], 2)
    for _, actor in people:
        activities.sign_up(activity["id"], actor)
    cancelled = activities.cancel_activity(activity["id"], {"reason": "暴雨预警"}, COUNTY)
    assert (cancelled["status"], cancelled["status_reason"]) == ("cancelled", "暴雨预警")
    assert cancelled["seats"] == {"capacity": 1, "confirmed": 0, "waitlisted": 0, "available": 1, "full": False}
    with pytest.raises(NotFound):
        activities.get_my_signup(activity["id"], people[0][1])  # no live sign-up is left
    events = [
        event
        for event in published(engine)
        if event["data"].get("activity_id", event["data"].get("id")) == activity["id"]
    ]
    cancellations = [event["data"] for event in events if event["type"] == "signup.cancelled"]
    assert [(data["previous_status"], data["because"], data["reason"]) for data in cancellations] == [
        ("confirmed", "activity_cancelled", "暴雨预警"),
        ("waitlisted", "activity_cancelled", "暴雨预警"),
    ]
    assert events[-1]["type"] == "activity.cancelled" and events[-1]["data"]["previous_status"] == "published"
