"""Sign-ups and their attendance: one row per volunteer and activity while it is live (a
cancelled one stays as history, and the volunteer may sign up again).

The attendance of a sign-up is kept on it: check-in and check-out, whether the check-out was
closed by the service at the end (forgotten), and the organizer's confirmation (attended
with hours, or no-show), whose `revision` grows with every change that is published.
"""

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.activities.models import Base
from services.chassis.db import NEVER_REUSE_IDS, BigId, UtcDateTime

LIVE_ONLY = sa.text("status <> 'cancelled'")


class Signup(Base):
    __tablename__ = "signups"
    __table_args__ = (
        sa.Index(
            "uq_signups_live",
            "activity_id",
            "volunteer_id",
            unique=True,
            sqlite_where=LIVE_ONLY,
            postgresql_where=LIVE_ONLY,
        ),
        sa.Index("ix_signups_activity_status_position", "activity_id", "status", "position"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    activity_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("activities.id"))
    volunteer_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    account_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    status: Mapped[str] = mapped_column(sa.String(12))  # confirmed, waitlisted, cancelled
    position: Mapped[int] = mapped_column(sa.Integer)  # arrival order within the activity
    signed_up_at: Mapped[datetime] = mapped_column(UtcDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # a seat given (at once or promoted)
    promoted: Mapped[bool] = mapped_column(sa.Boolean)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(200))
    cancelled_by: Mapped[str | None] = mapped_column(sa.String(64))
    checked_in_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    check_in_distance_m: Mapped[float | None] = mapped_column(sa.Float)
    checked_out_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    check_out_closed_by_service: Mapped[bool] = mapped_column(sa.Boolean)  # forgotten, closed at the end
    attendance: Mapped[str | None] = mapped_column(sa.String(10))  # attended or no_show, once confirmed
    hours: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))
    attendance_revision: Mapped[int] = mapped_column(sa.Integer)  # 0 until confirmed
    attendance_confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attendance_confirmed_by: Mapped[str | None] = mapped_column(sa.String(64))
    version: Mapped[int] = mapped_column(sa.Integer)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
