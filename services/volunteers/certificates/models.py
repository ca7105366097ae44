"""The registry of issued certificates. A row is written once and never updated: `content` is
the signed content as canonical JSON text (signing.canonical), byte for byte what the
signature covers; the other columns repeat what lists and scope checks need of it."""

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.chassis.db import NEVER_REUSE_IDS, BigId, UtcDateTime
from services.volunteers.models import Base


class Certificate(Base):
    __tablename__ = "certificates"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(sa.String(32), unique=True)
    volunteer_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    issuing_center_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    issuing_center_name: Mapped[str] = mapped_column(sa.Text)
    period_start: Mapped[date] = mapped_column(sa.Date)
    period_end: Mapped[date] = mapped_column(sa.Date)
    total_hours: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    activity_count: Mapped[int] = mapped_column(sa.Integer)
    content: Mapped[str] = mapped_column(sa.Text)
    signature: Mapped[str] = mapped_column(sa.String(100))
    key_id: Mapped[str] = mapped_column(sa.String(32))
    issued_on: Mapped[date] = mapped_column(sa.Date)
    issued_by: Mapped[str] = mapped_column(sa.String(64))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
