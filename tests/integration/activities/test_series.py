"""Recurring series through the service's RPC, on SQLite and PostgreSQL: the 72 holiday
classes (weekly, published) and a monthly volunteer day (the last Saturday, drafts, with an
exception date); generating again never duplicates; one occurrence edited alone; this and
the following occurrences changed; the rest of a series cancelled; callers outside the
organizing center refused."""

import calendar
import json
from datetime import date, datetime, time, timedelta

import jsonschema
import pytest
import sqlalchemy as sa

from services.activities.catalog.models import Activity
from services.activities.contract import EVENT_SCHEMAS
from services.activities.contract import series as series_contract
from services.activities.contract.common import LOCAL_ZONE
from services.activities.models import Base
from services.chassis.clock import utcnow
from services.chassis.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tests.support.actors import COUNTY, center_admin

from .conftest import activity_data

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
SCHEMAS = {**EVENT_SCHEMAS, **series_contract.EVENT_SCHEMAS}


@pytest.fixture
def outbox(engine):
    """The service's events so far, oldest first, each checked against its published schema."""
    table = Base.metadata.tables["outbox"]

    def read(*types):
        with engine.connect() as connection:
            payloads = connection.execute(sa.select(table.c.payload).order_by(table.c.id)).scalars().all()
        events = [json.loads(payload) for payload in payloads]
        for event in events:
            jsonschema.validate(event["data"], SCHEMAS[event["type"]], format_checker=jsonschema.FormatChecker())
        return [event for event in events if event["type"] in types]

    return read


def next_local(hour, weekday=None):
    """The first day after today (Asia/Shanghai) falling on `weekday` (0: Monday), at `hour`:00."""
    day = utcnow().astimezone(LOCAL_ZONE).date() + timedelta(days=1)
    while weekday is not None and day.weekday() != weekday:
        day += timedelta(days=1)
    return datetime.combine(day, time(hour), tzinfo=LOCAL_ZONE)


def soon():
    """Half an hour from now, to the second (an occurrence then may be started early)."""
    return (utcnow() + timedelta(minutes=30)).replace(microsecond=0).astimezone(LOCAL_ZONE)


def series_data(center_id, rrule, first, **overrides):
    data = {
        "title": "托起明天的太阳·假期课堂",
        "platform": "education",
        "organizer_center_id": center_id,
        "place": "城关镇新时代文明实践所",
        "capacity": 3,
        "rrule": rrule,
        "first_starts_at": first.isoformat(),
        "duration_minutes": 90,
    }
    return {**data, **overrides}


def occurrences(activities, series_id, actor=COUNTY):
    return activities.list_activities({"series_id": series_id}, 1, 200, actor)["items"]


def occurrence_starts(engine, series_id):
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(Activity.id, Activity.occurrence_start).where(Activity.series_id == series_id)
        ).all()
    return dict(rows)


def refused(error_class, code, call, *args):
    with pytest.raises(error_class) as raised:
        call(*args)
    assert raised.value.code == code, raised.value
    return raised.value


def moment(text):
    return datetime.fromisoformat(text)


def test_the_72_holiday_classes_are_published_at_0900_and_generating_again_adds_none(activities, tree, engine, outbox):
    first = next_local(9, weekday=0)
    data = series_data(tree["a1"], "FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=72", first, publish=True)
    created = activities.create_series(data, center_admin(tree["a"]))
    assert (created["occurrences"], created["status"], created["publish"]) == (72, "active", True)
    assert moment(created["first_starts_at"]) == first

    classes = occurrences(activities, created["id"])
    assert len(classes) == 72
    assert {item["status"] for item in classes} == {"published"}
    starts = [moment(item["starts_at"]) for item in classes]
    assert {(start.hour, start.minute, start.utcoffset()) for start in starts} == {(9, 0, timedelta(hours=8))}
    assert {start.weekday() for start in starts} == {0, 2, 4}
    assert starts[0] == first and starts == sorted(set(starts))
    assert {moment(item["ends_at"]) - moment(item["starts_at"]) for item in classes} == {timedelta(minutes=90)}
    assert {(item["series_id"], float(item["hours"])) for item in classes} == {(created["id"], 1.5)}

    for _ in range(2):
        again = activities.generate_series(created["id"], {}, COUNTY)
        assert (again["generated"], again["series"]["occurrences"], again["series"]["version"]) == (0, 72, 1)
    assert len(occurrence_starts(engine, created["id"])) == 72
    [event] = outbox("series.created")
    assert (event["subject"], event["data"]["occurrences"]) == (str(created["id"]), 72)
    assert len(outbox("activity.published")) == 72
    assert outbox("series.changed") == []  # nothing new, nothing further ahead: the series is unchanged


def last_saturday(year, month):
    weeks = calendar.monthcalendar(year, month)
    return date(year, month, weeks[-1][5] or weeks[-2][5])


