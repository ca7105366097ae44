"""The secret feed tokens of volunteers' calendars: only a hash is kept; revoking one
ends its URL, and a new one can be issued. A volunteer has at most one live token (a unique
index over the unrevoked ones): issuing a new one revokes the old in the same transaction."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.activities.models import Base
from services.chassis.db import NEVER_REUSE_IDS, BigId, UtcDateTime

LIVE_ONLY = sa.text("revoked_at IS NULL")


class CalendarToken(Base):
    __tablename__ = "calendar_tokens"
    __table_args__ = (
        sa.Index(
            "uq_calendar_tokens_live",
            "volunteer_id",
            unique=True,
            sqlite_where=LIVE_ONLY,
            postgresql_where=LIVE_ONLY,
        ),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    volunteer_id: Mapped[int] = mapped_column(sa.BigInteger)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)  # SHA-256, hex
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
