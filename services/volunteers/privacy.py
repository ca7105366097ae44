"""Personal data at rest: ID numbers and phones are stored encrypted, found by a keyed hash.

`FieldCipher.encrypt` turns a value into a text token "v1.<key_id>.<base64url(nonce + ciphertext)>"
(AES-256-GCM, a random 12-byte nonce per value). The associated data binds the token to its
place, e.g. b"volunteer:42:id_number": a token copied into another record or field no longer
decrypts. `lookup_hash` is an HMAC-SHA256 under a separate key, stored beside the token so
that a record can be found by exact value (duplicate registration, login by phone) without
decrypting every row.

Keys come from the environment (`keys_from_environment`):
  VOLUNTEERS_DATA_KEYS="k2:<base64 of 32 bytes>,k1:<base64 of 32 bytes>"  (the first is current)
  VOLUNTEERS_LOOKUP_KEY="<base64 of at least 32 bytes>"
A key: `openssl rand -base64 32`.

Rotating the data key, without downtime:
  1. put the new key first, keep the old ones after it: "k3:<new>,k2:<old>"; every instance
     now encrypts under k3 and still decrypts tokens under k2;
  2. re-encrypt every token for which `needs_rotation(token)` is true (decrypt, encrypt, store);
  3. only when none is left, drop k2 from the list. A token under a dropped key is lost.
The lookup key cannot rotate this way: a new one means recomputing every stored hash from the
decrypted values, so keep it unless it leaks.
"""

import base64
import binascii
import hashlib
import hmac
import os
import re
from typing import NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"
DATA_KEYS_VARIABLE = "VOLUNTEERS_DATA_KEYS"
LOOKUP_KEY_VARIABLE = "VOLUNTEERS_LOOKUP_KEY"
DATA_KEY_BYTES = 32  # AES-256
MIN_LOOKUP_KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")  # no ".", the token's separator
TOKEN = re.compile(r"(v[0-9]+)\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]+)")


class KeyConfigurationError(ValueError):
    """The configured keys cannot be used; the service refuses to start. Messages never show key material."""


class UndecryptableToken(ValueError):
    """A token that cannot be decrypted: malformed, under an unknown key, or not authentic."""


class DataKeys(NamedTuple):
    """What `FieldCipher` needs: `FieldCipher(*keys_from_environment(os.environ))`."""

    keys: dict
    current_key_id: str
    lookup_key: bytes


