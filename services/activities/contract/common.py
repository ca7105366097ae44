"""What every part of the activities contract shares: the county's time zone, moments in
time, hours, the points rule and the common pages of a list."""

import decimal
from datetime import UTC
from zoneinfo import ZoneInfo

from marshmallow import fields, validate

from services.chassis import event_schemas as js
from services.chassis.schemas import StrictSchema, described, one_of, page_field, page_size_field

SERVICE = "activities"  # the nameko service name: RPC routing keys `activities.<method>`
LOCAL_ZONE = ZoneInfo("Asia/Shanghai")  # times are stored in UTC and shown in the county's zone

POINTS_RULE_KINDS = ("per_hour", "flat", "none")
MAX_HOURS_PER_ENTRY = 24
MAX_POINTS_RATE = 1000
CENT = decimal.Decimal("0.01")


class Moment(fields.AwareDateTime):
    """A moment in time: ISO 8601 with its offset (a time without one is refused, since it
    could mean any zone); stored in UTC, shown in Asia/Shanghai (+08:00)."""

    def __init__(self, **kwargs):
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).astimezone(UTC)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else super()._serialize(value.astimezone(LOCAL_ZONE), attr, obj, **kwargs)


class Hours(fields.Decimal):
    """Service hours: a JSON number, checked against its bounds as sent, then rounded half up
    to two decimal places (a client's 0.5700000000000001 is 0.57); dumped as a JSON number."""

    def deserialize(self, value, attr=None, data=None, **kwargs):
        number = super().deserialize(value, attr, data, **kwargs)
        return number.quantize(CENT, rounding=decimal.ROUND_HALF_UP) if isinstance(number, decimal.Decimal) else number

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else float(value)


def hours_field(description, least, **kwargs):
    """Hours of one attendance: from `least` to 24."""
    bound = validate.Range(least, MAX_HOURS_PER_ENTRY, error=f"须在 {least} 到 {MAX_HOURS_PER_ENTRY} 之间。")
    return Hours(validate=bound, **described(description), **kwargs)


class PointsRuleSchema(StrictSchema):
    """How an attendance earns points: per hour credited (rate points an hour), a flat award
    (rate points), or none. Local rates differ (1 h = 1 point, 1 h = 10 points)."""

    kind = fields.String(required=True, validate=one_of(POINTS_RULE_KINDS), **described("per_hour, flat or none."))
    rate = Hours(  # a number with two decimal places, like hours
        required=True,
        validate=validate.Range(0, MAX_POINTS_RATE, error=f"须在 0 到 {MAX_POINTS_RATE} 之间。"),
        **described(f"Points per hour (per_hour) or per attendance (flat), 0 to {MAX_POINTS_RATE}; 0 for none."),
    )


class PageQuerySchema(StrictSchema):
    page = page_field()
    page_size = page_size_field()


POINTS_RULE = {
    "type": "object",
    "properties": {"kind": js.one_of(POINTS_RULE_KINDS), "rate": {"type": "number", "minimum": 0}},
    "required": ["kind", "rate"],
}
HOURS = {"type": "number", "minimum": 0, "maximum": MAX_HOURS_PER_ENTRY}
