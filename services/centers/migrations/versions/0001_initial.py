"""Centers, venues and the chassis tables (outbox, processed_events).

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from services.centers.models import Base
from services.chassis.db import BigId
from services.chassis.migrations import create_tables, drop_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The chassis owns these tables' definition; every service creates them in its first revision.
CHASSIS_TABLES = ("outbox", "processed_events")


def upgrade():
    create_tables(Base.metadata, CHASSIS_TABLES)

    op.create_table(
        "centers",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("parent_id", BigId, sa.ForeignKey("centers.id", ondelete="RESTRICT"), nullable=True),
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("address", sa.String(200), nullable=True),
        sa.Column("longitude", sa.Float, nullable=True),
        sa.Column("latitude", sa.Float, nullable=True),
        sa.Column("floor_area_m2", sa.Float, nullable=True),
        sa.Column("households_served", sa.Integer, nullable=True),
        sa.Column("residents_served", sa.Integer, nullable=True),
        sa.Column("head", sa.JSON, nullable=True),
        sa.Column("managers", sa.JSON, nullable=False),
        sa.Column("contact_phone", sa.String(30), nullable=True),
        sa.Column("platforms", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.String(200), nullable=True),
        sa.Column("opened_on", sa.Date, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("code", name="uq_centers_code"),
    )
    op.create_index("ix_centers_level", "centers", ["level"])
    op.create_index("ix_centers_parent_id", "centers", ["parent_id"])
    op.create_index("ix_centers_status", "centers", ["status"])
    op.create_index("ix_centers_path", "centers", ["path"], postgresql_ops={"path": "text_pattern_ops"})

    op.create_table(
        "venues",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("center_id", BigId, sa.ForeignKey("centers.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("capacity", sa.Integer, nullable=True),
        sa.Column("area_m2", sa.Float, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_venues_center_id", "venues", ["center_id"])


def downgrade():
    op.drop_table("venues")
    op.drop_table("centers")
    drop_tables(Base.metadata, CHASSIS_TABLES)
