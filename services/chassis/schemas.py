"""The schema language every contract shares: marshmallow schemas that refuse unknown
fields and speak Chinese to the user, a few field types, and `load`, which turns a
validation failure into the chassis' `InvalidInput` naming each bad field.

Services build their `contract` modules from these; the gateway validates HTTP input with
the same declarations (one definition, two uses).
"""

from marshmallow import Schema, ValidationError, fields, validate

from .errors import InvalidInput, invalid_fields

# PostgreSQL BIGINT, the widest id any service stores.
MAX_ID = 2**63 - 1

# Chinese replacements for marshmallow's English messages, by field type (most specific first).
_TYPE_MESSAGES = (
    (fields.Integer, "必须是整数。"),
    (fields.Number, "必须是数字。"),
    (fields.DateTime, "必须是 ISO 8601 时间。"),
    (fields.Date, "必须是 YYYY-MM-DD 格式的日期。"),
    (fields.List, "必须是列表。"),
    (fields.String, "必须是字符串。"),
)
_COMMON_MESSAGES = {
    "required": "必填。",
    "null": "不能为空。",
    "validator_failed": "取值无效。",
    "type": "必须是对象。",
    "special": "必须是有限的数字。",
    "too_large": "数值过大。",
}


def _localize(field):
    field.error_messages.update(_COMMON_MESSAGES)
    for field_type, message in _TYPE_MESSAGES:
        if isinstance(field, field_type):
            field.error_messages["invalid"] = message
            break
    if isinstance(field, fields.List):
        _localize(field.inner)


class StrictSchema(Schema):
    """Refuses unknown fields and speaks Chinese to the user."""

    error_messages = {"unknown": "未知字段。", "type": "必须是对象。"}

    def on_bind_field(self, field_name, field_obj):
        _localize(field_obj)


class PartialSchema(StrictSchema):
    """An update: every field optional (apispec also reads `partial` for OpenAPI)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class Text(fields.String):
    """A string with surrounding whitespace removed, so that "  " is empty."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class Whole(fields.Nested):
    """A nested object that is always complete: an update replaces it as a whole, so the
    parent's partial loading must not reach inside it."""

    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        return super()._deserialize(value, attr, data, partial=False, **kwargs)


def length(low, high):
    return validate.Length(low, high, error=f"长度必须在 {low} 到 {high} 之间。")


def at_least_zero():
    return validate.Range(min=0, error="不能小于 0。")


def one_of(choices):
    return validate.OneOf(choices, error="必须是 {choices} 之一。")


def described(text):
    """Field keyword arguments that document the field (OpenAPI reads the description)."""
    return {"metadata": {"description": text}}


def id_field(description, strict=True, **kwargs):
    """A positive id; `strict=False` also accepts digits as text (query strings)."""
    return fields.Integer(
        strict=strict,
        validate=validate.Range(min=1, max=MAX_ID, error="必须是正整数。"),
        **described(description),
        **kwargs,
    )


def load(schema, data, code="input.invalid"):
    """`data` validated by `schema` (an instance), or InvalidInput naming each bad field."""
    try:
        return schema.load(data if data is not None else {})
    except ValidationError as error:
        raise invalid_fields(code, error.normalized_messages()) from None


def load_id(value, field):
    """An id argument of an RPC method: a positive integer, or InvalidInput naming `field`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise InvalidInput("input.invalid", "输入有误", {field: ["必须是正整数。"]})
    return value
