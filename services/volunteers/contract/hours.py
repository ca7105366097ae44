"""The service-hour ledger: entries, back-fill requests, disputes, totals and star levels.

Hours come from the activities service's `attendance.confirmed` events (their schema is the
activities service's contract): one event per volunteer and activity, with a
`revision` that grows when the organizer corrects it, so that events applied in any order and
any number of times leave the newest revision in the ledger.

Hours are decimals with at most two places; every payload and event shows them as JSON
numbers. Only confirmed entries count toward a total; a disputed entry counts again once
resolved, a revoked one never.
"""

from marshmallow import fields, validate

from services.activities.contract import common as activities
from services.activities.contract import signups as activity_signups
from services.activities.contract.common import CENT, MAX_HOURS_PER_ENTRY, Hours
from services.chassis import event_schemas as js
from services.chassis.schemas import (
    StrictSchema,
    Text,
    date_field,
    described,
    id_field,
    length,
    one_of,
    page_field,
    page_size_field,
)

# What this part consumes: the activities service's `attendance.confirmed` (its contract owns the schema).
ACTIVITIES = activities.SERVICE
ATTENDANCE_CONFIRMED = activity_signups.ATTENDANCE_CONFIRMED
ATTENDANCE_CONFIRMED_SCHEMA = activity_signups.ATTENDANCE_CONFIRMED_SCHEMA

ENTRY_SOURCES = ("attendance", "backfill")
ENTRY_STATUSES = ("confirmed", "disputed", "revoked")
BACKFILL_STATUSES = ("pending", "approved", "rejected")
DISPUTE_STATUSES = ("open", "upheld", "rejected")
DISPUTE_OUTCOMES = ("upheld", "rejected")
CREDIT_CAUSES = ("attendance", "revision", "backfill")
STAR_LEVELS = (1, 2, 3, 4, 5)

PHOTO_TYPES = ("image/jpeg", "image/png")
MAX_PHOTOS = 3
MAX_PHOTO_BYTES = 300 * 1024  # decoded
MAX_PHOTO_BASE64 = (MAX_PHOTO_BYTES + 2) // 3 * 4  # its base64 text: the bound the schema checks
MAX_EXPLANATION = 500
MAX_REASON = 200


# --- RPC payloads ---------------------------------------------------------------------------


def _hours(description, least, **kwargs):
    """Hours of one entry: from `least` to 24."""
    bound = validate.Range(least, MAX_HOURS_PER_ENTRY, error=f"须在 {least} 到 {MAX_HOURS_PER_ENTRY} 之间。")
    return Hours(validate=bound, **described(description), **kwargs)


def _reason(description, high=MAX_REASON, **kwargs):
    return Text(validate=length(1, high), **described(description), **kwargs)


_PHOTO_TOO_LARGE = f"照片不能超过 {MAX_PHOTO_BYTES // 1024} KB（base64 编码后 {MAX_PHOTO_BASE64} 个字符）。"


class PhotoSchema(StrictSchema):
    content_type = fields.String(
        required=True, validate=one_of(PHOTO_TYPES), **described("image/jpeg or image/png (checked by content).")
    )
    data = Text(
        required=True,
        validate=validate.Length(1, MAX_PHOTO_BASE64, error=_PHOTO_TOO_LARGE),
        **described(f"The image in base64: {MAX_PHOTO_BASE64} characters ({MAX_PHOTO_BYTES // 1024} KB) at most."),
    )


class BackfillCreateSchema(StrictSchema):
    """A back-fill request (补录) by the volunteer themself."""

    activity_id = id_field("The activity, when it is known to the platform.", allow_none=True, load_default=None)
    activity_title = Text(required=True, validate=length(1, 100), **described("What the service was."))
    center_id = id_field("The organizing center (an active center), which decides.", required=True)
    served_on = date_field("The day of the service; not in the future.", required=True)
    hours = _hours("Hours served, 0.01 to 24 (rounded to two decimals).", CENT, required=True)
    explanation = Text(
        required=True,
        multiline=True,
        validate=length(1, MAX_EXPLANATION),
        **described(f"Why it was not recorded, who can confirm it; at most {MAX_EXPLANATION} characters."),
    )
    photos = fields.List(
        fields.Nested(PhotoSchema),
        load_default=list,
        validate=validate.Length(max=MAX_PHOTOS, error=f"照片最多 {MAX_PHOTOS} 张。"),
        **described(f"Up to {MAX_PHOTOS} photos of the service."),
    )


class RejectSchema(StrictSchema):
    reason = _reason("Why the request is rejected (the volunteer is told).", required=True)


