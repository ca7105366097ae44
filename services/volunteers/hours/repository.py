"""The SQL of the service-hour ledger. Functions take a SQLAlchemy session from the chassis
(a unit of work's or a read session)."""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from services.chassis.db import locked
from services.chassis.errors import NotFound
from services.volunteers.hours.domain import CONFIRMED, EntryState
from services.volunteers.hours.models import BackfillPhoto, BackfillRequest, HourDispute, HourEntry, HourTotal


def confirmed_entries(session, volunteer_id, start, end):
    """The confirmed entries of `volunteer_id` served from `start` to `end` (dates, both
    included), by served_on then id: what a service record certificate states. Each is a row
    (usable once the session is closed) with id, activity_id, activity_title, center_id,
    served_on and hours (Decimal)."""
    return session.execute(
        sa.select(
            HourEntry.id,
            HourEntry.activity_id,
            HourEntry.activity_title,
            HourEntry.center_id,
            HourEntry.served_on,
            HourEntry.hours,
        )
        .where(
            HourEntry.volunteer_id == volunteer_id,
            HourEntry.status == CONFIRMED,
            HourEntry.served_on >= start,
            HourEntry.served_on <= end,
        )
        .order_by(HourEntry.served_on, HourEntry.id)
    ).all()


def _one(session, statement, lock):
    return session.scalars(locked(session, statement) if lock else statement).first()


def _page(session, statement, order, query, *, whole_rows=False):
    """(the results of `statement` on the query's page, the count of all of them): objects,
    or tuples when `whole_rows` (a statement of several entities)."""
    page, page_size = query["page"], query["page_size"]
    total = session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
    result = session.execute(statement.order_by(*order).limit(page_size).offset((page - 1) * page_size))
    return ([tuple(row) for row in result] if whole_rows else result.scalars().all()), total


# --- entries ---------------------------------------------------------------------------------


def entry_state(entry):
    return EntryState(entry.volunteer_id, entry.revision, entry.hours, entry.status)


def get_entry(session, entry_id, *, lock=False):
    entry = _one(session, sa.select(HourEntry).where(HourEntry.id == entry_id), lock)
    if entry is None:
        raise NotFound("hour_entry.not_found", f"服务时长记录 {entry_id} 不存在。")
    return entry


def entry_of_attendance(session, attendance_id):
    """The entry recorded for an attendance, locked (the next revision may be on its way), or None."""
    return _one(session, sa.select(HourEntry).where(HourEntry.attendance_id == attendance_id), lock=True)


def entries_page(session, volunteer_id, query):
    """A page of a volunteer's entries, latest service first."""
    statement = sa.select(HourEntry).where(HourEntry.volunteer_id == volunteer_id, *_period(query))
    if query.get("status"):
        statement = statement.where(HourEntry.status == query["status"])
    return _page(session, statement, (HourEntry.served_on.desc(), HourEntry.id.desc()), query)


def _period(filters):
    conditions = []
    if filters.get("start"):
        conditions.append(HourEntry.served_on >= filters["start"])
    if filters.get("end"):
        conditions.append(HourEntry.served_on <= filters["end"])
    return conditions


def period_totals(session, condition, filters):
    """(hours, entries, volunteers) of the confirmed entries that meet `condition` in the period."""
    return session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(HourEntry.hours), 0),
            sa.func.count(HourEntry.id),
            sa.func.count(sa.distinct(HourEntry.volunteer_id)),
        ).where(HourEntry.status == CONFIRMED, condition, *_period(filters))
    ).one()


# --- totals ----------------------------------------------------------------------------------


def add_to_total(session, volunteer_id, change, now):
    """Adds `change` to the volunteer's confirmed hours in one UPDATE (concurrent changes
    queue on the row and none is lost); returns (the total after it, the highest star level
    announced so far)."""
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(HourTotal)
        .values(volunteer_id=volunteer_id, confirmed_hours=0, star_level=0, announced_star_level=0, updated_at=now)
        .on_conflict_do_nothing(index_elements=["volunteer_id"])
    )
    return session.execute(
        sa.update(HourTotal)
        .where(HourTotal.volunteer_id == volunteer_id)
        .values(confirmed_hours=HourTotal.confirmed_hours + change, updated_at=now)
        .returning(HourTotal.confirmed_hours, HourTotal.announced_star_level)
        .execution_options(synchronize_session=False)
    ).one()


