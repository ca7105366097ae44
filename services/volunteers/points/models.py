"""The tables of points and love supermarkets.

An account is named by its holder (kind, id) and nothing else, so households can hold one
later. Its balance changes only by conditional UPDATEs that never take it below zero, each
written with a ledger entry in the same transaction; the CHECK constraints are the last line
of defence behind them. A goods' stock works the same way.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.chassis.db import NEVER_REUSE_IDS, BigId, UtcDateTime
from services.volunteers.models import Base


class PointAccount(Base):
    __tablename__ = "point_accounts"
    __table_args__ = (
        sa.UniqueConstraint("holder_kind", "holder_id", name="uq_point_accounts_holder"),
        sa.CheckConstraint("balance >= 0", name="balance_not_negative"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    holder_kind: Mapped[str] = mapped_column(sa.String(16))  # volunteer (household later)
    holder_id: Mapped[int] = mapped_column(sa.BigInteger)
    balance: Mapped[int] = mapped_column(sa.BigInteger)
    version: Mapped[int] = mapped_column(sa.Integer)  # +1 per entry
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PointEntry(Base):
    """One change of a balance (never updated): the history, and the key that makes each
    credit and debit happen once (`reference`, unique per account)."""

    __tablename__ = "point_entries"
    __table_args__ = (
        sa.UniqueConstraint("account_id", "reference", name="uq_point_entries_account_reference"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("point_accounts.id", ondelete="RESTRICT"))
    delta: Mapped[int] = mapped_column(sa.BigInteger)
    balance_after: Mapped[int] = mapped_column(sa.BigInteger)
    kind: Mapped[str] = mapped_column(sa.String(16))  # earned, redeemed, refunded
    reference: Mapped[str] = mapped_column(sa.String(64))  # attendance:<id>, redemption:<id>, refund:<id>
    note: Mapped[str | None] = mapped_column(sa.String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class Goods(Base):
    """Goods on the shelf of a center's love supermarket (爱心超市)."""

    __tablename__ = "goods"
    __table_args__ = (
        sa.UniqueConstraint("center_id", "name", name="uq_goods_center_name"),
        sa.CheckConstraint("stock >= 0", name="stock_not_negative"),
        sa.CheckConstraint("price > 0", name="price_positive"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    center_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    name: Mapped[str] = mapped_column(sa.String(50))
    description: Mapped[str | None] = mapped_column(sa.String(500))
    price: Mapped[int] = mapped_column(sa.Integer)
    stock: Mapped[int] = mapped_column(sa.Integer)
    active: Mapped[bool] = mapped_column(sa.Boolean)
    version: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Redemption(Base):
    __tablename__ = "redemptions"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("point_accounts.id", ondelete="RESTRICT"), index=True)
    # the account's holder, copied: an account never changes holder, and lists filter by it
    holder_kind: Mapped[str] = mapped_column(sa.String(16))
    holder_id: Mapped[int] = mapped_column(sa.BigInteger)
    goods_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("goods.id", ondelete="RESTRICT"))
    goods_name: Mapped[str] = mapped_column(sa.String(50))  # as it was when redeemed
    center_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    quantity: Mapped[int] = mapped_column(sa.Integer)
    points: Mapped[int] = mapped_column(sa.BigInteger)
    status: Mapped[str] = mapped_column(sa.String(16))  # completed, cancelled
    actor_account_id: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(200))
    cancelled_by: Mapped[str | None] = mapped_column(sa.String(64))
