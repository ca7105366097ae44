"""The identity service: accounts, password hashing and the signing of access tokens.

Entrypoints only; who may create whom and the password policy are in domain.py, the login
limits in logins.py, the keys in keys.py. The gateway
verifies tokens with the public keys `public_keys()` returns and holds no secret.
The contract is docs/identity-rpc.md.
"""

import json
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventlet import tpool
from nameko.extensions import DependencyProvider

from services.chassis.actors import ADMIN_ROLES, CENTER_ADMIN, VOLUNTEER, Actor, load_actor
from services.chassis.clock import utcnow
from services.chassis.config import setting
from services.chassis.context import REQUEST_ID
from services.chassis.db import Conflicts, Database
from services.chassis.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, PermissionDenied, RateLimited
from services.chassis.observability import Observability, current_context
from services.chassis.rpc import TimedServiceRpc, command, rpc
from services.chassis.schemas import load, load_id
from services.identity import domain
from services.identity.contract import (
    ACCOUNT_CHANGED,
    SERVICE,
    TOKEN_REVOKED,
    AccountChangeSchema,
    AccountCreateSchema,
    AccountSchema,
    AuditEntrySchema,
    DeactivationSchema,
    NewAccountSchema,
    ReactivationSchema,
    TokenRequestSchema,
    account_state,
)
from services.identity.keys import SigningKeys, issue_token, read_token
from services.identity.logins import HashingGate, LoginGuard
from services.identity.models import Account, AccountAudit, Base, RevokedToken

HASHER = PasswordHasher()  # argon2id, RFC 9106 low-memory profile
# verified when the username is unknown, so that the response time does not reveal it
_DUMMY_HASH = HASHER.hash("no such account")

CONFLICTS = Conflicts(
    unique={
        "uq_accounts_username": Conflict("account.username_taken", "用户名已被使用", {"username": ["用户名已被使用。"]})
    }
)

_account = AccountSchema()
_audit = AuditEntrySchema()

SNAPSHOT_PAGE_LIMIT = 1000  # accounts (or revoked tokens) per snapshot page: one reply stays small
AUDIT_LIMIT = 500  # the newest audit rows `account_audit` returns


# who creates the account of a self sign-up, in its audit
SELF_SIGN_UP = Actor("self-sign-up", VOLUNTEER)


def hash_password(password):
    return HASHER.hash(password)


def password_matches(password_hash, password):
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def off_hub(fn, *args):
    """argon2 takes tens of milliseconds of CPU: run it in a real thread, not on the hub."""
    return tpool.execute(fn, *args)


def _aware(moment):
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment  # SQLite drops the zone


def view(account):
    created_at = _aware(account.created_at)
    return _account.dump(
        {
            "id": str(account.id),
            "username": account.username,
            "role": account.role,
            "scope_center_id": account.scope_center_id,
            "display_name": account.display_name,
            "active": account.active,
            "created_at": created_at,
            "version": account.version,
        }
    )


def state_of(account):
    return account_state(account.id, account.version, account.active, account.role, account.scope_center_id)


def audit_view(row):
    return _audit.dump(
        {
            "id": row.id,
            "account_id": str(row.account_id),
            "action": row.action,
            "actor_account_id": row.actor_account_id,
            "actor_role": row.actor_role,
            "reason": row.reason,
            "changes": json.loads(row.changes),
            "version": row.version,
            "at": _aware(row.at),
        }
    )


def record(uow, account, action, actor, changes, reason=None):
    """The audit row of a change to `account` and, when it changes what a token check needs,
    its `account.changed` event: both in the change's own transaction."""
    uow.session.add(
        AccountAudit(
            account_id=account.id,
            action=action,
            actor_account_id=actor.account_id,
            actor_role=actor.role,
            reason=reason,
            changes=json.dumps(changes, ensure_ascii=False),
            version=account.version,
            request_id=current_context().get(REQUEST_ID),
            at=utcnow(),
        )
    )
    if action != "logged_out":
        uow.emit(ACCOUNT_CHANGED, subject=str(account.id), data=state_of(account))


