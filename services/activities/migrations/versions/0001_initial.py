"""The activities service's tables and the chassis tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from services.activities.models import all_tables
from services.chassis.db import BigId, UtcDateTime
from services.chassis.migrations import create_tables, drop_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The chassis owns these tables' definition; every service creates them in its first revision.
CHASSIS_TABLES = ("outbox", "processed_events", "idempotency_keys")
# this revision's own tables, in the order they are created (those referenced come first)
TABLES = (
    "activities",
    "calendar_tokens",
    "series",
    "team_membership_copies",
    "volunteer_copies",
    "activity_files",
    "activity_seats",
    "ledgers",
    "signups",
)


def upgrade():
    create_tables(all_tables(), CHASSIS_TABLES)
    op.create_table(
        "activities",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("series_id", sa.BigInteger(), nullable=True),
        sa.Column("occurrence_start", UtcDateTime(), nullable=True),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("organizer_center_id", sa.BigInteger(), nullable=False),
        sa.Column("team_id", sa.BigInteger(), nullable=True),
        sa.Column("team_only", sa.Boolean(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("checkin_radius_m", sa.Integer(), nullable=True),
        sa.Column("starts_at", UtcDateTime(), nullable=False),
        sa.Column("ends_at", UtcDateTime(), nullable=False),
        sa.Column("signup_opens_at", UtcDateTime(), nullable=True),
        sa.Column("signup_closes_at", UtcDateTime(), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("points_kind", sa.String(length=10), nullable=False),
        sa.Column("points_rate", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column("leader_volunteer_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("status_reason", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("published_at", UtcDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
        sa.UniqueConstraint("series_id", "occurrence_start", name="uq_activities_series_occurrence"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_activities_center_starts", "activities", ["organizer_center_id", "starts_at"], unique=False)
    op.create_index(op.f("ix_activities_series_id"), "activities", ["series_id"], unique=False)
    op.create_index("ix_activities_status_starts", "activities", ["status", "starts_at"], unique=False)
    op.create_index(op.f("ix_activities_team_id"), "activities", ["team_id"], unique=False)
    op.create_table(
        "calendar_tokens",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("volunteer_id", sa.BigInteger(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_tokens_token_hash")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "uq_calendar_tokens_live",
        "calendar_tokens",
        ["volunteer_id"],
        unique=True,
        sqlite_where=sa.text("revoked_at IS NULL"),
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    op.create_table(
        "series",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("organizer_center_id", sa.BigInteger(), nullable=False),
        sa.Column("team_id", sa.BigInteger(), nullable=True),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("template", sa.JSON(), nullable=False),
        sa.Column("rrule", sa.String(length=500), nullable=False),
        sa.Column("first_starts_at", UtcDateTime(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("exdates", sa.JSON(), nullable=False),
        sa.Column("publish", sa.Boolean(), nullable=False),
        sa.Column("generated_until", UtcDateTime(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("status_reason", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_series")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_series_organizer_center_id"), "series", ["organizer_center_id"], unique=False)
    op.create_table(
        "team_membership_copies",
        sa.Column("team_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("volunteer_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("center_id", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("since", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "volunteer_id", name=op.f("pk_team_membership_copies")),
    )
    op.create_index(
        op.f("ix_team_membership_copies_volunteer_id"), "team_membership_copies", ["volunteer_id"], unique=False
    )
    op.create_table(
        "volunteer_copies",
        sa.Column("volunteer_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("volunteer_number", sa.String(length=20), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=True),
        sa.Column("home_station_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("volunteer_id", name=op.f("pk_volunteer_copies")),
    )
    op.create_index(op.f("ix_volunteer_copies_account_id"), "volunteer_copies", ["account_id"], unique=False)
    op.create_table(
        "activity_files",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("activity_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activities.id"], name=op.f("fk_activity_files_activity_id_activities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_files")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_activity_files_activity_id"), "activity_files", ["activity_id"], unique=False)
    op.create_table(
        "activity_seats",
        sa.Column("activity_id", sa.BigInteger(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("confirmed", sa.Integer(), nullable=False),
        sa.Column("waitlisted", sa.Integer(), nullable=False),
        sa.Column("next_position", sa.Integer(), nullable=False),
        sa.CheckConstraint("confirmed <= capacity", name=op.f("ck_activity_seats_ck_activity_seats_not_overbooked")),
        sa.CheckConstraint(
            "confirmed >= 0 AND waitlisted >= 0", name=op.f("ck_activity_seats_ck_activity_seats_counts")
        ),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activities.id"], name=op.f("fk_activity_seats_activity_id_activities")
        ),
        sa.PrimaryKeyConstraint("activity_id", name=op.f("pk_activity_seats")),
    )
    op.create_table(
        "ledgers",
        sa.Column("activity_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("people_served", sa.Integer(), nullable=False),
        sa.Column("filed_by", sa.String(length=64), nullable=False),
        sa.Column("filed_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["activity_id"], ["activities.id"], name=op.f("fk_ledgers_activity_id_activities")),
        sa.PrimaryKeyConstraint("activity_id", name=op.f("pk_ledgers")),
    )
    op.create_table(
        "signups",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("activity_id", sa.BigInteger(), nullable=False),
        sa.Column("volunteer_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("signed_up_at", UtcDateTime(), nullable=False),
        sa.Column("confirmed_at", UtcDateTime(), nullable=True),
        sa.Column("promoted", sa.Boolean(), nullable=False),
        sa.Column("cancelled_at", UtcDateTime(), nullable=True),
        sa.Column("cancel_reason", sa.String(length=200), nullable=True),
        sa.Column("cancelled_by", sa.String(length=64), nullable=True),
        sa.Column("checked_in_at", UtcDateTime(), nullable=True),
        sa.Column("check_in_distance_m", sa.Float(), nullable=True),
        sa.Column("checked_out_at", UtcDateTime(), nullable=True),
        sa.Column("check_out_closed_by_service", sa.Boolean(), nullable=False),
        sa.Column("attendance", sa.String(length=10), nullable=True),
        sa.Column("hours", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("attendance_revision", sa.Integer(), nullable=False),
        sa.Column("attendance_confirmed_at", UtcDateTime(), nullable=True),
        sa.Column("attendance_confirmed_by", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["activity_id"], ["activities.id"], name=op.f("fk_signups_activity_id_activities")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signups")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_signups_activity_status_position", "signups", ["activity_id", "status", "position"], unique=False
    )
    op.create_index(op.f("ix_signups_volunteer_id"), "signups", ["volunteer_id"], unique=False)
    op.create_index(
        "uq_signups_live",
        "signups",
        ["activity_id", "volunteer_id"],
        unique=True,
        sqlite_where=sa.text("status <> 'cancelled'"),
        postgresql_where=sa.text("status <> 'cancelled'"),
    )


def downgrade():
    for name in reversed(TABLES):
        op.drop_table(name)
    drop_tables(all_tables(), CHASSIS_TABLES)
