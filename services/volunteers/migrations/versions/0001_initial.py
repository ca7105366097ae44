"""The volunteers service's tables and the chassis tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from services.chassis.db import BigId, UtcDateTime
from services.chassis.migrations import create_tables, drop_tables
from services.volunteers.models import Base

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The chassis owns these tables' definition; every service creates them in its first revision.
CHASSIS_TABLES = ("outbox", "processed_events", "idempotency_keys")
# this revision's own tables, in the order they are created (those referenced come first)
TABLES = (
    "backfill_requests",
    "certificates",
    "goods",
    "hour_entries",
    "hour_totals",
    "point_accounts",
    "privacy_audit",
    "volunteer_imports",
    "volunteer_number_serials",
    "volunteer_transfers",
    "volunteers",
    "backfill_photos",
    "hour_disputes",
    "point_entries",
    "redemptions",
    "teams",
    "volunteer_import_rows",
    "team_applications",
    "team_members",
)


def upgrade():
    create_tables(Base.metadata, CHASSIS_TABLES)
    op.create_table(
        "backfill_requests",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("volunteer_id", sa.BigInteger(), nullable=False),
        sa.Column("activity_id", sa.BigInteger(), nullable=True),
        sa.Column("activity_title", sa.String(length=100), nullable=False),
        sa.Column("center_id", sa.BigInteger(), nullable=False),
        sa.Column("served_on", sa.Date(), nullable=False),
        sa.Column("hours", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("explanation", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("decision_reason", sa.String(length=200), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
        sa.Column("entry_id", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backfill_requests")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_backfill_requests_center_id"), "backfill_requests", ["center_id"], unique=False)
    op.create_index(op.f("ix_backfill_requests_status"), "backfill_requests", ["status"], unique=False)
    op.create_index(op.f("ix_backfill_requests_volunteer_id"), "backfill_requests", ["volunteer_id"], unique=False)
    op.create_table(
        "certificates",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("volunteer_id", sa.BigInteger(), nullable=False),
        sa.Column("issuing_center_id", sa.BigInteger(), nullable=False),
        sa.Column("issuing_center_name", sa.Text(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("total_hours", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("activity_count", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("issued_by", sa.String(length=64), nullable=False),
        sa.Column("issued_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("number", name=op.f("uq_certificates_number")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_certificates_issuing_center_id"), "certificates", ["issuing_center_id"], unique=False)
    op.create_index(op.f("ix_certificates_volunteer_id"), "certificates", ["volunteer_id"], unique=False)
    op.create_table(
        "goods",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("center_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("price > 0", name=op.f("ck_goods_price_positive")),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_goods_stock_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goods")),
        sa.UniqueConstraint("center_id", "name", name="uq_goods_center_name"),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_goods_center_id"), "goods", ["center_id"], unique=False)
    op.create_table(
        "hour_entries",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("volunteer_id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("attendance_id", sa.BigInteger(), nullable=True),
        sa.Column("backfill_id", sa.BigInteger(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.BigInteger(), nullable=True),
        sa.Column("activity_title", sa.Text(), nullable=False),
        sa.Column("center_id", sa.BigInteger(), nullable=False),
        sa.Column("team_id", sa.BigInteger(), nullable=True),
        sa.Column("served_on", sa.Date(), nullable=False),
        sa.Column("hours", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("revoke_reason", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hour_entries")),
        sa.UniqueConstraint("attendance_id", name=op.f("uq_hour_entries_attendance_id")),
        sa.UniqueConstraint("backfill_id", name=op.f("uq_hour_entries_backfill_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_hour_entries_activity_id"), "hour_entries", ["activity_id"], unique=False)
    op.create_index(op.f("ix_hour_entries_center_id"), "hour_entries", ["center_id"], unique=False)
    op.create_index(op.f("ix_hour_entries_served_on"), "hour_entries", ["served_on"], unique=False)
    op.create_index(op.f("ix_hour_entries_status"), "hour_entries", ["status"], unique=False)
    op.create_index(op.f("ix_hour_entries_team_id"), "hour_entries", ["team_id"], unique=False)
    op.create_index(
        "ix_hour_entries_volunteer_id_served_on", "hour_entries", ["volunteer_id", "served_on"], unique=False
    )
    op.create_table(
        "hour_totals",
        sa.Column("volunteer_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("confirmed_hours", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("star_level", sa.Integer(), nullable=False),
        sa.Column("announced_star_level", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("volunteer_id", name=op.f("pk_hour_totals")),
    )
    op.create_table(
        "point_accounts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("holder_kind", sa.String(length=16), nullable=False),
        sa.Column("holder_id", sa.BigInteger(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_point_accounts_balance_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_accounts")),
        sa.UniqueConstraint("holder_kind", "holder_id", name="uq_point_accounts_holder"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "privacy_audit",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("volunteer_id", sa.BigInteger(), nullable=False),
        sa.Column("home_station_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("actor_account_id", sa.String(length=64), nullable=False),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_audit")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_privacy_audit_home_station_id"), "privacy_audit", ["home_station_id"], unique=False)
    op.create_index(op.f("ix_privacy_audit_volunteer_id"), "privacy_audit", ["volunteer_id"], unique=False)
    op.create_table(
        "volunteer_imports",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("center_id", sa.BigInteger(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("rows_token", sa.Text(), nullable=True),
        sa.Column("ignored_columns", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("processed_rows", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("skipped_duplicates", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("failure_code", sa.String(length=64), nullable=True),
        sa.Column("failure_message", sa.String(length=200), nullable=True),
        sa.Column("privacy_consent_version", sa.String(length=20), nullable=False),
        sa.Column("actor_account_id", sa.String(length=64), nullable=False),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=True),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_imports")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_volunteer_imports_center_id"), "volunteer_imports", ["center_id"], unique=False)
    op.create_index(op.f("ix_volunteer_imports_status"), "volunteer_imports", ["status"], unique=False)
    op.create_table(
        "volunteer_number_serials",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_serial", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_volunteer_number_serials")),
    )
    op.create_table(
        "volunteer_transfers",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("volunteer_id", sa.BigInteger(), nullable=False),
        sa.Column("from_station_id", sa.BigInteger(), nullable=False),
        sa.Column("to_station_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("actor_account_id", sa.String(length=64), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_transfers")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_volunteer_transfers_from_station_id"), "volunteer_transfers", ["from_station_id"], unique=False
    )
    op.create_index(
        op.f("ix_volunteer_transfers_to_station_id"), "volunteer_transfers", ["to_station_id"], unique=False
    )
    op.create_index(op.f("ix_volunteer_transfers_volunteer_id"), "volunteer_transfers", ["volunteer_id"], unique=False)
    op.create_table(
        "volunteers",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("volunteer_number", sa.String(length=20), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.String(length=50), nullable=True),
        sa.Column("id_number_token", sa.Text(), nullable=True),
        sa.Column("id_number_hash", sa.String(length=64), nullable=True),
        sa.Column("id_number_masked", sa.String(length=18), nullable=True),
        sa.Column("phone_token", sa.Text(), nullable=True),
        sa.Column("phone_hash", sa.String(length=64), nullable=True),
        sa.Column("phone_masked", sa.String(length=11), nullable=True),
        sa.Column("sex", sa.String(length=6), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("guardian", sa.JSON(), nullable=True),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("service_categories", sa.JSON(), nullable=False),
        sa.Column("available_times", sa.JSON(), nullable=False),
        sa.Column("home_station_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.String(length=200), nullable=True),
        sa.Column("privacy_consent_version", sa.String(length=20), nullable=True),
        sa.Column("privacy_consent_at", UtcDateTime(), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("registered_by", sa.String(length=64), nullable=False),
        sa.Column("erased_at", UtcDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteers")),
        sa.UniqueConstraint("account_id", name=op.f("uq_volunteers_account_id")),
        sa.UniqueConstraint("id_number_hash", name=op.f("uq_volunteers_id_number_hash")),
        sa.UniqueConstraint("volunteer_number", name=op.f("uq_volunteers_volunteer_number")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_volunteers_home_station_id"), "volunteers", ["home_station_id"], unique=False)
    op.create_index(op.f("ix_volunteers_phone_hash"), "volunteers", ["phone_hash"], unique=False)
    op.create_index(op.f("ix_volunteers_status"), "volunteers", ["status"], unique=False)
    op.create_table(
        "backfill_photos",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("backfill_id", BigId, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=20), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["backfill_id"],
            ["backfill_requests.id"],
            name=op.f("fk_backfill_photos_backfill_id_backfill_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backfill_photos")),
        sa.UniqueConstraint("backfill_id", "position", name="uq_backfill_photos_backfill_id_position"),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_backfill_photos_backfill_id"), "backfill_photos", ["backfill_id"], unique=False)
    op.create_table(
        "hour_disputes",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("entry_id", BigId, nullable=False),
        sa.Column("volunteer_id", sa.BigInteger(), nullable=False),
        sa.Column("center_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("hours_before", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("corrected_hours", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("raised_at", UtcDateTime(), nullable=False),
        sa.Column("resolved_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["hour_entries.id"], name=op.f("fk_hour_disputes_entry_id_hour_entries"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hour_disputes")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_hour_disputes_center_id"), "hour_disputes", ["center_id"], unique=False)
    op.create_index(op.f("ix_hour_disputes_entry_id"), "hour_disputes", ["entry_id"], unique=False)
    op.create_index(op.f("ix_hour_disputes_status"), "hour_disputes", ["status"], unique=False)
    op.create_index(op.f("ix_hour_disputes_volunteer_id"), "hour_disputes", ["volunteer_id"], unique=False)
    op.create_table(
        "point_entries",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("delta", sa.BigInteger(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["point_accounts.id"],
            name=op.f("fk_point_entries_account_id_point_accounts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_entries")),
        sa.UniqueConstraint("account_id", "reference", name="uq_point_entries_account_reference"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "redemptions",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("holder_kind", sa.String(length=16), nullable=False),
        sa.Column("holder_id", sa.BigInteger(), nullable=False),
        sa.Column("goods_id", BigId, nullable=False),
        sa.Column("goods_name", sa.String(length=50), nullable=False),
        sa.Column("center_id", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("actor_account_id", sa.String(length=64), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("cancelled_at", UtcDateTime(), nullable=True),
        sa.Column("cancel_reason", sa.String(length=200), nullable=True),
        sa.Column("cancelled_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["point_accounts.id"],
            name=op.f("fk_redemptions_account_id_point_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["goods_id"], ["goods.id"], name=op.f("fk_redemptions_goods_id_goods"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemptions")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_redemptions_account_id"), "redemptions", ["account_id"], unique=False)
    op.create_index(op.f("ix_redemptions_center_id"), "redemptions", ["center_id"], unique=False)
    op.create_table(
        "teams",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("center_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("local_kind_name", sa.String(length=50), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("leader_volunteer_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.String(length=200), nullable=True),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["leader_volunteer_id"], ["volunteers.id"], name=op.f("fk_teams_leader_volunteer_id_volunteers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("center_id", "name", name="uq_teams_center_id_name"),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_teams_center_id"), "teams", ["center_id"], unique=False)
    op.create_index(op.f("ix_teams_kind"), "teams", ["kind"], unique=False)
    op.create_index(op.f("ix_teams_leader_volunteer_id"), "teams", ["leader_volunteer_id"], unique=False)
    op.create_table(
        "volunteer_import_rows",
        sa.Column("import_id", sa.BigInteger(), nullable=False),
        sa.Column("row_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("volunteer_id", sa.BigInteger(), nullable=True),
        sa.Column("volunteer_number", sa.String(length=20), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("errors", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["volunteer_imports.id"],
            name=op.f("fk_volunteer_import_rows_import_id_volunteer_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("import_id", "row_number", name=op.f("pk_volunteer_import_rows")),
    )
    op.create_table(
        "team_applications",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("team_id", sa.BigInteger(), nullable=False),
        sa.Column("volunteer_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_team_applications_team_id_teams")),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_team_applications_volunteer_id_volunteers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_applications")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_team_applications_team_id_status", "team_applications", ["team_id", "status"], unique=False)
    op.create_index(op.f("ix_team_applications_volunteer_id"), "team_applications", ["volunteer_id"], unique=False)
    op.create_index(
        "uq_team_applications_pending",
        "team_applications",
        ["team_id", "volunteer_id"],
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "team_members",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("team_id", sa.BigInteger(), nullable=False),
        sa.Column("volunteer_id", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("joined_via", sa.String(length=10), nullable=False),
        sa.Column("joined_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_team_members_team_id_teams")),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_team_members_volunteer_id_volunteers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_members")),
        sa.UniqueConstraint("team_id", "volunteer_id", name="uq_team_members_team_id_volunteer_id"),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_team_members_volunteer_id"), "team_members", ["volunteer_id"], unique=False)


def downgrade():
    for table in reversed(TABLES):
        op.drop_table(table)
    drop_tables(Base.metadata, CHASSIS_TABLES)
