"""Activities and their life cycle: draft → published → in_progress → completed → recorded,
or cancelled (with a reason) at any point before completion. "Full" is derived from the
seats, not a state. Published activities start and complete by the clock (the service moves
them at their start and end); an organizer may also start one early (from an hour before)
or complete it early.

Changing the time or the place of a published activity is an event of its own,
`activity.rescheduled`; other changes are `activity.updated`. Drafts publish nothing.
"""

from marshmallow import fields

from services.centers.contract import PLATFORMS
from services.chassis import event_schemas as js
from services.chassis.schemas import (
    Flag,
    PartialSchema,
    StrictSchema,
    Text,
    Whole,
    between,
    date_field,
    described,
    id_field,
    length,
    one_of,
    page_of,
)

from .common import HOURS, POINTS_RULE, Moment, PageQuerySchema, PointsRuleSchema, hours_field

STATUSES = ("draft", "published", "in_progress", "completed", "recorded", "cancelled")
OPEN_STATUSES = ("draft", "published", "in_progress")  # cancellable
MAX_CAPACITY = 10_000
MAX_DESCRIPTION = 5000
MAX_REASON = 200
DEFAULT_CHECKIN_RADIUS_M = 100
MAX_CHECKIN_RADIUS_M = 5000
MAX_DURATION_DAYS = 7
CHECK_IN_OPENS_BEFORE_MINUTES = 60  # check-in opens an hour before the start
TIME_AND_PLACE = ("starts_at", "ends_at", "place", "latitude", "longitude")


class _ActivityFields(StrictSchema):
    title = Text(required=True, validate=length(2, 100), **described("活动名称, 2 to 100 characters."))
    description = Text(
        multiline=True,
        allow_none=True,
        load_default=None,
        validate=length(0, MAX_DESCRIPTION),
        **described("活动内容."),
    )
    platform = fields.String(required=True, validate=one_of(PLATFORMS), **described("One of the five platforms."))
    team_id = id_field("The organizing team (志愿服务队), if any.", allow_none=True, load_default=None)
    team_only = Flag(load_default=False, **described("Only members of the team may sign up (needs team_id)."))
    place = Text(required=True, validate=length(1, 200), **described("Where it happens (活动地点)."))
    latitude = fields.Float(
        allow_none=True, load_default=None, validate=between(-90, 90), **described("WGS 84 latitude of the place.")
    )
    longitude = fields.Float(
        allow_none=True, load_default=None, validate=between(-180, 180), **described("WGS 84 longitude of the place.")
    )
    checkin_radius_m = fields.Integer(
        strict=True,
        allow_none=True,
        validate=between(10, MAX_CHECKIN_RADIUS_M),
        **described(
            f"Check-in only within this many metres of the place ({DEFAULT_CHECKIN_RADIUS_M} by default when "
            "the place has coordinates); null: check-in anywhere."
        ),
    )
    starts_at = Moment(required=True, **described("Start, ISO 8601 with offset (shown in Asia/Shanghai)."))
    ends_at = Moment(required=True, **described(f"End: after the start, at most {MAX_DURATION_DAYS} days later."))
    signup_opens_at = Moment(allow_none=True, load_default=None, **described("Sign-up opens; null: when published."))
    signup_closes_at = Moment(
        allow_none=True, load_default=None, **described("Sign-up closes, at the latest at the start; null: the start.")
    )
    capacity = fields.Integer(
        strict=True, required=True, validate=between(1, MAX_CAPACITY), **described("Seats (招募人数).")
    )
    hours = hours_field(
        "The most hours one attendance is credited (actual time, capped by this); by default the duration.",
        0,
        allow_none=True,
        load_default=None,
    )
    points_rule = Whole(PointsRuleSchema, load_default=None, allow_none=True, **described("Default: 1 point an hour."))
    leader_volunteer_id = id_field(
        "The volunteer who leads it on the day (活动负责人).", allow_none=True, load_default=None
    )


class ActivityCreateSchema(_ActivityFields):
    organizer_center_id = id_field("The organizing center (an active center in the caller's scope).", required=True)


class ActivityUpdateSchema(PartialSchema, _ActivityFields):
    """The fields to change (If-Match: the version). The organizing center never changes."""


class CancelSchema(StrictSchema):
    reason = Text(required=True, validate=length(1, MAX_REASON), **described("Why (told to everyone signed up)."))


class SeatsSchema(StrictSchema):
    capacity = fields.Integer()
    confirmed = fields.Integer()
    waitlisted = fields.Integer()
    available = fields.Integer()
    full = fields.Boolean(**described("Derived: no seat left (further sign-ups are waitlisted)."))


