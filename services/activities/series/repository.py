"""The SQL of series: lookups, their occurrences (activities with the series' id) and scoped
lists."""

import sqlalchemy as sa

from services.activities.catalog.models import Activity
from services.activities.contract.catalog import OPEN_STATUSES
from services.activities.series.domain import not_found
from services.activities.series.models import Series
from services.chassis.db import locked


def get_series(session, series_id, *, lock=False):
    statement = sa.select(Series).where(Series.id == series_id)
    series = session.scalars(locked(session, statement) if lock else statement).first()
    if series is None:
        raise not_found(series_id)
    return series


def occurrence_starts(session, series_id):
    """The starts the rule gave every occurrence generated so far, whatever became of it."""
    return set(session.scalars(sa.select(Activity.occurrence_start).where(Activity.series_id == series_id)))


def occurrences_from(session, series_id, occurrence_start, *, lock=False):
    """The occurrences generated for `occurrence_start` and after, in the rule's order."""
    statement = (
        sa.select(Activity)
        .where(Activity.series_id == series_id, Activity.occurrence_start >= occurrence_start)
        .order_by(Activity.occurrence_start)
    )
    return session.scalars(locked(session, statement) if lock else statement).all()


def open_occurrences_from(session, series_id, moment, *, lock=False):
    """The occurrences not yet over nor cancelled that start at `moment` or later."""
    statement = (
        sa.select(Activity)
        .where(Activity.series_id == series_id, Activity.starts_at >= moment, Activity.status.in_(OPEN_STATUSES))
        .order_by(Activity.starts_at, Activity.id)
    )
    return session.scalars(locked(session, statement) if lock else statement).all()


def occurrence_counts(session, series_ids):
    """{series id: how many occurrences it has}."""
    if not series_ids:
        return {}
    statement = (
        sa.select(Activity.series_id, sa.func.count())
        .where(Activity.series_id.in_(series_ids))
        .group_by(Activity.series_id)
    )
    return dict(session.execute(statement).all())


def list_series(session, filters, page, page_size, *, centers=None, drafts_of=None):
    """A page of series, newest first. `centers`: the organizing centers to keep (None: all);
    `drafts_of`: the centers whose series of drafts the caller may see (None: all, [] none)."""
    statement = sa.select(Series)
    if centers is not None:
        statement = statement.where(Series.organizer_center_id.in_(centers))
    if drafts_of is not None:
        statement = statement.where(sa.or_(Series.publish.is_(True), Series.organizer_center_id.in_(drafts_of or [-1])))
    for key in ("team_id", "status"):
        if key in filters:
            statement = statement.where(getattr(Series, key) == filters[key])
    total = session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
    rows = session.scalars(statement.order_by(Series.id.desc()).limit(page_size).offset((page - 1) * page_size)).all()
    return rows, total
