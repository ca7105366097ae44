"""The SQL of the volunteers themselves: lookups, scoped lists, serials, audit rows.
Functions take a SQLAlchemy session from the chassis (unit of work or read session)."""

import sqlalchemy as sa

from services.chassis.db import locked
from services.chassis.errors import NotFound, PermissionDenied
from services.volunteers.models import PrivacyAudit, Transfer, Volunteer


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


def _escaped(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_volunteers(session, filters, stations, page, page_size):
    """A page of volunteers matching `filters`, among those of `stations` (None: all)."""
    conditions = []
    if stations is not None:
        conditions.append(Volunteer.home_station_id.in_(stations))
    for name in ("home_station_id", "status"):
        if name in filters:
            conditions.append(getattr(Volunteer, name) == filters[name])
    if "category" in filters:
        # categories are plain words of a fixed set: a match on the JSON text is exact and portable
        conditions.append(sa.cast(Volunteer.service_categories, sa.Text).like(f'%"{filters["category"]}"%'))
    if "q" in filters:
        conditions.append(
            sa.or_(
                Volunteer.name.like(f"%{_escaped(filters['q'])}%", escape="\\"),
                Volunteer.volunteer_number == filters["q"],
            )
        )
    total = session.scalar(sa.select(sa.func.count()).select_from(Volunteer).where(*conditions))
    rows = session.scalars(
        sa.select(Volunteer).where(*conditions).order_by(Volunteer.id).offset((page - 1) * page_size).limit(page_size)
    ).all()
    return rows, total


def transfers_of(session, volunteer_id):
    return session.scalars(sa.select(Transfer).where(Transfer.volunteer_id == volunteer_id).order_by(Transfer.id)).all()


def audit_of(session, volunteer_id):
    return session.scalars(
        sa.select(PrivacyAudit).where(PrivacyAudit.volunteer_id == volunteer_id).order_by(PrivacyAudit.id)
    ).all()


def audit_page(session, volunteer_id, stations, page, page_size):
    conditions = []
    if volunteer_id is not None:
        conditions.append(PrivacyAudit.volunteer_id == volunteer_id)
    if stations is not None:
        conditions.append(PrivacyAudit.home_station_id.in_(stations))
    total = session.scalar(sa.select(sa.func.count()).select_from(PrivacyAudit).where(*conditions))
    rows = session.scalars(
        sa.select(PrivacyAudit)
        .where(*conditions)
        .order_by(PrivacyAudit.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return rows, total
