"""The public contract of the identity service: what other code may import.

Accounts, passwords and the signing of access tokens live in this service; the gateway
only verifies tokens, with the public keys `public_keys()` returns. Human-readable:
docs/identity-rpc.md.
"""

import base64
import unicodedata

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from marshmallow import ValidationError, fields, validate

from services.chassis.actors import ROLES
from services.chassis.schemas import PartialSchema, StrictSchema, Text, described, id_field, length, one_of

SERVICE = "identity"  # the nameko service name: RPC routing keys `identity.<method>`

PASSWORD_MIN_LENGTH = 10
TOKEN_ISSUER = "wenming"
TOKEN_AUDIENCE = "wenming-api"
TOKEN_ALGORITHM = "EdDSA"  # Ed25519: verifying needs only the public key

# checked on the normalized name (see `normalize_username`), which holds no newline or control
# character, so `$` cannot match before a trailing newline
USERNAME = validate.Regexp(r"^[A-Za-z0-9_.-]{3,64}$", error="用户名须为 3–64 位字母、数字、下划线、点或连字符。")
USERNAME_MAX_INPUT = 256  # characters of input looked at before normalizing (NFKC may lengthen)
SECRET = {"secret": True}  # a field no fingerprint or log may hold (see the gateway's idempotency)


def normalize_username(value):
    """The one form in which a username is stored, looked up and compared: NFKC, then
    case-folded (so `CA1`, `ca1` and the full-width `ＣＡ１` are one name). Raises ValueError
    with the reason (zh-CN) for a control or invisible character (a trailing newline
    included) or surrounding whitespace, which are refused rather than silently removed."""
    if any(unicodedata.category(char).startswith("C") for char in value):  # Cc, Cf, Cs, Co, Cn
        raise ValueError("用户名不能包含换行、控制字符或不可见字符。")
    normalized = unicodedata.normalize("NFKC", value)
    if normalized != normalized.strip():
        raise ValueError("用户名首尾不能有空白。")
    return unicodedata.normalize("NFKC", normalized.casefold())


