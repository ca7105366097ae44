"""The chassis' idempotency_keys table: a command's outcome per caller key, recorded with
its change.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from alembic import op

from services.centers.models import Base

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    Base.metadata.tables["idempotency_keys"].create(op.get_bind())


def downgrade():
    Base.metadata.tables["idempotency_keys"].drop(op.get_bind())
