"""The tables of imports: a run per uploaded file, and the report's row per data row.

The file's rows stay only while their run works: encrypted (they hold ID numbers and phones,
privacy.FieldCipher) and dropped when the run finishes. The report holds no personal data.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.chassis.db import NEVER_REUSE_IDS, BigId, UtcDateTime
from services.volunteers.models import Base


class ImportRun(Base):
    __tablename__ = "volunteer_imports"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    center_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)  # whose admins read it; rows' stations under it
    file_name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(4))  # csv or xlsx
    # the data rows as read at the upload (parsing.packed_rows, base64), encrypted; None once finished
    rows_token: Mapped[str | None] = mapped_column(sa.Text)
    ignored_columns: Mapped[list] = mapped_column(sa.JSON, default=list)
    status: Mapped[str] = mapped_column(sa.String(10), index=True)  # queued, running, completed, failed
    total_rows: Mapped[int] = mapped_column(sa.Integer)
    processed_rows: Mapped[int] = mapped_column(sa.Integer, default=0)
    imported: Mapped[int] = mapped_column(sa.Integer, default=0)
    skipped_duplicates: Mapped[int] = mapped_column(sa.Integer, default=0)
    refused: Mapped[int] = mapped_column(sa.Integer, default=0)
    failed_attempts: Mapped[int] = mapped_column(sa.Integer, default=0)  # of the batch at processed_rows
    failure_code: Mapped[str | None] = mapped_column(sa.String(64))
    failure_message: Mapped[str | None] = mapped_column(sa.String(200))
    privacy_consent_version: Mapped[str] = mapped_column(sa.String(20))
    actor_account_id: Mapped[str] = mapped_column(sa.String(64))
    actor_role: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ImportRow(Base):
    """The outcome of one data row: never its ID number or phone."""

    __tablename__ = "volunteer_import_rows"

    import_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("volunteer_imports.id", ondelete="CASCADE"), primary_key=True
    )
    row_number: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    outcome: Mapped[str] = mapped_column(sa.String(10))  # imported, duplicate, refused
    volunteer_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    volunteer_number: Mapped[str | None] = mapped_column(sa.String(20))
    code: Mapped[str | None] = mapped_column(sa.String(64))
    errors: Mapped[dict | None] = mapped_column(sa.JSON)  # {field: [messages]}
