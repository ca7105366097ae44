"""What the gateway keeps of every account, so that each request checks, without an RPC,
that the account behind its token is still active and still has the role and scope the
token names, and that the token was not revoked (a logout).

Filled from identity's `accounts_snapshot()` and `revoked_tokens()`, kept current by
`account.changed` and `token.revoked` events (a queue of the replica's own: every replica
gets every event) and healed by a periodic resync, like the centers read model. An account
is replaced only by a higher `version`, so order and duplicates do not matter.

A token carries the version of its account when it was issued (`ver`). Every change of
role, scope or active bumps the version, so a token older than the account it names is
refused. A newer token than the account this replica holds is accepted: the identity
service issued it after a change whose event has not arrived yet, and any later change
bumps the version past it again.
"""

import time

from services.chassis.errors import ServiceUnavailable

from .problems import unauthorized

RESYNC_SECONDS = 30


class AccountModel:
    def __init__(self, clock=time.monotonic, wall_clock=time.time, resync_seconds=RESYNC_SECONDS):
        self._accounts = {}  # id (str) -> account state dict (id, version, active, role, scope_center_id)
        self._revoked = {}  # jti -> expiry (epoch seconds)
        self._event_times = {}  # id -> clock time an event last changed it
        self._clock = clock
        self._wall_clock = wall_clock
        self._resync_seconds = resync_seconds
        self.synced_at = None  # clock time of the last complete snapshot

    def __len__(self):
        return len(self._accounts)

    @property
    def ready(self):
        return self.synced_at is not None

    def now(self):
        """The model's clock (for `load`'s `started_at`)."""
        return self._clock()

    def resync_due(self):
        return self.synced_at is None or self._clock() - self.synced_at >= self._resync_seconds

    def get(self, account_id):
        return self._accounts.get(str(account_id))

    def apply(self, account):
        """Keep `account` (an `account.changed` data or snapshot item) unless the same or a
        newer version is held; True if kept."""
        account_id = str(account["id"])
        current = self._accounts.get(account_id)
        if current is not None and current["version"] >= account["version"]:
            return False
        self._accounts[account_id] = {
            "id": account_id,
            "version": int(account["version"]),
            "active": bool(account["active"]),
            "role": account["role"],
            "scope_center_id": account["scope_center_id"],
        }
        return True

    def revoke(self, jti, expires_at):
        if expires_at > self._wall_clock():
            self._revoked[jti] = expires_at

    def load(self, accounts, revoked, started_at=None):
        """A complete snapshot: `accounts` and the `revoked` tokens ({jti, expires_at}).
        Accounts the snapshot does not have are forgotten (deleted), unless one arrived by
        event after the snapshot began (`started_at`, clock time)."""
        seen = set()
        for account in accounts:
            self.apply(account)
            seen.add(str(account["id"]))
        for gone in set(self._accounts) - seen:
            if started_at is None or self._event_times.get(gone, float("-inf")) < started_at:
                del self._accounts[gone]
        self._event_times.clear()
        self.prune()
        for token in revoked:
            self.revoke(token["jti"], token["expires_at"])
        self.synced_at = self._clock()

    def apply_event(self, account):
        kept = self.apply(account)
        if kept:
            self._event_times[str(account["id"])] = self._clock()
        return kept

    def check(self, account_id, role, scope, version, jti):
        """Refuse (a 401 Problem) a token of an account that is unknown, deactivated, or
        changed since the token was issued, and a revoked token; a 503 before the first
        snapshot (the gateway is not ready then)."""
        if not self.ready:
            raise ServiceUnavailable("auth.accounts_unavailable", "暂时无法核对账号状态，请稍后重试")
        if jti in self._revoked:
            raise unauthorized("auth.token_revoked", "令牌已注销，请重新登录")
        account = self._accounts.get(account_id)
        if account is None or not account["active"]:
            raise unauthorized("auth.account_inactive", "账号不存在或已停用")
        if version < account["version"] or (
            version == account["version"] and (role, scope) != (account["role"], account["scope_center_id"])
        ):
            raise unauthorized("auth.token_stale", "账号的角色或管辖范围已变更，请重新登录")

    def prune(self):
        """Forget revoked tokens that have expired anyway."""
        now = self._wall_clock()
        self._revoked = {jti: exp for jti, exp in self._revoked.items() if exp > now}
