"""The keys that sign access tokens (Ed25519) and the public keys that verify them.

The private key comes from IDENTITY_SIGNING_KEY (PEM, PKCS#8) or the file named by
IDENTITY_SIGNING_KEY_FILE; older public keys still trusted during a rotation from
IDENTITY_PREVIOUS_PUBLIC_KEYS (PEM public keys, concatenated). Every key has an id (`kid`):
the first 16 characters of the base64url SHA-256 of the raw public key, so every process
derives the same id from the same key. Rotation: docs/identity-rpc.md.
"""

import base64
import hashlib
import re
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.identity.contract import TOKEN_ALGORITHM, TOKEN_AUDIENCE, TOKEN_ISSUER

PEM_PUBLIC_KEY = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.S)


class SigningKeyError(RuntimeError):
    """The configured key cannot be used; the service refuses to start."""


def _b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _raw(public_key):
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key):
    return _b64url(hashlib.sha256(_raw(public_key)).digest())[:16]


def jwk(public_key):
    return {"kid": key_id(public_key), "kty": "OKP", "crv": "Ed25519", "x": _b64url(_raw(public_key))}


def new_private_pem():
    """A fresh key, as PKCS#8 PEM (for a first run; production keeps its key in a secret store)."""
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )


class SigningKeys:
    def __init__(self, private_pem, previous_public_pems=""):
        try:
            self.private_key = serialization.load_pem_private_key(private_pem.encode(), password=None)
        except (ValueError, TypeError) as exc:
            raise SigningKeyError(f"IDENTITY_SIGNING_KEY is not a PEM private key: {exc}") from None
        if not isinstance(self.private_key, Ed25519PrivateKey):
            raise SigningKeyError("IDENTITY_SIGNING_KEY must be an Ed25519 key")
        self.kid = key_id(self.private_key.public_key())
        previous = [
            serialization.load_pem_public_key(pem.encode()) for pem in PEM_PUBLIC_KEY.findall(previous_public_pems)
        ]
        self.public_keys = [self.private_key.public_key(), *previous]

    def jwks(self):
        return [jwk(key) for key in self.public_keys]


def issue_token(keys, account_id, role, scope_center_id, ttl_seconds, now, version=1, jti=None):
    """A signed access token (`now`: epoch seconds) with the key id in its header; `version`
    is the account's (`ver`: a token older than its account is refused), `jti` its own id
    (a logout revokes it), a fresh one unless given."""
    claims = {
        "iss": TOKEN_ISSUER,
        "aud": TOKEN_AUDIENCE,
        "iat": now,
        "exp": now + ttl_seconds,
        "sub": str(account_id),
        "role": role,
        "scope": scope_center_id,
        "ver": version,
        "jti": jti or uuid.uuid4().hex,
    }
    return jwt.encode(claims, keys.private_key, algorithm=TOKEN_ALGORITHM, headers={"kid": keys.kid})


def read_token(keys, token):
    """The claims of a token these keys signed (expired or not), or None when they did not
    sign it or it is malformed."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = next((k for k in keys.public_keys if key_id(k) == kid), None)
        if key is None:
            return None
        claims = jwt.decode(
            token,
            key,
            algorithms=[TOKEN_ALGORITHM],
            audience=TOKEN_AUDIENCE,
            issuer=TOKEN_ISSUER,
            options={"require": ["exp", "sub", "jti"], "verify_exp": False},
        )
    except jwt.InvalidTokenError:
        return None
    if not isinstance(claims["jti"], str) or not 0 < len(claims["jti"]) <= 64 or not isinstance(claims["exp"], int):
        return None
    return claims
