"""Building blocks of the JSON Schemas (draft 2020-12) that contracts publish for the `data`
of each event. Consumers must ignore fields they do not know, so every object allows
additional properties; a breaking change is a new schema version (docs/events.md)."""

TEXT = {"type": "string", "minLength": 1}
ID = {"type": "integer", "minimum": 1}
COUNT = {"type": "integer", "minimum": 0}
AREA = {"type": "number", "minimum": 0}
TIMESTAMP = {"type": "string", "format": "date-time"}
DATE = {"type": "string", "format": "date"}
VERSION = {"type": "integer", "minimum": 1}


def nullable(schema):
    return {"anyOf": [schema, {"type": "null"}]}


def one_of(values):
    return {"enum": list(values)}


def event_object(properties, description, optional=()):
    """The schema of an event's `data`: every property required unless named in `optional`."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "description": description,
        "type": "object",
        "properties": properties,
        "required": sorted(set(properties) - set(optional)),
        "additionalProperties": True,
    }


def merged(parts):
    """{event type: schema} of every part of a contract (each a module with EVENT_SCHEMAS);
    a type declared by two parts is an error."""
    schemas = {}
    for part in parts:
        for event_type in part.EVENT_SCHEMAS:
            if event_type in schemas:
                raise ValueError(f"event type {event_type} declared twice")
        schemas.update(part.EVENT_SCHEMAS)
    return schemas
