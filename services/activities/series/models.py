"""Recurring programmes: a series with an iCalendar recurrence rule (RFC 5545 RRULE,
weekly or monthly, with exception dates) and the template its occurrences are made from.
Occurrences are ordinary activities carrying `series_id` and `occurrence_start`."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.activities.models import Base
from services.chassis.db import NEVER_REUSE_IDS, BigId, UtcDateTime


class Series(Base):
    __tablename__ = "series"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    organizer_center_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    team_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    title: Mapped[str] = mapped_column(sa.String(100))
    template: Mapped[dict] = mapped_column(sa.JSON)  # the activity fields every occurrence starts from
    rrule: Mapped[str] = mapped_column(sa.String(500))
    first_starts_at: Mapped[datetime] = mapped_column(UtcDateTime)  # DTSTART
    duration_minutes: Mapped[int] = mapped_column(sa.Integer)
    exdates: Mapped[list] = mapped_column(sa.JSON)  # days (ISO dates, Asia/Shanghai) the rule skips
    publish: Mapped[bool] = mapped_column(sa.Boolean)  # occurrences are published as they are generated
    generated_until: Mapped[datetime | None] = mapped_column(UtcDateTime)  # occurrences exist up to here
    status: Mapped[str] = mapped_column(sa.String(12))  # active or ended
    status_reason: Mapped[str | None] = mapped_column(sa.String(200))  # why it ended
    created_by: Mapped[str] = mapped_column(sa.String(64))
    version: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
