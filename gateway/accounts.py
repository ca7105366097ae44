"""Accounts: passwords (argon2id), tokens, who may create whom, and the command that
creates the first county admin:

    python -m gateway.accounts create-admin --username U --password P [--database-url URL]
"""

import argparse
import os
import sys
from datetime import UTC

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventlet import tpool
from sqlalchemy.exc import IntegrityError

from services.chassis.actors import CENTER_ADMIN, COUNTY_ADMIN
from services.chassis.errors import Conflict, InvalidInput

from .models import Account
from .problems import Problem, forbidden, unauthorized

PASSWORD_MIN_LENGTH = 10
HASHER = PasswordHasher()  # argon2id, RFC 9106 low-memory profile
# verified when the username is unknown, so that the response time does not reveal it
_DUMMY_HASH = HASHER.hash("no such account")


def hash_password(password):
    return HASHER.hash(password)


def password_matches(password_hash, password):
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _off_hub(fn, *args):
    """argon2 takes tens of milliseconds of CPU: run it in a real thread, not on the hub."""
    return tpool.execute(fn, *args)


def view(account):
    return {
        "id": str(account.id),
        "username": account.username,
        "role": account.role,
        "scope_center_id": account.scope_center_id,
        "display_name": account.display_name,
        "active": account.active,
        "created_at": _utc(account.created_at).isoformat(),
    }


def _utc(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite drops the zone


def issue_token(db, tokens, limiter, credentials, client_ip):
    key = (credentials["username"], client_ip)
    wait = limiter.retry_after(key)
    if wait:
        raise Problem(
            429, "auth.too_many_attempts", f"登录失败次数过多，请 {wait} 秒后再试", headers={"Retry-After": str(wait)}
        )
    with db.read() as session:  # a Row, not an entity: read sessions expire entities on exit
        account = session.execute(
            sa.select(Account.id, Account.password_hash, Account.role, Account.scope_center_id, Account.active).where(
                Account.username == credentials["username"]
            )
        ).first()
    stored_hash = account.password_hash if account is not None else _DUMMY_HASH
    matches = _off_hub(password_matches, stored_hash, credentials["password"])
    if account is None or not matches or not account.active:
        limiter.hit(key)
        raise unauthorized("auth.invalid_credentials", "用户名或密码错误", token_sent=False)
    return {
        "access_token": tokens.issue(account.id, account.role, account.scope_center_id),
        "token_type": "Bearer",
        "expires_in": tokens.ttl_seconds,
    }


def current(db, principal):
    account_id = int(principal.account_id) if principal.account_id.isdigit() else None
    with db.read() as session:
        account = session.get(Account, account_id) if account_id is not None else None
        if account is None or not account.active:
            raise unauthorized("auth.account_inactive", "账号不存在或已停用")
        return view(account)


def check_may_create(creator, role, scope_center_id, within):
    """County admins create anyone; a center admin creates non-admins, or center admins
    scoped inside its own subtree; a scope given by a center admin must lie in its subtree.
    `within`: whether `scope_center_id` lies in the creator's subtree (None without a scope),
    as the centers service answered it."""
    if role == CENTER_ADMIN and scope_center_id is None:
        raise InvalidInput(
            "account.scope_required",
            "中心管理员必须指定所辖中心",
            {"scope_center_id": ["中心管理员必须指定所辖中心。"]},
        )
    if creator.role == COUNTY_ADMIN:
        return
    if creator.role != CENTER_ADMIN or role == COUNTY_ADMIN:
        raise forbidden("无权创建该角色的账号", code="account.role_forbidden")
    if scope_center_id is not None and not within:
        raise forbidden("所指定的中心不在您的管辖范围内", code="account.scope_forbidden")


def create(db, data, created_by=None):
    account = Account(
        username=data["username"],
        password_hash=_off_hub(hash_password, data["password"]),
        role=data["role"],
        scope_center_id=data.get("scope_center_id"),
        display_name=data["display_name"],
        active=True,
        created_by=int(created_by) if created_by is not None else None,
    )
    try:
        with db.unit_of_work() as uow:
            uow.session.add(account)
    except IntegrityError:
        raise Conflict("account.username_taken", "用户名已被使用", {"username": ["用户名已被使用。"]}) from None
    return view(account)


def create_admin(store, username, password):
    """Create the first county admin; True if created, False if it already exists."""
    with store.read() as session:
        role = session.scalars(sa.select(Account.role).where(Account.username == username)).first()
    if role is not None:
        if role != COUNTY_ADMIN:
            raise SystemExit(f"account {username!r} exists with role {role}")
        return False
    create(store, {"username": username, "password": password, "role": COUNTY_ADMIN, "display_name": "县级管理员"})
    return True


def main(argv=None):
    from services.chassis.db import Store

    from .migrate import upgrade
    from .models import Base

    parser = argparse.ArgumentParser(prog="python -m gateway.accounts")
    commands = parser.add_subparsers(dest="command", required=True)
    admin = commands.add_parser("create-admin", help="create the first county_admin (idempotent)")
    admin.add_argument("--username", required=True)
    admin.add_argument(
        "--password",
        default=os.environ.get("WENMING_ADMIN_PASSWORD"),
        help="or the WENMING_ADMIN_PASSWORD environment variable",
    )
    admin.add_argument(
        "--database-url", default=os.environ.get("GATEWAY_DATABASE_URL") or os.environ.get("DATABASE_URL")
    )
    args = parser.parse_args(argv)
    if not args.database_url or not args.password:
        parser.error("--database-url (or GATEWAY_DATABASE_URL) and --password are required")
    if len(args.password) < PASSWORD_MIN_LENGTH:
        parser.error(f"the password must have at least {PASSWORD_MIN_LENGTH} characters")
    upgrade(args.database_url)
    store = Store(args.database_url, Base.metadata, source="gateway")
    try:
        created = create_admin(store, args.username, args.password)
    finally:
        store.dispose()
    print(f"county_admin {args.username!r} {'created' if created else 'already exists'}")


if __name__ == "__main__":
    sys.exit(main())
