"""The centers service's own tables (plus the chassis tables, already in `Base.metadata`)."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.chassis.db import NEVER_REUSE_IDS, BigId, UtcDateTime, declarative_base

Base = declarative_base()


class Center(Base):
    __tablename__ = "centers"
    __table_args__ = (
        # text_pattern_ops lets PostgreSQL use the index for `path LIKE '/1/5/%'` whatever the
        # database collation; SQLite ignores it.
        sa.Index("ix_centers_path", "path", postgresql_ops={"path": "text_pattern_ops"}),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    level: Mapped[str] = mapped_column(sa.String(16), index=True)
    parent_id: Mapped[int | None] = mapped_column(
        BigId,
        sa.ForeignKey("centers.id", ondelete="RESTRICT"),
        index=True,
    )
    # The ids from the root down to this center, "/1/5/17/": a subtree is a prefix match.
    path: Mapped[str] = mapped_column(sa.String(255))
    address: Mapped[str | None] = mapped_column(sa.String(200))
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    floor_area_m2: Mapped[float | None] = mapped_column(sa.Float)
    households_served: Mapped[int | None] = mapped_column(sa.Integer)
    residents_served: Mapped[int | None] = mapped_column(sa.Integer)
    head: Mapped[dict | None] = mapped_column(sa.JSON)
    managers: Mapped[list] = mapped_column(sa.JSON, default=list)
    contact_phone: Mapped[str | None] = mapped_column(sa.String(30))
    platforms: Mapped[list] = mapped_column(sa.JSON, default=list)
    status: Mapped[str] = mapped_column(sa.String(16), index=True, default="active")
    status_reason: Mapped[str | None] = mapped_column(sa.String(200))
    opened_on: Mapped[date | None] = mapped_column(sa.Date)
    version: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    # Optimistic locking: every UPDATE is "... WHERE version = <version read>", so two
    # concurrent changes cannot both win. The service bumps the number itself: once per
    # change, however many UPDATEs the change takes (a create writes its path in a second one).
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class Venue(Base):
    __tablename__ = "venues"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    center_id: Mapped[int] = mapped_column(
        BigId,
        sa.ForeignKey("centers.id", ondelete="RESTRICT"),
        index=True,
    )
    name: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[str] = mapped_column(sa.String(20))
    capacity: Mapped[int | None] = mapped_column(sa.Integer)
    area_m2: Mapped[float | None] = mapped_column(sa.Float)
    version: Mapped[int] = mapped_column(sa.Integer)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
