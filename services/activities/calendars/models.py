"""The secret feed tokens of volunteers' calendars: only a hash is kept; revoking one
ends its URL, and a new one can be issued."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.activities.models import Base
from services.chassis.db import NEVER_REUSE_IDS, BigId, UtcDateTime


class CalendarToken(Base):
    __tablename__ = "calendar_tokens"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    volunteer_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