class Username(fields.String):
    """A username, loaded in its normalized form (`normalize_username`); validators see that form."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if len(value) > USERNAME_MAX_INPUT:
            raise ValidationError("用户名过长。")
        try:
            return normalize_username(value)
        except ValueError as reason:
            raise ValidationError(str(reason)) from None


class TokenRequestSchema(StrictSchema):
    username = Username(required=True, validate=length(1, 64))
    password = fields.String(required=True, validate=length(1, 256), metadata=SECRET)


class TokenSchema(StrictSchema):
    access_token = fields.String(**described("JWT (EdDSA, Ed25519) to send as `Authorization: Bearer …`."))
    token_type = fields.String(**described("Always `Bearer`."))
    expires_in = fields.Integer(**described("Seconds until the token expires."))


class CredentialsSchema(StrictSchema):
    """The username and password of a new account (a volunteer's self-registration sends
    them beside the volunteer's data)."""

    username = Username(
        required=True,
        validate=USERNAME,
        metadata={"description": "Stored normalized: NFKC, case-folded; no control character or surrounding space."},
    )
    password = fields.String(
        required=True,
        validate=validate.Length(PASSWORD_MIN_LENGTH, 256, error=f"密码长度必须在 {PASSWORD_MIN_LENGTH} 到 256 之间。"),
        metadata=SECRET,
    )


class NewAccountSchema(CredentialsSchema):
    """What every new account needs; `AccountCreateSchema` adds role and scope (staff create
    accounts), a volunteer's self sign-up sends only this."""

    display_name = Text(required=True, validate=length(1, 100))


class AccountCreateSchema(NewAccountSchema):
    role = fields.String(required=True, validate=one_of(ROLES))
    scope_center_id = id_field(
        "The center whose subtree the account works in; required for center_admin.",
        allow_none=True,
        load_default=None,
    )


class AccountSchema(StrictSchema):
    id = fields.String(**described("Account id (the token's `sub`)."))
    username = fields.String()
    role = fields.String(**described(", ".join(ROLES)))
    scope_center_id = fields.Integer(allow_none=True)
    display_name = fields.String()
    active = fields.Boolean()
    created_at = fields.DateTime()
    version = fields.Integer(
        **described("Grows by one with every change of role, scope or active; tokens issued before are refused.")
    )


REASON = length(1, 200)


class DeactivationSchema(StrictSchema):
    reason = Text(required=True, validate=REASON, **described("Why (kept in the account's audit)."))


class ReactivationSchema(StrictSchema):
    reason = Text(load_default=None, allow_none=True, validate=REASON, **described("Why (kept in the audit)."))


class AccountChangeSchema(PartialSchema):
    """A change of role and/or scope; tokens issued before it are refused from then on."""

    role = fields.String(validate=one_of(ROLES))
    scope_center_id = id_field(
        "The center whose subtree the account works in (null: none); required for center_admin.", allow_none=True
    )
    reason = Text(allow_none=True, validate=REASON, **described("Why (kept in the audit)."))


AUDIT_ACTIONS = ("created", "deactivated", "reactivated", "changed", "logged_out")


class AuditEntrySchema(StrictSchema):
    id = fields.Integer()
    account_id = fields.String(**described("The account changed."))
    action = fields.String(**described(", ".join(AUDIT_ACTIONS)))
    actor_account_id = fields.String(**described("Who changed it."))
    actor_role = fields.String()
    reason = fields.String(allow_none=True)
    changes = fields.Dict(
        keys=fields.String(),
        **described("Each changed field as `[before, after]`: `role`, `scope_center_id`, `active`."),
    )
    version = fields.Integer(**described("The account's version after the change."))
    at = fields.DateTime()


class PublicKeySchema(StrictSchema):
    """A verification key as a JWK (RFC 8037: OKP, Ed25519)."""

    kid = fields.String(**described("Key id, in the `kid` header of the tokens it signed."))
    kty = fields.String(**described("Always `OKP`."))
    crv = fields.String(**described("Always `Ed25519`."))
    x = fields.String(**described("The public key, base64url."))


def public_key_from_jwk(data):
    """A verification key from what `public_keys()` returns."""
    padded = data["x"] + "=" * (-len(data["x"]) % 4)
    return Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(padded))


# -- events (identity.events; docs/events.md) ----------------------------------------------

ACCOUNT_CHANGED = "account.changed"
TOKEN_REVOKED = "token.revoked"

_ACCOUNT_ID = {"type": "string", "pattern": "^[0-9]{1,19}$"}
_NULLABLE_ID = {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]}

EVENT_SCHEMAS = {
    ACCOUNT_CHANGED: {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "description": "An account was created, deactivated, reactivated or given another role or scope; data is "
        "what a token check needs of it.",
        "type": "object",
        "properties": {
            "id": _ACCOUNT_ID,
            "version": {"type": "integer", "minimum": 1},
            "active": {"type": "boolean"},
            "role": {"enum": list(ROLES)},
            "scope_center_id": _NULLABLE_ID,
        },
        "required": ["active", "id", "role", "scope_center_id", "version"],
        "additionalProperties": True,
    },
    TOKEN_REVOKED: {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "description": "A token was revoked (a logout): refuse it until it expires.",
        "type": "object",
        "properties": {
            "jti": {"type": "string", "minLength": 1, "maxLength": 64},
            "account_id": _ACCOUNT_ID,
            "expires_at": {"type": "integer", "minimum": 0},
        },
        "required": ["account_id", "expires_at", "jti"],
        "additionalProperties": True,
    },
}


def account_state(account_id, version, active, role, scope_center_id):
    """What the gateway keeps of an account (the `account.changed` data, a snapshot item)."""
    return {
        "id": str(account_id),
        "version": int(version),
        "active": bool(active),
        "role": role,
        "scope_center_id": scope_center_id,
    }
