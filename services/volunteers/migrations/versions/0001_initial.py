"""The volunteers service's tables and the chassis tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from services.chassis.migrations import create_tables, drop_tables
from services.volunteers.service import VolunteersService

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# TEMPORARY while the parts are built in parallel: every table as the models define it.
# Replaced by explicit operations (alembic autogenerate) before the service lands.
TABLES = [table.name for table in VolunteersService.db.metadata.sorted_tables]


def upgrade():
    create_tables(VolunteersService.db.metadata, TABLES)


def downgrade():
    drop_tables(VolunteersService.db.metadata, TABLES)
