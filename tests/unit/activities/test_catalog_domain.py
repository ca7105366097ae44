"""The rules of an activity's fields and life cycle (services/activities/catalog/domain.py)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.activities.catalog import domain
from services.chassis.errors import Conflict, InvalidInput

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
START = NOW + timedelta(days=2)


def values(**overrides):
    base = {
        "title": "理论宣讲进村",
        "description": None,
        "platform": "theory",
        "organizer_center_id": 1,
        "team_id": None,
        "team_only": False,
        "place": "村委会",
        "latitude": None,
        "longitude": None,
        "starts_at": START,
        "ends_at": START + timedelta(hours=2, minutes=30),
        "signup_opens_at": None,
        "signup_closes_at": None,
        "capacity": 10,
        "hours": None,
        "points_rule": None,
        "leader_volunteer_id": None,
    }
    return {**base, **overrides}


def draft(**overrides):
    return {**domain.new_activity(values(**overrides), "admin-1", NOW), "id": 1}


def test_a_new_activity_is_a_draft_with_hours_of_its_duration_and_a_point_an_hour():
    activity = draft()
    assert (activity["status"], activity["version"]) == ("draft", 1)
    assert activity["hours"] == Decimal("2.50")
    assert (activity["points_kind"], activity["points_rate"]) == ("per_hour", Decimal(1))
    assert activity["checkin_radius_m"] is None  # no coordinates: check-in anywhere


def test_coordinates_bring_the_default_radius_unless_one_is_given():
    assert draft(latitude=37.6, longitude=112.7)["checkin_radius_m"] == 100
    assert draft(latitude=37.6, longitude=112.7, checkin_radius_m=300)["checkin_radius_m"] == 300


def test_hours_never_exceed_24_even_for_a_long_activity():
    assert draft(ends_at=START + timedelta(days=2))["hours"] == Decimal(24)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ends_at": START}, "ends_at"),
        ({"ends_at": START + timedelta(days=8)}, "ends_at"),
        ({"signup_closes_at": START + timedelta(minutes=1)}, "signup_closes_at"),
        (
            {"signup_opens_at": START - timedelta(hours=1), "signup_closes_at": START - timedelta(hours=2)},
            "signup_opens_at",
        ),
        ({"team_only": True}, "team_only"),
        ({"latitude": 37.6}, "longitude"),
        ({"points_rule": {"kind": "none", "rate": Decimal(2)}}, "points_rule"),
    ],
)
def test_fields_that_contradict_each_other_are_refused_naming_the_field(overrides, field):
    with pytest.raises(InvalidInput) as refused:
        draft(**overrides)
    assert field in refused.value.fields


def test_publishing_needs_a_draft_whose_start_lies_ahead():
    assert domain.publish(draft(), NOW) == {"status": "published", "published_at": NOW}
    with pytest.raises(Conflict, match="activity.starts_in_past"):
        domain.publish(draft(), START)
    with pytest.raises(Conflict, match="activity.not_draft"):
        domain.publish({**draft(), "status": "published"}, NOW)


def test_a_change_of_time_or_place_of_a_published_activity_is_a_reschedule():
    published = {**draft(), "status": "published"}
    moved = domain.changes(
        published, {"starts_at": START + timedelta(hours=1), "ends_at": START + timedelta(hours=3)}, NOW
    )
    assert set(moved) >= {"starts_at", "ends_at"} and domain.reschedules(published, moved)
    renamed = domain.changes(published, {"title": "理论宣讲进社区"}, NOW)
    assert renamed == {"title": "理论宣讲进社区"} and not domain.reschedules(published, renamed)
    assert domain.changes(published, {"title": "理论宣讲进村"}, NOW) is None
    assert not domain.reschedules(draft(), moved)  # a draft's changes are nobody's news


def test_a_published_activity_cannot_move_into_the_past_nor_change_once_under_way():
    with pytest.raises(InvalidInput):
        domain.changes({**draft(), "status": "published"}, {"starts_at": NOW - timedelta(hours=1)}, NOW)
    with pytest.raises(Conflict, match="activity.not_editable"):
        domain.changes({**draft(), "status": "in_progress"}, {"title": "新名称"}, NOW)


def test_the_clock_starts_then_completes_and_an_organizer_may_start_an_hour_early():
    published = {**draft(), "status": "published"}
    assert domain.due_by_clock(published, START - timedelta(minutes=1)) is None
    assert domain.due_by_clock(published, START) == "in_progress"
    assert domain.due_by_clock(published, published["ends_at"]) == "completed"
    assert domain.due_by_clock({**published, "status": "in_progress"}, published["ends_at"]) == "completed"
    assert domain.start_early(published, START - timedelta(minutes=59)) == {"status": "in_progress"}
    with pytest.raises(Conflict, match="activity.too_early"):
        domain.start_early(published, START - timedelta(minutes=61))


def test_cancelling_is_for_open_activities_and_capacity_never_below_the_confirmed():
    assert domain.cancel({**draft(), "status": "in_progress"}, "暴雨") == {
        "status": "cancelled",
        "status_reason": "暴雨",
    }
    with pytest.raises(Conflict):
        domain.cancel({**draft(), "status": "completed"}, "迟到的取消")
    domain.require_capacity_fits(3, 3)
    with pytest.raises(InvalidInput):
        domain.require_capacity_fits(2, 3)
