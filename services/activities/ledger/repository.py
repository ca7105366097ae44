"""The SQL of ledgers and activity files: lookups, counts, and the rows of an export."""

import sqlalchemy as sa

from services.activities.catalog.models import Activity
from services.activities.ledger.models import ActivityFile, Ledger
from services.activities.signups.models import Signup
from services.chassis.db import locked, state
from services.chassis.errors import NotFound

EXPORTED_STATUSES = ("completed", "recorded")  # activities that took place


def get_ledger(session, activity_id, *, lock=False):
    """The activity's ledger, or None before it is filed."""
    statement = sa.select(Ledger).where(Ledger.activity_id == activity_id)
    return session.scalars(locked(session, statement) if lock else statement).first()


def require_ledger(session, activity_id):
    ledger = get_ledger(session, activity_id)
    if ledger is None:
        raise NotFound("ledger.not_found", "该活动尚未填报台账。")
    return ledger


def files_of(session, activity_id):
    return list(
        session.scalars(
            sa.select(ActivityFile).where(ActivityFile.activity_id == activity_id).order_by(ActivityFile.id)
        )
    )


def count_files(session, activity_id, kind=None):
    statement = sa.select(sa.func.count()).where(ActivityFile.activity_id == activity_id)
    if kind is not None:
        statement = statement.where(ActivityFile.kind == kind)
    return session.scalar(statement)


def get_file(session, activity_id, file_id):
    found = session.scalars(
        sa.select(ActivityFile).where(ActivityFile.id == file_id, ActivityFile.activity_id == activity_id)
    ).first()
    if found is None:
        raise NotFound("activity_file.not_found", f"活动 {activity_id} 没有编号为 {file_id} 的文件。")
    return found


def _files(kind):
    return (
        sa.select(sa.func.count())
        .where(ActivityFile.activity_id == Activity.id, ActivityFile.kind == kind)
        .correlate(Activity)
        .scalar_subquery()
    )


def export_rows(session, center_ids, starts_from, starts_before, limit):
    """Up to `limit` activities organized in `center_ids` that took place, starting in
    [starts_from, starts_before) (UTC moments), in order of start, as plain dicts: the
    `activity`, its `ledger` (None when not filed), the `volunteers` whose attendance was
    confirmed and their `hours`, and the count of its `photos` and `materials`."""
    attended = sa.and_(Signup.activity_id == Activity.id, Signup.attendance == "attended")
    volunteers = sa.select(sa.func.count()).where(attended).correlate(Activity).scalar_subquery()
    hours = (
        sa.select(sa.func.coalesce(sa.func.sum(Signup.hours), 0)).where(attended).correlate(Activity).scalar_subquery()
    )
    statement = (
        sa.select(
            Activity,
            Ledger,
            volunteers.label("volunteers"),
            hours.label("hours"),
            _files("photo").label("photos"),
            _files("material").label("materials"),
        )
        .outerjoin(Ledger, Ledger.activity_id == Activity.id)
        .where(
            Activity.organizer_center_id.in_(center_ids),
            Activity.status.in_(EXPORTED_STATUSES),
            Activity.starts_at >= starts_from,
            Activity.starts_at < starts_before,
        )
        .order_by(Activity.starts_at, Activity.id)
        .limit(limit)
    )
    rows = []
    for row in session.execute(statement):
        found = row._asdict()
        activity, ledger = found.pop("Activity"), found.pop("Ledger")
        rows.append({**found, "activity": state(activity), "ledger": None if ledger is None else state(ledger)})
    return rows