class FieldCipher:
    def __init__(self, keys, current_key_id, lookup_key):
        """`keys` maps key ids to 32-byte keys; `current_key_id` names the one that encrypts."""
        for key_id, key in keys.items():
            _check_key_id(key_id)
            if not isinstance(key, bytes) or len(key) != DATA_KEY_BYTES:
                raise KeyConfigurationError(f"data key {key_id!r} must be {DATA_KEY_BYTES} bytes")
        if current_key_id not in keys:
            raise KeyConfigurationError(f"the current data key {current_key_id!r} is not among the keys")
        if not isinstance(lookup_key, bytes) or len(lookup_key) < MIN_LOOKUP_KEY_BYTES:
            raise KeyConfigurationError(f"the lookup key must be at least {MIN_LOOKUP_KEY_BYTES} bytes")
        if lookup_key in keys.values():
            raise KeyConfigurationError("the lookup key must differ from every data key")
        self._aeads = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._lookup_key = lookup_key
        self.current_key_id = current_key_id

    def encrypt(self, text, associated_data):
        """The token of `text`, bound to `associated_data` (bytes naming its record and field)."""
        _check_associated_data(associated_data)
        # random nonces are safe for far more values than a county will ever store under one key (NIST: 2**32)
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aeads[self.current_key_id].encrypt(nonce, text.encode("utf-8"), associated_data)
        payload = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode("ascii")
        return f"{VERSION}.{self.current_key_id}.{payload}"

    def decrypt(self, token, associated_data):
        """The text of `token`, under whichever configured key encrypted it; UndecryptableToken when the
        key is unknown, the associated data differs from the one given to `encrypt`, or the token was altered."""
        _check_associated_data(associated_data)
        key_id, payload = _parse(token)
        aead = self._aeads.get(key_id)
        if aead is None:
            raise UndecryptableToken(f"the token is under data key {key_id!r}, which is not configured")
        try:
            raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        except binascii.Error:
            raise UndecryptableToken("the token's payload is not base64url") from None
        if len(raw) < NONCE_BYTES + TAG_BYTES:
            raise UndecryptableToken("the token is too short")
        try:
            plain = aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated_data)
        except InvalidTag:
            raise UndecryptableToken(
                f"the token does not authenticate under data key {key_id!r}: "
                "wrong key, wrong associated data (record or field) or altered ciphertext"
            ) from None
        return plain.decode("utf-8")

    def needs_rotation(self, token):
        """True when `token` is not under the current key (re-encrypt it before dropping its key)."""
        return _parse(token)[0] != self.current_key_id

    def lookup_hash(self, text):
        """The hex HMAC-SHA256 of `text` under the lookup key, to find a record by exact value.

        Equal hashes need equal text: normalize first, the same way on write and on lookup
        (`id_card.parse_id_number(...).number`, `domain.normalize_phone(...)`).
        """
        return hmac.new(self._lookup_key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def keys_from_environment(environ):
    """The DataKeys of VOLUNTEERS_DATA_KEYS and VOLUNTEERS_LOOKUP_KEY (see the module's docstring);
    KeyConfigurationError when missing, malformed, short or repeated."""
    keys = {}
    for entry in _required(environ, DATA_KEYS_VARIABLE).split(","):
        key_id, separator, encoded = entry.strip().partition(":")
        if not separator:
            raise KeyConfigurationError(f"{DATA_KEYS_VARIABLE}: each entry must be <key id>:<base64 key>")
        _check_key_id(key_id)
        if key_id in keys:
            raise KeyConfigurationError(f"{DATA_KEYS_VARIABLE}: key id {key_id!r} appears twice")
        key = _decode(encoded, f"{DATA_KEYS_VARIABLE}: key {key_id!r}")
        if len(key) != DATA_KEY_BYTES:
            raise KeyConfigurationError(
                f"{DATA_KEYS_VARIABLE}: key {key_id!r} has {len(key)} bytes, it must have {DATA_KEY_BYTES}"
            )
        keys[key_id] = key
    lookup_key = _decode(_required(environ, LOOKUP_KEY_VARIABLE), LOOKUP_KEY_VARIABLE)
    if len(lookup_key) < MIN_LOOKUP_KEY_BYTES:
        raise KeyConfigurationError(
            f"{LOOKUP_KEY_VARIABLE} has {len(lookup_key)} bytes, it must have at least {MIN_LOOKUP_KEY_BYTES}"
        )
    return DataKeys(keys, next(iter(keys)), lookup_key)


def _required(environ, name):
    value = environ.get(name, "").strip()
    if not value:
        raise KeyConfigurationError(f"{name} is not set (a key: `openssl rand -base64 32`)")
    return value


def _decode(encoded, what):
    try:
        return base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        raise KeyConfigurationError(f"{what} is not valid base64") from None


def _check_key_id(key_id):
    if not isinstance(key_id, str) or not KEY_ID.fullmatch(key_id):
        raise KeyConfigurationError(f"key id {key_id!r} must be 1-32 characters among A-Z a-z 0-9 _ -")


def _check_associated_data(associated_data):
    # an empty binding would let a token be copied anywhere: that is always a bug
    if not isinstance(associated_data, bytes) or not associated_data:
        raise TypeError("associated_data must be non-empty bytes naming the record and field")


def _parse(token):
    """The key id and payload of a token."""
    found = TOKEN.fullmatch(token) if isinstance(token, str) else None
    if found is None:
        raise UndecryptableToken("not a token: expected v1.<key id>.<base64url>")
    version, key_id, payload = found.groups()
    if version != VERSION:
        raise UndecryptableToken(f"token version {version!r} is not supported")
    return key_id, payload
