"""The events the centers service publishes: its public contract.

Each event travels as a CloudEvent (docs/chassis.md "Events") on the topic exchange
`centers.events` with routing key = type. `SCHEMAS[type]` is the JSON Schema (draft
2020-12) of the event's `data`. Consumers must ignore fields they do not know, so every
schema allows additional properties; a breaking change is a new schema version.
"""
from services.centers.domain import LEVELS, PLATFORMS, STATUSES, VENUE_KINDS

SOURCE = "centers"
EXCHANGE = "centers.events"
SCHEMA_VERSION = 1

CENTER_CREATED = "center.created"
CENTER_UPDATED = "center.updated"
CENTER_MOVED = "center.moved"
CENTER_STATUS_CHANGED = "center.status_changed"
VENUE_ADDED = "venue.added"
VENUE_UPDATED = "venue.updated"
VENUE_REMOVED = "venue.removed"


def _nullable(schema):
    return {"anyOf": [schema, {"type": "null"}]}


_TEXT = {"type": "string", "minLength": 1}
_ID = {"type": "integer", "minimum": 1}
_COUNT = {"type": "integer", "minimum": 0}
_AREA = {"type": "number", "minimum": 0}
_TIMESTAMP = {"type": "string", "format": "date-time"}


def _object(properties, description):
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "description": description,
        "type": "object",
        "properties": properties,
        "required": sorted(properties),
        "additionalProperties": True,
    }


CENTER_PROPERTIES = {
    "id": _ID,
    "code": {"type": "string", "pattern": "^[A-Za-z0-9-]{2,40}$"},
    "name": {"type": "string", "minLength": 1, "maxLength": 100},
    "level": {"enum": list(LEVELS)},
    "parent_id": _nullable(_ID),
    "address": _nullable(_TEXT),
    "longitude": _nullable({"type": "number", "minimum": -180, "maximum": 180}),
    "latitude": _nullable({"type": "number", "minimum": -90, "maximum": 90}),
    "floor_area_m2": _nullable(_AREA),
    "households_served": _nullable(_COUNT),
    "residents_served": _nullable(_COUNT),
    "head": _nullable({
        "type": "object",
        "properties": {"name": _TEXT, "title": _TEXT},
        "required": ["name", "title"],
    }),
    "managers": {
        "type": "array",
        "maxItems": 5,
        "items": {
            "type": "object",
            "properties": {"name": _TEXT, "phone": _nullable({"type": "string"})},
            "required": ["name"],
        },
    },
    "contact_phone": _nullable({"type": "string"}),
    "platforms": {"type": "array", "items": {"enum": list(PLATFORMS)}, "uniqueItems": True},
    "status": {"enum": list(STATUSES)},
    "status_reason": _nullable(_TEXT),
    "opened_on": _nullable({"type": "string", "format": "date"}),
    "version": {"type": "integer", "minimum": 1},
    "created_at": _TIMESTAMP,
    "updated_at": _TIMESTAMP,
}

VENUE_PROPERTIES = {
    "id": _ID,
    "center_id": _ID,
    "name": {"type": "string", "minLength": 1, "maxLength": 100},
    "kind": {"enum": list(VENUE_KINDS)},
    "capacity": _nullable(_COUNT),
    "area_m2": _nullable(_AREA),
    "version": {"type": "integer", "minimum": 1},
}

SCHEMAS = {
    CENTER_CREATED: _object(CENTER_PROPERTIES, "A center was created; data is the new center."),
    CENTER_UPDATED: _object(
        CENTER_PROPERTIES, "Descriptive fields of a center changed; data is the center after the change."
    ),
    CENTER_MOVED: _object(
        {**CENTER_PROPERTIES, "previous_parent_id": _ID},
        "A center (with its subtree) moved to a new parent; data is the center after the move.",
    ),
    CENTER_STATUS_CHANGED: _object(
        {**CENTER_PROPERTIES, "previous_status": {"enum": list(STATUSES)}},
        "A center was suspended, closed or reactivated; data is the center after the change.",
    ),
    VENUE_ADDED: _object(VENUE_PROPERTIES, "A venue was added to a center; data is the venue."),
    VENUE_UPDATED: _object(VENUE_PROPERTIES, "A venue changed; data is the venue after the change."),
    VENUE_REMOVED: _object(VENUE_PROPERTIES, "A venue was removed; data is the venue as it was."),
}
