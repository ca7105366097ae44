"""The SQL of the centers service: lookups, subtree queries by path prefix, aggregations.

Functions take a SQLAlchemy session from the chassis (unit of work or read session).
"""

import sqlalchemy as sa

from services.centers import domain
from services.centers.models import Center, Venue
from services.chassis.db import save, state  # noqa: F401 (the repository's own, shared)
from services.chassis.errors import InvalidInput, NotFound


def node(center):
    return domain.node_of(state(center))


def _locked(session, statement):
    # Row locks matter on PostgreSQL, where a concurrent move could otherwise read a path that
    # is being rewritten; SQLite has one writer and ignores FOR UPDATE anyway.
    return statement.with_for_update() if session.bind.dialect.name == "postgresql" else statement


def _get(session, model, row_id, lock):
    statement = sa.select(model).where(model.id == row_id)
    return session.scalars(_locked(session, statement) if lock else statement).first()


def get_center(session, center_id, *, lock=False):
    center = _get(session, Center, center_id, lock)
    if center is None:
        raise NotFound("center.not_found", f"阵地 {center_id} 不存在。")
    return center


def get_parent(session, parent_id, field):
    """The center that is to become a parent; a missing one is bad input, not a 404."""
    center = _get(session, Center, parent_id, lock=True)
    if center is None:
        raise InvalidInput("center.parent_not_found", "上级阵地不存在。", {field: ["上级阵地不存在。"]})
    return center


def get_venue(session, venue_id, *, lock=False):
    venue = _get(session, Venue, venue_id, lock)
    if venue is None:
        raise NotFound("venue.not_found", f"场所 {venue_id} 不存在。")
    return venue


def rebase_descendants(session, old_prefix, new_prefix):
    """Rewrite the paths under a moved center (the center itself is updated by the ORM)."""
    session.execute(
        sa.update(Center)
        .where(Center.path.like(f"{old_prefix}%"), Center.path != old_prefix)
        .values(path=sa.literal(new_prefix) + sa.func.substr(Center.path, len(old_prefix) + 1))
        .execution_options(synchronize_session=False)
    )


def _within(path):
    return Center.path.like(f"{path}%")


def list_centers(session, filters, page, page_size):
    conditions = []
    for name in ("level", "parent_id", "status", "code"):
        if name in filters:
            conditions.append(getattr(Center, name) == filters[name])
    if "platform" in filters:
        # Platforms are a fixed set of plain words, so a match on the JSON text is exact and
        # portable (SQLite and PostgreSQL alike).
        conditions.append(sa.cast(Center.platforms, sa.Text).like(f'%"{filters["platform"]}"%'))
    if "q" in filters:
        escaped = filters["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(Center.name.ilike(f"%{escaped}%", escape="\\"))
    if "within" in filters:
        root = session.scalar(sa.select(Center.path).where(Center.id == filters["within"]))
        if root is None:
            return [], 0
        conditions.append(_within(root))
    total = session.scalar(sa.select(sa.func.count()).select_from(Center).where(*conditions))
    items = session.scalars(
        sa.select(Center).where(*conditions).order_by(Center.id).offset((page - 1) * page_size).limit(page_size)
    ).all()
    return items, total


def subtree(session, root):
    return session.scalars(sa.select(Center).where(_within(root.path))).all()


def ancestors(session, center):
    ids = node(center).ancestor_ids
    found = {c.id: c for c in session.scalars(sa.select(Center).where(Center.id.in_(ids)))}
    return [found[i] for i in ids]


def subtree_figures(session, root):
    """Per-level aggregates and the venue count of the open centers under `root`."""
    open_within = (_within(root.path), Center.status.in_(domain.COUNTED_STATUSES))
    level_rows = session.execute(
        sa.select(
            Center.level,
            sa.func.count(),
            sa.func.sum(Center.households_served),
            sa.func.sum(Center.residents_served),
            sa.func.sum(Center.floor_area_m2),
        )
        .where(*open_within)
        .group_by(Center.level)
    ).all()
    venue_count = session.scalar(
        sa.select(sa.func.count(Venue.id)).join(Center, Venue.center_id == Center.id).where(*open_within)
    )
    return level_rows, venue_count


def centers_after(session, after_id, limit):
    """A page of every center, by id, for read models that copy the whole tree."""
    return session.scalars(sa.select(Center).where(Center.id > after_id).order_by(Center.id).limit(limit)).all()


def venues_of(session, center_id):
    return session.scalars(sa.select(Venue).where(Venue.center_id == center_id).order_by(Venue.id)).all()
