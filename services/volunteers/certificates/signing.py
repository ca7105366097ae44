"""The signatures that make a certificate verifiable by anyone: Ed25519 over its canonical JSON.

- Canonical form: the `certificate` object as UTF-8 JSON with sorted keys, no whitespace and
  no escaping of non-ASCII characters (`canonical`). Every value in it is a string, an
  integer, a list or an object (hours are decimal strings such as "12.50"), so any JSON
  library reproduces the bytes.
- Signature: Ed25519 (RFC 8032) over those bytes, sent as base64url without padding.
- Key id: the first 16 characters of the base64url SHA-256 of the raw public key, so that
  every process derives the same id; a certificate names its key in `key_id` (signed).

Keys come from the service's configuration (`keyring_from_settings`):
  VOLUNTEERS_CERTIFICATE_KEY        the private key, PEM (PKCS#8), or
  VOLUNTEERS_CERTIFICATE_KEY_FILE   the file holding it;
  VOLUNTEERS_CERTIFICATE_PREVIOUS_KEYS  PEM public keys (concatenated) of earlier keys, whose
                                    certificates stay verifiable after a rotation.
A key: `openssl genpkey -algorithm ed25519`.
"""

import base64
import binascii
import hashlib
import json
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_VARIABLE = "VOLUNTEERS_CERTIFICATE_KEY"
KEY_FILE_VARIABLE = "VOLUNTEERS_CERTIFICATE_KEY_FILE"
PREVIOUS_KEYS_VARIABLE = "VOLUNTEERS_CERTIFICATE_PREVIOUS_KEYS"
ALGORITHM = "Ed25519"
SIGNATURE_BYTES = 64
PEM_PUBLIC_KEY = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.S)
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


class KeyConfigurationError(ValueError):
    """The configured keys cannot be used; the service refuses to start. Messages never show key material."""


def canonical(content):
    """The bytes a signature covers: `content` as sorted, compact, UTF-8 JSON."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def from_b64url(text):
    """The bytes of a base64url text (padding optional), or None when it is not base64url."""
    if not isinstance(text, str) or not _BASE64URL.fullmatch(text.rstrip("=")):
        return None
    try:
        return base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        return None


def _raw(public_key):
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key):
    return b64url(hashlib.sha256(_raw(public_key)).digest())[:16]


def public_jwk(public_key):
    """The public key as a JWK (RFC 8037): what a third party verifies with."""
    return {"kid": key_id(public_key), "kty": "OKP", "crv": ALGORITHM, "alg": "EdDSA", "x": b64url(_raw(public_key))}


class KeyRing:
    """The current private key, which signs, and every public key that still verifies."""

    def __init__(self, private_key, previous_public_keys=()):
        self._private_key = private_key
        self.current_key_id = key_id(private_key.public_key())
        self._public_keys = {self.current_key_id: private_key.public_key()}
        for public_key in previous_public_keys:
            self._public_keys.setdefault(key_id(public_key), public_key)

    def sign(self, content):
        """The base64url signature of `content` under the current key."""
        return b64url(self._private_key.sign(canonical(content)))

    def knows(self, kid):
        return isinstance(kid, str) and kid in self._public_keys

    def verifies(self, content, signature, kid):
        """Whether `signature` (base64url) is the signature of `content` under key `kid`."""
        raw = from_b64url(signature)
        if not self.knows(kid) or raw is None or len(raw) != SIGNATURE_BYTES:
            return False
        try:
            self._public_keys[kid].verify(raw, canonical(content))
        except InvalidSignature:
            return False
        return True

    def jwks(self):
        """Every verifying key, the current one first."""
        return [public_jwk(key) for key in self._public_keys.values()]


def keyring_from_settings(private_pem, key_file, previous_pems):
    """The KeyRing of the configured values (see the module's docstring); KeyConfigurationError
    when no key is set, or a key is not an Ed25519 key in PEM."""
    if not private_pem and key_file:
        try:
            with open(key_file, encoding="ascii") as handle:
                private_pem = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyConfigurationError(f"{KEY_FILE_VARIABLE}: cannot read {key_file}: {exc.strerror or exc}") from None
    if not private_pem:
        raise KeyConfigurationError(
            f"{KEY_VARIABLE} or {KEY_FILE_VARIABLE} must be set: the volunteers service signs certificates with it "
            "(a key: `openssl genpkey -algorithm ed25519`)"
        )
    try:
        private_key = serialization.load_pem_private_key(private_pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError):
        raise KeyConfigurationError(f"{KEY_VARIABLE} is not a PEM private key without a password") from None
    if not isinstance(private_key, Ed25519PrivateKey):
        raise KeyConfigurationError(f"{KEY_VARIABLE} must be an Ed25519 key")
    previous = []
    for pem in PEM_PUBLIC_KEY.findall(previous_pems or ""):
        try:
            public_key = serialization.load_pem_public_key(pem.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise KeyConfigurationError(f"{PREVIOUS_KEYS_VARIABLE} holds a malformed public key") from None
        if not isinstance(public_key, Ed25519PublicKey):
            raise KeyConfigurationError(f"{PREVIOUS_KEYS_VARIABLE} may hold Ed25519 keys only")
        previous.append(public_key)
    if (previous_pems or "").strip() and not previous:
        raise KeyConfigurationError(f"{PREVIOUS_KEYS_VARIABLE} holds no PEM public key")
    return KeyRing(private_key, previous)