class DisputeCreateSchema(StrictSchema):
    reason = Text(
        required=True,
        multiline=True,
        validate=length(1, MAX_EXPLANATION),
        **described("What is wrong with the entry (e.g. the hours)."),
    )


class ResolveSchema(StrictSchema):
    outcome = fields.String(
        required=True,
        validate=one_of(DISPUTE_OUTCOMES),
        **described("upheld: the entry's hours become `corrected_hours`; rejected: the entry stands as it was."),
    )
    corrected_hours = _hours(
        "Required when upheld: the entry's hours, 0 to 24 (rounded to two decimals).",
        0,
        allow_none=True,
        load_default=None,
    )
    note = _reason("The admin's note to the volunteer.", required=True)


class RevokeSchema(StrictSchema):
    reason = _reason("Why the entry is revoked (the volunteer is told).", required=True)


class PeriodQuerySchema(StrictSchema):
    """A period of service days (both included; `end` not before `start`); also the HTTP query string."""

    start = date_field("From this day of service (included).")
    end = date_field("To this day of service (included), not before `start`.")


class EntryListQuerySchema(PeriodQuerySchema):
    status = fields.String(validate=one_of(ENTRY_STATUSES), **described("Only entries of this status."))
    page = page_field()
    page_size = page_size_field()


class BackfillListQuerySchema(StrictSchema):
    status = fields.String(
        load_default="pending", validate=one_of(BACKFILL_STATUSES), **described("pending by default.")
    )
    page = page_field()
    page_size = page_size_field()


class DisputeListQuerySchema(StrictSchema):
    status = fields.String(load_default="open", validate=one_of(DISPUTE_STATUSES), **described("open by default."))
    page = page_field()
    page_size = page_size_field()


class HourEntrySchema(StrictSchema):
    id = fields.Integer()
    volunteer_id = fields.Integer()
    source = fields.String(**described(", ".join(ENTRY_SOURCES) + "."))
    attendance_id = fields.Integer(allow_none=True)
    backfill_id = fields.Integer(allow_none=True)
    revision = fields.Integer(**described("The attendance's revision applied (1 for a back-fill)."))
    activity_id = fields.Integer(allow_none=True)
    activity_title = fields.String()
    center_id = fields.Integer(**described("The organizing center."))
    team_id = fields.Integer(allow_none=True)
    served_on = fields.Date()
    hours = Hours()
    status = fields.String(**described(", ".join(ENTRY_STATUSES) + "; only confirmed entries count."))
    revoke_reason = fields.String(allow_none=True)
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class HourEntryPageSchema(StrictSchema):
    items = fields.List(fields.Nested(HourEntrySchema))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class VolunteerHoursSchema(StrictSchema):
    """A volunteer's total, star level and one page of their entries."""

    volunteer_id = fields.Integer()
    total_hours = Hours(**described("The sum of the volunteer's confirmed entries."))
    star_level = fields.Integer(**described("0 to 5 (100 / 300 / 600 / 1000 / 1500 hours)."))
    hours_to_next_star = Hours(allow_none=True, **described("Hours still needed for the next star; null at 5."))
    entries = fields.Nested(HourEntryPageSchema)


class PeriodHoursSchema(StrictSchema):
    """Confirmed hours served in a period (null bounds: from the first, to the last day)."""

    start = fields.Date(allow_none=True)
    end = fields.Date(allow_none=True)
    total_hours = Hours()
    entry_count = fields.Integer()
    volunteer_count = fields.Integer(**described("Volunteers with at least one of the entries counted."))


class TeamHoursSchema(PeriodHoursSchema):
    """The confirmed entries served with a team."""

    team_id = fields.Integer()


class CenterHoursSchema(PeriodHoursSchema):
    """The confirmed entries organized by a center or any center below it."""

    center_id = fields.Integer(**described("The subtree's root."))


class PhotoInfoSchema(StrictSchema):
    position = fields.Integer(**described("1 to 3: GET .../photos/<position> serves it."))
    content_type = fields.String()
    size = fields.Integer(**described("Bytes."))


class BackfillSchema(StrictSchema):
    id = fields.Integer()
    volunteer_id = fields.Integer()
    activity_id = fields.Integer(allow_none=True)
    activity_title = fields.String()
    center_id = fields.Integer(**described("The organizing center, whose admins decide."))
    served_on = fields.Date()
    hours = Hours()
    explanation = fields.String()
    photos = fields.List(fields.Nested(PhotoInfoSchema))
    status = fields.String(**described(", ".join(BACKFILL_STATUSES) + "."))
    decision_reason = fields.String(allow_none=True)
    decided_by = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    entry_id = fields.Integer(allow_none=True, **described("The entry an approval created."))
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class BackfillPageSchema(StrictSchema):
    items = fields.List(fields.Nested(BackfillSchema))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class DisputeSchema(StrictSchema):
    id = fields.Integer()
    entry_id = fields.Integer()
    volunteer_id = fields.Integer()
    center_id = fields.Integer(**described("The entry's organizing center, whose admins resolve it."))
    reason = fields.String()
    hours_before = Hours(**described("The entry's hours when disputed."))
    status = fields.String(**described(", ".join(DISPUTE_STATUSES) + "."))
    corrected_hours = Hours(allow_none=True)
    note = fields.String(allow_none=True)
    resolved_by = fields.String(allow_none=True)
    raised_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)
    entry = fields.Nested(HourEntrySchema, **described("The entry as it is now."))


