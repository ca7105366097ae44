"""JWT access tokens (HS256) and a bounded cache of verified tokens, so that the read path
pays for a dict lookup instead of an HMAC and claim checks on every request."""

import secrets
import time
from collections import OrderedDict

import jwt

from services.chassis.actors import ROLES, Actor

from .problems import unauthorized

ISSUER = "wenming"
AUDIENCE = "wenming-api"
ALGORITHMS = ["HS256"]  # an allow-list: never let the token pick its algorithm
MIN_SECRET_BYTES = 32


class ConfigError(RuntimeError):
    pass


def check_secret(secret, demo=False):
    """The signing key to use: the configured one when strong enough; a random per-process
    key in demo mode; otherwise refuse to start."""
    if secret and len(secret.encode()) >= MIN_SECRET_BYTES:
        return secret
    if demo:
        return secrets.token_urlsafe(48)
    raise ConfigError(f"JWT_SECRET must be set to at least {MIN_SECRET_BYTES} bytes (or GATEWAY_DEMO=true)")


class Tokens:
    def __init__(self, secret, ttl_seconds=3600, cache_size=10_000, clock=time.time):
        self._secret = secret
        self.ttl_seconds = int(ttl_seconds)
        self._cache = OrderedDict()  # token -> (Actor, exp)
        self._cache_size = cache_size
        self._clock = clock

    def issue(self, account_id, role, scope_center_id):
        now = int(self._clock())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + self.ttl_seconds,
            "sub": str(account_id),
            "role": role,
            "scope": scope_center_id,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHMS[0])

    def verify(self, token):
        """The Actor a token stands for; a Problem(401) when it is invalid or expired."""
        cached = self._cache.get(token)
        now = self._clock()
        if cached is not None:
            principal, exp = cached
            if now < exp:
                self._cache.move_to_end(token)
                return principal
            del self._cache[token]
            raise unauthorized("auth.token_expired", "令牌已过期，请重新登录")
        principal, exp = self._decode(token)
        self._cache[token] = (principal, exp)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return principal

    def _decode(self, token):
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=ALGORITHMS,
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise unauthorized("auth.token_expired", "令牌已过期，请重新登录") from None
        except jwt.InvalidTokenError:
            raise unauthorized("auth.token_invalid", "令牌无效") from None
        scope = claims.get("scope")
        if claims.get("role") not in ROLES or not (scope is None or isinstance(scope, int)):
            raise unauthorized("auth.token_invalid", "令牌无效")
        return Actor(claims["sub"], claims["role"], scope), claims["exp"]
