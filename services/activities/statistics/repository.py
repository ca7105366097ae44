"""The SQL of activity statistics: four grouped queries over the activities of a subtree and
period (no query per activity), the same on SQLite and PostgreSQL."""

from datetime import timedelta

import sqlalchemy as sa

from services.activities.catalog.models import Activity
from services.activities.catalog.repository import local_day_start
from services.activities.contract.statistics import HELD_STATUSES
from services.activities.ledger.models import Ledger
from services.activities.signups.models import Signup


def figures(session, center_ids, query, top):
    """(activity counts, sign-up groups, people served, top teams), as
    `statistics.domain.statistics` takes them, for the activities organized in `center_ids`
    that start on the days of `query` (Asia/Shanghai) and are not drafts."""
    counted = (
        Activity.organizer_center_id.in_(center_ids),
        Activity.starts_at >= local_day_start(query["start"]),
        Activity.starts_at < local_day_start(query["end"] + timedelta(days=1)),
        Activity.status != "draft",
    )
    held = (*counted, Activity.status.in_(HELD_STATUSES))
    return (
        _activity_counts(session, counted),
        _signup_groups(session, counted),
        session.scalar(sa.select(sa.func.sum(Ledger.people_served)).join(Activity).where(*held)),
        _top_teams(session, held, top),
    )


def _activity_counts(session, counted):
    statement = (
        sa.select(Activity.platform, Activity.status, sa.func.count())
        .where(*counted)
        .group_by(Activity.platform, Activity.status)
    )
    return session.execute(statement).all()


def _signup_groups(session, counted):
    statement = (
        sa.select(
            Signup.status,
            Signup.attendance,
            sa.func.count(),
            sa.func.sum(Signup.hours),
            sa.func.count(sa.distinct(Signup.volunteer_id)),
        )
        .join(Activity, Activity.id == Signup.activity_id)
        .where(*counted)
        .group_by(Signup.status, Signup.attendance)
    )
    return session.execute(statement).all()


def _top_teams(session, held, top):
    """(team id, activities, hours) by hours (to the cent: SQLite's float sums must not
    decide a tie), then activities, then team id."""
    attended = sa.and_(Signup.activity_id == Activity.id, Signup.status == "confirmed", Signup.attendance == "attended")
    activities = sa.func.count(sa.distinct(Activity.id))
    hours = sa.func.coalesce(sa.func.sum(Signup.hours), 0)
    statement = (
        sa.select(Activity.team_id, activities, hours)
        .outerjoin(Signup, attended)
        .where(*held, Activity.team_id.is_not(None))
        .group_by(Activity.team_id)
        .order_by(sa.func.round(hours, 2).desc(), activities.desc(), Activity.team_id)
        .limit(top)
    )
    return session.execute(statement).all()