class DisputePageSchema(StrictSchema):
    items = fields.List(fields.Nested(DisputeSchema))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


# --- events ---------------------------------------------------------------------------------

HOURS_CREDITED = "hours.credited"
HOURS_REVOKED = "hours.revoked"
STAR_LEVEL_REACHED = "volunteer.star_level_reached"
BACKFILL_DECIDED = "hours.backfill_decided"
DISPUTE_RAISED = "hours.dispute_raised"
DISPUTE_RESOLVED = "hours.dispute_resolved"

HOURS = {"type": "number", "minimum": 0}
ENTRY_HOURS = {"type": "number", "minimum": 0, "maximum": MAX_HOURS_PER_ENTRY}
STAR_LEVEL = {"type": "integer", "minimum": 0, "maximum": 5}

# Who and what total: every ledger event names the volunteer (their account, for notifications)
# and their total and star level after the change.
VOLUNTEER_TOTAL = {
    "volunteer_id": js.ID,
    "account_id": js.nullable(js.ID),
    "total_hours": HOURS,
    "star_level": STAR_LEVEL,
}
ENTRY = {
    "entry_id": js.ID,
    "activity_id": js.nullable(js.ID),
    "activity_title": js.TEXT,
    "center_id": js.ID,
    "served_on": js.DATE,
    "hours": ENTRY_HOURS,
}

EVENT_SCHEMAS = {
    HOURS_CREDITED: js.event_object(
        {
            **VOLUNTEER_TOTAL,
            **ENTRY,
            "source": js.one_of(ENTRY_SOURCES),
            "cause": js.one_of(CREDIT_CAUSES),
            "attendance_id": js.nullable(js.ID),
            "backfill_id": js.nullable(js.ID),
            "revision": js.VERSION,
            "team_id": js.nullable(js.ID),
            "change": {"type": "number", "minimum": -MAX_HOURS_PER_ENTRY, "maximum": MAX_HOURS_PER_ENTRY},
        },
        "Hours were credited to a volunteer: a new confirmed entry (an attendance or an approved "
        "back-fill), or a newer revision of an attendance changed a confirmed entry's hours "
        "(`change`, negative when lowered).",
    ),
    HOURS_REVOKED: js.event_object(
        {**VOLUNTEER_TOTAL, **ENTRY, "reason": js.TEXT},
        "An admin revoked an entry: its hours no longer count.",
    ),
    STAR_LEVEL_REACHED: js.event_object(
        {**VOLUNTEER_TOTAL, "star_level": {"type": "integer", "minimum": 1, "maximum": 5}},
        "A volunteer's confirmed hours reached a star level (★ 100, ★★ 300, ★★★ 600, ★★★★ 1000, "
        "★★★★★ 1500 h) for the first time.",
    ),
    BACKFILL_DECIDED: js.event_object(
        {
            "backfill_id": js.ID,
            "volunteer_id": js.ID,
            "account_id": js.nullable(js.ID),
            "center_id": js.ID,
            "activity_title": js.TEXT,
            "served_on": js.DATE,
            "hours": ENTRY_HOURS,
            "decision": js.one_of(("approved", "rejected")),
            "reason": js.nullable(js.TEXT),
            "entry_id": js.nullable(js.ID),
        },
        "The organizing center approved (an entry was credited) or rejected (with a reason) a back-fill request.",
    ),
    DISPUTE_RAISED: js.event_object(
        {**VOLUNTEER_TOTAL, **ENTRY, "dispute_id": js.ID},
        "A volunteer disputed one of their entries: it does not count until an admin resolves the dispute.",
    ),
    DISPUTE_RESOLVED: js.event_object(
        {
            **VOLUNTEER_TOTAL,
            **ENTRY,
            "dispute_id": js.ID,
            "outcome": js.one_of(DISPUTE_OUTCOMES),
            "hours_before": ENTRY_HOURS,
            "note": js.TEXT,
        },
        "An admin resolved a dispute: upheld (the entry's hours corrected) or rejected (unchanged); "
        "the entry counts again.",
    ),
}
