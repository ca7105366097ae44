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
