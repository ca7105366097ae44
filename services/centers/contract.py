"""The public contract of the centers service: what other code may import.

The vocabulary (levels, statuses, platforms, venue kinds), the marshmallow schemas of the
RPC payloads (the gateway validates HTTP input and documents OpenAPI with the same
declarations) and the events this service publishes with the JSON Schema of each event's
`data`. This module imports nothing of the service's domain, models or repository
(checked by import-linter, see pyproject.toml), so importing it never drags them along.

Events travel as CloudEvents (docs/chassis.md "Events") on the topic exchange
`centers.events` with routing key = type. Consumers must ignore fields they do not know,
so every schema allows additional properties; a breaking change is a new schema version.
Human-readable: docs/centers-rpc.md and docs/events.md.
"""

from marshmallow import fields, validate

from services.chassis import event_schemas as js
from services.chassis.schemas import (
    PartialSchema,
    StrictSchema,
    Text,
    Whole,
    at_least_zero,
    date_field,
    described,
    id_field,
    length,
    one_of,
    page_field,
    page_size_field,
)

SERVICE = "centers"  # the nameko service name: RPC routing keys `centers.<method>`, exchange `centers.events`

LEVELS = ("center", "institute", "station", "point")
STATUSES = ("active", "suspended", "closed")
PLATFORMS = ("theory", "education", "culture", "science", "health")
VENUE_KINDS = ("legal_aid", "culture", "lecture", "science", "ethics_hall", "other")

# Business bounds (all within an Integer column; docs/gateway.md "Input limits").
MAX_HOUSEHOLDS = 10_000_000
MAX_RESIDENTS = 100_000_000
MAX_FLOOR_AREA_M2 = 1_000_000  # a center's floor area: 1 km²
MAX_VENUE_AREA_M2 = 100_000
MAX_CAPACITY = 100_000  # seats of a venue

# --- RPC payloads ---------------------------------------------------------------------------


