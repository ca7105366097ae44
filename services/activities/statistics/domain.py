"""The rules of activity statistics, in plain Python: the period asked for, and the figures
as the contract shows them, from the counts the database grouped
(services/activities/contract/statistics.py says what each figure counts)."""

from decimal import ROUND_HALF_UP, Decimal

from services.activities.contract.common import CENT
from services.activities.contract.statistics import COUNTED_STATUSES, HELD_STATUSES, MAX_PERIOD_DAYS
from services.centers.contract import PLATFORMS
from services.chassis.errors import InvalidInput

RATE_PLACES = Decimal("0.0001")


def period(query):
    """`query` (StatisticsQuerySchema: `start` and `end` days, both included), or InvalidInput
    naming `to` when the period is reversed or longer than MAX_PERIOD_DAYS."""
    start, end = query["start"], query["end"]
    if end < start:
        raise _bad_period("statistics.period_reversed", "结束日期不能早于开始日期。")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise _bad_period("statistics.period_too_long", f"统计期间不能超过 {MAX_PERIOD_DAYS} 天。")
    return query


def _bad_period(code, message):
    return InvalidInput(code, message, {"to": [message]})


def statistics(center_id, query, activity_counts, signup_groups, people_served, teams):
    """The figures of a subtree and period.

    `activity_counts`: (platform, status, count) of the activities that are not drafts;
    `signup_groups`: (status, attendance, count, hours, distinct volunteers) of their sign-ups;
    `people_served`: the sum of their ledgers; `teams`: (team id, activities held, hours),
    best first."""
    by_platform = dict.fromkeys(PLATFORMS, 0)
    by_status = dict.fromkeys(COUNTED_STATUSES, 0)
    for platform, status, count in activity_counts:
        by_status[status] += count
        if status in HELD_STATUSES:
            by_platform[platform] += count
    signups = {"confirmed": 0, "waitlisted": 0, "cancelled": 0}
    attendance = {"attended": 0, "no_show": 0}
    hours, volunteers = Decimal(0), 0
    for status, attended, count, group_hours, group_volunteers in signup_groups:
        signups[status] += count
        if status == "confirmed" and attended is not None:
            attendance[attended] += count
        if status == "confirmed" and attended == "attended":
            hours, volunteers = _hours(group_hours), group_volunteers
    return {
        "center_id": center_id,
        "start": query["start"],
        "end": query["end"],
        "activities": {"total": sum(by_platform.values()), "by_platform": by_platform, "by_status": by_status},
        "signups": signups,
        "attendance": {**attendance, "rate": attendance_rate(attendance["attended"], attendance["no_show"])},
        "volunteer_hours": hours,
        "volunteers": volunteers,
        "people_served": int(people_served or 0),
        "top_teams": [
            {"team_id": team_id, "hours": _hours(team_hours), "activities": count}
            for team_id, count, team_hours in teams
        ],
    }


def attendance_rate(attended, no_show):
    """attended / (attended + no-show), to four decimals; None before any confirmation."""
    confirmed = attended + no_show
    if confirmed == 0:
        return None
    return float((Decimal(attended) / Decimal(confirmed)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP))


def _hours(value):
    """A sum of hours to two decimals: SQLite adds them as binary floats, PostgreSQL as decimals."""
    return Decimal(str(value or 0)).quantize(CENT, rounding=ROUND_HALF_UP)
