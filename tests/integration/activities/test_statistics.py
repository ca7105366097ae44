"""Activity statistics through the service's RPC, on SQLite and PostgreSQL: every figure
exact for a scripted set of activities, sign-ups and confirmed attendances in a subtree and
period (and not a figure from outside them); callers outside the center's scope refused."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from services.activities.catalog.models import Activity
from services.activities.contract.common import LOCAL_ZONE
from services.activities.ledger.models import Ledger
from services.chassis.clock import iso, utcnow
from services.chassis.errors import InvalidInput, NotFound, PermissionDenied
from tests.support.actors import COUNTY, center_admin

from .conftest import activity_data


def period(first_offset, last_offset):
    today = utcnow().astimezone(LOCAL_ZONE).date()
    return {
        "from": (today + timedelta(days=first_offset)).isoformat(),
        "to": (today + timedelta(days=last_offset)).isoformat(),
    }


def published(activities, center_id, **overrides):
    activity = activities.create_activity(activity_data(center_id, **overrides), COUNTY)
    return activities.publish_activity(activity["id"], COUNTY)["id"]


def held(activities, activity_id, attendances):
    """Start the activity, confirm `attendances` ((volunteer id, attendance, hours)), complete it."""
    activities.start_activity(activity_id, COUNTY)
    items = [{"volunteer_id": who, "attendance": what, "hours": hours} for who, what, hours in attendances]
    activities.confirm_attendance(activity_id, {"attendances": items}, COUNTY)
    activities.complete_activity(activity_id, COUNTY)


def file_ledger(engine, activity_id, people_served, recorded=True):
    """The ledger written as the ledger part files it (its entrypoints are not this test's subject)."""
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(
            sa.insert(Ledger.__table__).values(
                activity_id=activity_id,
                summary="活动圆满完成。",
                people_served=people_served,
                filed_by="county-1",
                filed_at=now,
                version=1,
                updated_at=now,
            )
        )
        if recorded:
            connection.execute(
                sa.update(Activity.__table__).where(Activity.id == activity_id).values(status="recorded")
            )


@pytest.fixture
def scripted(activities, tree, enrol_many, engine):
    """In a's subtree: A1 (a1, culture, team 7) held, A2 (a, education, team 8) held and
    recorded, A3 (a1, culture, team 7) published, A4 (a1, health) cancelled, a draft, and an
    activity ten days ahead; in b1: B (theory, team 9) held with a ledger."""
    (v0, p0), (v1, p1), (v2, p2), (v3, p3), (v4, p4) = enrol_many(tree["a1"], 5)
    a1 = published(activities, tree["a1"], platform="culture", team_id=7, capacity=2)
    a2 = published(activities, tree["a"], platform="education", team_id=8, capacity=3)
    a3 = published(activities, tree["a1"], platform="culture", team_id=7)
    a4 = published(activities, tree["a1"], platform="health")
    b = published(activities, tree["b1"], platform="theory", team_id=9)
    ahead = utcnow() + timedelta(days=10)
    later = published(activities, tree["a1"], team_id=7, starts_at=iso(ahead), ends_at=iso(ahead + timedelta(hours=2)))
    activities.create_activity(activity_data(tree["a1"], platform="science"), COUNTY)  # a draft

    for activity_id, people in (
        (a1, (p0, p1, p2)),
        (a2, (p0, p3)),
        (a3, (p4,)),
        (a4, (p4,)),
        (b, (p2,)),
        (later, (p0,)),
    ):
        for person in people:
            activities.sign_up(activity_id, person)  # A1: v0, v1 confirmed, v2 waitlisted
    activities.cancel_my_signup(a3, {"reason": None}, p4)
    activities.cancel_activity(a4, {"reason": "场地维修"}, COUNTY)
    held(activities, a1, [(v0, "attended", 2), (v1, "no_show", None)])
    held(activities, a2, [(v0, "attended", 1.5), (v3, "attended", 1.25)])
    held(activities, b, [(v2, "attended", 1)])
    file_ledger(engine, a2, 40)
    file_ledger(engine, b, 100, recorded=False)
    return tree


def test_the_figures_of_a_subtree_and_period_are_exact(activities, scripted):
    figures = activities.activity_statistics(scripted["a"], period(-1, 2), COUNTY)
    assert (figures["center_id"], figures["from"], figures["to"]) == (scripted["a"], *period(-1, 2).values())
    assert figures["activities"] == {
        "total": 3,
        "by_platform": {"theory": 0, "education": 1, "culture": 2, "science": 0, "health": 0},
        "by_status": {"published": 1, "in_progress": 0, "completed": 1, "recorded": 1, "cancelled": 1},
    }
    assert figures["signups"] == {"confirmed": 4, "waitlisted": 1, "cancelled": 2}
    assert figures["attendance"] == {"attended": 3, "no_show": 1, "rate": 0.75}
    assert (figures["volunteer_hours"], figures["volunteers"], figures["people_served"]) == (4.75, 2, 40)
    assert figures["top_teams"] == [
        {"team_id": 8, "hours": 2.75, "activities": 1},
        {"team_id": 7, "hours": 2.0, "activities": 2},
    ]

    county = activities.activity_statistics(scripted["county"], period(-1, 2), center_admin(scripted["county"]))
    assert county["activities"]["total"] == 4 and county["activities"]["by_platform"]["theory"] == 1
    assert (county["signups"]["confirmed"], county["volunteer_hours"], county["volunteers"]) == (5, 5.75, 3)
    assert county["people_served"] == 140
    assert [team["team_id"] for team in county["top_teams"]] == [8, 7, 9]

    ahead = activities.activity_statistics(scripted["a"], period(3, 12), center_admin(scripted["a"]))
    assert (ahead["activities"]["total"], ahead["signups"]["confirmed"]) == (1, 1)
    assert ahead["attendance"] == {"attended": 0, "no_show": 0, "rate": None}
    assert ahead["top_teams"] == [{"team_id": 7, "hours": 0.0, "activities": 1}]


def test_only_admins_whose_scope_holds_the_center_read_its_statistics(activities, tree, enrol):
    _, volunteer = enrol(tree["a1"])
    for actor, code in (
        (center_admin(tree["b"]), "scope.outside"),
        (center_admin(tree["a1"]), "scope.outside"),  # below the center asked about
        (volunteer, "scope.role"),
    ):
        with pytest.raises(PermissionDenied) as refused:
            activities.activity_statistics(tree["a"], period(0, 0), actor)
        assert refused.value.code == code
    assert activities.activity_statistics(tree["a1"], period(0, 0), center_admin(tree["a"]))["activities"]["total"] == 0
    for actor in (COUNTY, center_admin(tree["a"])):
        with pytest.raises(NotFound):
            activities.activity_statistics(987654, period(0, 0), actor)


@pytest.mark.parametrize(
    "filters, code",
    [
        (period(0, 366), "statistics.period_too_long"),
        (period(0, -1), "statistics.period_reversed"),
        ({"from": "2026-01-01"}, "input.invalid"),
        ({"from": "2026-01-01", "to": "2026-13-01"}, "input.invalid"),
    ],
)
def test_a_bad_period_is_refused(activities, tree, filters, code):
    with pytest.raises(InvalidInput) as refused:
        activities.activity_statistics(tree["a"], filters, COUNTY)
    assert refused.value.code == code and "to" in refused.value.fields
