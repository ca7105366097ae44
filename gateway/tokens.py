"""Verifying access tokens with the identity service's public keys (Ed25519, by `kid`), and
a bounded cache of verified tokens, so that the read path pays for a dict lookup instead of
a signature check on every request. The gateway holds no signing key: a token minted with
any key the identity service did not publish is refused.

With an account model (gateway/accounts_model.py), every use of a token, cached or not, is
also checked against what the gateway knows of its account: still active, still the role
and scope of the token (`ver`, the account's version when the token was issued), and the
token not revoked (`jti`). Such a verifier requires both claims."""

import math
import time
from collections import OrderedDict

import jwt

from services.chassis.actors import ROLES, Actor
from services.chassis.errors import ServiceUnavailable
from services.chassis.schemas import MAX_ID
from services.identity.contract import TOKEN_ALGORITHM, TOKEN_AUDIENCE, TOKEN_ISSUER, public_key_from_jwk

from .problems import unauthorized


class TokenVerifier:
    def __init__(self, cache_size=10_000, clock=time.time, accounts=None):
        self._keys = {}  # kid -> Ed25519 public key
        self._jwks = None  # as last published
        self._cache = OrderedDict()  # token -> (Actor, exp, ver, jti)
        self.accounts = accounts  # an AccountModel, or None: signature and claims only
        self._cache_size = cache_size
        self._clock = clock
        self._keys_fetched_at = None

    @property
    def ready(self):
        """Whether keys have been fetched at least once."""
        return self._jwks is not None

    def refresh_due(self, every_seconds):
        return self._keys_fetched_at is None or self._clock() - self._keys_fetched_at >= every_seconds

    def use_keys(self, jwks):
        """Trust exactly these keys (from identity's `public_keys()`); a token signed by a key
        no longer published stops verifying, cached or not."""
        if jwks != self._jwks:
            self._keys = {data["kid"]: public_key_from_jwk(data) for data in jwks}
            self._jwks = jwks
            self._cache.clear()
        self._keys_fetched_at = self._clock()

    def verify(self, token):
        """The Actor a token stands for; a Problem(401) when it is invalid or expired."""
        cached = self._cache.get(token)
        now = self._clock()
        if cached is not None:
            actor, exp, version, jti = cached
            if now >= exp:
                del self._cache[token]
                raise unauthorized("auth.token_expired", "令牌已过期，请重新登录")
            self._cache.move_to_end(token)
        else:
            actor, exp, version, jti = self._decode(token)
            self._cache[token] = (actor, exp, version, jti)
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        if self.accounts is not None:
            self.accounts.check(actor.account_id, actor.role, actor.scope_center_id, version, jti)
        return actor

    def issued(self, token):
        """The account state a token the identity service just issued stands for (it was
        active, with the token's role and scope, at the token's version), so that the replica
        that served the login knows the account before its event arrives; None if the token
        does not verify."""
        try:
            actor, _, version, _ = self._decode(token)
        except Exception:  # not ours to judge here: the token is refused when used
            return None
        return {
            "id": actor.account_id,
            "version": version,
            "active": True,
            "role": actor.role,
            "scope_center_id": actor.scope_center_id,
        }

    def _decode(self, token):
        if not self._keys:
            raise ServiceUnavailable("auth.keys_unavailable", "暂时无法验证令牌（尚未取得身份服务的公钥），请稍后重试")
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self._keys.get(kid) if isinstance(kid, str) else None
            if key is None:
                raise jwt.InvalidTokenError("unknown key id")
            claims = jwt.decode(
                token,
                key,
                algorithms=[TOKEN_ALGORITHM],  # an allow-list: never let the token pick its algorithm
                audience=TOKEN_AUDIENCE,
                issuer=TOKEN_ISSUER,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise unauthorized("auth.token_expired", "令牌已过期，请重新登录") from None
        except jwt.InvalidTokenError:
            raise unauthorized("auth.token_invalid", "令牌无效") from None
        if not _well_typed(claims) or (self.accounts is not None and not _traceable(claims)):
            raise unauthorized("auth.token_invalid", "令牌无效")
        actor = Actor(claims["sub"], claims["role"], claims.get("scope"))
        return actor, claims["exp"], claims.get("ver"), claims.get("jti")


def _well_typed(claims):
    """The claims the gateway relies on have the types it relies on: a signature proves who
    wrote a token, not that its writer (a bug, an old version) wrote it well."""
    exp, sub, scope = claims["exp"], claims["sub"], claims.get("scope")
    return (
        _is_number(exp)
        and math.isfinite(exp)
        and isinstance(sub, str)
        and 0 < len(sub) <= 64
        and isinstance(claims.get("role"), str)
        and claims["role"] in ROLES
        and (scope is None or (_is_number(scope) and type(scope) is int and 1 <= scope <= MAX_ID))
    )


def _traceable(claims):
    """The claims that tie a token to its account's state (`ver`) and name it for a logout
    (`jti`) are there, with their types."""
    version, jti = claims.get("ver"), claims.get("jti")
    return type(version) is int and 1 <= version <= 2**31 - 1 and isinstance(jti, str) and 0 < len(jti) <= 64


def _is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)
