"""The identity service: accounts, password hashing and the signing of access tokens.

Entrypoints only; who may create whom and the password policy are in domain.py, the login
limits in logins.py, the keys in keys.py. The gateway
verifies tokens with the public keys `public_keys()` returns and holds no secret.
The contract is docs/identity-rpc.md.
"""

import time
from datetime import UTC

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventlet import tpool
from nameko.extensions import DependencyProvider

from services.chassis.actors import load_actor
from services.chassis.clock import utcnow
from services.chassis.config import setting
from services.chassis.db import Conflicts, Database
from services.chassis.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, RateLimited
from services.chassis.observability import Observability
from services.chassis.rpc import TimedServiceRpc, command, rpc
from services.chassis.schemas import load
from services.identity import domain
from services.identity.contract import SERVICE, AccountCreateSchema, AccountSchema, TokenRequestSchema
from services.identity.keys import SigningKeys, issue_token
from services.identity.logins import HashingGate, LoginGuard
from services.identity.models import Account, Base

HASHER = PasswordHasher()  # argon2id, RFC 9106 low-memory profile
# verified when the username is unknown, so that the response time does not reveal it
_DUMMY_HASH = HASHER.hash("no such account")

CONFLICTS = Conflicts(
    unique={
        "uq_accounts_username": Conflict("account.username_taken", "用户名已被使用", {"username": ["用户名已被使用。"]})
    }
)

_account = AccountSchema()


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


def view(account):
    created_at = account.created_at
    if created_at.tzinfo is None:  # SQLite drops the zone
        created_at = created_at.replace(tzinfo=UTC)
    return _account.dump(
        {
            "id": str(account.id),
            "username": account.username,
            "role": account.role,
            "scope_center_id": account.scope_center_id,
            "display_name": account.display_name,
            "active": account.active,
            "created_at": created_at,
        }
    )


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
        credentials = load(TokenRequestSchema(), data)  # the username normalized
        username, address = credentials["username"], str(client_address)
        logins = self.credentials.logins
        wait = logins.retry_after(username, address)
        if wait:
            raise RateLimited("auth.too_many_attempts", f"登录失败次数过多，请 {wait} 秒后再试", retry_after=wait)
        with self.credentials.hashing.login():  # or RateLimited auth.busy at once
            with self.db.read() as session:  # a Row, not an entity: read sessions expire entities on exit
                account = session.execute(
                    sa.select(
                        Account.id, Account.password_hash, Account.role, Account.scope_center_id, Account.active
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
            self.credentials.keys, account.id, account.role, account.scope_center_id, ttl, int(time.time())
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
        values = load(AccountCreateSchema(), data)
        scope = values["scope_center_id"]
        within = None
        if scope is not None:  # asked of the centers service, which owns the tree
            within = self._is_within(scope, domain.scope_root(creator, scope))
        domain.check_may_create(creator, values["role"], scope, within)
        domain.check_password(values["password"], values["username"], values["display_name"])
        with self.credentials.hashing.slot():
            password_hash = off_hub(hash_password, values["password"])
        with self.db.unit_of_work() as uow:
            account = Account(
                username=values["username"],
                password_hash=password_hash,
                role=values["role"],
                scope_center_id=scope,
                display_name=values["display_name"],
                active=True,
                created_at=utcnow(),
                created_by=int(creator.account_id) if creator.account_id.isdigit() else None,
            )
            uow.session.add(account)
            uow.flush()
            return view(account)

    def _is_within(self, center_id, root_id):
        try:
            return self.centers.is_within(center_id, root_id)
        except NotFound:
            raise InvalidInput("center.unknown", "中心不存在", {"scope_center_id": ["中心不存在。"]}) from None

    @rpc
    def public_keys(self):
        """The keys that verify this service's tokens (JWKs), the signing key's first."""
        return self.credentials.keys.jwks()
