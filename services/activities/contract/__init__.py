"""The public contract of the activities service: what other code may import.

One module per part of the service: `catalog` (activities and their life cycle), `signups`
(sign-ups, the waitlist and attendance), `series` (recurring programmes), `ledger` (the
activity ledger and its files), `calendars` (iCalendar feeds) and `statistics`. Each
declares the marshmallow schemas of its RPC payloads (the gateway validates HTTP input and
documents OpenAPI with them) and its events with the JSON Schema of each event's `data`.
`common` holds what they share (moments, hours, the points rule).

Events travel as CloudEvents on the topic exchange `activities.events`, routing key = type,
and are appended to the stream `activities.events.stream`, which other systems replay
(docs/events.md). No event carries a name, an ID number or a phone number.
"""

from services.chassis.event_schemas import merged

from . import calendars, catalog, ledger, series, signups, statistics
from .common import SERVICE

PARTS = (catalog, signups, series, ledger, calendars, statistics)

EVENT_SCHEMAS = merged(PARTS)

__all__ = ["EVENT_SCHEMAS", "PARTS", "SERVICE"]
