"""The SQL of activities: lookups, their seats, scoped lists and what the clock makes due."""

from datetime import datetime, time, timedelta

import sqlalchemy as sa

from services.activities.catalog.models import Activity, ActivitySeats
from services.activities.contract.common import LOCAL_ZONE
from services.chassis.db import locked
from services.chassis.errors import NotFound


def get_activity(session, activity_id, *, lock=False):
    statement = sa.select(Activity).where(Activity.id == activity_id)
    activity = session.scalars(locked(session, statement) if lock else statement).first()
    if activity is None:
        raise NotFound("activity.not_found", f"活动 {activity_id} 不存在。")
    return activity


def seats_of(session, activity_id, *, lock=False):
    statement = sa.select(ActivitySeats).where(ActivitySeats.activity_id == activity_id)
    return session.scalars(locked(session, statement) if lock else statement).one()


def seats_for_sign_up(session, activity_id):
    """(seats, the activity's status as committed now), the seats locked: one statement, so
    that the lock is held for as few round trips as a sign-up needs."""
    statement = (
        sa.select(ActivitySeats, Activity.status)
        .join(Activity, Activity.id == ActivitySeats.activity_id)
        .where(ActivitySeats.activity_id == activity_id)
    )
    if session.bind.dialect.name == "postgresql":
        statement = statement.with_for_update(of=ActivitySeats)
    return session.execute(statement).one()


def seats_by_activity(session, activity_ids):
    if not activity_ids:
        return {}
    rows = session.scalars(sa.select(ActivitySeats).where(ActivitySeats.activity_id.in_(activity_ids)))
    return {row.activity_id: row for row in rows}


def local_day_start(day):
    """The UTC moment a day of the county's calendar begins."""
    return datetime.combine(day, time.min, tzinfo=LOCAL_ZONE)


def list_activities(session, filters, page, page_size, *, centers=None, drafts_of=None):
    """A page of activities, soonest first. `centers`: the organizing centers to keep (None:
    all); `drafts_of`: the centers whose drafts the caller may see (None: all, [] none)."""
    statement = sa.select(Activity)
    if centers is not None:
        statement = statement.where(Activity.organizer_center_id.in_(centers))
    if drafts_of is not None:
        statement = statement.where(
            sa.or_(Activity.status != "draft", Activity.organizer_center_id.in_(drafts_of or [-1]))
        )
    for key in ("team_id", "status", "platform", "series_id"):
        if key in filters:
            statement = statement.where(getattr(Activity, key) == filters[key])
    if "starts_from" in filters:
        statement = statement.where(Activity.starts_at >= local_day_start(filters["starts_from"]))
    if "starts_to" in filters:
        statement = statement.where(Activity.starts_at < local_day_start(filters["starts_to"] + timedelta(days=1)))
    total = session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
    rows = session.scalars(
        statement.order_by(Activity.starts_at, Activity.id).limit(page_size).offset((page - 1) * page_size)
    ).all()
    return rows, total


def due_by_clock(session, now, limit=100):
    """Ids of activities the clock has moved: published ones past their start, and those
    under way past their end."""
    statement = (
        sa.select(Activity.id)
        .where(
            sa.or_(
                sa.and_(Activity.status == "published", Activity.starts_at <= now),
                sa.and_(Activity.status == "in_progress", Activity.ends_at <= now),
            )
        )
        .order_by(Activity.starts_at)
        .limit(limit)
    )
    return list(session.scalars(statement))
