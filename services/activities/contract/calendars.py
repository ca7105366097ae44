"""Calendars (iCalendar, RFC 5545): a center's activities and a volunteer's sign-ups as feeds
that a calendar client subscribes to.

- A center's feed holds the activities organized in its subtree that are published, under
  way, completed or recorded, and those cancelled after publication (STATUS:CANCELLED, so
  that a subscribed client strikes them out rather than losing them). No drafts, nothing
  personal: it is public, like a poster at the station.
- A volunteer's feed holds their live sign-ups (a waitlisted one TENTATIVE) and those
  cancelled together with their activity (CANCELLED). Calendar clients cannot send a bearer
  token, so the URL itself is the credential: the volunteer issues a secret token (shown
  once; only its SHA-256 is kept), issuing another revokes it, and a revoked or unknown
  token's feed is a 404.

Both hold activities starting from FEED_DAYS_BEFORE days ago to FEED_DAYS_AFTER days ahead,
at most MAX_FEED_EVENTS (the latest kept). Times carry TZID=Asia/Shanghai with the zone's
VTIMEZONE, so a client in any zone shows the right instant; each activity keeps its UID
(`activity-<id>@wenming`) and its SEQUENCE is the activity's version, so a reschedule
updates the event a client already has.
"""

from marshmallow import fields

from services.chassis.schemas import StrictSchema, described

from .common import Moment

FEED_DAYS_BEFORE = 90
FEED_DAYS_AFTER = 366
MAX_FEED_EVENTS = 1000
TOKEN_BYTES = 32  # 256 random bits: 43 URL-safe base64 characters
TOKEN_PATTERN = r"[A-Za-z0-9_-]{43}"
FEED_PATH = "/api/v1/calendars/{token}.ics"  # a volunteer's feed, under the site's origin
CONTENT_TYPE = "text/calendar; charset=utf-8"


class CalendarTokenSchema(StrictSchema):
    token = fields.String(
        **described("The feed's secret: 43 URL-safe characters (256 bits). Shown this once; only its hash is kept.")
    )
    path = fields.String(**described("The feed's path (" + FEED_PATH + "), to join to the site's origin."))
    issued_at = Moment()


class RevocationSchema(StrictSchema):
    revoked = fields.Integer(**described("Tokens revoked: 0 when there was none."))


class FeedSchema(StrictSchema):
    """A feed as the service hands it to the gateway, which serves `content` as text/calendar."""

    filename = fields.String(**described("An ASCII file name ending in .ics."))
    content = fields.String(**described("The iCalendar text (CRLF line ends, folded lines)."))


EVENT_SCHEMAS = {}
