"""The chassis' idempotency_keys table: a command's outcome per caller key, recorded with
its change.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from services.centers.models import Base
from services.chassis.migrations import create_tables, drop_tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    create_tables(Base.metadata, ["idempotency_keys"])


def downgrade():
    drop_tables(Base.metadata, ["idempotency_keys"])
