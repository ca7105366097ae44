"""What the service learns from the volunteers service's events (a volunteer's status, team
memberships) and what the clock does (start and complete activities, close forgotten
check-outs), on SQLite and PostgreSQL."""

from datetime import timedelta

import pytest
from nameko.testing.services import entrypoint_hook

from services.chassis.clock import utcnow
from services.chassis.errors import Conflict
from tests.support.actors import COUNTY
from tests.support.waiting import wait_for

from .conftest import activity_data


def test_a_suspended_volunteer_leaves_upcoming_activities_and_the_waitlist_moves_up(
    activities, tree, enrol_many, change_status
):
    activity = activities.create_activity(activity_data(tree["a1"], capacity=1), COUNTY)
    activities.publish_activity(activity["id"], COUNTY)
    (first, first_actor), (second, second_actor) = enrol_many(tree["a1"], 2)
    activities.sign_up(activity["id"], first_actor)
    activities.sign_up(activity["id"], second_actor)

    change_status(first, tree["a1"], "suspended", version=2)
    promoted = wait_for(lambda: _status_if(activities.get_my_signup(activity["id"], second_actor), "confirmed"))
    assert promoted["promoted"] is True
    with pytest.raises(Conflict) as refused:
        activities.sign_up(activity["id"], first_actor)
    assert refused.value.code == "signup.volunteer_inactive"


def test_an_older_event_arriving_late_changes_nothing(activities, tree, enrol, change_status, publish_volunteers_event):
    volunteer_id, actor = enrol(tree["a1"])
    change_status(volunteer_id, tree["a1"], "suspended", version=3)
    change_status(volunteer_id, tree["a1"], "active", version=2)  # late: the copy stays at version 3
    activity = activities.create_activity(activity_data(tree["a1"]), COUNTY)
    activities.publish_activity(activity["id"], COUNTY)
    with pytest.raises(Conflict) as refused:
        activities.sign_up(activity["id"], actor)
    assert refused.value.code == "signup.volunteer_inactive"


def test_a_team_only_activity_takes_its_members_only(activities, tree, enrol_many, join_team):
    (member, member_actor), (outsider, outsider_actor) = enrol_many(tree["a1"], 2)
    join_team(team_id=77, center_id=tree["a1"], volunteer_id=member)
    activity = activities.create_activity(activity_data(tree["a1"], team_id=77, team_only=True), COUNTY)
    activities.publish_activity(activity["id"], COUNTY)
    assert activities.sign_up(activity["id"], member_actor)["status"] == "confirmed"
    with pytest.raises(Conflict) as refused:
        activities.sign_up(activity["id"], outsider_actor)
    assert refused.value.code == "signup.team_only"


def test_the_clock_starts_and_completes_activities_and_closes_forgotten_check_outs(
    activities, activities_service, tree, enrol, monkeypatch
):
    activity = activities.create_activity(activity_data(tree["a1"]), COUNTY)
    activities.publish_activity(activity["id"], COUNTY)
    _, actor = enrol(tree["a1"])
    activities.sign_up(activity["id"], actor)
    activities.check_in(activity["id"], {}, actor)

    def tick(minutes_from_now):
        later = utcnow() + timedelta(minutes=minutes_from_now)
        monkeypatch.setattr("services.activities.catalog.entrypoints.utcnow", lambda: later)
        with entrypoint_hook(activities_service, "advance_by_clock") as advance:
            advance()
        return activities.get_activity(activity["id"], COUNTY)["status"]

    assert tick(10) == "published"  # the start is 30 minutes away
    assert tick(40) == "in_progress"
    assert tick(200) == "completed"
    signup = activities.get_my_signup(activity["id"], actor)
    assert signup["check_out_closed_by_service"] is True
    assert signup["checked_out_at"] == activities.get_activity(activity["id"], COUNTY)["ends_at"]


def _status_if(signup, status):
    return signup if signup["status"] == status else None
