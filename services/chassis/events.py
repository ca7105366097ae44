"""The CloudEvents 1.0 envelope (structured JSON mode) that every Wenming event travels in.

Subscribers need nothing from nameko: the body is a JSON document, the AMQP content type is
`application/cloudevents+json`, and the routing key on `<service>.events` is the event type.
"""

import json
import uuid
from datetime import UTC, datetime

from kombu.serialization import register

CONTENT_TYPE = "application/cloudevents+json"
SERIALIZER = "cloudevents"
ACCEPT = ["json", SERIALIZER]
REQUIRED_ATTRIBUTES = ("specversion", "id", "source", "type", "time", "data")


def _dumps(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# kombu picks the decoder by content type; registering ours lets nameko consumers read events.
register(SERIALIZER, _dumps, json.loads, content_type=CONTENT_TYPE, content_encoding="utf-8")


def utc_timestamp():
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def make_event(service, event_type, subject, data, *, schema_version=1, request_id=None):
    event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": f"/wenming/{service}",
        "type": event_type,
        "subject": subject,
        "time": utc_timestamp(),
        "datacontenttype": "application/json",
        "dataschema": f"urn:wenming:{service}:{event_type}:{schema_version}",
        "schemaversion": str(schema_version),
        "data": data,
    }
    if request_id:
        event["requestid"] = request_id
    return event


def validate_event(event):
    """Problems with an envelope, as a list of strings (empty when it is valid)."""
    if not isinstance(event, dict):
        return ["an event is a JSON object"]
    problems = [f"missing {name}" for name in REQUIRED_ATTRIBUTES if name not in event]
    if event.get("specversion") not in (None, "1.0"):
        problems.append("specversion must be 1.0")
    return problems
