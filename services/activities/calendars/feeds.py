"""iCalendar feeds (RFC 5545, with RFC 7986's calendar name and refresh interval) built with
the `icalendar` library, which folds lines at 75 octets and escapes text, from plain dicts of
activities (their stored fields).

Times are written in the county's zone, TZID=Asia/Shanghai, with that zone's VTIMEZONE in
the feed: the organizers plan in local wall-clock time, the feed shows it as they wrote it,
and a client in any other zone converts it to the same instant (a UTC `Z` time would be as
exact, but shows the county's own subscribers nothing of the zone the times were set in).
DTSTAMP, LAST-MODIFIED and CREATED are UTC, as RFC 5545 requires.

An activity is one VEVENT whose UID (`activity-<id>@wenming`) never changes and whose
SEQUENCE is the activity's version, so a client replaces what it holds when the time or
place moves. A cancelled activity stays, STATUS:CANCELLED, so subscribers see it struck out;
a volunteer's waitlisted sign-up is TENTATIVE.
"""

from datetime import timedelta
from decimal import Decimal

from icalendar import Calendar, Event, vDuration

from services.activities.contract.common import LOCAL_ZONE
from services.volunteers.contract.imports import CATEGORY_LABELS

PRODID = "-//Wenming//Activities Calendar 1.0//ZH-CN"
UID_DOMAIN = "wenming"
REFRESH = timedelta(hours=1)  # how often a client should fetch the feed again
PLATFORM_NAMES = {platform: labels[0] for platform, labels in CATEGORY_LABELS.items()}
STANDING_NAMES = {"confirmed": "已确认", "waitlisted": "候补中", "cancelled": "已随活动取消"}


def center_feed(center, activities, now):
    """The feed of the activities organized in `center`'s subtree ({"id", "name"})."""
    calendar = _calendar(
        uid=f"center-{center['id']}-activities@{UID_DOMAIN}",
        name=f"{center['name']} · 文明实践活动",
        description=f"{center['name']}及其下级阵地组织的新时代文明实践活动。",
    )
    for activity in activities:
        calendar.add_component(activity_event(activity, now))
    return _finished(calendar, activities, f"center-{center['id']}-activities.ics")


def volunteer_feed(volunteer_id, entries, now):
    """The feed of a volunteer's sign-ups: `entries` are (activity, the sign-up's status)."""
    calendar = _calendar(
        uid=f"volunteer-{volunteer_id}-signups@{UID_DOMAIN}",
        name="我报名的志愿服务活动",
        description="您在文明实践云报名的志愿服务活动；候补中的标有【候补】。",
    )
    for activity, standing in entries:
        calendar.add_component(activity_event(activity, now, standing))
    return _finished(calendar, [activity for activity, _ in entries], "my-activities.ics")


def activity_event(activity, now, standing=None):
    """One activity as a VEVENT; `standing`: the volunteer's sign-up status, in their feed."""
    cancelled = activity["status"] == "cancelled"
    waitlisted = standing == "waitlisted" and not cancelled
    event = Event.new(
        uid=f"activity-{activity['id']}@{UID_DOMAIN}",
        stamp=now,
        created=activity["created_at"],
        last_modified=activity["updated_at"],
        sequence=activity["version"],
        start=activity["starts_at"].astimezone(LOCAL_ZONE),
        end=activity["ends_at"].astimezone(LOCAL_ZONE),
        summary=("【已取消】" if cancelled else "【候补】" if waitlisted else "") + activity["title"],
        description=_description(activity, standing),
        location=activity["place"],
        categories=[PLATFORM_NAMES[activity["platform"]]],
    )
    event.add("status", "CANCELLED" if cancelled else "TENTATIVE" if waitlisted else "CONFIRMED")
    if activity["latitude"] is not None and activity["longitude"] is not None:
        event.add("geo", (activity["latitude"], activity["longitude"]))
    return event


def _description(activity, standing):
    facts = [
        f"平台：{PLATFORM_NAMES[activity['platform']]}",
        f"招募人数：{activity['capacity']} 人",
        f"服务时长：最多计 {_number(activity['hours'])} 小时",
    ]
    if standing is not None:
        facts.append(f"我的报名：{STANDING_NAMES[standing]}")
    if activity["status"] == "cancelled":
        facts.append(f"活动已取消：{activity['status_reason'] or '（未说明原因）'}")
    text = (activity["description"] or "").strip()
    return "\n".join([text, "", *facts] if text else facts)


def _number(value):
    """2.00 → 2, 1.50 → 1.5."""
    return format(Decimal(value).normalize(), "f")


def _calendar(uid, name, description):
    calendar = Calendar.new(
        prodid=PRODID, calscale="GREGORIAN", method="PUBLISH", uid=uid, name=name, description=description
    )
    calendar.add("x-wr-timezone", LOCAL_ZONE.key)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    return calendar


def _finished(calendar, activities, filename):
    """The feed as {"filename", "content"}, with the VTIMEZONE of the zone its events use,
    covering the days they span (one STANDARD component for Asia/Shanghai since 1991)."""
    if activities:
        first = min(activity["starts_at"] for activity in activities).astimezone(LOCAL_ZONE).date()
        last = max(activity["ends_at"] for activity in activities).astimezone(LOCAL_ZONE).date()
        calendar.add_missing_timezones(first_date=first, last_date=last + timedelta(days=1))
    return {"filename": filename, "content": calendar.to_ical().decode("utf-8")}
