"""Calendar feeds through the service's RPC, on SQLite and PostgreSQL: a center's feed holds
its subtree's published activities (cancelled ones marked, no drafts, nothing outside the
window) and follows a reschedule; a volunteer's feed, at a secret URL that only a hash of
is stored, holds their sign-ups until the URL is revoked or replaced."""

import hashlib
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from services.activities.calendars.models import CalendarToken
from services.chassis.clock import iso, utcnow
from services.chassis.errors import NotFound, PermissionDenied
from tests.support.actors import COUNTY

from .conftest import activity_data


def events_of(feed):
    """{SUMMARY: VEVENT} of a feed."""
    return {str(event["SUMMARY"]): event for event in Calendar.from_ical(feed["content"]).walk("VEVENT")}


def published(activities, center_id, title, **overrides):
    activity = activities.create_activity(activity_data(center_id, title=title, **overrides), COUNTY)
    return activities.publish_activity(activity["id"], COUNTY)


def test_a_centers_feed_holds_its_subtrees_published_activities_and_follows_a_reschedule(activities, tree):
    held = published(activities, tree["a1"], "甲：刺绣课堂", latitude=37.687, longitude=112.752)
    activities.create_activity(activity_data(tree["a1"], title="草稿活动"), COUNTY)
    published(activities, tree["b1"], "乙：另一乡镇")
    called_off = published(activities, tree["a"], "丙：安全教育日")
    activities.cancel_activity(called_off["id"], {"reason": "场地维修"}, COUNTY)
    never_published = activities.create_activity(activity_data(tree["a1"], title="取消的草稿"), COUNTY)
    activities.cancel_activity(never_published["id"], {"reason": "不办了"}, COUNTY)
    far = utcnow() + timedelta(days=400)
    published(activities, tree["a1"], "远期活动", starts_at=iso(far), ends_at=iso(far + timedelta(hours=1)))

    feed = activities.center_calendar(tree["a"])
    assert feed["filename"] == f"center-{tree['a']}-activities.ics"
    shown = events_of(feed)
    assert set(shown) == {"甲：刺绣课堂", "【已取消】丙：安全教育日"}
    assert str(shown["【已取消】丙：安全教育日"]["STATUS"]) == "CANCELLED"
    first = shown["甲：刺绣课堂"]
    assert (str(first["UID"]), str(first["STATUS"])) == (f"activity-{held['id']}@wenming", "CONFIRMED")
    assert first["DTSTART"].dt == datetime.fromisoformat(held["starts_at"]).replace(microsecond=0)  # iCalendar: seconds
    assert (first["GEO"].latitude, first["GEO"].longitude) == (37.687, 112.752)
    assert str(Calendar.from_ical(feed["content"])["X-WR-CALNAME"]) == "a 实践 · 文明实践活动"
    assert set(events_of(activities.center_calendar(tree["county"]))) == {
        "甲：刺绣课堂",
        "乙：另一乡镇",
        "【已取消】丙：安全教育日",
    }

    later = datetime.fromisoformat(held["starts_at"]) + timedelta(days=1)
    moved = activities.update_activity(
        held["id"], {"starts_at": iso(later), "ends_at": iso(later + timedelta(hours=2))}, COUNTY
    )
    rescheduled = events_of(activities.center_calendar(tree["a1"]))["甲：刺绣课堂"]
    assert str(rescheduled["UID"]) == str(first["UID"])
    assert rescheduled["SEQUENCE"] == moved["version"] > first["SEQUENCE"]
    assert rescheduled["DTSTART"].dt == later.replace(microsecond=0)

    with pytest.raises(NotFound):
        activities.center_calendar(987654)


def test_a_volunteers_secret_feed_shows_their_sign_ups_until_it_is_revoked_or_replaced(
    activities, tree, enrol, engine, change_status
):
    (volunteer_id, me), (_, other) = enrol(tree["a1"]), enrol(tree["a1"])
    seated = published(activities, tree["a1"], "有座位", capacity=1)
    full = published(activities, tree["a1"], "已满", capacity=1)
    called_off = published(activities, tree["a1"], "被取消")
    left = published(activities, tree["a1"], "我退出了")
    not_mine = published(activities, tree["a1"], "别人的")
    activities.sign_up(full["id"], other)
    activities.sign_up(not_mine["id"], other)
    for activity in (seated, full, called_off, left):
        activities.sign_up(activity["id"], me)
    activities.cancel_my_signup(left["id"], {"reason": None}, me)
    activities.cancel_activity(called_off["id"], {"reason": "天气原因"}, COUNTY)

    issued = activities.issue_calendar_token(me)
    token = issued["token"]
    assert issued["path"] == f"/api/v1/calendars/{token}.ics" and len(token) == 43
    shown = events_of(activities.volunteer_calendar(token))
    assert {summary: str(event["STATUS"]) for summary, event in shown.items()} == {
        "有座位": "CONFIRMED",
        "【候补】已满": "TENTATIVE",
        "【已取消】被取消": "CANCELLED",
    }
    assert str(shown["有座位"]["DESCRIPTION"]).endswith("我的报名：已确认")

    with engine.connect() as connection:
        rows = connection.execute(sa.select(CalendarToken.__table__)).all()
    assert [(row.volunteer_id, row.token_hash) for row in rows] == [
        (volunteer_id, hashlib.sha256(token.encode()).hexdigest())
    ]
    assert not any(token in str(value) for row in rows for value in row)

    replacement = activities.issue_calendar_token(me)["token"]
    with pytest.raises(NotFound) as refused:
        activities.volunteer_calendar(token)
    assert refused.value.code == "calendar.not_found"
    assert "有座位" in events_of(activities.volunteer_calendar(replacement))

    assert activities.revoke_calendar_token(me) == {"revoked": 1}
    assert activities.revoke_calendar_token(me) == {"revoked": 0}
    for gone in (replacement, "not-a-token", "A" * 43):
        with pytest.raises(NotFound):
            activities.volunteer_calendar(gone)

    latest = activities.issue_calendar_token(me)["token"]
    change_status(volunteer_id, tree["a1"], "deregistered", 2)
    with pytest.raises(NotFound):
        activities.volunteer_calendar(latest)  # a deregistered volunteer's feed ends


def test_only_a_volunteer_issues_a_feed_of_their_own(activities, tree):
    for actor in (COUNTY, {"account_id": "77", "role": "resident", "scope_center_id": None}):
        with pytest.raises(PermissionDenied) as refused:
            activities.issue_calendar_token(actor)
        assert refused.value.code == "scope.role"
