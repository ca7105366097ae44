"""What this service knows of volunteers and teams, copied from the volunteers service's
events (so that a sign-up needs no synchronous call): each volunteer's status, account and
home station, and team memberships. `version` is the volunteer's own: an older event
arriving late changes nothing."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.activities.models import Base
from services.chassis.db import UtcDateTime


class VolunteerCopy(Base):
    __tablename__ = "volunteer_copies"

    volunteer_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    volunteer_number: Mapped[str] = mapped_column(sa.String(20))
    account_id: Mapped[int | None] = mapped_column(sa.BigInteger, index=True)
    home_station_id: Mapped[int] = mapped_column(sa.BigInteger)
    status: Mapped[str] = mapped_column(sa.String(16))
    version: Mapped[int] = mapped_column(sa.Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TeamMembershipCopy(Base):
    __tablename__ = "team_membership_copies"

    team_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    volunteer_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False, index=True)
    center_id: Mapped[int] = mapped_column(sa.BigInteger)
    role: Mapped[str] = mapped_column(sa.String(10))  # leader or member
    since: Mapped[datetime] = mapped_column(UtcDateTime)  # the event's time: a late, older event changes nothing
