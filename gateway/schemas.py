"""The gateway's own HTTP payloads: tokens, accounts and problems. The payloads of the
services come from their `contract` modules (one definition, two uses)."""

from marshmallow import fields, validate

from services.chassis.actors import ROLES
from services.chassis.schemas import StrictSchema, Text

from .accounts import PASSWORD_MIN_LENGTH

USERNAME = validate.Regexp(r"^[A-Za-z0-9_.-]{3,64}$", error="用户名须为 3–64 位字母、数字、下划线、点或连字符。")


class TokenRequestSchema(StrictSchema):
    username = fields.String(required=True, validate=validate.Length(1, 64, error="长度必须在 1 到 64 之间。"))
    password = fields.String(required=True, validate=validate.Length(1, 256, error="长度必须在 1 到 256 之间。"))


class TokenSchema(StrictSchema):
    access_token = fields.String(metadata={"description": "JWT (HS256) to send as `Authorization: Bearer …`."})
    token_type = fields.String(metadata={"description": "Always `Bearer`."})
    expires_in = fields.Integer(metadata={"description": "Seconds until the token expires."})


class AccountCreateSchema(StrictSchema):
    username = fields.String(required=True, validate=USERNAME)
    password = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(PASSWORD_MIN_LENGTH, 256, error=f"密码长度必须在 {PASSWORD_MIN_LENGTH} 到 256 之间。"),
    )
    role = fields.String(required=True, validate=validate.OneOf(ROLES, error="必须是 {choices} 之一。"))
    scope_center_id = fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=1, error="必须是正整数。"),
        metadata={"description": "The center whose subtree the account works in; required for center_admin."},
    )
    display_name = Text(required=True, validate=validate.Length(1, 100, error="长度必须在 1 到 100 之间。"))


class AccountSchema(StrictSchema):
    id = fields.String(metadata={"description": "Account id (the token's `sub`)."})
    username = fields.String()
    role = fields.String(metadata={"description": ", ".join(ROLES)})
    scope_center_id = fields.Integer(allow_none=True)
    display_name = fields.String()
    active = fields.Boolean()
    created_at = fields.DateTime()


class ProblemSchema(StrictSchema):
    """RFC 9457 problem details, the body of every error response."""

    type = fields.String(metadata={"description": "URI identifying the problem type."})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String(metadata={"description": "Human-readable explanation (zh-CN)."})
    code = fields.String(metadata={"description": "Stable, dotted identifier, e.g. `center.code_taken`."})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Messages per input field (dotted paths for nested fields)."},
    )
    request_id = fields.String(metadata={"description": "Also in the X-Request-Id header."})
    instance = fields.String()
