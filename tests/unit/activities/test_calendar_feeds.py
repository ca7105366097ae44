"""Calendar feeds built from plain data: they parse back (with `icalendar`, and with
`vobject`, the independent parser behind the Radicale CalDAV server, when installed), keep
RFC 5545's structure (CRLF, lines folded at 75 octets without splitting a character, the
required properties, a VTIMEZONE for every TZID), show the same instant in UTC, in +08:00
and elsewhere, and escape long Chinese text; and the secret tokens of volunteers' feeds."""

import hashlib
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from services.activities.calendars import domain, feeds
from services.chassis.errors import NotFound

NOW = datetime(2026, 4, 3, 8, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
CENTER = {"id": 7, "name": "城关镇新时代文明实践所"}


def activity(**overrides):
    data = {
        "id": 41,
        "title": "非遗传承刺绣课堂",
        "description": "带上针线。",
        "platform": "culture",
        "place": "城关镇新时代文明实践所二楼",
        "latitude": 37.687,
        "longitude": 112.752,
        "starts_at": datetime(2026, 5, 1, 1, 0, tzinfo=UTC),  # 09:00 in Shanghai
        "ends_at": datetime(2026, 5, 1, 3, 30, tzinfo=UTC),
        "hours": Decimal("2.50"),
        "capacity": 30,
        "status": "published",
        "status_reason": None,
        "version": 3,
        "created_at": datetime(2026, 4, 1, 2, 0, tzinfo=UTC),
        "updated_at": datetime(2026, 4, 2, 2, 0, tzinfo=UTC),
    }
    return {**data, **overrides}


def parsed(feed):
    return Calendar.from_ical(feed["content"])


def only_event(feed):
    (event,) = parsed(feed).walk("VEVENT")
    return event


def physical_lines(feed):
    raw = feed["content"].encode("utf-8")
    assert raw.endswith(b"\r\n")
    return raw[: -len(b"\r\n")].split(b"\r\n")


def test_a_center_feed_parses_back_with_every_property_a_client_needs():
    feed = feeds.center_feed(CENTER, [activity()], NOW)
    assert feed["filename"] == "center-7-activities.ics"
    calendar = parsed(feed)
    assert (str(calendar["VERSION"]), str(calendar["METHOD"]), str(calendar["CALSCALE"])) == (
        "2.0",
        "PUBLISH",
        "GREGORIAN",
    )
    assert str(calendar["PRODID"]) == feeds.PRODID
    assert str(calendar["X-WR-CALNAME"]) == "城关镇新时代文明实践所 · 文明实践活动"
    assert str(calendar["X-WR-TIMEZONE"]) == "Asia/Shanghai"
    assert calendar["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"

    event = only_event(feed)
    assert str(event["UID"]) == "activity-41@wenming"
    assert event["SEQUENCE"] == 3  # the activity's version: a reschedule replaces the client's copy
    assert event["DTSTAMP"].dt == NOW
    assert event["LAST-MODIFIED"].dt == datetime(2026, 4, 2, 2, 0, tzinfo=UTC)
    assert str(event["SUMMARY"]) == "非遗传承刺绣课堂"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["LOCATION"]) == "城关镇新时代文明实践所二楼"
    assert (event["GEO"].latitude, event["GEO"].longitude) == (37.687, 112.752)
    assert event["CATEGORIES"].cats == ["文化服务"]
    assert str(event["DESCRIPTION"]) == "带上针线。\n\n平台：文化服务\n招募人数：30 人\n服务时长：最多计 2.5 小时"


def test_times_carry_the_shanghai_zone_and_mean_the_same_instant_everywhere():
    # 17:30 UTC is already the next day in Shanghai
    starts, ends = datetime(2026, 5, 1, 17, 30, tzinfo=UTC), datetime(2026, 5, 1, 19, 0, tzinfo=UTC)
    feed = feeds.center_feed(CENTER, [activity(starts_at=starts, ends_at=ends)], NOW)
    lines = feed["content"].split("\r\n")
    assert "DTSTART;TZID=Asia/Shanghai:20260502T013000" in lines
    assert "DTEND;TZID=Asia/Shanghai:20260502T030000" in lines
    assert "DTSTAMP:20260403T080000Z" in lines  # UTC, as RFC 5545 requires

    calendar = parsed(feed)
    (zone,) = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Asia/Shanghai"
    assert {part["TZOFFSETTO"].td for part in zone.walk("STANDARD")} == {timedelta(hours=8)}
    event = only_event(feed)
    assert event["DTSTART"].params["TZID"] == "Asia/Shanghai"
    start = event["DTSTART"].dt
    assert start.utcoffset() == timedelta(hours=8)
    assert start == starts  # the same instant
    assert start.astimezone(UTC).replace(tzinfo=None) == datetime(2026, 5, 1, 17, 30)
    assert start.astimezone(ZoneInfo("America/New_York")).replace(tzinfo=None) == datetime(2026, 5, 1, 13, 30)
    assert event["DTEND"].dt - start == timedelta(minutes=90)


def test_long_chinese_text_is_folded_at_75_octets_without_splitting_a_character_and_escaped():
    title = "托起明天的太阳·暑期公益课堂" * 7  # 98 characters, 3 bytes each in UTF-8
    description = "\n".join(f"第{n}课：剪纸; 书法, 家长\\学生" for n in range(200))  # semicolons, commas, backslashes
    feed = feeds.center_feed(CENTER, [activity(title=title[:100], description=description)], NOW)

    lines = physical_lines(feed)
    assert all(len(line) <= 75 for line in lines)
    assert all(b"\n" not in line and b"\r" not in line for line in lines)
    for line in lines:
        line.decode("utf-8")  # a fold never cuts a character in two
    assert sum(line.startswith(b" ") for line in lines) > 100  # folded, not cut
    unfolded = re.sub(r"\r\n[ \t]", "", feed["content"])
    assert "第1课：剪纸\\; 书法\\, 家长\\\\学生\\n第2课" in unfolded  # escaped as RFC 5545 says

    event = only_event(feed)
    assert str(event["SUMMARY"]) == title[:100]
    assert str(event["DESCRIPTION"]).startswith(description + "\n\n平台：")


def test_the_structure_holds_what_rfc_5545_requires():
    activities = [
        activity(id=n, starts_at=datetime(2026, 5, n, 1, tzinfo=UTC), ends_at=datetime(2026, 5, n, 3, tzinfo=UTC))
        for n in range(1, 4)
    ]
    activities.append(activity(id=9, latitude=None, longitude=None))
    feed = feeds.center_feed(CENTER, activities, NOW)
    text = feed["content"]
    assert "\n" not in text.replace("\r\n", "")  # CRLF everywhere, no bare LF or CR
    unfolded = re.sub(r"\r\n[ \t]", "", text).split("\r\n")[:-1]
    assert unfolded[0] == "BEGIN:VCALENDAR" and unfolded[-1] == "END:VCALENDAR"
    stack = []
    for line in unfolded:
        name, _, value = line.partition(":")
        if name == "BEGIN":
            stack.append(value)
        elif name == "END":
            assert stack.pop() == value
    assert stack == []

    calendar = parsed(feed)
    assert "PRODID" in calendar and "VERSION" in calendar
    zones = {str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")}
    events = calendar.walk("VEVENT")
    assert len(events) == 4
    for event in events:
        for required in ("UID", "DTSTAMP", "DTSTART", "DTEND"):
            assert required in event, required
        assert event["DTSTART"].params["TZID"] in zones
        assert event["DTEND"].dt > event["DTSTART"].dt
    assert len({str(event["UID"]) for event in events}) == 4
    assert "GEO" not in events[-1]  # no coordinates, no GEO


def test_cancelled_activities_stay_cancelled_and_a_waitlisted_sign_up_is_tentative():
    cancelled = activity(status="cancelled", status_reason="暴雨预警")
    event = only_event(feeds.center_feed(CENTER, [cancelled], NOW))
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["SUMMARY"]) == "【已取消】非遗传承刺绣课堂"
    assert str(event["DESCRIPTION"]).endswith("活动已取消：暴雨预警")

    feed = feeds.volunteer_feed(12, [(activity(id=1), "confirmed"), (activity(id=2), "waitlisted")], NOW)
    assert feed["filename"] == "my-activities.ics"
    assert str(parsed(feed)["X-WR-CALNAME"]) == "我报名的志愿服务活动"
    confirmed, waitlisted = parsed(feed).walk("VEVENT")
    assert (str(confirmed["STATUS"]), str(waitlisted["STATUS"])) == ("CONFIRMED", "TENTATIVE")
    assert str(waitlisted["SUMMARY"]) == "【候补】非遗传承刺绣课堂"
    assert str(confirmed["DESCRIPTION"]).endswith("我的报名：已确认")


def test_an_empty_feed_is_a_valid_calendar():
    calendar = parsed(feeds.center_feed(CENTER, [], NOW))
    assert calendar.walk("VEVENT") == [] and calendar.walk("VTIMEZONE") == []
    assert str(calendar["X-WR-TIMEZONE"]) == "Asia/Shanghai"


def test_a_second_independent_parser_reads_the_feed_alike():
    vobject = pytest.importorskip("vobject")
    starts = datetime(2026, 5, 1, 17, 30, tzinfo=UTC)
    description = "第一行，带逗号, 分号; 反斜杠\\\n第二行" * 20
    feed = feeds.center_feed(
        CENTER, [activity(starts_at=starts, ends_at=starts + timedelta(hours=2), description=description)], NOW
    )
    calendar = vobject.readOne(feed["content"], validate=True)
    assert calendar.x_wr_calname.value == "城关镇新时代文明实践所 · 文明实践活动"
    event = calendar.vevent
    assert event.uid.value == "activity-41@wenming"
    assert event.dtstart.value == starts and event.dtstart.value.astimezone(SHANGHAI).hour == 1
    assert event.description.value.startswith(description)
    assert event.location.value == "城关镇新时代文明实践所二楼"


# -- the secret tokens ------------------------------------------------------------------------


def test_a_new_token_is_256_url_safe_bits_and_only_its_sha256_is_kept():
    (token, token_hash), (other, _) = domain.new_token(), domain.new_token()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token) and token != other
    assert token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in token_hash
    assert domain.presented_hash(token) == token_hash


@pytest.mark.parametrize("presented", ["", "abc", "A" * 42, "A" * 44, "A" * 42 + ".", "../" + "A" * 40, None, 7])
def test_what_cannot_be_a_token_is_not_found_without_a_lookup(presented):
    with pytest.raises(NotFound) as refused:
        domain.presented_hash(presented)
    assert refused.value.code == "calendar.not_found"


def test_a_feed_holds_ninety_days_back_and_a_year_ahead():
    assert domain.window(NOW) == (NOW - timedelta(days=90), NOW + timedelta(days=366))
