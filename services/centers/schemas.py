"""Marshmallow schemas of the centers RPC payloads.

The gateway imports these for HTTP validation and OpenAPI, so every field says what it
means. Unknown fields are refused (marshmallow's default, RAISE), and every message a user
can see is Chinese.
"""
from marshmallow import Schema, ValidationError, fields, validate

from services.centers.domain import LEVELS, PLATFORMS, STATUSES, VENUE_KINDS, Actor
from services.chassis.errors import InvalidInput, invalid_fields

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


def _length(low, high):
    return validate.Length(low, high, error=f"长度必须在 {low} 到 {high} 之间。")


def _at_least_zero():
    return validate.Range(min=0, error="不能小于 0。")


def _one_of(choices):
    return validate.OneOf(choices, error="必须是 {choices} 之一。")


class Platforms(fields.List):
    """The five platforms (五大平台) a center serves: duplicates dropped, in canonical order."""

    def __init__(self, **kwargs):
        super().__init__(fields.String(validate=_one_of(PLATFORMS)), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return sorted(set(super()._deserialize(value, attr, data, **kwargs)), key=PLATFORMS.index)


_PHONE = validate.Regexp(r"^[0-9+\-() ]{5,20}$", error="电话号码格式无效。")
_CODE = validate.Regexp(r"^[A-Za-z0-9-]{2,40}$", error="编码须为 2–40 位字母、数字或连字符。")


def _id(description, strict=True, **kwargs):
    return fields.Integer(
        strict=strict, validate=validate.Range(min=1, error="必须是正整数。"),
        metadata={"description": description}, **kwargs
    )


def _describe(text):
    return {"metadata": {"description": text}}


class HeadSchema(StrictSchema):
    name = Text(required=True, validate=_length(1, 50), **_describe("Name of the head (所长/站长)."))
    title = Text(required=True, validate=_length(1, 50), **_describe("Title, e.g. 村党支部书记."))


class ManagerSchema(StrictSchema):
    name = Text(required=True, validate=_length(1, 50), **_describe("Name of the manager (专管员)."))
    phone = Text(
        allow_none=True, load_default=None, validate=_PHONE, **_describe("Contact phone (private data).")
    )


class CenterUpdateSchema(PartialSchema):
    """The fields of a center that `update_center` may change (not level, parent, status)."""

    code = Text(validate=_CODE, **_describe("Unique code, [A-Za-z0-9-]{2,40}."))
    name = Text(validate=_length(1, 100), **_describe("Name, e.g. 东阳镇新时代文明实践所."))
    address = Text(allow_none=True, validate=_length(1, 200), **_describe("Street address."))
    longitude = fields.Float(
        allow_none=True, validate=validate.Range(-180, 180, error="经度必须在 -180 到 180 之间。"),
        **_describe("WGS-84 longitude; set together with latitude."),
    )
    latitude = fields.Float(
        allow_none=True, validate=validate.Range(-90, 90, error="纬度必须在 -90 到 90 之间。"),
        **_describe("WGS-84 latitude; set together with longitude."),
    )
    floor_area_m2 = fields.Float(
        allow_none=True, validate=_at_least_zero(), **_describe("Floor area in square metres.")
    )
    households_served = fields.Integer(
        strict=True, allow_none=True, validate=_at_least_zero(), **_describe("Households served.")
    )
    residents_served = fields.Integer(
        strict=True, allow_none=True, validate=_at_least_zero(),
        **_describe("Residents served; not fewer than households served."),
    )
    head = Whole(HeadSchema, allow_none=True, **_describe("The head (所长/站长)."))
    managers = fields.List(
        Whole(ManagerSchema),
        validate=validate.Length(max=5, error="专管员最多 5 人。"),
        **_describe("Dedicated managers (专管员), at most 5."),
    )
    contact_phone = Text(allow_none=True, validate=_PHONE, **_describe("Public contact phone."))
    platforms = Platforms(
        **_describe("Platforms (五大平台) served: " + ", ".join(PLATFORMS) + "."),
    )
    opened_on = fields.Date(allow_none=True, **_describe("Opening date, YYYY-MM-DD."))


class CenterCreateSchema(CenterUpdateSchema):
    code = Text(required=True, validate=_CODE, **_describe("Unique code, [A-Za-z0-9-]{2,40}."))
    name = Text(required=True, validate=_length(1, 100), **_describe("Name, e.g. 东阳镇新时代文明实践所."))
    level = fields.String(
        required=True, validate=_one_of(LEVELS),
        **_describe("center (county) → institute (town) → station (village) → point."),
    )
    parent_id = _id("Parent center; null only for a county center.", allow_none=True, load_default=None)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", False)
        super().__init__(*args, **kwargs)


class CenterSchema(CenterCreateSchema):
    """A center as returned by every method and carried by every center event."""

    id = fields.Integer(**_describe("Center id."))
    status = fields.String(**_describe("active, suspended or closed."))
    status_reason = fields.String(allow_none=True, **_describe("Why it is suspended or closed."))
    version = fields.Integer(**_describe("Starts at 1; +1 on every change."))
    created_at = fields.DateTime(**_describe("ISO 8601, UTC."))
    updated_at = fields.DateTime(**_describe("ISO 8601, UTC."))


class MoveSchema(StrictSchema):
    new_parent_id = _id("The new parent (the level rules apply).", required=True)


class StatusSchema(StrictSchema):
    status = fields.String(required=True, validate=_one_of(STATUSES), **_describe(", ".join(STATUSES) + "."))
    reason = Text(
        allow_none=True, load_default=None, validate=validate.Length(max=200, error="原因最多 200 字。"),
        **_describe("Required unless the status is active."),
    )


class VenueUpdateSchema(PartialSchema):
    name = Text(validate=_length(1, 100), **_describe("Name, e.g. 法律援助室."))
    kind = fields.String(validate=_one_of(VENUE_KINDS), **_describe(", ".join(VENUE_KINDS) + "."))
    capacity = fields.Integer(
        strict=True, allow_none=True, validate=_at_least_zero(), **_describe("Seats.")
    )
    area_m2 = fields.Float(allow_none=True, validate=_at_least_zero(), **_describe("Area in m²."))


class VenueCreateSchema(VenueUpdateSchema):
    name = Text(required=True, validate=_length(1, 100), **_describe("Name, e.g. 法律援助室."))
    kind = fields.String(
        required=True, validate=_one_of(VENUE_KINDS), **_describe(", ".join(VENUE_KINDS) + ".")
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", False)
        super().__init__(*args, **kwargs)


class VenueSchema(VenueCreateSchema):
    id = fields.Integer(**_describe("Venue id."))
    center_id = fields.Integer(**_describe("The center it belongs to."))
    version = fields.Integer(**_describe("Starts at 1; +1 on every change."))


class CenterListQuerySchema(StrictSchema):
    """Also the HTTP query string, hence numbers given as text are accepted."""

    level = fields.String(validate=_one_of(LEVELS), **_describe("Only this level."))
    parent_id = _id("Only direct children of this center.", strict=False)
    status = fields.String(validate=_one_of(STATUSES), **_describe("Only this status."))
    platform = fields.String(validate=_one_of(PLATFORMS), **_describe("Only centers serving it."))
    code = Text(validate=_CODE, **_describe("Exact code."))
    q = Text(validate=_length(1, 100), **_describe("Name contains this text."))
    within = _id("Only this center's subtree (itself included).", strict=False)
    page = fields.Integer(
        load_default=1, validate=validate.Range(min=1, error="必须是正整数。"), **_describe("From 1.")
    )
    page_size = fields.Integer(
        load_default=20, validate=validate.Range(1, 200, error="必须在 1 到 200 之间。"),
        **_describe("1 to 200; 20 by default."),
    )


class StatsSchema(StrictSchema):
    center_id = fields.Integer(**_describe("The subtree root."))
    count_by_level = fields.Dict(
        keys=fields.String(), values=fields.Integer(),
        **_describe("Open (active or suspended) centers per level, the root included."),
    )
    households_served = fields.Integer(**_describe("Sum over open centers."))
    residents_served = fields.Integer(**_describe("Sum over open centers."))
    floor_area_m2 = fields.Float(**_describe("Sum over open centers, m²."))
    venue_count = fields.Integer(**_describe("Venues of open centers."))


class ActorSchema(StrictSchema):
    account_id = fields.String(required=True, **_describe("Who acts."))
    role = fields.String(required=True, **_describe("county_admin, center_admin, …"))
    scope_center_id = fields.Integer(
        strict=True, allow_none=True, load_default=None, **_describe("A center admin's center.")
    )


def load(schema, data, code="input.invalid"):
    """`data` validated by `schema` (an instance), or InvalidInput naming each bad field."""
    try:
        return schema.load(data if data is not None else {})
    except ValidationError as error:
        raise invalid_fields(code, error.normalized_messages()) from None


_MAX_ID = 2**63 - 1  # PostgreSQL BIGINT


def load_id(value, field="center_id"):
    """An id argument of an RPC method: a positive integer, or InvalidInput naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _MAX_ID:
        raise InvalidInput("input.invalid", "输入有误", {field: ["必须是正整数。"]})
    return value


def load_actor(data):
    return Actor(**load(ActorSchema(), data, code="actor.invalid"))
