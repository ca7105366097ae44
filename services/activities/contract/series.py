"""Recurring programmes (系列活动): a series is an activity template with an iCalendar
recurrence rule (RFC 5545 RRULE, weekly or monthly, with exception dates); its occurrences
are ordinary activities (`series_id`, `occurrence_start`) generated from the template, as
drafts or published.

The rule runs in the county's wall-clock time (Asia/Shanghai): a class at 09:00 stays at
09:00. Occurrences are generated up to a year ahead, at most 200 per series; generating
again adds only those that do not exist yet. One occurrence is edited like any activity;
"this and the following" changes the template and every editable occurrence from that one
on; ending a series cancels its open occurrences from a day on, with a reason.
"""

from marshmallow import fields, validate

from services.chassis import event_schemas as js
from services.chassis.schemas import (
    Flag,
    PartialSchema,
    StrictSchema,
    Text,
    between,
    date_field,
    described,
    id_field,
    length,
    one_of,
    page_of,
)

from .catalog import MAX_DURATION_DAYS, ActivityCreateSchema, CancelSchema, _ActivityFields
from .common import Moment, PageQuerySchema

STATUSES = ("active", "ended")
FREQUENCIES = ("WEEKLY", "MONTHLY")
RULE_PARTS = ("FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYSETPOS", "COUNT", "UNTIL")
MAX_OCCURRENCES = 200  # occurrences one series ever has
GENERATE_AHEAD_DAYS = 366  # how far ahead occurrences are generated
MAX_INTERVAL = 12
MAX_EXDATES = 100
MAX_RULE = 500
MAX_DURATION_MINUTES = MAX_DURATION_DAYS * 24 * 60
# the times of an activity the rule and the duration set (sign-up opens at publication and
# closes at the start)
SCHEDULE_FIELDS = ("starts_at", "ends_at", "signup_opens_at", "signup_closes_at")


def _duration(**kwargs):
    return fields.Integer(
        strict=True,
        validate=between(1, MAX_DURATION_MINUTES),
        **described(f"Minutes each occurrence lasts, at most {MAX_DURATION_DAYS} days."),
        **kwargs,
    )


class SeriesTemplateSchema(_ActivityFields):
    """What every occurrence is made from: an activity's fields but its times."""

    class Meta:
        exclude = SCHEDULE_FIELDS


class SeriesCreateSchema(ActivityCreateSchema):
    class Meta:
        exclude = SCHEDULE_FIELDS

    rrule = Text(
        required=True,
        validate=length(1, MAX_RULE),
        **described(
            "An RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=72 or FREQ=MONTHLY;BYDAY=SA;BYSETPOS=-1: "
            f"FREQ WEEKLY or MONTHLY, with {', '.join(RULE_PARTS[1:])} (INTERVAL 1 to {MAX_INTERVAL}; COUNT or "
            f"UNTIL, not both; at most {MAX_OCCURRENCES} occurrences). UNTIL is a day (YYYYMMDD, included), a "
            "UTC time (…Z) or an Asia/Shanghai time."
        ),
    )
    first_starts_at = Moment(
        required=True,
        **described(
            "DTSTART: the first day the rule may yield and the time of day of every occurrence (Asia/Shanghai); "
            "ahead of now, at most a year ahead."
        ),
    )
    duration_minutes = _duration(required=True)
    exdates = fields.List(
        date_field("A day (Asia/Shanghai) the rule skips."),
        load_default=list,
        validate=validate.Length(max=MAX_EXDATES, error=f"最多 {MAX_EXDATES} 个。"),
        **described("EXDATE: days without an occurrence (holidays)."),
    )
    publish = Flag(load_default=False, **described("Publish each occurrence as it is generated (else drafts)."))


class SeriesChangeSchema(PartialSchema, SeriesTemplateSchema):
    """This occurrence and the following ones: the template fields to change (applied to each
    draft or published occurrence from this one on, and to those generated later), and the
    duration. If-Match: the series' version."""

    duration_minutes = _duration()


