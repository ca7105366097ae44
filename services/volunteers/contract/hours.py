"""The service-hour ledger: entries, back-fill requests, disputes, totals and star levels.

Hours come from the activities service's `attendance.confirmed` events (consumed here; the
activities service will publish them, issue 10): one event per volunteer and activity, with a
`revision` that grows when the organizer corrects it, so that events applied in any order and
any number of times leave the newest revision in the ledger.
"""

from services.chassis import event_schemas as js

ACTIVITIES = "activities"  # the service whose events this part consumes
ATTENDANCE_CONFIRMED = "attendance.confirmed"
POINTS_RULE_KINDS = ("per_hour", "flat", "none")
MAX_HOURS_PER_ENTRY = 24

# The `data` of `attendance.confirmed` as this service reads it (the activities service owns it).
ATTENDANCE_CONFIRMED_SCHEMA = js.event_object(
    {
        "attendance_id": js.ID,
        "revision": js.VERSION,
        "activity_id": js.ID,
        "activity_title": js.TEXT,
        "organizer_center_id": js.ID,
        "team_id": js.nullable(js.ID),
        "volunteer_id": js.ID,
        "served_on": js.DATE,
        "hours": {"type": "number", "minimum": 0, "maximum": MAX_HOURS_PER_ENTRY},
        "points_rule": {
            "type": "object",
            "properties": {"kind": js.one_of(POINTS_RULE_KINDS), "rate": {"type": "number", "minimum": 0}},
            "required": ["kind", "rate"],
        },
        "confirmed_at": js.TIMESTAMP,
    },
    "An organizer confirmed a volunteer's attendance: the hours (actual time, capped by the "
    "activity's planned hours) and the activity's points rule.",
)

EVENT_SCHEMAS = {}
