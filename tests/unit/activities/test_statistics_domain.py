"""The rules of activity statistics: the period asked for, and the figures assembled from
the grouped counts the database returns (what each figure counts)."""

from datetime import date
from decimal import Decimal

import pytest

from services.activities.statistics import domain
from services.chassis.errors import InvalidInput


def query(start, end):
    return {"start": start, "end": end}


@pytest.mark.parametrize(
    "start, end",
    [
        (date(2026, 3, 1), date(2026, 3, 1)),
        (date(2026, 1, 1), date(2026, 12, 31)),
        (date(2024, 1, 1), date(2024, 12, 31)),
    ],
)
def test_a_period_of_one_to_366_days_is_taken(start, end):
    assert domain.period(query(start, end)) == query(start, end)


@pytest.mark.parametrize(
    "start, end, code",
    [
        (date(2026, 3, 2), date(2026, 3, 1), "statistics.period_reversed"),
        (date(2026, 1, 1), date(2027, 1, 2), "statistics.period_too_long"),  # 367 days
    ],
)
def test_a_reversed_or_too_long_period_is_refused_naming_to(start, end, code):
    with pytest.raises(InvalidInput) as refused:
        domain.period(query(start, end))
    assert (refused.value.code, list(refused.value.fields)) == (code, ["to"])


def test_the_figures_count_held_activities_by_platform_and_every_status_but_draft():
    activity_counts = [("culture", "completed", 2), ("culture", "cancelled", 1), ("health", "published", 1)]
    signup_groups = [
        ("confirmed", None, 3, None, 3),
        ("confirmed", "attended", 4, 7.300000000000001, 3),  # SQLite adds hours as floats
        ("confirmed", "no_show", 1, Decimal("0.00"), 1),
        ("waitlisted", None, 2, None, 2),
        ("cancelled", None, 5, None, 5),
    ]
    teams = [(8, 2, Decimal("5.25")), (7, 1, 2.0499999999999998)]
    figures = domain.statistics(
        3, query(date(2026, 1, 1), date(2026, 1, 31)), activity_counts, signup_groups, 45, teams
    )

    assert figures["activities"] == {
        "total": 3,
        "by_platform": {"theory": 0, "education": 0, "culture": 2, "science": 0, "health": 1},
        "by_status": {"published": 1, "in_progress": 0, "completed": 2, "recorded": 0, "cancelled": 1},
    }
    assert figures["signups"] == {"confirmed": 8, "waitlisted": 2, "cancelled": 5}
    assert figures["attendance"] == {"attended": 4, "no_show": 1, "rate": 0.8}
    assert (figures["volunteer_hours"], figures["volunteers"], figures["people_served"]) == (Decimal("7.30"), 3, 45)
    assert figures["top_teams"] == [
        {"team_id": 8, "hours": Decimal("5.25"), "activities": 2},
        {"team_id": 7, "hours": Decimal("2.05"), "activities": 1},
    ]
    assert (figures["center_id"], figures["start"], figures["end"]) == (3, date(2026, 1, 1), date(2026, 1, 31))


def test_nothing_yet_gives_zeros_and_no_rate():
    figures = domain.statistics(3, query(date(2026, 1, 1), date(2026, 1, 1)), [], [], None, [])
    assert figures["activities"]["total"] == 0 and set(figures["activities"]["by_status"].values()) == {0}
    assert figures["attendance"] == {"attended": 0, "no_show": 0, "rate": None}
    assert (figures["volunteer_hours"], figures["volunteers"], figures["people_served"]) == (Decimal("0.00"), 0, 0)


@pytest.mark.parametrize("attended, no_show, rate", [(2, 1, 0.6667), (1, 2, 0.3333), (0, 3, 0.0), (5, 0, 1.0)])
def test_the_attendance_rate_has_four_decimals(attended, no_show, rate):
    assert domain.attendance_rate(attended, no_show) == rate
