"""Sign-ups (报名) and attendance (签到、签退、确认).

A volunteer signs up inside the activity's sign-up window, if active (as this service last
heard from the volunteers service) and, for a team-only activity, a member of its team. A
seat is confirmed while one is left; otherwise the sign-up is waitlisted. When a confirmed
volunteer cancels (or capacity grows), the head of the waitlist is promoted, in arrival
order. The confirmed count never exceeds the capacity.

Attendance: check-in from an hour before the start to the end (within the activity's radius
of its place when it has one), check-out after check-in; check-outs still open at the end
are closed at the end and flagged. The organizer confirms attendance in bulk (attended, with
the hours: actual time capped by the activity's hours, unless given) and marks no-shows;
each confirmation publishes `attendance.confirmed`, from which the volunteers service
credits hours and points, once per revision.
"""

from marshmallow import fields, validate

from services.chassis import event_schemas as js
from services.chassis.schemas import StrictSchema, Text, described, id_field, length, one_of, page_of

from .common import HOURS, POINTS_RULE, Moment, PageQuerySchema, hours_field

STATUSES = ("confirmed", "waitlisted", "cancelled")
ATTENDANCE = ("attended", "no_show")
MAX_REASON = 200
MAX_BATCH = 500  # attendances one confirmation names


class CancelSignupSchema(StrictSchema):
    reason = Text(allow_none=True, load_default=None, validate=length(1, MAX_REASON), **described("Why, if told."))


class PositionSchema(StrictSchema):
    latitude = fields.Float(required=True, validate=validate.Range(-90, 90), **described("WGS 84 latitude."))
    longitude = fields.Float(required=True, validate=validate.Range(-180, 180), **described("WGS 84 longitude."))


class CheckInSchema(StrictSchema):
    position = fields.Nested(
        PositionSchema,
        allow_none=True,
        load_default=None,
        **described("Where the volunteer is (needed when geofenced)."),
    )


class AttendanceItemSchema(StrictSchema):
    volunteer_id = id_field("A volunteer with a confirmed sign-up.", required=True)
    attendance = fields.String(required=True, validate=one_of(ATTENDANCE), **described("attended or no_show."))
    hours = hours_field(
        "Hours to credit (attended only): by default the checked time, capped by the activity's hours.",
        0,
        allow_none=True,
        load_default=None,
    )


class ConfirmAttendanceSchema(StrictSchema):
    attendances = fields.List(
        fields.Nested(AttendanceItemSchema),
        required=True,
        validate=validate.Length(1, MAX_BATCH, error=f"须有 1 到 {MAX_BATCH} 条。"),
        **described("One item per volunteer; a volunteer named twice is refused."),
    )


