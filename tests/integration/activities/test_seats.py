"""Seats under concurrency, on SQLite and PostgreSQL: many sign-ups at once for a few seats
give exactly the capacity confirmed and the rest waitlisted in arrival order; cancellations
promote the heads of the waitlist in order; a capacity that grows promotes, one that would
fall below the confirmed count is refused."""

import pytest
import sqlalchemy as sa

from services.activities.catalog.models import ActivitySeats
from services.activities.signups.models import Signup
from services.chassis.errors import InvalidInput
from tests.support.actors import COUNTY

from .conftest import activity_data

SEATS, CROWD = 5, 40


def test_a_crowd_of_sign_ups_never_overbooks_and_waits_in_arrival_order(activities, tree, enrol_many, engine):
    activity = activities.create_activity(activity_data(tree["a1"], capacity=SEATS), COUNTY)
    activities.publish_activity(activity["id"], COUNTY)
    crowd = enrol_many(tree["a1"], CROWD)
    pending = [activities.sign_up.call_async(activity["id"], actor) for _, actor in crowd]
    results = [reply.result() for reply in pending]

    confirmed = [result for result in results if result["status"] == "confirmed"]
    waitlisted = sorted((result for result in results if result["status"] == "waitlisted"), key=lambda r: r["position"])
    assert len(confirmed) == SEATS and len(waitlisted) == CROWD - SEATS
    assert sorted(result["position"] for result in results) == list(range(1, CROWD + 1))
    assert max(result["position"] for result in confirmed) < min(result["position"] for result in waitlisted)
    assert [result["waitlist_position"] for result in waitlisted] == list(range(1, CROWD - SEATS + 1))
    with engine.connect() as connection:
        seats = connection.execute(sa.select(ActivitySeats).where(ActivitySeats.activity_id == activity["id"])).one()
        stored = connection.scalar(
            sa.select(sa.func.count()).where(Signup.activity_id == activity["id"], Signup.status == "confirmed")
        )
    assert (seats.confirmed, seats.waitlisted, stored) == (SEATS, CROWD - SEATS, SEATS)

    # two confirmed volunteers cancel at once: the first two of the waitlist get their seats
    by_volunteer = {volunteer_id: actor for volunteer_id, actor in crowd}
    leaving = [result["volunteer_id"] for result in confirmed[:2]]
    for reply in [activities.cancel_my_signup.call_async(activity["id"], {}, by_volunteer[v]) for v in leaving]:
        reply.result()
    heads = [activities.get_my_signup(activity["id"], by_volunteer[r["volunteer_id"]]) for r in waitlisted[:3]]
    assert [head["status"] for head in heads] == ["confirmed", "confirmed", "waitlisted"]
    assert heads[2]["waitlist_position"] == 1
    assert activities.get_activity(activity["id"], COUNTY)["seats"]["confirmed"] == SEATS


def test_capacity_grows_by_promoting_and_never_shrinks_below_the_confirmed(activities, tree, enrol_many):
    activity = activities.create_activity(activity_data(tree["a1"], capacity=1), COUNTY)
    activities.publish_activity(activity["id"], COUNTY)
    people = enrol_many(tree["a1"], 3)
    for _, actor in people:
        activities.sign_up(activity["id"], actor)
    grown = activities.update_activity(activity["id"], {"capacity": 2}, COUNTY)
    assert grown["seats"] == {"capacity": 2, "confirmed": 2, "waitlisted": 1, "available": 0, "full": True}
    assert activities.get_my_signup(activity["id"], people[1][1])["promoted"] is True
    with pytest.raises(InvalidInput) as refused:
        activities.update_activity(activity["id"], {"capacity": 1}, COUNTY)
    assert refused.value.code == "activity.capacity_below_confirmed"
