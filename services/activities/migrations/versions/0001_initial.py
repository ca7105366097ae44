"""The activities service's tables and the chassis tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from services.activities.models import all_tables
from services.chassis.migrations import create_tables, drop_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# in the order they are created (those referenced come first)
TABLES = (
    "outbox",
    "processed_events",
    "idempotency_keys",
    "activities",
    "activity_seats",
    "signups",
    "volunteer_copies",
    "team_membership_copies",
    "series",
    "ledgers",
    "activity_files",
    "calendar_tokens",
)


def upgrade():
    create_tables(all_tables(), TABLES)


def downgrade():
    drop_tables(all_tables(), TABLES)
