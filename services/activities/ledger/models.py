"""The ledger (活动台账) of an activity, and the files of activities (photos and materials),
whose bytes are kept under the configured folder, named by their id, never by the name the
uploader gave."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.activities.models import Base
from services.chassis.db import NEVER_REUSE_IDS, BigId, UtcDateTime


class Ledger(Base):
    __tablename__ = "ledgers"

    activity_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("activities.id"), primary_key=True, autoincrement=False
    )
    summary: Mapped[str] = mapped_column(sa.Text)
    people_served: Mapped[int] = mapped_column(sa.Integer)
    filed_by: Mapped[str] = mapped_column(sa.String(64))
    filed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(sa.Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class ActivityFile(Base):
    __tablename__ = "activity_files"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    activity_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("activities.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(10))  # photo or material
    filename: Mapped[str] = mapped_column(sa.String(200))  # as uploaded, for display only
    content_type: Mapped[str] = mapped_column(sa.String(100))  # as detected from the content
    size: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by: Mapped[str] = mapped_column(sa.String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime)
