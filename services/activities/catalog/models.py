"""An activity and its seats.

Times are stored in UTC (`UtcDateTime`) and shown in Asia/Shanghai. The seat counts live in
their own row, `activity_seats`: every sign-up and cancellation locks and changes it, so
that sign-ups never contend with an organizer's edit of the activity (whose `version` is
the If-Match of edits), and the count of confirmed seats is exact under any concurrency.
"""

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.activities.models import Base
from services.chassis.db import NEVER_REUSE_IDS, BigId, UtcDateTime


class Activity(Base):
    __tablename__ = "activities"
    __table_args__ = (
        # an occurrence of a series is generated once: generating again finds it
        sa.UniqueConstraint("series_id", "occurrence_start", name="uq_activities_series_occurrence"),
        sa.Index("ix_activities_center_starts", "organizer_center_id", "starts_at"),
        sa.Index("ix_activities_status_starts", "status", "starts_at"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    series_id: Mapped[int | None] = mapped_column(sa.BigInteger, index=True)
    occurrence_start: Mapped[datetime | None] = mapped_column(UtcDateTime)  # as the series' rule generated it
    title: Mapped[str] = mapped_column(sa.String(100))
    description: Mapped[str | None] = mapped_column(sa.Text)
    platform: Mapped[str] = mapped_column(sa.String(16))
    organizer_center_id: Mapped[int] = mapped_column(sa.BigInteger)
    team_id: Mapped[int | None] = mapped_column(sa.BigInteger, index=True)
    team_only: Mapped[bool] = mapped_column(sa.Boolean)
    place: Mapped[str] = mapped_column(sa.String(200))
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    checkin_radius_m: Mapped[int | None] = mapped_column(sa.Integer)  # None: check-in anywhere
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    signup_opens_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # None: from publication
    signup_closes_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # None: at the start
    capacity: Mapped[int] = mapped_column(sa.Integer)
    hours: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2))  # the most hours one attendance earns
    points_kind: Mapped[str] = mapped_column(sa.String(10))  # per_hour, flat or none
    points_rate: Mapped[Decimal] = mapped_column(sa.Numeric(8, 2))
    leader_volunteer_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    status: Mapped[str] = mapped_column(sa.String(12))
    status_reason: Mapped[str | None] = mapped_column(sa.String(200))
    created_by: Mapped[str] = mapped_column(sa.String(64))
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class ActivitySeats(Base):
    """The seats of one activity: `confirmed` never exceeds `capacity` (a CHECK too), and
    `next_position` orders every sign-up by arrival, so that the waitlist is served in order."""

    __tablename__ = "activity_seats"
    __table_args__ = (
        sa.CheckConstraint("confirmed <= capacity", name="ck_activity_seats_not_overbooked"),
        sa.CheckConstraint("confirmed >= 0 AND waitlisted >= 0", name="ck_activity_seats_counts"),
    )

    activity_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("activities.id"), primary_key=True)
    capacity: Mapped[int] = mapped_column(sa.Integer)
    confirmed: Mapped[int] = mapped_column(sa.Integer)
    waitlisted: Mapped[int] = mapped_column(sa.Integer)
    next_position: Mapped[int] = mapped_column(sa.Integer)
