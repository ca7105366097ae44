"""The SQL of the volunteers themselves: lookups, scoped lists, serials, audit rows.
Functions take a SQLAlchemy session from the chassis (unit of work or read session)."""

import sqlalchemy as sa

from services.chassis.errors import NotFound, PermissionDenied
from services.volunteers.models import Volunteer


def locked(session, statement):
    """`statement` FOR UPDATE on PostgreSQL (SQLite has one writer and ignores row locks)."""
    return statement.with_for_update() if session.bind.dialect.name == "postgresql" else statement


def get_volunteer(session, volunteer_id, *, lock=False):
    statement = sa.select(Volunteer).where(Volunteer.id == volunteer_id)
    volunteer = session.scalars(locked(session, statement) if lock else statement).first()
    if volunteer is None:
        raise NotFound("volunteer.not_found", f"志愿者 {volunteer_id} 不存在。")
    return volunteer


def volunteer_of_account(session, account_id, *, lock=False):
    """The volunteer linked to `account_id` (an actor's account id, text or int); NotFound
    with code volunteer.no_profile for an account that has no volunteer record."""
    if account_id is None or not str(account_id).isdigit():
        raise PermissionDenied("volunteer.no_profile", "当前账号未关联志愿者。")
    statement = sa.select(Volunteer).where(Volunteer.account_id == int(account_id))
    volunteer = session.scalars(locked(session, statement) if lock else statement).first()
    if volunteer is None:
        raise PermissionDenied("volunteer.no_profile", "当前账号未关联志愿者。")
    return volunteer