def test_a_monthly_volunteer_day_of_drafts_skips_its_exception_and_is_its_organizers_own(
    activities, tree, engine, outbox
):
    first = next_local(8)
    after_next = (first.date().replace(day=1) + timedelta(days=62)).replace(day=1)
    skipped = last_saturday(after_next.year, after_next.month)
    data = series_data(
        tree["a1"], "FREQ=MONTHLY;BYDAY=SA;BYSETPOS=-1", first, title="每月志愿服务日", exdates=[skipped.isoformat()]
    )
    created = activities.create_series(data, COUNTY)
    days = [moment(item["starts_at"]).date() for item in occurrences(activities, created["id"])]
    assert len(days) == created["occurrences"] >= 11  # a year ahead, less the exception
    assert all(day == last_saturday(day.year, day.month) for day in days)
    assert skipped not in days and created["exdates"] == [skipped.isoformat()]
    assert {item["status"] for item in occurrences(activities, created["id"])} == {"draft"}

    before = occurrence_starts(engine, created["id"])
    until = (first + timedelta(days=200)).date().isoformat()
    activities.generate_series(created["id"], {"until": until}, COUNTY)
    activities.generate_series(created["id"], {}, center_admin(tree["a"]))
    assert occurrence_starts(engine, created["id"]) == before

    outsider = center_admin(tree["b"])
    refused(NotFound, "series.not_found", activities.get_series, created["id"], outsider)
    assert activities.list_series({}, 1, 20, outsider)["total"] == 0
    assert [item["id"] for item in activities.list_series({"center_id": tree["a"]}, 1, 20, COUNTY)["items"]] == [
        created["id"]
    ]
    assert activities.get_series(created["id"], center_admin(tree["a1"]))["title"] == "每月志愿服务日"
    assert outbox("series.created", "series.changed", "activity.published") == []  # drafts publish nothing