class ActivitySchema(StrictSchema):
    id = fields.Integer()
    series_id = fields.Integer(allow_none=True)
    title = fields.String()
    description = fields.String(allow_none=True)
    platform = fields.String()
    organizer_center_id = fields.Integer()
    team_id = fields.Integer(allow_none=True)
    team_only = fields.Boolean()
    place = fields.String()
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    checkin_radius_m = fields.Integer(allow_none=True)
    starts_at = Moment()
    ends_at = Moment()
    signup_opens_at = Moment(allow_none=True)
    signup_closes_at = Moment(allow_none=True)
    capacity = fields.Integer()
    hours = fields.Float()
    points_rule = fields.Nested(PointsRuleSchema)
    leader_volunteer_id = fields.Integer(allow_none=True)
    status = fields.String(**described(", ".join(STATUSES)))
    status_reason = fields.String(allow_none=True)
    seats = fields.Nested(SeatsSchema)
    published_at = Moment(allow_none=True)
    version = fields.Integer()
    created_at = Moment()
    updated_at = Moment()


ActivityPageSchema = page_of(ActivitySchema, "ActivityPageSchema")


class ActivityListQuerySchema(PageQuerySchema):
    center_id = id_field("Activities organized in this center's subtree.", strict=False)
    team_id = id_field("Activities of this team.", strict=False)
    status = fields.String(validate=one_of(STATUSES))
    platform = fields.String(validate=one_of(PLATFORMS))
    starts_from = date_field("Starting on or after this day (Asia/Shanghai).")
    starts_to = date_field("Starting on or before this day (Asia/Shanghai).")
    series_id = id_field("Occurrences of this series.", strict=False)


# --- events ---------------------------------------------------------------------------------

ACTIVITY_PUBLISHED = "activity.published"
ACTIVITY_UPDATED = "activity.updated"
ACTIVITY_RESCHEDULED = "activity.rescheduled"
ACTIVITY_CANCELLED = "activity.cancelled"
ACTIVITY_STARTED = "activity.started"
ACTIVITY_COMPLETED = "activity.completed"
ACTIVITY_RECORDED = "activity.recorded"

# What every activity event carries (its subject is the activity's id).
ACTIVITY_PROPERTIES = {
    "id": js.ID,
    "series_id": js.nullable(js.ID),
    "title": js.TEXT,
    "platform": js.one_of(PLATFORMS),
    "organizer_center_id": js.ID,
    "team_id": js.nullable(js.ID),
    "team_only": {"type": "boolean"},
    "place": js.TEXT,
    "latitude": js.nullable({"type": "number"}),
    "longitude": js.nullable({"type": "number"}),
    "starts_at": js.TIMESTAMP,
    "ends_at": js.TIMESTAMP,
    "signup_opens_at": js.nullable(js.TIMESTAMP),
    "signup_closes_at": js.nullable(js.TIMESTAMP),
    "capacity": js.ID,
    "hours": HOURS,
    "points_rule": POINTS_RULE,
    "leader_volunteer_id": js.nullable(js.ID),
    "status": js.one_of(STATUSES),
    "version": js.VERSION,
    "updated_at": js.TIMESTAMP,
}

EVENT_SCHEMAS = {
    ACTIVITY_PUBLISHED: js.event_object(ACTIVITY_PROPERTIES, "An activity was published: sign-ups open in its window."),
    ACTIVITY_UPDATED: js.event_object(
        {**ACTIVITY_PROPERTIES, "changed": {"type": "array", "items": js.TEXT, "minItems": 1}},
        "A published activity's fields other than its time and place changed; `changed` names them.",
    ),
    ACTIVITY_RESCHEDULED: js.event_object(
        {
            **ACTIVITY_PROPERTIES,
            "changed": {"type": "array", "items": js.one_of(TIME_AND_PLACE), "minItems": 1},
            "previous": {
                "type": "object",
                "properties": {
                    "starts_at": js.TIMESTAMP,
                    "ends_at": js.TIMESTAMP,
                    "place": js.TEXT,
                    "latitude": js.nullable({"type": "number"}),
                    "longitude": js.nullable({"type": "number"}),
                },
                "required": list(TIME_AND_PLACE),
            },
        },
        "A published activity's time or place changed (everyone signed up is told); `previous` holds the old ones.",
    ),
    ACTIVITY_CANCELLED: js.event_object(
        {**ACTIVITY_PROPERTIES, "reason": js.TEXT, "previous_status": js.one_of(OPEN_STATUSES)},
        "An activity was cancelled with a reason; its sign-ups are cancelled (signup.cancelled each).",
    ),
    ACTIVITY_STARTED: js.event_object(ACTIVITY_PROPERTIES, "An activity began (at its start, or started early)."),
    ACTIVITY_COMPLETED: js.event_object(
        {**ACTIVITY_PROPERTIES, "check_outs_closed": js.COUNT},
        "An activity ended; check-outs still open were closed at the end and flagged (`check_outs_closed`).",
    ),
    ACTIVITY_RECORDED: js.event_object(
        {**ACTIVITY_PROPERTIES, "people_served": js.COUNT},
        "An activity's ledger (活动台账) was filed and the activity marked recorded.",
    ),
}
