"""The SQL of sign-ups: the live one of a volunteer, the waitlist's head, rosters."""

import sqlalchemy as sa

from services.activities.catalog.models import Activity
from services.activities.signups.models import Signup
from services.chassis.db import locked
from services.chassis.errors import NotFound


def live_signup(session, activity_id, volunteer_id, *, lock=False):
    statement = sa.select(Signup).where(
        Signup.activity_id == activity_id, Signup.volunteer_id == volunteer_id, Signup.status != "cancelled"
    )
    return session.scalars(locked(session, statement) if lock else statement).first()


def require_live_signup(session, activity_id, volunteer_id, *, lock=False):
    signup = live_signup(session, activity_id, volunteer_id, lock=lock)
    if signup is None:
        raise NotFound("signup.not_found", "没有找到该志愿者对该活动的报名。")
    return signup


def waitlist_heads(session, activity_id, count):
    """The first `count` waitlisted sign-ups, in arrival order."""
    if count <= 0:
        return []
    statement = (
        sa.select(Signup)
        .where(Signup.activity_id == activity_id, Signup.status == "waitlisted")
        .order_by(Signup.position)
        .limit(count)
    )
    return list(session.scalars(locked(session, statement)))


def waitlist_position(session, signup):
    """1 for the head of the waitlist; None when not waitlisted."""
    if signup.status != "waitlisted":
        return None
    ahead = session.scalar(
        sa.select(sa.func.count()).where(
            Signup.activity_id == signup.activity_id, Signup.status == "waitlisted", Signup.position < signup.position
        )
    )
    return ahead + 1


def waitlist_positions(session, activity_id):
    """{sign-up id: waitlist position} of an activity's waitlist."""
    ids = session.scalars(
        sa.select(Signup.id)
        .where(Signup.activity_id == activity_id, Signup.status == "waitlisted")
        .order_by(Signup.position)
    )
    return {signup_id: number for number, signup_id in enumerate(ids, start=1)}


def roster(session, activity_id, status, page, page_size):
    statement = sa.select(Signup).where(Signup.activity_id == activity_id)
    if status is not None:
        statement = statement.where(Signup.status == status)
    total = session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
    rows = session.scalars(statement.order_by(Signup.position).limit(page_size).offset((page - 1) * page_size)).all()
    return rows, total


def live_signups(session, activity_id, *, lock=False):
    statement = (
        sa.select(Signup)
        .where(Signup.activity_id == activity_id, Signup.status != "cancelled")
        .order_by(Signup.position)
    )
    return list(session.scalars(locked(session, statement) if lock else statement))


def signups_of_volunteers(session, activity_id, volunteer_ids):
    """{volunteer id: their live sign-up} for the given volunteers, locked."""
    statement = sa.select(Signup).where(
        Signup.activity_id == activity_id, Signup.volunteer_id.in_(volunteer_ids), Signup.status != "cancelled"
    )
    return {row.volunteer_id: row for row in session.scalars(locked(session, statement))}


def open_check_ins(session, activity_id):
    statement = sa.select(Signup).where(
        Signup.activity_id == activity_id,
        Signup.status == "confirmed",
        Signup.checked_in_at.is_not(None),
        Signup.checked_out_at.is_(None),
    )
    return list(session.scalars(locked(session, statement)))


def upcoming_signups_of(session, volunteer_id):
    """A volunteer's live sign-ups for activities not yet under way (left when suspended)."""
    statement = (
        sa.select(Signup)
        .join(Activity, Activity.id == Signup.activity_id)
        .where(Signup.volunteer_id == volunteer_id, Signup.status != "cancelled", Activity.status == "published")
    )
    return list(session.scalars(locked(session, statement)))


def my_signups(session, volunteer_id, page, page_size):
    statement = (
        sa.select(Signup, Activity)
        .join(Activity, Activity.id == Signup.activity_id)
        .where(Signup.volunteer_id == volunteer_id)
    )
    total = session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
    rows = session.execute(
        statement.order_by(Activity.starts_at.desc(), Signup.id.desc()).limit(page_size).offset((page - 1) * page_size)
    ).all()
    return rows, total
