"""The gateway's own tables: accounts and idempotency records."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.chassis.db import BigId, declarative_base, utcnow

Base = declarative_base()


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(20))
    scope_center_id: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    display_name: Mapped[str] = mapped_column(sa.String(100))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[sa.DateTime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)


class IdempotencyRecord(Base):
    """One POST per (account, Idempotency-Key): in flight while `status` is null."""

    __tablename__ = "idempotency_keys"

    account_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    content_type: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    body: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    created_at: Mapped[sa.DateTime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # epoch seconds: compares the same on SQLite (naive datetimes) and PostgreSQL
    expires_at: Mapped[int] = mapped_column(sa.BigInteger, index=True)
