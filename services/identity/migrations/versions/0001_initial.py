"""Accounts, and the chassis tables every service database carries.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from services.chassis.db import BigId
from services.chassis.migrations import create_tables, drop_tables
from services.identity.models import Base

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The chassis owns these tables' definition; every service creates them in its first revision.
CHASSIS_TABLES = ("outbox", "processed_events", "idempotency_keys")


def upgrade():
    create_tables(Base.metadata, CHASSIS_TABLES)
    op.create_table(
        "accounts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("scope_center_id", sa.BigInteger, nullable=True),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.BigInteger, nullable=True),
        sa.UniqueConstraint("username", name="uq_accounts_username"),
    )


def downgrade():
    op.drop_table("accounts")
    drop_tables(Base.metadata, CHASSIS_TABLES)
