"""The rules of sign-ups and attendance (services/activities/signups/domain.py)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.activities.signups import domain
from services.chassis.errors import Conflict, InvalidInput

START = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai
ACTIVITY = {
    "status": "published",
    "published_at": START - timedelta(days=3),
    "signup_opens_at": None,
    "signup_closes_at": None,
    "starts_at": START,
    "ends_at": START + timedelta(hours=3),
    "hours": Decimal("2.50"),
    "latitude": 37.687,
    "longitude": 112.752,
    "checkin_radius_m": 100,
}
SIGNUP = {"status": "confirmed", "checked_in_at": None, "checked_out_at": None, "attendance": None, "hours": None}


def test_sign_up_is_open_from_publication_to_the_start():
    domain.require_open_for_signup(ACTIVITY, START - timedelta(days=1))
    with pytest.raises(Conflict, match="signup.closed"):
        domain.require_open_for_signup(ACTIVITY, START)
    with pytest.raises(Conflict, match="signup.not_yet_open"):
        domain.require_open_for_signup(
            {**ACTIVITY, "signup_opens_at": START - timedelta(hours=5)}, START - timedelta(days=1)
        )
    with pytest.raises(Conflict, match="signup.activity_not_open"):
        domain.require_open_for_signup({**ACTIVITY, "status": "draft"}, START - timedelta(days=1))


def test_only_active_volunteers_and_for_a_team_only_activity_its_members():
    domain.require_eligible("active", team_only=True, is_member=True)
    with pytest.raises(Conflict, match="signup.volunteer_inactive"):
        domain.require_eligible("suspended", team_only=False, is_member=False)
    with pytest.raises(Conflict, match="signup.team_only"):
        domain.require_eligible("active", team_only=True, is_member=False)


def test_seats_then_waitlist_and_promotions_fill_free_seats_only():
    assert [domain.seat(confirmed, 2) for confirmed in (0, 1, 2)] == ["confirmed", "confirmed", "waitlisted"]
    assert domain.promotions(confirmed=1, capacity=3, waitlisted=5) == 2
    assert domain.promotions(confirmed=1, capacity=3, waitlisted=1) == 1
    assert domain.promotions(confirmed=3, capacity=3, waitlisted=4) == 0


def test_the_haversine_distance_is_right_within_a_metre():
    # one thousandth of a degree of latitude is about 111.2 m everywhere
    assert domain.distance_m(37.687, 112.752, 37.688, 112.752) == pytest.approx(111.2, abs=1)


def test_check_in_from_an_hour_before_the_start_within_the_radius():
    near = {"latitude": 37.6875, "longitude": 112.752}
    assert domain.check_in(ACTIVITY, SIGNUP, near, START - timedelta(minutes=60)) == pytest.approx(55.6, abs=1)
    with pytest.raises(Conflict, match="attendance.too_early"):
        domain.check_in(ACTIVITY, SIGNUP, near, START - timedelta(minutes=61))
    with pytest.raises(Conflict, match="attendance.too_far"):
        domain.check_in(ACTIVITY, SIGNUP, {"latitude": 37.69, "longitude": 112.752}, START)
    with pytest.raises(InvalidInput, match="attendance.position_required"):
        domain.check_in(ACTIVITY, SIGNUP, None, START)
    assert domain.check_in({**ACTIVITY, "checkin_radius_m": None}, SIGNUP, None, START) is None
    with pytest.raises(Conflict, match="attendance.not_confirmed"):
        domain.check_in(ACTIVITY, {**SIGNUP, "status": "waitlisted"}, near, START)


def test_hours_are_the_checked_time_within_the_activity_capped_by_its_hours():
    early_in = {**SIGNUP, "checked_in_at": START - timedelta(minutes=30), "checked_out_at": START + timedelta(hours=2)}
    assert domain.checked_hours(ACTIVITY, early_in) == Decimal("2.00")  # time before the start does not count
    long_stay = {**SIGNUP, "checked_in_at": START, "checked_out_at": START + timedelta(hours=3)}
    assert domain.checked_hours(ACTIVITY, long_stay) == Decimal("2.50")  # capped
    assert domain.checked_hours(ACTIVITY, SIGNUP) == Decimal("2.50")  # never checked in: the organizer vouches


def test_a_confirmation_changes_only_what_differs_and_counts_revisions():
    item = {"volunteer_id": 7, "attendance": "attended", "hours": Decimal("2.00")}
    first = domain.confirmation(ACTIVITY, {**SIGNUP, "attendance_revision": 0}, item)
    assert first == {"attendance": "attended", "hours": Decimal("2.00"), "attendance_revision": 1}
    again = {**SIGNUP, **first}
    assert domain.confirmation(ACTIVITY, again, item) is None
    no_show = domain.confirmation(ACTIVITY, again, {**item, "attendance": "no_show", "hours": None})
    assert no_show == {"attendance": "no_show", "hours": Decimal(0), "attendance_revision": 2}
    assert domain.credits("attended", no_show)  # withdraws the hours credited before
    assert not domain.credits(None, no_show)
    with pytest.raises(InvalidInput, match="attendance.hours_over_cap"):
        domain.confirmation(ACTIVITY, again, {**item, "hours": Decimal(3)})


def test_the_day_served_is_on_the_county_calendar():
    late_evening = {**ACTIVITY, "starts_at": datetime(2026, 12, 4, 17, 0, tzinfo=UTC)}  # 01:00 on the 5th in Shanghai
    assert domain.served_on(late_evening).isoformat() == "2026-12-05"