class Platforms(fields.List):
    """The five platforms (五大平台) a center serves: duplicates dropped, in canonical order."""

    def __init__(self, **kwargs):
        super().__init__(fields.String(validate=one_of(PLATFORMS)), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return sorted(set(super()._deserialize(value, attr, data, **kwargs)), key=PLATFORMS.index)


_PHONE = validate.Regexp(r"^[0-9+\-() ]{5,20}$", error="电话号码格式无效。")
_CODE = validate.Regexp(r"^[A-Za-z0-9-]{2,40}$", error="编码须为 2–40 位字母、数字或连字符。")


class HeadSchema(StrictSchema):
    name = Text(required=True, validate=length(1, 50), **described("Name of the head (所长/站长)."))
    title = Text(required=True, validate=length(1, 50), **described("Title, e.g. 村党支部书记."))


class ManagerSchema(StrictSchema):
    name = Text(required=True, validate=length(1, 50), **described("Name of the manager (专管员)."))
    phone = Text(
        allow_none=True,
        load_default=None,
        validate=_PHONE,
        metadata={"description": "The manager's own phone (private data).", "visibility": "staff"},
    )


class CenterUpdateSchema(PartialSchema):
    """The fields of a center that `update_center` may change (not level, parent, status)."""

    code = Text(validate=_CODE, **described("Unique code, [A-Za-z0-9-]{2,40}."))
    name = Text(validate=length(1, 100), **described("Name, e.g. 东阳镇新时代文明实践所."))
    address = Text(allow_none=True, validate=length(1, 200), **described("Street address."))
    longitude = fields.Float(
        allow_none=True,
        validate=validate.Range(-180, 180, error="经度必须在 -180 到 180 之间。"),
        **described("WGS-84 longitude; set together with latitude."),
    )
    latitude = fields.Float(
        allow_none=True,
        validate=validate.Range(-90, 90, error="纬度必须在 -90 到 90 之间。"),
        **described("WGS-84 latitude; set together with longitude."),
    )
    floor_area_m2 = fields.Float(
        allow_none=True,
        validate=at_least_zero(MAX_FLOOR_AREA_M2),
        **described(f"Floor area in square metres, 0 to {MAX_FLOOR_AREA_M2}."),
    )
    households_served = fields.Integer(
        strict=True,
        allow_none=True,
        validate=at_least_zero(MAX_HOUSEHOLDS),
        **described(f"Households served, 0 to {MAX_HOUSEHOLDS}."),
    )
    residents_served = fields.Integer(
        strict=True,
        allow_none=True,
        validate=at_least_zero(MAX_RESIDENTS),
        **described(f"Residents served, 0 to {MAX_RESIDENTS}; not fewer than households served."),
    )
    head = Whole(HeadSchema, allow_none=True, **described("The head (所长/站长)."))
    managers = fields.List(
        Whole(ManagerSchema),
        validate=validate.Length(max=5, error="专管员最多 5 人。"),
        **described("Dedicated managers (专管员), at most 5."),
    )
    contact_phone = Text(allow_none=True, validate=_PHONE, **described("Public contact phone."))
    platforms = Platforms(
        **described("Platforms (五大平台) served: " + ", ".join(PLATFORMS) + "."),
    )
    opened_on = date_field("Opening date, YYYY-MM-DD, from 1900-01-01 to 2099-12-31.", allow_none=True)


class CenterCreateSchema(CenterUpdateSchema):
    code = Text(required=True, validate=_CODE, **described("Unique code, [A-Za-z0-9-]{2,40}."))
    name = Text(required=True, validate=length(1, 100), **described("Name, e.g. 东阳镇新时代文明实践所."))
    level = fields.String(
        required=True,
        validate=one_of(LEVELS),
        **described("center (county) → institute (town) → station (village) → point."),
    )
    parent_id = id_field("Parent center; null only for a county center.", allow_none=True, load_default=None)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", False)
        super().__init__(*args, **kwargs)


class CenterSchema(CenterCreateSchema):
    """A center as returned by every method and carried by every center event."""

    id = fields.Integer(metadata={"description": "Center id.", "scope_anchor": True})
    status = fields.String(**described("active, suspended or closed."))
    status_reason = fields.String(allow_none=True, **described("Why it is suspended or closed."))
    version = fields.Integer(**described("Starts at 1; +1 on every change."))
    created_at = fields.DateTime(**described("ISO 8601, UTC."))
    updated_at = fields.DateTime(**described("ISO 8601, UTC."))


class MoveSchema(StrictSchema):
    parent_id = id_field("The new parent (the level rules apply).", required=True)


class StatusSchema(StrictSchema):
    status = fields.String(required=True, validate=one_of(STATUSES), **described(", ".join(STATUSES) + "."))
    reason = Text(
        allow_none=True,
        load_default=None,
        validate=validate.Length(max=200, error="原因最多 200 字。"),
        **described("Required unless the status is active."),
    )


class VenueUpdateSchema(PartialSchema):
    name = Text(validate=length(1, 100), **described("Name, e.g. 法律援助室."))
    kind = fields.String(validate=one_of(VENUE_KINDS), **described(", ".join(VENUE_KINDS) + "."))
    capacity = fields.Integer(
        strict=True,
        allow_none=True,
        validate=at_least_zero(MAX_CAPACITY),
        **described(f"Seats, 0 to {MAX_CAPACITY}."),
    )
    area_m2 = fields.Float(
        allow_none=True,
        validate=at_least_zero(MAX_VENUE_AREA_M2),
        **described(f"Area in m², 0 to {MAX_VENUE_AREA_M2}."),
    )


class VenueCreateSchema(VenueUpdateSchema):
    name = Text(required=True, validate=length(1, 100), **described("Name, e.g. 法律援助室."))
    kind = fields.String(required=True, validate=one_of(VENUE_KINDS), **described(", ".join(VENUE_KINDS) + "."))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", False)
        super().__init__(*args, **kwargs)


class VenueSchema(VenueCreateSchema):
    id = fields.Integer(**described("Venue id."))
    center_id = fields.Integer(metadata={"description": "The center it belongs to.", "scope_anchor": True})
    version = fields.Integer(**described("Starts at 1; +1 on every change."))


class CenterListQuerySchema(StrictSchema):
    """Also the HTTP query string, hence numbers given as text are accepted."""

    level = fields.String(validate=one_of(LEVELS), **described("Only this level."))
    parent_id = id_field("Only direct children of this center.", strict=False)
    status = fields.String(validate=one_of(STATUSES), **described("Only this status."))
    platform = fields.String(validate=one_of(PLATFORMS), **described("Only centers serving it."))
    code = Text(validate=_CODE, **described("Exact code."))
    q = Text(validate=length(1, 100), **described("Name contains this text."))
    within = id_field("Only this center's subtree (itself included).", strict=False)
    page = page_field()
    page_size = page_size_field()


class CenterPageSchema(StrictSchema):
    """What `list_centers` returns."""

    items = fields.List(fields.Nested(CenterSchema))
    total = fields.Integer(**described("Centers matching the filters."))
    page = fields.Integer()
    page_size = fields.Integer()


class SubtreeCenterSchema(CenterSchema):
    """An item of what `get_subtree` returns."""

    depth = fields.Integer(**described("0 for the root of the subtree."))


class StatsSchema(StrictSchema):
    center_id = fields.Integer(**described("The subtree root."))
    count_by_level = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        **described("Open (active or suspended) centers per level, the root included."),
    )
    households_served = fields.Integer(**described("Sum over open centers."))
    residents_served = fields.Integer(**described("Sum over open centers."))
    floor_area_m2 = fields.Float(**described("Sum over open centers, m²."))
    venue_count = fields.Integer(**described("Venues of open centers."))


