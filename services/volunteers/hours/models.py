"""The service-hour ledger's tables: entries, each volunteer's totals, back-fill requests with
their photos, and disputes.

Hours are `Numeric(10, 2)` (Decimal in Python: no float drift in a total that decides a
star). Only entries with status `confirmed` count; `hour_totals` holds the sum of a
volunteer's confirmed entries, changed in the same unit of work as every entry.
"""

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.chassis.db import NEVER_REUSE_IDS, BigId, UtcDateTime
from services.volunteers.models import Base

HOURS = sa.Numeric(10, 2)


class HourEntry(Base):
    """One credit of service hours: from an attendance the organizer confirmed (one entry per
    attendance, replaced by newer revisions) or from an approved back-fill."""

    __tablename__ = "hour_entries"
    __table_args__ = (
        sa.Index("ix_hour_entries_volunteer_id_served_on", "volunteer_id", "served_on"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    volunteer_id: Mapped[int] = mapped_column(sa.BigInteger)
    source: Mapped[str] = mapped_column(sa.String(12))  # attendance or backfill
    attendance_id: Mapped[int | None] = mapped_column(sa.BigInteger, unique=True)
    backfill_id: Mapped[int | None] = mapped_column(sa.BigInteger, unique=True)
    revision: Mapped[int] = mapped_column(sa.Integer)  # the attendance's revision (1 for a back-fill)
    activity_id: Mapped[int | None] = mapped_column(sa.BigInteger, index=True)
    activity_title: Mapped[str] = mapped_column(sa.Text)
    center_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)  # the organizing center
    team_id: Mapped[int | None] = mapped_column(sa.BigInteger, index=True)
    served_on: Mapped[date] = mapped_column(sa.Date, index=True)
    hours: Mapped[Decimal] = mapped_column(HOURS)
    status: Mapped[str] = mapped_column(sa.String(12), index=True)  # confirmed, disputed, revoked
    revoke_reason: Mapped[str | None] = mapped_column(sa.String(200))
    version: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class HourTotal(Base):
    """A volunteer's confirmed hours and star level; `announced_star_level` is the highest
    level ever announced, so that hours taken away for a while and given back (a dispute)
    do not announce a star twice."""

    __tablename__ = "hour_totals"

    volunteer_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    confirmed_hours: Mapped[Decimal] = mapped_column(HOURS)
    star_level: Mapped[int] = mapped_column(sa.Integer)
    announced_star_level: Mapped[int] = mapped_column(sa.Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class BackfillRequest(Base):
    """A volunteer's request to record service the organizer did not record (补录)."""

    __tablename__ = "backfill_requests"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    volunteer_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    activity_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    activity_title: Mapped[str] = mapped_column(sa.String(100))
    center_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)  # the organizing center, which decides
    served_on: Mapped[date] = mapped_column(sa.Date)
    hours: Mapped[Decimal] = mapped_column(HOURS)
    explanation: Mapped[str] = mapped_column(sa.String(500))
    status: Mapped[str] = mapped_column(sa.String(12), index=True)  # pending, approved, rejected
    decision_reason: Mapped[str | None] = mapped_column(sa.String(200))
    decided_by: Mapped[str | None] = mapped_column(sa.String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    entry_id: Mapped[int | None] = mapped_column(sa.BigInteger)  # the entry an approval created
    version: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class BackfillPhoto(Base):
    """A photo of a back-fill request, as sent (its type checked by its content)."""

    __tablename__ = "backfill_photos"
    __table_args__ = (
        sa.UniqueConstraint("backfill_id", "position", name="uq_backfill_photos_backfill_id_position"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    backfill_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("backfill_requests.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(sa.Integer)  # 1 to 3, in the order sent
    content_type: Mapped[str] = mapped_column(sa.String(20))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)


class HourDispute(Base):
    """A volunteer's objection to one of their entries (异议), and how an admin resolved it."""

    __tablename__ = "hour_disputes"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("hour_entries.id", ondelete="RESTRICT"), index=True)
    volunteer_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    center_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)  # the entry's organizing center
    reason: Mapped[str] = mapped_column(sa.String(500))
    hours_before: Mapped[Decimal] = mapped_column(HOURS)  # the entry's hours when disputed
    status: Mapped[str] = mapped_column(sa.String(12), index=True)  # open, upheld, rejected
    corrected_hours: Mapped[Decimal | None] = mapped_column(HOURS)
    note: Mapped[str | None] = mapped_column(sa.String(200))
    resolved_by: Mapped[str | None] = mapped_column(sa.String(64))
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
