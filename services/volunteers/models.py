"""The volunteers service's tables for the volunteers themselves (plus the chassis tables,
already in `Base.metadata`). Each part of the service (teams, hours, points, certificates,
imports) declares its own tables on this `Base` in its package's `models.py`.

Personal data: `name` is kept in clear (the real-name rule needs it shown to staff); the ID
number and the phone are kept as `FieldCipher` tokens (privacy.py), found by their keyed
hash, and shown only masked. Deregistration erases all of it (`erased_at`).
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.chassis.db import NEVER_REUSE_IDS, BigId, UtcDateTime, declarative_base

Base = declarative_base()


class Volunteer(Base):
    __tablename__ = "volunteers"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    volunteer_number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    # the identity account of a volunteer who registered themself (role volunteer)
    account_id: Mapped[int | None] = mapped_column(sa.BigInteger, unique=True)
    name: Mapped[str | None] = mapped_column(sa.String(50))
    id_number_token: Mapped[str | None] = mapped_column(sa.Text)
    id_number_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    id_number_masked: Mapped[str | None] = mapped_column(sa.String(18))
    phone_token: Mapped[str | None] = mapped_column(sa.Text)
    phone_hash: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    phone_masked: Mapped[str | None] = mapped_column(sa.String(11))
    sex: Mapped[str | None] = mapped_column(sa.String(6))
    birth_date: Mapped[date | None] = mapped_column(sa.Date)
    guardian: Mapped[dict | None] = mapped_column(sa.JSON)  # a minor's guardian: name, relation, consent time
    skills: Mapped[list] = mapped_column(sa.JSON, default=list)
    service_categories: Mapped[list] = mapped_column(sa.JSON, default=list)
    available_times: Mapped[list] = mapped_column(sa.JSON, default=list)
    home_station_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    status_reason: Mapped[str | None] = mapped_column(sa.String(200))
    privacy_consent_version: Mapped[str | None] = mapped_column(sa.String(20))
    privacy_consent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    channel: Mapped[str] = mapped_column(sa.String(10))  # self, staff or import
    registered_by: Mapped[str] = mapped_column(sa.String(64))  # the actor's account id
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class NumberSerial(Base):
    """The last serial handed out per year of registration (volunteer numbers)."""

    __tablename__ = "volunteer_number_serials"

    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    last_serial: Mapped[int] = mapped_column(sa.Integer)


class Transfer(Base):
    """A move of a volunteer to another home station (both stations' admins read it)."""

    __tablename__ = "volunteer_transfers"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    volunteer_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    from_station_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    to_station_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    reason: Mapped[str] = mapped_column(sa.String(200))
    actor_account_id: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class PrivacyAudit(Base):
    """Every reveal, export and erasure of a volunteer's personal data (never updated)."""

    __tablename__ = "privacy_audit"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    volunteer_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    home_station_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)  # where it was, for scoped reads
    action: Mapped[str] = mapped_column(sa.String(16))  # reveal, export, erase
    fields: Mapped[list] = mapped_column(sa.JSON, default=list)
    reason: Mapped[str | None] = mapped_column(sa.String(200))
    actor_account_id: Mapped[str] = mapped_column(sa.String(64))
    actor_role: Mapped[str] = mapped_column(sa.String(20))
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
