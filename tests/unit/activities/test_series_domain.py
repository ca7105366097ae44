"""The rules of a recurring series (services/activities/series/domain.py): the RRULE subset it
accepts and the codes of what it refuses, the starts a rule yields on the Asia/Shanghai wall
clock (weekly by day, monthly by "the last Saturday"), exception dates, the bounds on
occurrences and on how far ahead, and the activity each start becomes."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.activities.contract.common import LOCAL_ZONE
from services.activities.contract.series import MAX_OCCURRENCES, SeriesChangeSchema, SeriesCreateSchema
from services.activities.series import domain
from services.chassis.errors import Conflict, InvalidInput, NotFound
from services.chassis.schemas import load

NOW = datetime(2026, 6, 1, tzinfo=UTC)
MONDAY_9 = datetime(2026, 7, 6, 9, tzinfo=LOCAL_ZONE)  # the first day of the summer classes


def series(rrule, first=MONDAY_9, exdates=(), **overrides):
    """The stored fields of a series as the service keeps them (id 7)."""
    values = load(
        SeriesCreateSchema,
        {
            "title": "托起明天的太阳·暑期课堂",
            "platform": "education",
            "organizer_center_id": 3,
            "place": "城关镇新时代文明实践所",
            "capacity": 30,
            "rrule": rrule,
            "first_starts_at": first.isoformat(),
            "duration_minutes": 90,
            "exdates": [day.isoformat() for day in exdates],
            **overrides,
        },
    )
    return {**domain.new_series(values, "admin-3", NOW, far()), "id": 7}


def far():
    return domain.generation_end(NOW)


def local(starts):
    return [start.astimezone(LOCAL_ZONE) for start in starts]


def refused(call):
    with pytest.raises(InvalidInput) as raised:
        call()
    return raised.value


# --- what a rule yields -----------------------------------------------------------------------


def test_the_72_holiday_classes_three_times_a_week_keep_0900_on_the_wall_clock():
    classes = domain.starts(series("FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=72"), far())
    assert len(classes) == 72
    shown = local(classes)
    assert {start.weekday() for start in shown} == {0, 2, 4}
    assert {(start.hour, start.minute) for start in shown} == {(9, 0)}
    assert {start.hour for start in classes} == {1}  # stored in UTC: 09:00 in Shanghai is 01:00Z
    assert all(start.tzinfo == UTC for start in classes)
    assert (shown[0].date(), shown[-1].date()) == (date(2026, 7, 6), date(2026, 12, 18))


def test_the_wall_clock_holds_across_the_whole_year_with_no_daylight_saving():
    weekly = domain.starts(series("FREQ=WEEKLY;BYDAY=SU"), far())
    assert (local(weekly)[0].date(), local(weekly)[-1].date(), len(weekly)) == (
        date(2026, 7, 12),
        date(2027, 5, 30),  # the last Sunday up to a year ahead of 2026-06-01
        47,
    )
    assert {start.astimezone(LOCAL_ZONE).utcoffset() for start in weekly} == {timedelta(hours=8)}
    assert {(start.hour, start.minute) for start in local(weekly)} == {(9, 0)}


@pytest.mark.parametrize("rrule", ["FREQ=MONTHLY;BYDAY=SA;BYSETPOS=-1", "FREQ=MONTHLY;BYDAY=-1SA"])
def test_the_monthly_volunteer_day_on_the_last_saturday(rrule):
    days = [start.date() for start in local(domain.starts(series(rrule + ";COUNT=4"), far()))]
    assert days == [date(2026, 7, 25), date(2026, 8, 29), date(2026, 9, 26), date(2026, 10, 31)]


def test_monthly_by_day_of_the_month_skips_months_without_it_and_interval_spaces_weeks():
    days = [s.date() for s in local(domain.starts(series("FREQ=MONTHLY;BYMONTHDAY=31;COUNT=3"), far()))]
    assert days == [date(2026, 7, 31), date(2026, 8, 31), date(2026, 10, 31)]
    fortnightly = local(domain.starts(series("FREQ=WEEKLY;INTERVAL=2;BYDAY=SA;COUNT=3"), far()))
    assert [s.date() for s in fortnightly] == [date(2026, 7, 11), date(2026, 7, 25), date(2026, 8, 8)]


def test_exception_dates_are_skipped_and_count_toward_count():
    holiday = date(2026, 10, 2)  # 国庆
    weekly = series("FREQ=WEEKLY;BYDAY=FR;UNTIL=20261016", exdates=[holiday, holiday])
    assert weekly["exdates"] == ["2026-10-02"]
    days = [start.date() for start in local(domain.starts(weekly, far()))]
    assert holiday not in days
    assert days[-3:] == [date(2026, 9, 25), date(2026, 10, 9), date(2026, 10, 16)]  # UNTIL: the day included
    counted = series("FREQ=WEEKLY;BYDAY=MO;COUNT=3", exdates=[date(2026, 7, 13)])
    assert [s.date() for s in local(domain.starts(counted, far()))] == [date(2026, 7, 6), date(2026, 7, 20)]


@pytest.mark.parametrize(
    ("until", "last"),
    [
        ("20260720", date(2026, 7, 20)),  # a day: all of it
        ("20260720T010000Z", date(2026, 7, 20)),  # 09:00 in Shanghai: included
        ("20260720T005959Z", date(2026, 7, 13)),
        ("20260720T085959", date(2026, 7, 13)),  # a local time
    ],
)
def test_until_is_a_day_a_utc_time_or_a_local_time(until, last):
    starts = domain.starts(series(f"FREQ=WEEKLY;BYDAY=MO;UNTIL={until}"), far())
    assert local(starts)[-1].date() == last


def test_the_rule_is_stored_in_upper_case_without_its_prefix():
    assert series("rrule:freq=weekly;byday=mo,we;count=4")["rrule"] == "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4"


# --- bounds -----------------------------------------------------------------------------------


def test_an_open_rule_runs_at_most_a_year_ahead_and_to_its_200th_occurrence():
    open_rule = series("FREQ=WEEKLY;BYDAY=MO,TH")
    end = far()
    assert end == datetime(2027, 6, 3, tzinfo=LOCAL_ZONE)  # 2026-06-01 + 366 days, the whole day
    ahead = domain.starts(open_rule, end)
    assert ahead[-1] < end <= ahead[-1] + timedelta(days=4)
    assert len(domain.starts(open_rule, end + timedelta(days=3650))) == MAX_OCCURRENCES


def test_generating_beyond_a_year_ahead_is_refused():
    assert domain.generation_end(NOW, date(2027, 6, 2)) == datetime(2027, 6, 3, tzinfo=LOCAL_ZONE)
    error = refused(lambda: domain.generation_end(NOW, date(2027, 6, 3)))
    assert (error.code, list(error.fields)) == ("series.too_far_ahead", ["until"])


@pytest.mark.parametrize("rrule", ["FREQ=WEEKLY;BYDAY=MO;COUNT=201", "FREQ=WEEKLY;BYDAY=MO,FR;UNTIL=20300101"])
def test_more_than_200_occurrences_are_refused(rrule):
    error = refused(lambda: series(rrule))
    assert (error.code, list(error.fields)) == ("series.too_many_occurrences", ["rrule"])


@pytest.mark.parametrize(
    ("rrule", "code"),
    [
        ("FREQ=DAILY", "series.rrule_unsupported"),
        ("FREQ=YEARLY;BYMONTH=7", "series.rrule_unsupported"),
        ("FREQ=WEEKLY;BYHOUR=9", "series.rrule_unsupported"),
        ("FREQ=WEEKLY;WKST=SU", "series.rrule_unsupported"),
        ("BYDAY=MO", "series.rrule_unsupported"),  # no frequency
        ("FREQ=WEEKLY;COUNT=3;UNTIL=20261231", "series.rrule_invalid"),
        ("FREQ=WEEKLY;BYMONTHDAY=1", "series.rrule_invalid"),
        ("FREQ=WEEKLY;BYDAY=-1SA", "series.rrule_invalid"),
        ("FREQ=MONTHLY;BYDAY=6SA", "series.rrule_invalid"),
        ("FREQ=MONTHLY;BYSETPOS=-1", "series.rrule_invalid"),
        ("FREQ=MONTHLY;BYMONTHDAY=32", "series.rrule_invalid"),
        ("FREQ=MONTHLY;BYMONTHDAY=0", "series.rrule_invalid"),
        ("FREQ=WEEKLY;BYDAY=SA;BYSETPOS=8", "series.rrule_invalid"),
        ("FREQ=WEEKLY;BYDAY=XX", "series.rrule_invalid"),
        ("FREQ=WEEKLY;BYDAY=MO,", "series.rrule_invalid"),
        ("FREQ=WEEKLY;INTERVAL=0", "series.rrule_invalid"),
        ("FREQ=WEEKLY;INTERVAL=13", "series.rrule_invalid"),
        ("FREQ=WEEKLY;COUNT=-1", "series.rrule_invalid"),
        ("FREQ=WEEKLY;FREQ=MONTHLY", "series.rrule_invalid"),
        ("FREQ=WEEKLY;;BYDAY=MO", "series.rrule_invalid"),
        ("FREQ=WEEKLY;UNTIL=2026-08-29", "series.rrule_invalid"),
        ("FREQ=WEEKLY;BYDAY=MO;UNTIL=20260701", "series.no_occurrences"),  # ends before it starts
    ],
)
def test_refused_rules_name_the_rrule_field_in_chinese(rrule, code):
    error = refused(lambda: series(rrule))
    assert error.code == code
    [message] = error.fields["rrule"]
    assert any("\u4e00" <= character <= "\u9fff" for character in message)


@pytest.mark.parametrize("first", [NOW - timedelta(hours=1), NOW + timedelta(days=367)])
def test_the_first_start_lies_ahead_and_within_a_year(first):
    error = refused(lambda: series("FREQ=WEEKLY;BYDAY=MO", first=first))
    assert (error.code, list(error.fields)) == ("series.invalid", ["first_starts_at"])


def test_a_template_that_makes_no_valid_activity_is_refused_by_the_catalogs_rules():
    error = refused(lambda: series("FREQ=WEEKLY;BYDAY=MO", team_only=True))
    assert (error.code, list(error.fields)) == ("activity.invalid", ["team_only"])


# --- occurrences ------------------------------------------------------------------------------


def test_each_start_becomes_a_draft_activity_of_the_series_from_the_template():
    weekly = series("FREQ=WEEKLY;BYDAY=MO", latitude=37.69, longitude=112.78, points_rule={"kind": "flat", "rate": 5})
    start = domain.starts(weekly, far())[1]
    activity = domain.occurrence(weekly, start, "admin-3", NOW)
    assert (activity["series_id"], activity["occurrence_start"], activity["status"]) == (7, start, "draft")
    assert (activity["starts_at"], activity["ends_at"]) == (start, start + timedelta(minutes=90))
    assert (activity["hours"], activity["checkin_radius_m"]) == (Decimal("1.50"), 100)  # the catalog's defaults
    assert (activity["points_kind"], activity["points_rate"]) == ("flat", Decimal(5))
    assert (activity["title"], activity["organizer_center_id"], activity["capacity"]) == (weekly["title"], 3, 30)


def test_only_starts_ahead_and_not_generated_yet_are_due():
    weekly = series("FREQ=WEEKLY;BYDAY=MO;COUNT=4")
    first, second, third, fourth = domain.starts(weekly, far())
    assert domain.due_starts(weekly, {second}, far(), NOW) == [first, third, fourth]
    assert domain.due_starts(weekly, {second}, far(), third) == [fourth]


def test_this_and_the_following_change_the_template_and_the_duration():
    weekly = series("FREQ=WEEKLY;BYDAY=MO")
    anchor = {"id": 40, "series_id": 7, "occurrence_start": domain.starts(weekly, far())[2]}
    requested = load(SeriesChangeSchema, {"place": "县图书馆", "capacity": 30, "duration_minutes": 120})
    changed = domain.change_from(weekly, anchor, requested, "admin-3", NOW)
    assert changed["template"]["place"] == "县图书馆"
    assert changed["duration_minutes"] == 120
    assert domain.changed_names(weekly, changed) == ["duration_minutes", "place"]  # capacity was 30 already
    starts_at = datetime(2026, 7, 20, 1, tzinfo=UTC)
    assert domain.occurrence_changes(requested, starts_at) == {
        "place": "县图书馆",
        "capacity": 30,
        "ends_at": starts_at + timedelta(hours=2),
    }
    unchanged = load(SeriesChangeSchema, {"capacity": 30})
    assert domain.change_from(weekly, anchor, unchanged, "admin-3", NOW) is None


def test_a_change_from_refuses_another_series_activity_an_ended_series_and_a_bad_template():
    weekly = series("FREQ=WEEKLY;BYDAY=MO")
    requested = load(SeriesChangeSchema, {"capacity": 10})
    stranger = {"id": 41, "series_id": 8, "occurrence_start": MONDAY_9}
    with pytest.raises(NotFound) as raised:
        domain.change_from(weekly, stranger, requested, "admin-3", NOW)
    assert raised.value.code == "series.occurrence_not_found"
    anchor = {**stranger, "series_id": 7}
    ended = {**weekly, **domain.end(weekly, "场地改建")}
    with pytest.raises(Conflict) as raised:
        domain.change_from(ended, anchor, requested, "admin-3", NOW)
    assert raised.value.code == "series.ended"
    team_only = load(SeriesChangeSchema, {"team_only": True})
    error = refused(lambda: domain.change_from(weekly, anchor, team_only, "admin-3", NOW))
    assert list(error.fields) == ["team_only"]


def test_generation_extends_a_series_only_further_ahead():
    weekly = series("FREQ=WEEKLY;BYDAY=MO")
    assert domain.extended(weekly, far()) is None
    later = far() + timedelta(days=1)
    assert domain.extended(weekly, later) == {"generated_until": later}
