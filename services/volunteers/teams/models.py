"""The tables of teams: the teams, their members and the applications to join them.

`teams.member_count` is kept on the team row, changed in the unit of work that adds or
removes a member, by `SET member_count = member_count ± 1` (concurrent joins lose no count);
it is not part of the team's `version`, which counts changes of the team's own fields.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.chassis.db import NEVER_REUSE_IDS, BigId, UtcDateTime
from services.volunteers.models import Base

PENDING_ONLY = sa.text("status = 'pending'")


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (sa.UniqueConstraint("center_id", "name", name="uq_teams_center_id_name"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    center_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[str] = mapped_column(sa.String(30), index=True)
    local_kind_name: Mapped[str | None] = mapped_column(sa.String(50))
    description: Mapped[str | None] = mapped_column(sa.Text)
    leader_volunteer_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("volunteers.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(16))
    status_reason: Mapped[str | None] = mapped_column(sa.String(200))
    member_count: Mapped[int] = mapped_column(sa.Integer)
    version: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class TeamMember(Base):
    __tablename__ = "team_members"
    __table_args__ = (
        sa.UniqueConstraint("team_id", "volunteer_id", name="uq_team_members_team_id_volunteer_id"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("teams.id"))
    volunteer_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("volunteers.id"), index=True)
    role: Mapped[str] = mapped_column(sa.String(10))  # leader or member
    joined_via: Mapped[str] = mapped_column(sa.String(10))  # approved, added or leader
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TeamApplication(Base):
    __tablename__ = "team_applications"
    __table_args__ = (
        # one pending application per volunteer and team (decided ones stay as history)
        sa.Index(
            "uq_team_applications_pending",
            "team_id",
            "volunteer_id",
            unique=True,
            sqlite_where=PENDING_ONLY,
            postgresql_where=PENDING_ONLY,
        ),
        sa.Index("ix_team_applications_team_id_status", "team_id", "status"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("teams.id"))
    volunteer_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("volunteers.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(10))  # pending, approved, rejected, withdrawn
    note: Mapped[str | None] = mapped_column(sa.String(200))
    reason: Mapped[str | None] = mapped_column(sa.String(200))
    decided_by: Mapped[str | None] = mapped_column(sa.String(64))  # the account that closed it
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(sa.Integer)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