# --- events ---------------------------------------------------------------------------------

CENTER_CREATED = "center.created"
CENTER_UPDATED = "center.updated"
CENTER_MOVED = "center.moved"
CENTER_STATUS_CHANGED = "center.status_changed"
VENUE_ADDED = "venue.added"
VENUE_UPDATED = "venue.updated"
VENUE_REMOVED = "venue.removed"


CENTER_PROPERTIES = {
    "id": js.ID,
    "code": {"type": "string", "pattern": "^[A-Za-z0-9-]{2,40}$"},
    "name": {"type": "string", "minLength": 1, "maxLength": 100},
    "level": {"enum": list(LEVELS)},
    "parent_id": js.nullable(js.ID),
    "address": js.nullable(js.TEXT),
    "longitude": js.nullable({"type": "number", "minimum": -180, "maximum": 180}),
    "latitude": js.nullable({"type": "number", "minimum": -90, "maximum": 90}),
    "floor_area_m2": js.nullable(js.AREA),
    "households_served": js.nullable(js.COUNT),
    "residents_served": js.nullable(js.COUNT),
    "head": js.nullable(
        {
            "type": "object",
            "properties": {"name": js.TEXT, "title": js.TEXT},
            "required": ["name", "title"],
        }
    ),
    "managers": {
        "type": "array",
        "maxItems": 5,
        "items": {
            "type": "object",
            "properties": {"name": js.TEXT, "phone": js.nullable({"type": "string"})},
            "required": ["name"],
        },
    },
    "contact_phone": js.nullable({"type": "string"}),
    "platforms": {"type": "array", "items": {"enum": list(PLATFORMS)}, "uniqueItems": True},
    "status": {"enum": list(STATUSES)},
    "status_reason": js.nullable(js.TEXT),
    "opened_on": js.nullable({"type": "string", "format": "date"}),
    "version": {"type": "integer", "minimum": 1},
    "created_at": js.TIMESTAMP,
    "updated_at": js.TIMESTAMP,
}

VENUE_PROPERTIES = {
    "id": js.ID,
    "center_id": js.ID,
    "name": {"type": "string", "minLength": 1, "maxLength": 100},
    "kind": {"enum": list(VENUE_KINDS)},
    "capacity": js.nullable(js.COUNT),
    "area_m2": js.nullable(js.AREA),
    "version": {"type": "integer", "minimum": 1},
}

EVENT_SCHEMAS = {
    CENTER_CREATED: js.event_object(CENTER_PROPERTIES, "A center was created; data is the new center."),
    CENTER_UPDATED: js.event_object(
        CENTER_PROPERTIES, "Descriptive fields of a center changed; data is the center after the change."
    ),
    CENTER_MOVED: js.event_object(
        {**CENTER_PROPERTIES, "previous_parent_id": js.ID},
        "A center (with its subtree) moved to a new parent; data is the center after the move.",
    ),
    CENTER_STATUS_CHANGED: js.event_object(
        {**CENTER_PROPERTIES, "previous_status": {"enum": list(STATUSES)}},
        "A center was suspended, closed or reactivated; data is the center after the change.",
    ),
    VENUE_ADDED: js.event_object(VENUE_PROPERTIES, "A venue was added to a center; data is the venue."),
    VENUE_UPDATED: js.event_object(VENUE_PROPERTIES, "A venue changed; data is the venue after the change."),
    VENUE_REMOVED: js.event_object(VENUE_PROPERTIES, "A venue was removed; data is the venue as it was."),
}