def test_one_occurrence_edited_or_cancelled_alone_keeps_its_place_in_the_series(activities, tree, engine, outbox):
    first = next_local(15, weekday=5)
    created = activities.create_series(
        series_data(tree["a1"], "FREQ=WEEKLY;BYDAY=SA;COUNT=4", first, publish=True), COUNTY
    )
    second, third = occurrences(activities, created["id"])[1:3]
    generated_for = occurrence_starts(engine, created["id"])
    later = moment(second["starts_at"]) + timedelta(hours=1)
    moved = activities.update_activity(
        second["id"],
        {"place": "县图书馆", "starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=2)).isoformat()},
        COUNTY,
    )
    assert (moved["series_id"], moved["place"], moment(moved["starts_at"])) == (created["id"], "县图书馆", later)
    activities.cancel_activity(third["id"], {"reason": "暴雨预警"}, COUNTY)

    assert activities.generate_series(created["id"], {}, COUNTY)["generated"] == 0
    assert occurrence_starts(engine, created["id"]) == generated_for  # the rule's starts, as generated
    statuses = [(item["id"], item["status"]) for item in occurrences(activities, created["id"])]
    assert len(statuses) == 4 and (third["id"], "cancelled") in statuses
    [rescheduled] = outbox("activity.rescheduled")
    assert rescheduled["data"]["series_id"] == created["id"]


def test_this_and_the_following_occurrences_change_with_the_template_but_not_those_under_way(
    activities, tree, engine, outbox
):
    first = soon()
    rrule = f"FREQ=WEEKLY;BYDAY={WEEKDAYS[first.weekday()]};COUNT=6"
    created = activities.create_series(series_data(tree["a1"], rrule, first, publish=True), COUNTY)
    items = occurrences(activities, created["id"])
    activities.start_activity(items[0]["id"], COUNTY)  # under way
    activities.cancel_activity(items[3]["id"], {"reason": "场地占用"}, COUNTY)

    change = {"place": "县图书馆", "capacity": 5, "duration_minutes": 120}
    outcome = activities.update_series_from(created["id"], items[0]["id"], change, COUNTY)
    assert (outcome["updated"], outcome["skipped"]) == (4, 2)
    series = outcome["series"]
    assert (series["template"]["place"], series["template"]["capacity"], series["duration_minutes"]) == (
        "县图书馆",
        5,
        120,
    )
    after = occurrences(activities, created["id"])
    assert (after[0]["place"], after[0]["status"]) == ("城关镇新时代文明实践所", "in_progress")
    assert (after[3]["place"], after[3]["status"]) == ("城关镇新时代文明实践所", "cancelled")
    for item in after[1:3] + after[4:]:
        assert (item["place"], item["capacity"]) == ("县图书馆", 5)
        assert moment(item["ends_at"]) - moment(item["starts_at"]) == timedelta(hours=2)

    refused(
        Conflict, "series.version_conflict", activities.update_series_from, created["id"], items[2]["id"], {}, COUNTY, 1
    )
    second = activities.update_series_from(created["id"], items[2]["id"], {"capacity": 4}, COUNTY, series["version"])
    assert [item["capacity"] for item in occurrences(activities, created["id"])] == [3, 5, 4, 3, 4, 4]
    assert second["updated"] == 3 and second["series"]["template"]["capacity"] == 4

    changed = outbox("series.changed")
    assert [event["data"]["changed"] for event in changed] == [["capacity", "duration_minutes", "place"], ["capacity"]]
    assert moment(changed[0]["data"]["from_occurrence_start"]) == moment(items[0]["starts_at"])
    assert moment(changed[1]["data"]["from_occurrence_start"]) == moment(items[2]["starts_at"])
    assert len(outbox("activity.rescheduled")) == 4  # the place and the end moved
    other = activities.create_activity(activity_data(tree["a1"]), COUNTY)
    refused(
        NotFound, "series.occurrence_not_found", activities.update_series_from, created["id"], other["id"], {}, COUNTY
    )


def test_ending_a_series_cancels_its_open_occurrences_from_a_day_on_with_their_sign_ups(
    activities, tree, enrol, outbox
):
    first = next_local(10, weekday=2)
    created = activities.create_series(
        series_data(tree["a1"], "FREQ=WEEKLY;BYDAY=WE;COUNT=6", first, publish=True), COUNTY
    )
    items = occurrences(activities, created["id"])
    _, volunteer = enrol(tree["a1"])
    assert activities.sign_up(items[3]["id"], volunteer)["status"] == "confirmed"

    starts_from = items[2]["starts_at"][:10]  # its day in Asia/Shanghai
    ended = activities.end_series(created["id"], {"reason": "场地改建", "starts_from": starts_from}, COUNTY)
    assert ended["cancelled"] == 4
    assert (ended["series"]["status"], ended["series"]["status_reason"]) == ("ended", "场地改建")
    after = occurrences(activities, created["id"])
    assert [item["status"] for item in after] == ["published"] * 2 + ["cancelled"] * 4
    assert {item["status_reason"] for item in after[2:]} == {"场地改建"}
    [mine] = activities.my_signups(1, 20, volunteer)["items"]
    assert (mine["activity_id"], mine["status"], mine["activity_status"]) == (items[3]["id"], "cancelled", "cancelled")
    assert [event["data"]["because"] for event in outbox("signup.cancelled")] == ["activity_cancelled"]

    [event] = outbox("series.ended")
    assert (event["data"]["cancelled"], event["data"]["cancelled_from"], event["data"]["reason"]) == (
        4,
        starts_from,
        "场地改建",
    )
    assert len(outbox("activity.cancelled")) == 4
    refused(Conflict, "series.ended", activities.generate_series, created["id"], {}, COUNTY)
    refused(Conflict, "series.ended", activities.update_series_from, created["id"], items[0]["id"], {}, COUNTY)
    refused(Conflict, "series.ended", activities.end_series, created["id"], {"reason": "再次"}, COUNTY)


def test_callers_outside_the_organizing_center_and_bad_rules_are_refused_and_change_nothing(
    activities, tree, enrol, engine
):
    first = next_local(9, weekday=6)
    data = series_data(tree["a1"], "FREQ=WEEKLY;BYDAY=SU;COUNT=3", first, publish=True)
    outsider = center_admin(tree["b"])
    refused(PermissionDenied, "activity.not_organizer", activities.create_series, data, outsider)
    _, volunteer = enrol(tree["a1"])
    refused(PermissionDenied, "activity.not_organizer", activities.create_series, data, volunteer)
    error = refused(
        InvalidInput, "series.rrule_unsupported", activities.create_series, {**data, "rrule": "FREQ=DAILY"}, COUNTY
    )
    assert list(error.fields) == ["rrule"]
    assert activities.list_series({}, 1, 20, COUNTY)["total"] == 0

    theirs = activities.create_activity(activity_data(tree["b1"]), outsider)  # the outsider organizes activity 1
    created = activities.create_series(data, COUNTY)
    assert created["id"] == theirs["id"]  # series 1: its id must not be taken for an activity's
    first_occurrence = occurrences(activities, created["id"])[0]["id"]
    for call, args in (
        (activities.generate_series, ({},)),
        (activities.update_series_from, (first_occurrence, {"capacity": 9})),
        (activities.end_series, ({"reason": "越权"},)),
    ):
        refused(PermissionDenied, "activity.not_organizer", call, created["id"], *args, outsider)
    assert activities.get_series(created["id"], outsider)["version"] == created["version"]  # published: readable
    assert {item["capacity"] for item in occurrences(activities, created["id"])} == {3}
    refused(NotFound, "series.not_found", activities.get_series, 999_999, COUNTY)
