"""The first county administrator, created straight in the identity database:

    WENMING_ADMIN_PASSWORD=… python -m services.identity.admin create-admin --username U [--database-url URL]

Migrates the database first; exits 0 when a county_admin of that name already exists. The
password comes from the environment (or a prompt), never the command line, which every
process on the host can read. The username is normalized and the password must meet the
policy, as for accounts created over the API (contract.normalize_username,
domain.check_password).
"""

import argparse
import getpass
import os
import sys

import sqlalchemy as sa

from services.chassis.actors import COUNTY_ADMIN
from services.chassis.clock import utcnow
from services.chassis.db import Store
from services.chassis.errors import InvalidInput
from services.identity.contract import USERNAME, normalize_username
from services.identity.domain import check_password
from services.identity.migrate import upgrade
from services.identity.models import Account, Base
from services.identity.service import hash_password


def admin_username(username):
    """The normalized username, or ValueError with the reason."""
    username = normalize_username(username)
    if USERNAME.regex.match(username) is None:
        raise ValueError(USERNAME.error)
    return username


def create_admin(store, username, password):
    """Create the first county admin; True if created, False if it already exists."""
    username = admin_username(username)
    with store.unit_of_work() as uow:
        role = uow.session.scalars(sa.select(Account.role).where(Account.username == username)).first()
        if role is not None:
            if role != COUNTY_ADMIN:
                raise SystemExit(f"account {username!r} exists with role {role}")
            return False
        uow.session.add(
            Account(
                username=username,
                password_hash=hash_password(password),
                role=COUNTY_ADMIN,
                display_name="县级管理员",
                active=True,
                created_at=utcnow(),
            )
        )
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m services.identity.admin")
    commands = parser.add_subparsers(dest="command", required=True)
    admin = commands.add_parser("create-admin", help="create the first county_admin (idempotent)")
    admin.add_argument("--username", required=True)
    admin.add_argument(
        "--database-url", default=os.environ.get("IDENTITY_DATABASE_URL") or os.environ.get("DATABASE_URL")
    )
    args = parser.parse_args(argv)
    password = os.environ.get("WENMING_ADMIN_PASSWORD")
    if not password and sys.stdin.isatty():
        password = getpass.getpass("password of the county admin: ")
    if not args.database_url or not password:
        parser.error("--database-url (or IDENTITY_DATABASE_URL) and WENMING_ADMIN_PASSWORD are required")
    try:
        username = admin_username(args.username)
        check_password(password, username, "县级管理员")
    except ValueError as reason:
        parser.error(f"--username: {reason}")
    except InvalidInput as refused:
        parser.error(f"{refused.code}: {' '.join(refused.fields['password'])}")
    upgrade(args.database_url)
    store = Store(args.database_url, Base.metadata, source="identity")
    try:
        created = create_admin(store, username, password)
    finally:
        store.dispose()
    print(f"county_admin {username!r} {'created' if created else 'already exists'}")


if __name__ == "__main__":
    sys.exit(main())