def set_star_level(session, volunteer_id, standing):
    values = {"star_level": standing.star_level}
    if standing.announce is not None:
        values["announced_star_level"] = standing.announce
    session.execute(
        sa.update(HourTotal)
        .where(HourTotal.volunteer_id == volunteer_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def everything_of(session, volunteer_id):
    """(entries, back-fill requests, disputes) of a volunteer, oldest first: their export."""
    return tuple(
        session.scalars(sa.select(model).where(model.volunteer_id == volunteer_id).order_by(model.id)).all()
        for model in (HourEntry, BackfillRequest, HourDispute)
    )


def total_of(session, volunteer_id):
    """(confirmed hours, star level) of a volunteer; (0, 0) before their first entry."""
    row = session.execute(
        sa.select(HourTotal.confirmed_hours, HourTotal.star_level).where(HourTotal.volunteer_id == volunteer_id)
    ).first()
    return tuple(row) if row else (0, 0)


# --- back-fills ------------------------------------------------------------------------------


def get_backfill(session, backfill_id, *, lock=False):
    request = _one(session, sa.select(BackfillRequest).where(BackfillRequest.id == backfill_id), lock)
    if request is None:
        raise NotFound("backfill.not_found", f"补录申请 {backfill_id} 不存在。")
    return request


def backfills_page(session, query, volunteer_id, center_ids):
    """A page of back-fill requests of one status: a volunteer's own (`volunteer_id`), or
    those organized by `center_ids` (None: every center)."""
    statement = sa.select(BackfillRequest).where(BackfillRequest.status == query["status"])
    if volunteer_id is not None:
        statement = statement.where(BackfillRequest.volunteer_id == volunteer_id)
    if center_ids is not None:
        statement = statement.where(BackfillRequest.center_id.in_(center_ids))
    return _page(session, statement, (BackfillRequest.id,), query)


def photo_infos(session, backfill_ids):
    """{backfill id: [{position, content_type, size}, ...]} without loading the images."""
    rows = session.execute(
        sa.select(
            BackfillPhoto.backfill_id,
            BackfillPhoto.position,
            BackfillPhoto.content_type,
            sa.func.length(BackfillPhoto.data).label("size"),
        )
        .where(BackfillPhoto.backfill_id.in_(backfill_ids))
        .order_by(BackfillPhoto.backfill_id, BackfillPhoto.position)
    ).all()
    infos = {backfill_id: [] for backfill_id in backfill_ids}
    for row in rows:
        infos[row.backfill_id].append({"position": row.position, "content_type": row.content_type, "size": row.size})
    return infos


def get_photo(session, backfill_id, position):
    photo = session.scalars(
        sa.select(BackfillPhoto).where(BackfillPhoto.backfill_id == backfill_id, BackfillPhoto.position == position)
    ).first()
    if photo is None:
        raise NotFound("backfill.photo_not_found", f"补录申请 {backfill_id} 没有第 {position} 张照片。")
    return photo


# --- disputes --------------------------------------------------------------------------------


def open_dispute(session, entry_id):
    """The open dispute of a disputed entry, locked."""
    statement = sa.select(HourDispute).where(HourDispute.entry_id == entry_id, HourDispute.status == "open")
    return _one(session, statement, lock=True)


def disputes_page(session, query, volunteer_id, center_ids):
    """A page of (dispute, entry) of one status: a volunteer's own, or those of entries
    organized by `center_ids` (None: every center)."""
    statement = (
        sa.select(HourDispute, HourEntry)
        .join(HourEntry, HourEntry.id == HourDispute.entry_id)
        .where(HourDispute.status == query["status"])
    )
    if volunteer_id is not None:
        statement = statement.where(HourDispute.volunteer_id == volunteer_id)
    if center_ids is not None:
        statement = statement.where(HourDispute.center_id.in_(center_ids))
    return _page(session, statement, (HourDispute.id,), query, whole_rows=True)
