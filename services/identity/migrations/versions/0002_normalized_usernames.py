"""Usernames are stored normalized (NFKC, case-folded), as the service now compares them.

Before, `CA1` could be created beside `ca1`, and `admin\\n` beside `admin`. Each existing
name becomes its normalized form (control and invisible characters and surrounding
whitespace removed first). When several accounts fall on one name, the oldest (lowest id)
keeps it; every other is renamed `<name>~<id>` (a name the API cannot create) and
deactivated, and a warning names it: an administrator decides what becomes of it. The
normalization is copied here, not imported, so that this revision keeps its meaning.

Downgrade leaves the names as they are: the original spellings are not kept.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

import logging
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MAX_LENGTH = 64
log = logging.getLogger(__name__)

accounts = sa.table(
    "accounts", sa.column("id", sa.BigInteger), sa.column("username", sa.String), sa.column("active", sa.Boolean)
)


def normalized(username):
    visible = "".join(char for char in username if not unicodedata.category(char).startswith("C"))
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", visible).strip().casefold())
    return folded[:MAX_LENGTH]


def renamed(name, account_id):
    suffix = f"~{account_id}"
    return name[: MAX_LENGTH - len(suffix)] + suffix


def upgrade():
    connection = op.get_bind()
    rows = connection.execute(sa.select(accounts.c.id, accounts.c.username).order_by(accounts.c.id)).all()
    new_names, deactivate = {}, []
    taken = set()
    for account_id, username in rows:
        name = normalized(username) or renamed("account", account_id)
        if name in taken:
            while name in taken:
                name = renamed(name, account_id)
            deactivate.append(account_id)
            log.warning("account %s (%r) is renamed %r and deactivated: its name is taken", account_id, username, name)
        taken.add(name)
        if name != username:
            new_names[account_id] = name
    # two steps, so that no intermediate state breaks the unique constraint
    for account_id in new_names:
        connection.execute(
            sa.update(accounts).where(accounts.c.id == account_id).values(username=renamed("~migrating", account_id))
        )
    for account_id, name in new_names.items():
        connection.execute(sa.update(accounts).where(accounts.c.id == account_id).values(username=name))
    if deactivate:
        connection.execute(sa.update(accounts).where(accounts.c.id.in_(deactivate)).values(active=False))


def downgrade():
    pass
