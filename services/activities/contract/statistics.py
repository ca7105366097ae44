"""Statistics of a center's subtree for a period: activities by platform and by status,
sign-ups, attendance, volunteer hours, people served and the top teams — the figures offices
report ("72 classes, 800+ children").

The period is of days on the county's calendar (Asia/Shanghai), both included, at most
MAX_PERIOD_DAYS; an activity belongs to it by its start. Drafts never count. Aggregates
only, no personal data; read by admins whose scope holds the center.

- `activities.total` and `by_platform`: activities held or scheduled (published, under way,
  completed, recorded); `by_status` adds those cancelled.
- `signups`: the sign-ups of those activities and of the cancelled ones, by their status now.
- `attendance`: confirmed sign-ups whose attendance the organizer confirmed; `rate` is
  attended / (attended + no-show), null before any confirmation.
- `volunteer_hours`: the hours of attended attendances (what this service published to the
  volunteers service); `volunteers`: distinct volunteers among them.
- `people_served`: the sum of the activities' ledgers (活动台账).
- `top_teams`: up to TOP_TEAMS teams by hours, then activities held (team ids; names are the
  volunteers service's).
"""

from marshmallow import fields

from services.centers.contract import PLATFORMS
from services.chassis.schemas import StrictSchema, date_field, described

from .catalog import STATUSES

MAX_PERIOD_DAYS = 366
TOP_TEAMS = 10
COUNTED_STATUSES = tuple(status for status in STATUSES if status != "draft")
HELD_STATUSES = tuple(status for status in COUNTED_STATUSES if status != "cancelled")  # held or scheduled


class StatisticsQuerySchema(StrictSchema):
    """The period (also the HTTP query string: `?from=&to=`)."""

    start = date_field("The first day (Asia/Shanghai), included.", required=True, data_key="from")
    end = date_field(
        f"The last day, included: not before `from`, at most {MAX_PERIOD_DAYS} days in all.",
        required=True,
        data_key="to",
    )


def _counts(name, keys):
    """A schema with one count per key (every key present, 0 included)."""
    return StrictSchema.from_dict({key: fields.Integer() for key in keys}, name=name)


PlatformCountsSchema = _counts("PlatformCountsSchema", PLATFORMS)
StatusCountsSchema = _counts("StatusCountsSchema", COUNTED_STATUSES)


class ActivityCountsSchema(StrictSchema):
    total = fields.Integer(**described("Held or scheduled: published, under way, completed or recorded."))
    by_platform = fields.Nested(PlatformCountsSchema, **described("Each of the five platforms, 0 included."))
    by_status = fields.Nested(StatusCountsSchema, **described("Each status but draft, cancelled included."))


class SignupCountsSchema(StrictSchema):
    confirmed = fields.Integer()
    waitlisted = fields.Integer()
    cancelled = fields.Integer()


class AttendanceFiguresSchema(StrictSchema):
    attended = fields.Integer()
    no_show = fields.Integer()
    rate = fields.Float(allow_none=True, **described("attended / (attended + no_show), 4 decimals; null: none yet."))


class TeamFiguresSchema(StrictSchema):
    team_id = fields.Integer()
    hours = fields.Float(**described("Hours of attended attendances at the team's activities."))
    activities = fields.Integer(**described("The team's activities held or scheduled in the period."))


class ActivityStatisticsSchema(StrictSchema):
    center_id = fields.Integer(**described("The subtree's root."))
    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")
    activities = fields.Nested(ActivityCountsSchema)
    signups = fields.Nested(SignupCountsSchema)
    attendance = fields.Nested(AttendanceFiguresSchema)
    volunteer_hours = fields.Float(**described("Hours of attended attendances, two decimals."))
    volunteers = fields.Integer(**described("Distinct volunteers with an attended attendance."))
    people_served = fields.Integer(**described("The sum of the ledgers' people served."))
    top_teams = fields.List(fields.Nested(TeamFiguresSchema), **described(f"At most {TOP_TEAMS}."))


EVENT_SCHEMAS = {}
