"""The identity service's own tables (plus the chassis tables, already in `Base.metadata`)."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.chassis.db import BigId, declarative_base

Base = declarative_base()


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(20))
    scope_center_id: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    display_name: Mapped[str] = mapped_column(sa.String(100))
    active: Mapped[bool] = mapped_column(sa.Boolean)
    created_at: Mapped[sa.DateTime] = mapped_column(sa.DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    # grows by one with every change of role, scope or active: a token carries the version it
    # was issued at (`ver`), and the gateway refuses a token older than the account
    version: Mapped[int] = mapped_column(sa.Integer, server_default="1")


class AccountAudit(Base):
    """Who changed which account, how, when and why (one row per change, never updated)."""

    __tablename__ = "account_audit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    action: Mapped[str] = mapped_column(sa.String(32))
    actor_account_id: Mapped[str] = mapped_column(sa.String(64))
    actor_role: Mapped[str] = mapped_column(sa.String(20))
    reason: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    changes: Mapped[str] = mapped_column(sa.Text)  # JSON: {field: [before, after]}
    version: Mapped[int] = mapped_column(sa.Integer)  # the account's version after the change
    request_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    at: Mapped[sa.DateTime] = mapped_column(sa.DateTime(timezone=True))


class RevokedToken(Base):
    """A token refused before its expiry (a logout), kept until it would have expired."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.BigInteger)
    expires_at: Mapped[sa.DateTime] = mapped_column(sa.DateTime(timezone=True), index=True)
    revoked_at: Mapped[sa.DateTime] = mapped_column(sa.DateTime(timezone=True))
