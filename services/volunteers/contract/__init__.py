"""The public contract of the volunteers service: what other code may import.

One module per part of the service: `registration` (volunteers, their private data, status
and transfers), `teams`, `hours` (the service-hour ledger and star levels), `points` (points
accounts and love supermarkets), `certificates` and `imports`. Each declares the marshmallow
schemas of its RPC payloads (the gateway validates HTTP input and documents OpenAPI with
them) and its events with the JSON Schema of each event's `data`. No module here imports
anything of the service's domain, models, repository or entrypoints (import-linter).

Events travel as CloudEvents on the topic exchange `volunteers.events`, routing key = type.
No event carries an ID number or a phone number. Human-readable: docs/volunteers-rpc.md
and docs/events.md.
"""

from services.chassis.event_schemas import merged

from . import certificates, hours, imports, points, registration, teams

SERVICE = "volunteers"  # the nameko service name: RPC routing keys `volunteers.<method>`

PARTS = (registration, teams, hours, points, certificates, imports)

EVENT_SCHEMAS = merged(PARTS)