class SignupSchema(StrictSchema):
    id = fields.Integer()
    activity_id = fields.Integer()
    volunteer_id = fields.Integer()
    volunteer_number = fields.String(allow_none=True)
    status = fields.String(**described(", ".join(STATUSES)))
    position = fields.Integer(**described("Arrival order among the activity's sign-ups."))
    waitlist_position = fields.Integer(allow_none=True, **described("1 for the head of the waitlist; else null."))
    promoted = fields.Boolean(**described("Confirmed from the waitlist."))
    signed_up_at = Moment()
    confirmed_at = Moment(allow_none=True)
    cancelled_at = Moment(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    checked_in_at = Moment(allow_none=True)
    checked_out_at = Moment(allow_none=True)
    check_out_closed_by_service = fields.Boolean(**described("Check-out forgotten: closed at the end."))
    attendance = fields.String(allow_none=True, **described("attended or no_show, once confirmed."))
    hours = fields.Float(allow_none=True)
    attendance_revision = fields.Integer()
    version = fields.Integer()


SignupPageSchema = page_of(SignupSchema, "SignupPageSchema")


class SignupListQuerySchema(PageQuerySchema):
    status = fields.String(validate=one_of(STATUSES))
    page_size = fields.Integer(
        load_default=50, validate=validate.Range(1, 200), **described("1 to 200; 50 by default.")
    )


class MySignupSchema(SignupSchema):
    activity_title = fields.String()
    starts_at = Moment()
    ends_at = Moment()
    place = fields.String()
    activity_status = fields.String()


MySignupPageSchema = page_of(MySignupSchema, "MySignupPageSchema")


class ConfirmationResultSchema(StrictSchema):
    confirmed = fields.Integer(**described("Attendances confirmed or changed (each published)."))
    unchanged = fields.Integer(**described("Named with what they already had: nothing published."))
    items = fields.List(fields.Nested(SignupSchema))


# --- events ---------------------------------------------------------------------------------

SIGNUP_CONFIRMED = "signup.confirmed"
SIGNUP_WAITLISTED = "signup.waitlisted"
SIGNUP_PROMOTED = "signup.promoted"
SIGNUP_CANCELLED = "signup.cancelled"
ATTENDANCE_CHECKED_IN = "attendance.checked_in"
ATTENDANCE_CHECKED_OUT = "attendance.checked_out"
ATTENDANCE_CONFIRMED = "attendance.confirmed"
ATTENDANCE_NO_SHOW = "attendance.no_show"
CANCELLED_BECAUSE = ("volunteer", "organizer", "activity_cancelled", "volunteer_inactive")

# What every sign-up event carries; its subject is the sign-up's id. The volunteer is named
# by id and account (for their inbox), never by name or phone.
SIGNUP_PROPERTIES = {
    "id": js.ID,
    "activity_id": js.ID,
    "activity_title": js.TEXT,
    "organizer_center_id": js.ID,
    "starts_at": js.TIMESTAMP,
    "volunteer_id": js.ID,
    "account_id": js.nullable(js.ID),
    "status": js.one_of(STATUSES),
    "position": js.ID,
    "at": js.TIMESTAMP,
}

# `attendance.confirmed`, as the volunteers service credits it: `attendance_id` is the
# sign-up's id; `revision` grows with every correction, and the newest revision wins.
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
        "hours": HOURS,
        "points_rule": POINTS_RULE,
        "confirmed_at": js.TIMESTAMP,
    },
    "An organizer confirmed a volunteer's attendance: the hours (actual time, capped by the activity's planned "
    "hours; 0 when a credited attendance was corrected to a no-show) and the activity's points rule.",
)

EVENT_SCHEMAS = {
    SIGNUP_CONFIRMED: js.event_object(SIGNUP_PROPERTIES, "A volunteer signed up and got a seat."),
    SIGNUP_WAITLISTED: js.event_object(
        {**SIGNUP_PROPERTIES, "waitlist_position": js.ID},
        "A volunteer signed up when no seat was left: waitlisted (`waitlist_position` 1 is next).",
    ),
    SIGNUP_PROMOTED: js.event_object(SIGNUP_PROPERTIES, "The head of the waitlist got a seat that came free."),
    SIGNUP_CANCELLED: js.event_object(
        {
            **SIGNUP_PROPERTIES,
            "previous_status": js.one_of(("confirmed", "waitlisted")),
            "because": js.one_of(CANCELLED_BECAUSE),
            "reason": js.nullable(js.TEXT),
        },
        "A sign-up was cancelled: by the volunteer, by an organizer, with its activity, or because the volunteer "
        "was suspended or deregistered.",
    ),
    ATTENDANCE_CHECKED_IN: js.event_object(
        {**SIGNUP_PROPERTIES, "distance_m": js.nullable({"type": "number", "minimum": 0})},
        "A volunteer checked in (`distance_m` from the place, when it has coordinates and the volunteer sent theirs).",
    ),
    ATTENDANCE_CHECKED_OUT: js.event_object(
        {**SIGNUP_PROPERTIES, "closed_by_service": {"type": "boolean"}},
        "A volunteer checked out, or the service closed a forgotten check-out at the end (`closed_by_service`).",
    ),
    ATTENDANCE_CONFIRMED: ATTENDANCE_CONFIRMED_SCHEMA,
    ATTENDANCE_NO_SHOW: js.event_object(
        {**SIGNUP_PROPERTIES, "attendance_id": js.ID, "revision": js.VERSION},
        "An organizer marked a confirmed volunteer as a no-show (未到).",
    ),
}