def signing_keys_from_config():
    pem = setting("IDENTITY_SIGNING_KEY")
    path = setting("IDENTITY_SIGNING_KEY_FILE")
    if not pem and path:
        with open(path, encoding="ascii") as key_file:
            pem = key_file.read()
    if not pem:
        raise RuntimeError("IDENTITY_SIGNING_KEY or IDENTITY_SIGNING_KEY_FILE must be set")
    return SigningKeys(pem, setting("IDENTITY_PREVIOUS_PUBLIC_KEYS", ""))


class Credentials(DependencyProvider):
    """What every worker of one process shares: the signing keys, the login limits and the
    bound on password hashing (docs/identity-rpc.md, "Logins")."""

    def setup(self):
        self.keys = signing_keys_from_config()
        self.ttl_seconds = int(setting("TOKEN_TTL_SECONDS", 3600))
        self.logins = LoginGuard()
        self.hashing = HashingGate(int(setting("LOGIN_CONCURRENCY", 1)), int(setting("LOGIN_QUEUE", 4)))

    def get_dependency(self, worker_ctx):
        return self


class IdentityService:
    name = SERVICE

    db = Database(Base, CONFLICTS)
    centers = TimedServiceRpc("centers")
    credentials = Credentials()
    observability = Observability()

    @rpc
    def issue_token(self, data, client_address):
        credentials = load(TokenRequestSchema, data)  # the username normalized
        username, address = credentials["username"], str(client_address)
        logins = self.credentials.logins
        wait = logins.retry_after(username, address)
        if wait:
            raise RateLimited("auth.too_many_attempts", f"登录失败次数过多，请 {wait} 秒后再试", retry_after=wait)
        with self.credentials.hashing.login():  # or RateLimited auth.busy at once
            with self.db.read() as session:  # a Row, not an entity: read sessions expire entities on exit
                account = session.execute(
                    sa.select(
                        Account.id,
                        Account.password_hash,
                        Account.role,
                        Account.scope_center_id,
                        Account.active,
                        Account.version,
                    ).where(Account.username == username)
                ).first()
            stored_hash = account.password_hash if account is not None else _DUMMY_HASH
            matches = off_hub(password_matches, stored_hash, credentials["password"])
        if account is None or not matches or not account.active:
            logins.failed(username, address)
            raise NotAuthenticated("auth.invalid_credentials", "用户名或密码错误")
        logins.succeeded(username, address)
        return self._token(account)

    def _token(self, account):
        ttl = self.credentials.ttl_seconds
        token = issue_token(
            self.credentials.keys,
            account.id,
            account.role,
            account.scope_center_id,
            ttl,
            int(time.time()),
            version=account.version,
        )
        return {"access_token": token, "token_type": "Bearer", "expires_in": ttl}

    @rpc
    def current_account(self, account_id):
        with self.db.read() as session:
            account = session.get(Account, int(account_id)) if str(account_id).isdigit() else None
            if account is None or not account.active:
                raise NotAuthenticated("auth.account_inactive", "账号不存在或已停用")
            return view(account)

    @command
    def create_account(self, data, actor):
        creator = load_actor(actor)
        values = load(AccountCreateSchema, data)
        scope = values["scope_center_id"]
        within = None
        if scope is not None:  # asked of the centers service, which owns the tree
            within = self._is_within(scope, domain.scope_root(creator, scope))
        domain.check_may_create(creator, values["role"], scope, within)
        return self._create(values, creator)

    @command
    def sign_up_volunteer(self, data):
        """A person's own account, role volunteer, no scope: the first step of a volunteer's
        self-registration (the gateway then registers the volunteer with this account)."""
        values = {**load(NewAccountSchema, data), "role": VOLUNTEER, "scope_center_id": None}
        return self._create(values, SELF_SIGN_UP)

    def _create(self, values, creator):
        domain.check_password(values["password"], values["username"], values["display_name"])
        with self.credentials.hashing.slot():
            password_hash = off_hub(hash_password, values["password"])
        with self.db.unit_of_work() as uow:
            account = Account(
                username=values["username"],
                password_hash=password_hash,
                role=values["role"],
                scope_center_id=values["scope_center_id"],
                display_name=values["display_name"],
                active=True,
                created_at=utcnow(),
                created_by=int(creator.account_id) if creator.account_id.isdigit() else None,
                version=1,
            )
            uow.session.add(account)
            uow.flush()
            changes = {"role": [None, account.role], "scope_center_id": [None, account.scope_center_id]}
            record(uow, account, "created", creator, {**changes, "active": [None, True]})
            return view(account)

    # -- changes that take a token's rights away at once (docs/identity-rpc.md, "Account changes")

    @command
    def deactivate_account(self, account_id, data, actor):
        actor, account_id = load_actor(actor), _account_id(account_id)
        reason = load(DeactivationSchema, data)["reason"]
        domain.check_not_self(actor, account_id)
        return self._change(actor, account_id, "deactivated", {"active": False}, reason)

    @command
    def reactivate_account(self, account_id, data, actor):
        actor, account_id = load_actor(actor), _account_id(account_id)
        reason = load(ReactivationSchema, data)["reason"]
        return self._change(actor, account_id, "reactivated", {"active": True}, reason)

    @command
    def change_account(self, account_id, data, actor):
        """A new role and/or scope (a center admin's scope is required; both within the
        actor's subtree for a center admin, who never grants county_admin)."""
        actor, account_id = load_actor(actor), _account_id(account_id)
        values = load(AccountChangeSchema, data)
        domain.check_not_self(actor, account_id)
        reason = values.pop("reason", None)
        return self._change(actor, account_id, "changed", values, reason)

    def _change(self, actor, account_id, action, wanted, reason):
        before = self._authorized(actor, account_id)
        if "role" in wanted or "scope_center_id" in wanted:
            role = wanted.get("role", before.role)
            scope = wanted.get("scope_center_id", before.scope_center_id)
            within = self._is_within(scope, domain.scope_root(actor, scope)) if scope is not None else None
            domain.check_may_create(actor, role, scope, within)
            wanted = {"role": role, "scope_center_id": scope}
        with self.db.unit_of_work() as uow:
            account = uow.session.execute(
                sa.select(Account).where(Account.id == account_id).with_for_update()
            ).scalar_one_or_none()
            if account is None:
                raise _not_found()
            if (account.role, account.scope_center_id) != (before.role, before.scope_center_id):
                # changed since the scope was checked: the check no longer holds
                raise Conflict("account.version_conflict", "账号已被他人修改，请刷新后重试")
            changes = domain.changes_of(account, wanted)
            if not changes:  # already so: nothing to record, no new version
                return view(account)
            for name, (_, value) in changes.items():
                setattr(account, name, value)
            account.version += 1
            uow.flush()
            record(uow, account, action, actor, changes, reason)
            return view(account)

    def _authorized(self, actor, account_id):
        """The account as it is (a Row), once `actor` may manage it; NotFound before that
        only for those who may manage some accounts."""
        if actor.role not in ADMIN_ROLES:
            domain.check_may_manage(actor, account_id, None, None, None)  # refused, whatever the account
        with self.db.read() as session:
            account = session.execute(
                sa.select(Account.id, Account.role, Account.scope_center_id, Account.version).where(
                    Account.id == account_id
                )
            ).first()
        if account is None:
            raise _not_found()
        within = None
        if actor.role == CENTER_ADMIN and None not in (account.scope_center_id, actor.scope_center_id):
            try:
                within = self.centers.is_within(account.scope_center_id, actor.scope_center_id)
            except NotFound:  # a scope the tree no longer has: nobody's subtree but the county's
                within = False
        domain.check_may_manage(actor, account_id, account.role, account.scope_center_id, within)
        return account

    @rpc
    def account_audit(self, account_id, actor):
        """The account's audit, newest first (at most AUDIT_LIMIT rows)."""
        actor, account_id = load_actor(actor), _account_id(account_id)
        self._authorized(actor, account_id)
        with self.db.read() as session:
            rows = session.scalars(
                sa.select(AccountAudit)
                .where(AccountAudit.account_id == account_id)
                .order_by(AccountAudit.id.desc())
                .limit(AUDIT_LIMIT)
            ).all()
            return [audit_view(row) for row in rows]

    @command
    def revoke_token(self, token, actor):
        """Logout: `token` (the caller's own, signed by this service) is refused from now until
        it expires; emits `token.revoked`. Revoking it again changes nothing."""
        actor = load_actor(actor)
        claims = read_token(self.credentials.keys, token) if isinstance(token, str) else None
        if claims is None or claims["sub"] != actor.account_id or not actor.account_id.isdigit():
            raise PermissionDenied("token.not_yours", "只能注销自己的令牌")
        expires_at = datetime.fromtimestamp(claims["exp"], UTC)
        now = utcnow()
        result = {"jti": claims["jti"], "account_id": actor.account_id, "expires_at": claims["exp"]}
        with self.db.unit_of_work() as uow:
            if uow.session.get(RevokedToken, claims["jti"]) is not None:
                return result
            uow.session.execute(sa.delete(RevokedToken).where(RevokedToken.expires_at < now))  # expired anyway
            uow.session.add(
                RevokedToken(jti=claims["jti"], account_id=int(actor.account_id), expires_at=expires_at, revoked_at=now)
            )
            account = uow.session.get(Account, int(actor.account_id))
            if account is not None:
                record(uow, account, "logged_out", actor, {})
            uow.emit(TOKEN_REVOKED, subject=claims["jti"], data=result)
            return result

    # -- what the gateway keeps of the accounts (docs/identity-rpc.md) ------------------------

    @rpc
    def accounts_snapshot(self, after_id=0, limit=SNAPSHOT_PAGE_LIMIT):
        """One page of every account's state (id, version, active, role, scope_center_id) by
        id: `next_after_id` is None on the last page, else the `after_id` of the next call."""
        after_id = 0 if after_id == 0 else load_id(after_id, "after_id")
        limit = min(load_id(limit, "limit"), SNAPSHOT_PAGE_LIMIT)
        with self.db.read() as session:
            rows = session.execute(
                sa.select(Account.id, Account.version, Account.active, Account.role, Account.scope_center_id)
                .where(Account.id > after_id)
                .order_by(Account.id)
                .limit(limit)
            ).all()
        items = [account_state(*row) for row in rows]
        return {"items": items, "next_after_id": rows[-1].id if len(rows) == limit else None}

    @rpc
    def revoked_tokens(self, after_jti="", limit=SNAPSHOT_PAGE_LIMIT):
        """One page of the tokens revoked and not yet expired, by jti (`next_after_jti`: as above)."""
        after_jti = str(after_jti)
        limit = min(load_id(limit, "limit"), SNAPSHOT_PAGE_LIMIT)
        with self.db.read() as session:
            rows = session.execute(
                sa.select(RevokedToken.jti, RevokedToken.account_id, RevokedToken.expires_at)
                .where(RevokedToken.jti > after_jti, RevokedToken.expires_at > utcnow())
                .order_by(RevokedToken.jti)
                .limit(limit)
            ).all()
        items = [
            {"jti": jti, "account_id": str(account_id), "expires_at": int(_aware(expires_at).timestamp())}
            for jti, account_id, expires_at in rows
        ]
        return {"items": items, "next_after_jti": rows[-1].jti if len(rows) == limit else None}

    def _is_within(self, center_id, root_id):
        try:
            return self.centers.is_within(center_id, root_id)
        except NotFound:
            raise InvalidInput("center.unknown", "中心不存在", {"scope_center_id": ["中心不存在。"]}) from None

    @rpc
    def account_state(self, account_id):
        """What a token check needs of one account (as in `accounts_snapshot`); NotFound."""
        with self.db.read() as session:
            account = session.get(Account, _account_id(account_id))
            if account is None:
                raise _not_found()
            return state_of(account)

    @rpc
    def public_keys(self):
        """The keys that verify this service's tokens (JWKs), the signing key's first."""
        return self.credentials.keys.jwks()


def _account_id(value):
    """An account id argument: a positive integer, or its digits (as the API shows ids)."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)
    return load_id(value, "account_id")


def _not_found():
    return NotFound("account.not_found", "账号不存在")