class GenerateSchema(StrictSchema):
    until = date_field(
        f"Generate occurrences up to this day (Asia/Shanghai), at most {GENERATE_AHEAD_DAYS} days ahead; "
        "null: that far.",
        allow_none=True,
        load_default=None,
    )


class EndSeriesSchema(CancelSchema):
    starts_from = date_field(
        "Cancel the open occurrences starting on or after this day (Asia/Shanghai); null: today.",
        allow_none=True,
        load_default=None,
    )


class SeriesSchema(StrictSchema):
    id = fields.Integer()
    organizer_center_id = fields.Integer()
    team_id = fields.Integer(allow_none=True)
    title = fields.String()
    template = fields.Nested(SeriesTemplateSchema, **described("What every occurrence is made from."))
    rrule = fields.String()
    first_starts_at = Moment()
    duration_minutes = fields.Integer()
    exdates = fields.List(fields.Date())
    publish = fields.Boolean()
    status = fields.String(**described(", ".join(STATUSES)))
    status_reason = fields.String(allow_none=True, **described("Why it ended."))
    generated_until = Moment(allow_none=True, **described("Occurrences exist up to here (exclusive)."))
    occurrences = fields.Integer(**described("Activities generated, whatever their status."))
    version = fields.Integer()
    created_at = Moment()
    updated_at = Moment()


class SeriesOutcomeSchema(StrictSchema):
    series = fields.Nested(SeriesSchema)
    generated = fields.Integer(**described("Occurrences this call generated."))
    updated = fields.Integer(**described("Occurrences this call changed."))
    skipped = fields.Integer(**described("Occurrences left as they were: under way, over or cancelled."))
    cancelled = fields.Integer(**described("Occurrences this call cancelled."))


SeriesPageSchema = page_of(SeriesSchema, "SeriesPageSchema")


class SeriesListQuerySchema(PageQuerySchema):
    center_id = id_field("Series organized in this center's subtree.", strict=False)
    team_id = id_field("Series of this team.", strict=False)
    status = fields.String(validate=one_of(STATUSES))


# --- events ---------------------------------------------------------------------------------

SERIES_CREATED = "series.created"
SERIES_CHANGED = "series.changed"
SERIES_ENDED = "series.ended"

# What every series event carries (its subject is the series' id). The template's details
# travel with each occurrence's activity events.
SERIES_PROPERTIES = {
    "id": js.ID,
    "organizer_center_id": js.ID,
    "team_id": js.nullable(js.ID),
    "title": js.TEXT,
    "rrule": js.TEXT,
    "first_starts_at": js.TIMESTAMP,
    "duration_minutes": js.ID,
    "exdates": {"type": "array", "items": js.DATE},
    "status": js.one_of(STATUSES),
    "generated_until": js.nullable(js.TIMESTAMP),
    "occurrences": js.COUNT,
    "version": js.VERSION,
    "updated_at": js.TIMESTAMP,
}

EVENT_SCHEMAS = {
    SERIES_CREATED: js.event_object(
        SERIES_PROPERTIES,
        "A series that publishes its occurrences was created; `occurrences` were generated (activity.published each).",
    ),
    SERIES_CHANGED: js.event_object(
        {
            **SERIES_PROPERTIES,
            "changed": {"type": "array", "items": js.TEXT, "minItems": 1},
            "from_occurrence_start": js.nullable(js.TIMESTAMP),
            "generated": js.COUNT,
            "updated": js.COUNT,
        },
        "A series changed: more occurrences generated (`generated_until`), or its template changed from the "
        "occurrence that starts at `from_occurrence_start` on (`updated` occurrences changed with it).",
    ),
    SERIES_ENDED: js.event_object(
        {**SERIES_PROPERTIES, "reason": js.TEXT, "cancelled_from": js.DATE, "cancelled": js.COUNT},
        "A series ended: its open occurrences starting on or after `cancelled_from` were cancelled with the reason "
        "(activity.cancelled each, when published); it generates no more.",
    ),
}
